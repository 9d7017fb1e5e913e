#pragma once

// The metrics endpoint of the agate, the Mapping Manager and the R/3 stub
// (docs/architecture.md §7): a small HTTP/1.1 server on standalone Asio,
// one thread of its own, one request per connection (llhttp parses it).
// GET /metrics answers the Prometheus text exposition of a
// prometheus::Registry (prometheus-cpp's TextSerializer: names, HELP, TYPE,
// escaped labels, cumulative buckets); further paths (the Mapping Manager's
// /sd) answer what their handler returns. Handlers run on the server's
// thread, so they must read only thread-safe state (prometheus-cpp's
// metrics are; anything else behind a mutex).
//
// The wgate keeps its own server (wgate/http_server.h): that one is the hot
// path and has keep-alive, limits and pipelining; this one is for a scrape a
// second.

#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace asio {
class io_context;
}

namespace its {

// Buckets of every latency histogram (the wgate's request durations, the
// agate's steps and logons), in real seconds.
inline const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return b;
}

struct MetricsReply {
  std::string content_type;
  std::string body;
};

class MetricsHttpServer {
 public:
  using Handler = std::function<MetricsReply()>;

  // Binds `listen` (host:port, port 0 = any), serves /metrics from
  // `registry` and every path of `extra` ("/sd", ...) from its handler.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& listen, std::shared_ptr<prometheus::Registry> registry,
      std::map<std::string, Handler> extra = {});
  ~MetricsHttpServer();  // stops the thread; open connections are closed

  const std::string& address() const { return address_; }

  // The exposition of `registry` (what GET /metrics answers).
  static std::string Exposition(const prometheus::Registry& registry);

  // The answer to one request (method, request target) of an endpoint
  // serving `registry` and `extra`: status, content type, body. What each
  // connection sends; public for the unit tests.
  struct Answer {
    int status;
    MetricsReply reply;
  };
  static Answer Respond(const prometheus::Registry& registry,
                        const std::map<std::string, Handler>& extra,
                        std::string_view method, std::string_view target);

 private:
  class Connection;
  MetricsHttpServer() = default;
  void Accept();

  std::shared_ptr<prometheus::Registry> registry_;
  std::map<std::string, Handler> extra_;
  std::string address_;
  std::unique_ptr<asio::io_context> io_;
  struct Acceptor;
  std::unique_ptr<Acceptor> acceptor_;
  int open_ = 0;  // connections open (server thread only)
  std::thread thread_;
};

}  // namespace its
