#include "clients/load_connection.h"

#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "common/its_protocol.h"
#include "common/params.h"
#include "common/strings.h"

namespace its::load {

LoadConnection::LoadConnection(asio::io_context& io, asio::ip::tcp::endpoint ep)
    : socket_(io), endpoint_(ep) {}

void LoadConnection::ClearResponse() {
  // Field by field: the strings keep their capacity.
  response_.status = 0;
  response_.agate.clear();
  response_.cookie.clear();
  response_.cookie_cleared = false;
  response_.body = {};
  response_.keep_alive = true;
  response_.error.clear();
}

void LoadConnection::Request(std::string text, Done done) {
  request_ = std::move(text);
  done_ = std::move(done);
  ClearResponse();
  parser_.Reset();
  // A kept-alive connection the server has closed meanwhile (its idle
  // timeout, a restart) shows as end-of-file before we write: connect anew,
  // as browsers do. A request already sent is never sent twice.
  if (socket_.is_open() && PeerClosed()) Close();
  if (!socket_.is_open()) {
    Connect();
  } else {
    Write();
  }
}

bool LoadConnection::PeerClosed() {
  char byte;
  ssize_t n =
      ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

void LoadConnection::Connect() {
  socket_.async_connect(
      endpoint_, [self = shared_from_this()](const asio::error_code& ec) {
        if (ec) return self->Fail("connect: " + ec.message());
        asio::error_code ignored;
        self->socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
        self->Write();
      });
}

void LoadConnection::Close() {
  asio::error_code ec;
  socket_.close(ec);
}

void LoadConnection::Write() {
  asio::async_write(
      socket_, asio::buffer(request_),
      [self = shared_from_this()](const asio::error_code& ec, size_t) {
        if (ec) return self->Fail("write: " + ec.message());
        self->Read();
      });
}

void LoadConnection::Read() {
  socket_.async_read_some(
      asio::buffer(buf_),
      [self = shared_from_this()](const asio::error_code& ec, size_t n) {
        if (ec) {
          return self->Fail(ec == asio::error::eof ? "closed by server"
                                                   : ec.message());
        }
        // One request at a time: bytes past its response are not ours.
        self->parser_.Feed(self->buf_.data(), n);
        if (self->parser_.complete()) return self->Complete();
        if (self->parser_.failed())
          return self->Fail(Cat("bad response: ", self->parser_.error_name()));
        self->Read();
      });
}

void LoadConnection::Complete() {
  response_.status = parser_.status();
  response_.keep_alive = parser_.keep_alive();
  response_.body = parser_.body();
  for (size_t i = 0; i < parser_.header_count(); ++i) {
    std::string_view name = parser_.header_name(i);
    std::string_view value = parser_.header_value(i);
    if (name == "x-its-agate") {
      // A process name ("IT1/0/1234") for the report's per-process counts:
      // kept only if it is one (the report's JSON and the workers'
      // Protobuf take UTF-8 only; a server may send anything).
      if (value.size() <= 64 && IsValidUtf8(value))
        response_.agate.assign(value);
    } else if (name == "set-cookie") {
      if (auto v = FindCookie(value, kSessionCookieName)) {
        if (value.find("Max-Age=0") != std::string_view::npos) {
          response_.cookie_cleared = true;
        } else {
          response_.cookie.assign(*v);
        }
      }
    }
  }
  Done done = std::move(done_);
  if (!response_.keep_alive) Close();
  done(response_);
}

void LoadConnection::Fail(const std::string& why) {
  Close();
  ClearResponse();
  response_.error = why;
  if (done_) {
    Done done = std::move(done_);
    done(response_);
  }
}

}  // namespace its::load
