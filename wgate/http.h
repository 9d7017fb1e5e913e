#pragma once

#include <llhttp.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/cluster_config.h"
#include "common/http_status.h"

namespace its::http {

struct Request {
  std::string method;
  std::string target;  // as sent: path?query
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>>
      headers;  // names in lower case
  std::string body;
  bool keep_alive = true;
  std::string client_ip;

  std::optional<std::string_view> Header(std::string_view lower_name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close = false;
  // Runs once the server is done with this response: true when all of it
  // was written to the socket, false when the connection failed or was
  // gone first (a new session's answer then reached nobody).
  std::function<void(bool written)> on_sent;

  void AddHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// Status line and headers of `r` (the body is written separately). Header
// values containing CR or LF are dropped, never sent.
std::string SerializeHead(const Response& r, bool keep_alive);

// The one HTTP/1.1 request parser (llhttp), usable without sockets. Feed()
// stops after each complete request; TakeRequest() hands it over and lets the
// parser go on with the bytes after it (pipelining).
class Parser {
 public:
  explicit Parser(const HttpLimits& limits);
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Parses up to `len` bytes; returns how many were consumed. Stops early when
  // a request is complete or on error.
  size_t Feed(const char* data, size_t len);

  bool has_request() const { return complete_; }
  Request TakeRequest();

  // After an error: the HTTP status to answer (400, 413, 414, 431) and why.
  bool failed() const { return error_status_ != 0; }
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }
  // True once any byte of the next request arrived (for the header timeout).
  bool in_request() const { return started_; }
  bool headers_done() const { return headers_done_; }
  // The headers are in, the body is not, and they ask for 100 Continue.
  bool expects_continue() const;

 private:
  static int OnMessageBegin(llhttp_t* p);
  static int OnUrl(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderField(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderValueComplete(llhttp_t* p);
  static int OnHeadersComplete(llhttp_t* p);
  static int OnBody(llhttp_t* p, const char* at, size_t len);
  static int OnMessageComplete(llhttp_t* p);
  int Fail(int status, std::string message);

  HttpLimits limits_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  Request current_;
  std::string field_;
  bool in_value_ = false;
  size_t header_bytes_ = 0;
  bool started_ = false;
  bool headers_done_ = false;
  bool complete_ = false;
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace its::http
