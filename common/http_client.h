#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace its {

struct HttpResult {
  int status = 0;
  std::vector<std::pair<std::string, std::string>>
      headers;  // names in lower case
  std::string body;

  std::optional<std::string> Header(const std::string& lower_name) const;
  std::vector<std::string> Headers(const std::string& lower_name) const;
};

// A blocking HTTP/1.1 client over one keep-alive TCP connection, for tools
// and tests (responses parsed by llhttp). Not for the hot path.
class HttpClient {
 public:
  // `address`: "host:port" or "http://host:port".
  explicit HttpClient(std::string address, int timeout_ms = 5000);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `method target` with `headers` and `body`; reconnects if needed.
  absl::StatusOr<HttpResult> Send(
      const std::string& method, const std::string& target,
      const std::vector<std::pair<std::string, std::string>>& headers = {},
      const std::string& body = "");
  // Writes raw bytes (e.g. malformed requests) and reads one response.
  absl::StatusOr<HttpResult> SendRaw(const std::string& bytes);
  // Reads one more response (for pipelined requests).
  absl::StatusOr<HttpResult> ReadResponse();
  // True if the server closed the connection (after reading what it sent).
  bool PeerClosed();
  void Close();

 private:
  absl::Status Connect();
  std::string host_;
  int port_ = 0;
  int timeout_ms_;
  int fd_ = -1;
  std::string pending_;  // bytes read past the last response
};

// The IPv4 address of `host` as text: an address as it is, a name (such as
// "localhost" or a Kubernetes service) as the resolver answers. May block:
// for tools and start-up, not the hot path.
absl::StatusOr<std::string> ResolveIPv4(const std::string& host);

// One GET on a fresh connection.
absl::StatusOr<HttpResult> HttpGet(const std::string& address,
                                   const std::string& target,
                                   int timeout_ms = 5000);

}  // namespace its
