#include "wgate/http_server.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/pages.h"
#include "common/strings.h"
#include "wgate/tcp_progress.h"

namespace its::http {

class Server::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& server, asio::ip::tcp::socket socket)
      : server_(server), socket_(std::move(socket)), parser_(server.limits_) {
    asio::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    client_ip_ = ec ? "" : ep.address().to_string();
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  }

  void Start() {
    ArmTimer(server_.limits_.idle_timeout_s);
    Read();
  }

  void Stop() {
    asio::error_code ec;
    socket_.close(ec);
  }

  // Called by the server's sweep: acts if this connection's deadline passed.
  void CheckDeadline(Clock::time_point now) {
    if (!closed_ && deadline_ <= now) OnTimeout();
  }

 private:
  // A deadline, not a timer: re-arming it twice per request costs nothing
  // (a timer per connection cost a timerfd_settime(2) per request, since the
  // connection served next is the one whose timer is due first).
  void ArmTimer(double seconds) {
    deadline_ = Clock::now() +
                std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  }
  void CancelTimer() { deadline_ = Clock::time_point::max(); }

  // Bytes of the answer the client has acknowledged (TCP_INFO): whether a
  // write is progressing, without a timer per partial write.
  uint64_t BytesAcked() { return TcpBytesAcked(socket_.native_handle()); }

  void OnTimeout() {
    CancelTimer();
    if (writing_) {
      // A slow reader that takes its answer gets another period; one that
      // took nothing in a whole idle timeout is dropped. The count is read
      // here, not per response: the first timeout of a write only notes it.
      uint64_t acked = BytesAcked();
      if (acked_at_arm_ == kNotRead || acked > acked_at_arm_) {
        acked_at_arm_ = acked;
        ArmTimer(server_.limits_.idle_timeout_s);
        return;
      }
      Close();
      return;
    }
    if (waiting_) return;  // the answer is on its way (step_timeout_s)
    if (parser_.in_request() || buffered_ > 0) {
      Response r;
      r.status = 408;
      r.body = MessagePage("Request Timeout",
                           "The request headers did not arrive in time");
      r.close = true;
      Write(std::move(r), false);
    } else {
      Close();
    }
  }

  void Read() {
    if (reading_ || closed_) return;
    reading_ = true;
    socket_.async_read_some(
        asio::buffer(buffer_.data() + buffered_, buffer_.size() - buffered_),
        [self = shared_from_this()](const asio::error_code& ec, size_t n) {
          self->reading_ = false;
          if (ec) {
            self->Close();
            return;
          }
          self->buffered_ += n;
          self->Process();
        });
  }

  // Parses what is buffered; dispatches at most one request at a time.
  void Process() {
    while (!waiting_ && !writing_ && !closed_) {
      if (buffered_ > 0) {
        // The header timeout starts when a request begins: bytes that begin
        // none (bare CRLFs) leave the idle deadline as it was.
        const bool began_before = parser_.in_request();
        size_t used = parser_.Feed(buffer_.data(), buffered_);
        if (!began_before && parser_.in_request() && !parser_.has_request())
          ArmTimer(server_.limits_.header_timeout_s);
        std::memmove(buffer_.data(), buffer_.data() + used, buffered_ - used);
        buffered_ -= used;
      }
      if (parser_.failed()) {
        Response r;
        r.status = parser_.error_status();
        r.body = MessagePage(ReasonPhrase(r.status), parser_.error_message());
        r.close = true;
        Write(std::move(r), false);
        return;
      }
      if (parser_.has_request()) {
        if (parser_.headers_done()) CancelTimer();
        Request req = parser_.TakeRequest();
        req.client_ip = client_ip_;
        keep_alive_ = req.keep_alive;
        head_only_ = req.method == "HEAD";
        continue_sent_ = false;
        waiting_ = true;
        std::weak_ptr<Connection> weak = shared_from_this();
        server_.handler_(req, [weak](Response r) {
          if (auto self = weak.lock()) {
            self->waiting_ = false;
            self->Write(std::move(r), self->keep_alive_);
          } else if (r.on_sent) {
            r.on_sent(false);  // the connection is gone
          }
        });
        continue;  // loop ends: waiting_
      }
      if (buffered_ == buffer_.size()) {  // cannot happen with sane limits
        Response r;
        r.status = 431;
        r.body =
            MessagePage("Request Header Fields Too Large", "request too large");
        r.close = true;
        Write(std::move(r), false);
        return;
      }
      if (parser_.expects_continue() && !continue_sent_) {
        // RFC 9110 §10.1.1: the client waits for this before its body.
        continue_sent_ = true;
        writing_ = true;
        ArmTimer(server_.limits_.idle_timeout_s);
        static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        asio::async_write(
            socket_, asio::buffer(kContinue, sizeof kContinue - 1),
            [self = shared_from_this()](const asio::error_code& ec, size_t) {
              self->writing_ = false;
              if (ec) {
                self->Close();
                return;
              }
              self->ArmTimer(self->server_.limits_.header_timeout_s);
              self->Process();
            });
        return;
      }
      Read();
      return;
    }
  }

  void Write(Response r, bool keep_alive) {
    if (closed_) {
      if (r.on_sent) r.on_sent(false);
      return;
    }
    on_sent_ = std::move(r.on_sent);
    bool close = r.close || !keep_alive;
    head_ = SerializeHead(r, !close);
    body_ = std::move(r.body);
    if (head_only_) body_.clear();  // Content-Length stays that of GET
    head_only_ = false;
    writing_ = true;
    // A client that does not read its answer holds memory: it must take
    // some of it in every idle timeout (OnTimeout).
    acked_at_arm_ = kNotRead;
    ArmTimer(server_.limits_.idle_timeout_s);
    std::array<asio::const_buffer, 2> bufs = {asio::buffer(head_),
                                              asio::buffer(body_)};
    asio::async_write(
        socket_, bufs,
        [self = shared_from_this(), close](const asio::error_code& ec, size_t) {
          self->writing_ = false;
          if (self->on_sent_) std::exchange(self->on_sent_, nullptr)(!ec);
          if (ec || close) {
            if (!ec) {
              asio::error_code ignored;
              self->socket_.shutdown(asio::ip::tcp::socket::shutdown_send,
                                     ignored);
            }
            self->Close();
            return;
          }
          self->ArmTimer(self->parser_.in_request() || self->buffered_ > 0
                             ? self->server_.limits_.header_timeout_s
                             : self->server_.limits_.idle_timeout_s);
          self->Process();
        });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    asio::error_code ec;
    socket_.close(ec);
    server_.connections_.erase(shared_from_this());
  }

  Server& server_;
  asio::ip::tcp::socket socket_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Parser parser_;
  std::string client_ip_;
  std::array<char, 65536> buffer_;
  size_t buffered_ = 0;
  bool reading_ = false, waiting_ = false, writing_ = false, closed_ = false;
  bool keep_alive_ = true;
  bool head_only_ = false;  // the request is a HEAD: no body
  static constexpr uint64_t kNotRead = UINT64_MAX;
  uint64_t acked_at_arm_ = kNotRead;  // BytesAcked() at the last timeout
  bool continue_sent_ = false;  // 100 Continue sent for the current request
  std::string head_, body_;
  std::function<void(bool)> on_sent_;  // of the response being written
};

