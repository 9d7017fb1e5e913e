#pragma once

#include <unistd.h>

#include <asio.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/gusid.h"
#include "common/params.h"
#include "common/service_file.h"
#include "common/trace.h"
#include "proto/its.grpc.pb.h"
#include "wgate/directory.h"
#include "wgate/grpc_side.h"
#include "wgate/http.h"
#include "wgate/http_server.h"
#include "wgate/metrics.h"
#include "wgate/session_routing.h"

namespace its::wgate {

// The wgate: stateless HTTP front end. New sessions: pick an instance by
// free capacity (step 1), ask its Mapping Manager for a process (2, 3), send
// the request to that agate (4, 5). Existing sessions: route by the GUSID and
// the pushed process directory alone (1, 4, 5). Runs on the Asio thread; its
// gRPC runs on GrpcSide's loop thread.
//
// One class, one file per job: wgate.cc (dispatch, directory upkeep, dialog
// steps), session_start.cc (steps 1-5), dsm_endpoints.cc (Terminator and
// portal), admin_page.cc. The decisions they use are pure and unit-tested:
// router.h, directory.h, session_routing.h, outcome.h.
class WGate {
 public:
  using Respond = http::Server::Respond;

  WGate(const ClusterConfig& config, const ServiceCatalog& services,
        asio::io_context& io);
  ~WGate();

  void Start();  // subscribes to every Mapping Manager's directory
  void Stop();
  void Handle(http::Request& req, Respond respond);

  // Some instance can take a new session: its Mapping Manager is reachable
  // and it has a live process. `degraded` (if given) lists, one per line,
  // what is not as it should be.
  bool Healthy(std::string* degraded = nullptr) const {
    return directory_.Healthy(degraded);
  }

 private:
  // A request's trace and its span (step 0), and a span to finish later
  // (traces.cc).
  struct TraceRef {
    TraceId trace;
    uint64_t root = 0;  // the request's span (step 0)
  };
  struct SpanRef {
    size_t index = 0;
    uint64_t id = 0;  // 0: not traced
  };

  // Answers of an existing session's request: `instance` names the owner and
  // `address` is the process that answered ("" when no agate answered).
  using Routed =
      std::function<void(proto::AGateResponse&, const std::string& instance,
                         const std::string& address)>;

  // wgate.cc
  void Watch(size_t index);
  void CheckManagers();  // every second: which managers fell silent
  void PruneAgates();
  void CallAgate(const std::string& address, proto::AGateRequest req,
                 GrpcSide::AgateDone done);
  void HandleService(http::Request& req, const std::string& service, bool start,
                     Respond respond);
  // Sends a request of an existing session to the agate that owns it.
  // Unusable IDs and unreachable processes come back as an answer with the
  // wgate's own outcome.
  void Route(proto::AGateRequest req, Routed done);
  void RouteOnce(proto::AGateRequest req, Routed done);
  // Terminations (a closed tab, a logoff URL, the old session of a new
  // start) whose owner cannot be reached now — its instance's directory not
  // here yet after a wgate restart, the process not registered again after
  // its manager restarted, its stream broken — are kept, one per session
  // and at most kMaxHeldTerminations per instance, and routed again after
  // each directory update of that instance until they are sent, the owner
  // is known to have ended, or kHoldTerminations passed: the browser sends
  // its beacon once, and the session would otherwise keep its R/3 session
  // and locks until ~timeout. `done` as for Route; `until`: when to give
  // up; `retry`: kept before (counted and logged when first kept).
  Routed KeepIfUnreachable(const proto::AGateRequest& req,
                           std::chrono::steady_clock::time_point until,
                           Routed done, bool retry);
  void KeepTermination(proto::AGateRequest req,
                       std::chrono::steady_clock::time_point until, bool retry);
  void RetryTerminations(const std::string& instance);
  // After a broken stream: "lost" once the directory says the owner ended,
  // "not reachable, session kept" if it still lives after `checks_left`
  // looks 100 ms apart.
  void AwaitVerdict(const Gusid& owner, Routed done, int checks_left);
  // The one place an answer becomes HTTP (and is counted by outcome).
  // `address`: the agate that answered, told whether a session it started
  // reached the browser (proto::Delivery).
  http::Response ToHttp(proto::AGateResponse& a, const std::string& instance,
                        const std::string& address, const char* steps,
                        const std::string& service);
  http::Response Page(int status, const std::string& title,
                      const std::string& message, const std::string& steps);
  void Reply(Respond& respond, http::Response r);

