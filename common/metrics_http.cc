#include "common/metrics_http.h"

#include <fcntl.h>
#include <llhttp.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <asio.hpp>

#include "common/cluster_config.h"
#include "common/http_status.h"
#include "common/log.h"
#include "common/strings.h"

namespace its {
namespace {

constexpr size_t kMaxRequest = 8192;  // request line and headers
constexpr int kMaxOpen = 64;          // connections at once
constexpr auto kRequestTimeout = std::chrono::seconds(5);

std::string Serialize(int status, const MetricsReply& reply, bool head) {
  std::string out = Cat("HTTP/1.1 ", status, " ", http::ReasonPhrase(status),
                        "\r\nContent-Type: ", reply.content_type,
                        "\r\nContent-Length: ", reply.body.size(),
                        "\r\nConnection: close\r\n\r\n");
  if (!head) out += reply.body;
  return out;
}

MetricsReply Text(std::string text) {
  return {"text/plain; charset=utf-8", std::move(text) + "\n"};
}

}  // namespace

struct MetricsHttpServer::Acceptor {
  explicit Acceptor(asio::io_context& io) : acceptor(io) {}
  asio::ip::tcp::acceptor acceptor;
};

// One request, one answer, then the connection closes. llhttp parses; the
// request target and method are all this server needs.
class MetricsHttpServer::Connection
    : public std::enable_shared_from_this<Connection> {
 public:
  Connection(MetricsHttpServer& server, asio::ip::tcp::socket socket)
      : server_(server), socket_(std::move(socket)), timer_(*server.io_) {
    llhttp_settings_init(&settings_);
    settings_.on_url = [](llhttp_t* p, const char* at, size_t n) {
      static_cast<Connection*>(p->data)->target_.append(at, n);
      return 0;
    };
    settings_.on_message_complete = [](llhttp_t* p) {
      static_cast<Connection*>(p->data)->complete_ = true;
      return static_cast<int>(HPE_PAUSED);
    };
    llhttp_init(&parser_, HTTP_REQUEST, &settings_);
    parser_.data = this;
    ++server_.open_;
  }
  ~Connection() { --server_.open_; }

  void Run() {
    timer_.expires_after(kRequestTimeout);
    timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec && !self->answered_) self->Send(408, Text("request timeout"));
    });
    Read();
  }

  void Send(int status, MetricsReply reply, bool head = false) {
    if (answered_) return;
    answered_ = true;
    timer_.cancel();
    out_ = Serialize(status, reply, head);
    asio::async_write(
        socket_, asio::buffer(out_),
        [self = shared_from_this()](const asio::error_code&, size_t) {
          asio::error_code ignored;
          self->socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
          self->socket_.close(ignored);
        });
  }

 private:
  void Read() {
    socket_.async_read_some(
        asio::buffer(buffer_),
        [self = shared_from_this()](const asio::error_code& ec, size_t n) {
          if (ec || self->answered_) return;  // closed, or timed out
          self->Parse(n);
        });
  }

  void Parse(size_t n) {
    received_ += n;
    llhttp_errno_t err = llhttp_execute(&parser_, buffer_.data(), n);
    if (complete_) {
      std::string_view method = llhttp_method_name(
          static_cast<llhttp_method_t>(llhttp_get_method(&parser_)));
      Answer a = Respond(*server_.registry_, server_.extra_, method, target_);
      Send(a.status, std::move(a.reply), method == "HEAD");
      return;
    }
    if (err != HPE_OK) {
      Send(400, Text(Cat("bad request: ", llhttp_errno_name(err), ": ",
                         llhttp_get_error_reason(&parser_))));
      return;
    }
    if (received_ > kMaxRequest) {
      Send(431, Text("request too large"));
      return;
    }
    Read();
  }

  MetricsHttpServer& server_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  std::array<char, 2048> buffer_;
  size_t received_ = 0;
  std::string target_;
  bool complete_ = false;
  bool answered_ = false;
  std::string out_;
};

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& listen, std::shared_ptr<prometheus::Registry> registry,
    std::map<std::string, Handler> extra) {
  std::string host;
  int port;
  if (auto s = ParseHostPort(listen, &host, &port); !s.ok()) {
    return absl::InvalidArgumentError(
        Cat("metrics listen address ", listen, ": ", s.message()));
  }
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer());
  server->registry_ = std::move(registry);
  server->extra_ = std::move(extra);
  server->io_ = std::make_unique<asio::io_context>(1);
  server->acceptor_ = std::make_unique<Acceptor>(*server->io_);
  asio::error_code ec;
  auto ip =
      asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        Cat("metrics listen address ", listen, ": not an IP address"));
  }
  auto& acceptor = server->acceptor_->acceptor;
  asio::ip::tcp::endpoint ep(ip, static_cast<uint16_t>(port));
  acceptor.open(ep.protocol(), ec);
  if (!ec)
    acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  // Not inherited by the processes this one starts (a Mapping Manager's
  // agates outlive it: a restarted manager must be able to bind again).
  if (!ec) ::fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        Cat("metrics endpoint: cannot listen on ", listen, ": ", ec.message()));
  }
  auto bound = acceptor.local_endpoint(ec);
  server->address_ = Cat(bound.address().to_string(), ":", bound.port());
  server->Accept();
  server->thread_ = std::thread([s = server.get()] { s->io_->run(); });
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (io_) io_->stop();
  if (thread_.joinable()) thread_.join();
  acceptor_.reset();  // before the io_context its connections live in
  io_.reset();
}

void MetricsHttpServer::Accept() {
  acceptor_->acceptor.async_accept(
      [this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
          ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
          auto c = std::make_shared<Connection>(*this, std::move(socket));
          if (open_ > kMaxOpen) {
            c->Send(503, Text("too many connections"));
          } else {
            c->Run();
          }
        }
        Accept();
      });
}

std::string MetricsHttpServer::Exposition(
    const prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

MetricsHttpServer::Answer MetricsHttpServer::Respond(
    const prometheus::Registry& registry,
    const std::map<std::string, Handler>& extra, std::string_view method,
    std::string_view target) {
  if (method != "GET" && method != "HEAD")
    return {405, Text("only GET and HEAD")};
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/metrics") {
    return {200,
            {"text/plain; version=0.0.4; charset=utf-8", Exposition(registry)}};
  }
  if (auto it = extra.find(std::string(path)); it != extra.end())
    return {200, it->second()};
  std::string paths = "/metrics";
  for (const auto& [p, h] : extra) paths += Cat(", ", p);
  return {404, Text(Cat("not found; this endpoint serves ", paths))};
}

}  // namespace its
