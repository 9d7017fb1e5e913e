#include "wgate/http.h"

#include "common/strings.h"

namespace its::http {

std::optional<std::string_view> Request::Header(
    std::string_view lower_name) const {
  for (const auto& [n, v] : headers)
    if (n == lower_name) return std::string_view(v);
  return std::nullopt;
}

std::string SerializeHead(const Response& r, bool keep_alive) {
  std::string out;
  out.reserve(256);
  out += Cat("HTTP/1.1 ", r.status, " ", ReasonPhrase(r.status), "\r\n");
  out += Cat("Content-Length: ", r.body.size(), "\r\n");
  if (!r.content_type.empty())
    out += Cat("Content-Type: ", r.content_type, "\r\n");
  // No HTML page of the wgate may be framed by another site's (the logon
  // form, refusal and HTTP error pages included: no clickjacking), unless
  // the response says otherwise.
  bool csp = false;
  for (const auto& h : r.headers) csp |= h.first == "Content-Security-Policy";
  if (!csp && r.content_type.starts_with("text/html"))
    out += "Content-Security-Policy: frame-ancestors 'self'\r\n";
  for (const auto& [n, v] : r.headers) {
    if (n.find_first_of("\r\n:") != std::string::npos ||
        v.find_first_of("\r\n") != std::string::npos) {
      continue;  // never let CR/LF into a header
    }
    out += n;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  out += keep_alive && !r.close ? "Connection: keep-alive\r\n\r\n"
                                : "Connection: close\r\n\r\n";
  return out;
}

Parser::Parser(const HttpLimits& limits) : limits_(limits) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = OnMessageBegin;
  settings_.on_url = OnUrl;
  settings_.on_header_field = OnHeaderField;
  settings_.on_header_value = OnHeaderValue;
  settings_.on_header_value_complete = OnHeaderValueComplete;
  settings_.on_headers_complete = OnHeadersComplete;
  settings_.on_body = OnBody;
  settings_.on_message_complete = OnMessageComplete;
  llhttp_init(&parser_, HTTP_REQUEST, &settings_);
  parser_.data = this;
}

bool Parser::expects_continue() const {
  if (!headers_done_ || complete_ || failed()) return false;
  // RFC 9110 §10.1.1: ignored from HTTP/1.0 clients.
  if (parser_.http_major < 1 ||
      (parser_.http_major == 1 && parser_.http_minor < 1))
    return false;
  auto expect = current_.Header("expect");
  return expect && ToLower(*expect) == "100-continue";
}

int Parser::Fail(int status, std::string message) {
  error_status_ = status;
  error_message_ = std::move(message);
  return -1;
}

int Parser::OnMessageBegin(llhttp_t* p) {
  auto* self = static_cast<Parser*>(p->data);
  self->current_ = Request();
  self->field_.clear();
  self->in_value_ = false;
  self->header_bytes_ = 0;
  self->started_ = true;
  self->headers_done_ = false;
  return 0;
}

int Parser::OnUrl(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<Parser*>(p->data);
  self->current_.target.append(at, len);
  if (self->current_.target.size() > self->limits_.max_request_line) {
    return self->Fail(414, "request line too long");
  }
  return 0;
}

int Parser::OnHeaderField(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<Parser*>(p->data);
  self->field_.append(at, len);  // cleared when its value is complete
  self->header_bytes_ += len;
  if (self->header_bytes_ > self->limits_.max_header_bytes) {
    return self->Fail(431, "request headers too large");
  }
  return 0;
}

int Parser::OnHeaderValue(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<Parser*>(p->data);
  if (!self->in_value_) {
    if (self->current_.headers.size() >= self->limits_.max_headers) {
      return self->Fail(431, "too many request headers");
    }
    self->current_.headers.emplace_back(ToLower(self->field_), std::string());
    self->in_value_ = true;
  }
  self->current_.headers.back().second.append(at, len);
  self->header_bytes_ += len;
  if (self->header_bytes_ > self->limits_.max_header_bytes) {
    return self->Fail(431, "request headers too large");
  }
  return 0;
}

int Parser::OnHeaderValueComplete(llhttp_t* p) {
  auto* self = static_cast<Parser*>(p->data);
  if (self->field_.empty()) return self->Fail(400, "a header without a name");
  if (!self->in_value_) {  // header with an empty value
    if (self->current_.headers.size() >= self->limits_.max_headers) {
      return self->Fail(431, "too many request headers");
    }
    self->current_.headers.emplace_back(ToLower(self->field_), std::string());
  }
  self->field_.clear();
  self->in_value_ = false;
  return 0;
}

int Parser::OnHeadersComplete(llhttp_t* p) {
  auto* self = static_cast<Parser*>(p->data);
  self->headers_done_ = true;
  if ((p->flags & F_CONTENT_LENGTH) &&
      p->content_length > self->limits_.max_body) {
    return self->Fail(413, "request body too large");
  }
  // llhttp takes 0.9 and 2.0 as well; this server speaks HTTP/1.x only.
  // A request line without a version (0.9) is malformed to an HTTP/1.x
  // server; another major version is a version it does not support.
  if (p->http_major == 0) {
    return self->Fail(400, "a request line without an HTTP version");
  }
  if (p->http_major != 1) {
    return self->Fail(505, Cat("HTTP/", p->http_major, ".", p->http_minor,
                               " is not supported: HTTP/1.1 or HTTP/1.0"));
  }
  // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host header.
  if (p->http_minor >= 1) {
    int hosts = 0;
    for (const auto& [name, value] : self->current_.headers)
      hosts += name == "host";
    if (hosts != 1) {
      return self->Fail(400, hosts == 0 ? "an HTTP/1.1 request without Host"
                                        : "more than one Host header");
    }
  }
  Request& r = self->current_;
  r.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  size_t q = r.target.find('?');
  r.path = r.target.substr(0, q);
  r.query = q == std::string::npos ? "" : r.target.substr(q + 1);
  r.keep_alive = llhttp_should_keep_alive(p);
  return 0;
}

int Parser::OnBody(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<Parser*>(p->data);
  if (self->current_.body.size() + len > self->limits_.max_body) {
    return self->Fail(413, "request body too large");
  }
  self->current_.body.append(at, len);
  return 0;
}

int Parser::OnMessageComplete(llhttp_t* p) {
  auto* self = static_cast<Parser*>(p->data);
  self->current_.keep_alive = llhttp_should_keep_alive(p);
  self->complete_ = true;
  return HPE_PAUSED;
}

size_t Parser::Feed(const char* data, size_t len) {
  if (failed() || complete_ || len == 0) return 0;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_OK) return len;
  if (err == HPE_PAUSED) {
    return static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
  }
  if (!failed()) {
    Fail(400, Cat("malformed HTTP request: ", llhttp_errno_name(err)));
  }
  return len;
}

Request Parser::TakeRequest() {
  Request r = std::move(current_);
  current_ = Request();
  complete_ = false;
  started_ = false;
  headers_done_ = false;
  llhttp_resume(&parser_);
  return r;
}

}  // namespace its::http