Server::Server(asio::io_context& io, const HttpLimits& limits, Handler handler)
    : limits_(limits),
      handler_(std::move(handler)),
      acceptor_(io),
      sweep_(io),
      accept_retry_(io) {}

void Server::Sweep() {
  // A tenth of the shorter timeout, between 10 ms and 250 ms: a timeout
  // fires at most 10 % late.
  double shorter = std::min(limits_.header_timeout_s, limits_.idle_timeout_s);
  auto period = std::chrono::milliseconds(
      std::clamp<int64_t>(static_cast<int64_t>(shorter * 100), 10, 250));
  sweep_.expires_after(period);
  sweep_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    auto now = Clock::now();
    // CheckDeadline may close (and so erase) a connection: iterate a copy.
    std::vector<std::shared_ptr<Connection>> all(connections_.begin(),
                                                 connections_.end());
    for (auto& c : all) c->CheckDeadline(now);
    Sweep();
  });
}

Server::~Server() { Stop(); }

absl::Status Server::Listen(const std::string& address, std::string* bound) {
  std::string host;
  int port;
  if (auto s = ParseHostPort(address, &host, &port); !s.ok()) return s;
  asio::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  if (ec)
    return absl::InvalidArgumentError(Cat("'", host, "' is not an IP address"));
  asio::ip::tcp::endpoint ep(ip, static_cast<uint16_t>(port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec)
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return absl::UnavailableError(
        Cat("cannot listen on ", address, ": ", ec.message()));
  auto local = acceptor_.local_endpoint();
  *bound = Cat(local.address().to_string(), ":", local.port());
  Accept();
  Sweep();
  return absl::OkStatus();
}

void Server::Accept() {
  acceptor_.async_accept(
      [this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
        if (ec) {
          if (ec == asio::error::operation_aborted) return;
          // Out of file descriptors (or memory): retrying at once would spin
          // and flood the log. Wait, say so at most once a second.
          auto now = Clock::now();
          ++accept_errors_;
          if (now - last_accept_warning_ >= std::chrono::seconds(1)) {
            spdlog::warn("accept: {} ({} times; {} connections open)",
                         ec.message(), accept_errors_, connections_.size());
            last_accept_warning_ = now;
            accept_errors_ = 0;
          }
          accept_retry_.expires_after(std::chrono::milliseconds(50));
          accept_retry_.async_wait([this](const asio::error_code& e) {
            if (!e && acceptor_.is_open()) Accept();
          });
          return;
        } else if (connections_.size() >= limits_.max_connections) {
          ++rejected_;
          auto s = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
          Response r;
          r.status = 503;
          r.body = MessagePage("Service Unavailable", "Too many connections");
          auto text =
              std::make_shared<std::string>(SerializeHead(r, false) + r.body);
          asio::async_write(*s, asio::buffer(*text),
                            [s, text](const asio::error_code&, size_t) {
                              asio::error_code ignored;
                              s->close(ignored);
                            });
        } else {
          auto c = std::make_shared<Connection>(*this, std::move(socket));
          connections_.insert(c);
          c->Start();
        }
        if (acceptor_.is_open()) Accept();
      });
}

void Server::Stop() {
  asio::error_code ec;
  acceptor_.close(ec);
  sweep_.cancel();
  accept_retry_.cancel();
  auto all = std::move(connections_);
  connections_.clear();
  for (auto& c : all) c->Stop();
}

}  // namespace its::http
