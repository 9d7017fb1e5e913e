#pragma once

#include <asio.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "absl/status/status.h"
#include "common/cluster_config.h"
#include "wgate/http.h"

namespace its::http {

// HTTP/1.1 server on standalone Asio, all on one io_context thread.
// Per connection: requests are answered one at a time in arrival order
// (pipelined requests wait in the buffer), a timer closes connections whose
// headers are too slow (408), that idle too long or that do not read their
// answer within the idle timeout, malformed input gets its 4xx answer and the
// connection closes. Beyond max_connections a new connection gets 503 and is
// closed; the others are unaffected. When accept fails (out of descriptors)
// it tries again 50 ms later.
class Server {
 public:
  using Respond = std::function<void(Response)>;
  // Called once per request; `respond` must be called exactly once, on the
  // io thread, now or later.
  using Handler = std::function<void(Request&, Respond)>;

  Server(asio::io_context& io, const HttpLimits& limits, Handler handler);
  ~Server();

  // Binds host:port (port 0 = any); stores the bound address.
  absl::Status Listen(const std::string& address, std::string* bound);
  void Stop();  // closes the acceptor and every connection

  size_t connections() const { return connections_.size(); }
  uint64_t rejected_connections() const { return rejected_; }

 private:
  class Connection;
  void Accept();
  void Sweep();
  using Clock = std::chrono::steady_clock;

  HttpLimits limits_;
  Handler handler_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer sweep_;  // checks the connections' deadlines
  asio::steady_timer accept_retry_;
  std::unordered_set<std::shared_ptr<Connection>> connections_;
  uint64_t rejected_ = 0;
  uint64_t accept_errors_ = 0;  // since the last warning
  Clock::time_point last_accept_warning_{};
};

}  // namespace its::http