  // session_start.cc
  // Where a new session may go: the instances to ask in order (step 1),
  // and with ~agate_routing the one named instance and maybe its process.
  struct StartPlan {
    std::vector<size_t> order;
    bool routed = false;  // ~agate_routing: no other instance, no fallback
    std::optional<int> process;
  };
  void StartSession(const std::string& service, Params url,
                    const std::string& old_session,
                    const std::string& client_ip, const TraceRef& trace,
                    Respond respond);
  void TryInstances(std::shared_ptr<proto::AGateRequest> req, StartPlan plan,
                    size_t next, Respond respond);

  // traces.cc (docs/architecture.md §7.1): every span here is recorded and
  // read on the Asio thread.
  // The request's trace (its valid traceparent, else a new one) and its
  // span; wraps `respond` so the answer finishes the span and carries
  // X-ITS-Trace.
  TraceRef BeginTrace(const http::Request& req, const std::string& service,
                      bool start, Respond* respond);
  void RecordChoice(const proto::AGateRequest& req, const StartPlan& plan);
  void RecordRoute(const proto::AGateRequest& req, const RouteDecision& d);
  SpanRef BeginAssign(const proto::AGateRequest& req, size_t instance);
  void EndAssign(SpanRef ref, const grpc::Status& status,
                 const proto::AssignResult& reply);
  proto::TraceReply OwnSpans(TraceId trace) const;
  void ServeTrace(const std::string& id, bool json, Respond respond);
  void ServeTraceList(Respond respond);

  // dsm_endpoints.cc
  void Terminator(http::Request& req, Respond respond);
  void Portal(http::Request& req, Respond respond);

  // admin_page.cc
  void AdminPage(const http::Request& req, Respond respond);
  // /scripts/wgate/admin/ (without `!`): 302 to the admin page.
  void AdminRedirect(const http::Request& req, Respond respond);

  const ClusterConfig& config_;
  const ServiceCatalog& services_;
  asio::io_context& io_;
  GrpcSide grpc_;
  ProcessDirectory directory_;
  std::vector<std::unique_ptr<proto::MappingManager::Stub>> managers_;
  std::vector<uint64_t> watches_;  // per instance: its reader (0: none)
  // Addresses with a stream (on grpc_).
  std::unordered_set<std::string> agates_;
  uint64_t next_watch_ = 1;
  std::unique_ptr<proto::R3::Stub> r3_;
  // The admin page's channels to AGate processes, by address.
  std::unordered_map<std::string, std::shared_ptr<proto::AGate::Stub>>
      admin_stubs_;
  std::mt19937_64 rng_;
  // The cluster's simulated time (cluster.toml time_scale, sim_epoch), for
  // the pages the wgate makes itself.
  ScaledClock clock_;
  Metrics metrics_;
  SpanStore spans_;  // this wgate's spans (traces.cc)
  const int pid_ = getpid();
  asio::steady_timer manager_check_;
  bool stopping_ = false;
  struct HeldTermination {
    proto::AGateRequest request;
    std::chrono::steady_clock::time_point until;
  };
  static constexpr auto kHoldTerminations = std::chrono::minutes(10);
  static constexpr size_t kMaxHeldTerminations = 16384;  // per instance
  // By the owner's instance; their sessions' public IDs (each kept once).
  std::unordered_map<std::string, std::vector<HeldTermination>>
      held_terminations_;
  std::unordered_set<std::string> held_sessions_;
};

}  // namespace its::wgate
