#pragma once

#include <llhttp.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace its {

// An incremental HTTP/1.1 response parser (llhttp): bytes go in as they are
// read, one response at a time comes out. Content-Length, chunked and
// close-delimited bodies are llhttp's business. Buffers outlive Reset(): once
// a connection has seen a few responses, parsing the next allocates nothing
// (the load generator relies on that).
//
//   HttpResponseParser p;
//   size_t used = p.Feed(data, n);   // stops at the end of a response
//   if (p.complete()) { ...p.status(), p.Header("set-cookie"), p.body()...;
//                       p.Reset(); p.Feed(data + used, n - used); }
//   if (p.failed()) { ...p.error_name()... }
class HttpResponseParser {
 public:
  HttpResponseParser();
  HttpResponseParser(const HttpResponseParser&) = delete;
  HttpResponseParser& operator=(const HttpResponseParser&) = delete;

  // Forgets the response: ready for the next one, on this connection or a
  // new one.
  void Reset();
  // Parses up to `n` bytes and stops after the end of a response. Returns the
  // bytes used; the rest belong to the next (pipelined) response. Uses
  // nothing once the response is complete or the parser failed.
  size_t Feed(const char* data, size_t n);
  // The connection ended: completes a response whose body runs to the end of
  // the connection. True if a response is complete.
  bool FinishAtEof();

  bool complete() const { return complete_; }
  bool failed() const { return error_ != HPE_OK; }
  // llhttp's name of the error, e.g. "HPE_INVALID_CONSTANT".
  const char* error_name() const { return llhttp_errno_name(error_); }

  // Of a complete response:
  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }
  std::string_view body() const { return body_; }

  // The headers in the order received; names in lower case.
  size_t header_count() const { return header_count_; }
  std::string_view header_name(size_t i) const { return headers_[i].first; }
  std::string_view header_value(size_t i) const { return headers_[i].second; }
  // The first header called `lower_name`.
  std::optional<std::string_view> Header(std::string_view lower_name) const;

 private:
  static int OnStatusComplete(llhttp_t* p);
  static int OnHeaderField(llhttp_t* p, const char* at, size_t n);
  static int OnHeaderFieldComplete(llhttp_t* p);
  static int OnHeaderValue(llhttp_t* p, const char* at, size_t n);
  static int OnBody(llhttp_t* p, const char* at, size_t n);
  static int OnMessageComplete(llhttp_t* p);

  llhttp_settings_t settings_;
  llhttp_t parser_;
  // Slots [0, header_count_) hold this response's headers; the others keep
  // their capacity for the next.
  std::vector<std::pair<std::string, std::string>> headers_;
  size_t header_count_ = 0;
  bool in_field_ = false;
  std::string body_;
  int status_ = 0;
  bool keep_alive_ = false;
  bool complete_ = false;
  llhttp_errno_t error_ = HPE_OK;
};

}  // namespace its
