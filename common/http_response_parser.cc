#include "common/http_response_parser.h"

namespace its {

HttpResponseParser::HttpResponseParser() {
  llhttp_settings_init(&settings_);
  settings_.on_status_complete = OnStatusComplete;
  settings_.on_header_field = OnHeaderField;
  settings_.on_header_field_complete = OnHeaderFieldComplete;
  settings_.on_header_value = OnHeaderValue;
  settings_.on_body = OnBody;
  settings_.on_message_complete = OnMessageComplete;
  Reset();
}

void HttpResponseParser::Reset() {
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;
  header_count_ = 0;
  in_field_ = false;
  body_.clear();
  status_ = 0;
  keep_alive_ = false;
  complete_ = false;
  error_ = HPE_OK;
}

size_t HttpResponseParser::Feed(const char* data, size_t n) {
  if (complete_ || failed() || n == 0) return 0;
  llhttp_errno_t err = llhttp_execute(&parser_, data, n);
  if (err == HPE_OK) return n;
  size_t used = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
  // A pause is ours only at the end; a callback may have named the error.
  if (!complete_ && error_ == HPE_OK) error_ = err;
  return used;
}

bool HttpResponseParser::FinishAtEof() {
  if (complete_ || failed()) return complete_;
  // llhttp_finish passes on the pause of OnMessageComplete: what counts is
  // whether the response completed.
  llhttp_errno_t err = llhttp_finish(&parser_);
  if (!complete_ && err != HPE_OK) error_ = err;
  return complete_;
}

std::optional<std::string_view> HttpResponseParser::Header(
    std::string_view lower_name) const {
  for (size_t i = 0; i < header_count_; ++i)
    if (headers_[i].first == lower_name) return headers_[i].second;
  return std::nullopt;
}

int HttpResponseParser::OnStatusComplete(llhttp_t* p) {
  // RFC 9112: the status code is three digits (100-999 here); llhttp takes
  // fewer ("HTTP/1.1 3 OK"), which no report should show as a status (found by
  // tests/fuzz/http_response_fuzz.cc).
  if (p->status_code >= 100) return 0;
  static_cast<HttpResponseParser*>(p->data)->error_ = HPE_INVALID_STATUS;
  return -1;
}

int HttpResponseParser::OnHeaderField(llhttp_t* p, const char* at, size_t n) {
  auto* self = static_cast<HttpResponseParser*>(p->data);
  if (!self->in_field_) {  // a new header: take the next slot
    self->in_field_ = true;
    if (self->header_count_ == self->headers_.size())
      self->headers_.emplace_back();
    auto& [name, value] = self->headers_[self->header_count_++];
    name.clear();
    value.clear();
  }
  self->headers_[self->header_count_ - 1].first.append(at, n);
  return 0;
}

int HttpResponseParser::OnHeaderFieldComplete(llhttp_t* p) {
  auto* self = static_cast<HttpResponseParser*>(p->data);
  self->in_field_ = false;
  for (char& c : self->headers_[self->header_count_ - 1].first)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return 0;
}

int HttpResponseParser::OnHeaderValue(llhttp_t* p, const char* at, size_t n) {
  auto* self = static_cast<HttpResponseParser*>(p->data);
  self->headers_[self->header_count_ - 1].second.append(at, n);
  return 0;
}

int HttpResponseParser::OnBody(llhttp_t* p, const char* at, size_t n) {
  static_cast<HttpResponseParser*>(p->data)->body_.append(at, n);
  return 0;
}

int HttpResponseParser::OnMessageComplete(llhttp_t* p) {
  auto* self = static_cast<HttpResponseParser*>(p->data);
  self->status_ = p->status_code;
  self->keep_alive_ = llhttp_should_keep_alive(p);
  self->complete_ = true;
  return HPE_PAUSED;  // one response at a time
}

}  // namespace its
