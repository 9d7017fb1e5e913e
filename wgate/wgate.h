#pragma once

#include <asio.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/cluster_config.h"
#include "common/gusid.h"
#include "common/service_file.h"
#include "proto/its.grpc.pb.h"
#include "wgate/grpc_side.h"
#include "wgate/http.h"
#include "wgate/http_server.h"

namespace its::wgate {

// Counters behind /metrics.
struct Metrics {
  uint64_t requests = 0;
  uint64_t new_sessions = 0;  // steps 1-5 that reached an agate
  uint64_t dialog_steps = 0;  // steps 1,4,5
  uint64_t logon_pages = 0;
  uint64_t assign_calls = 0;
  uint64_t no_capacity = 0;  // 503: every instance full
  uint64_t bad_session = 0;  // 400: forged, unknown, ended
  uint64_t bad_request = 0;  // 400: malformed parameters
  uint64_t not_found = 0;
  uint64_t agate_unreachable = 0;  // stream broke; the session is kept
  uint64_t agate_timeouts = 0;     // 504: no answer within step_timeout_s
  uint64_t dsm_requests = 0;       // Terminator requests
  uint64_t dsm_terminated = 0;     // sessions it ended
  uint64_t dsm_missed =
      0;  // targets that reached no owner (naive routing, ended, wrong token)
  uint64_t dsm_rejected =
      0;  // targets refused: not this cluster's session URLs
  uint64_t portal_refused = 0;  // absolute or foreign launch URLs
  std::map<int, uint64_t> by_status;
};

// The wgate: stateless HTTP front end. New sessions: pick an instance by
// free capacity (step 1), ask its Mapping Manager for a process (2, 3), send
// the request to that agate (4, 5). Existing sessions: route by the GUSID and
// the pushed process directory alone (1, 4, 5). Runs on the Asio thread; its
// gRPC runs on GrpcSide's loop thread.
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
  bool Healthy(std::string* degraded = nullptr) const;

 private:
  class DirectoryReader;
  struct Instance {
    const AgateInstanceConfig* config = nullptr;
    std::unique_ptr<proto::MappingManager::Stub> stub;
    // The last directory the Mapping Manager sent. Kept when the manager
    // goes away: its agates keep serving their sessions meanwhile.
    proto::Directory directory;
    uint64_t watch = 0;  // the current directory reader (0: none)
    // Managers send their directory at least once a second; one that was
    // silent for kManagerSilence takes no new sessions until it speaks.
    std::chrono::steady_clock::time_point last_directory;
    bool manager_ok = false;
    bool has_directory = false;  // one came since this wgate started
  };
  struct Pick {
    std::string instance;
    int process = -1;
    std::string address;
  };

  void HandleService(http::Request& req, const std::string& service, bool start,
                     Respond respond);
  void StartSession(const std::string& service, Params url,
                    const std::string& old_session,
                    const std::string& client_ip, Respond respond);
  void TryInstances(std::shared_ptr<proto::AGateRequest> req,
                    std::vector<size_t> order, size_t next, Respond respond);
  using Routed =
      std::function<void(proto::AGateResponse&, const std::string& instance)>;
  // Sends a request of an existing session to the agate that owns it (with
  // routing "naive": terminations to any live process). Unusable IDs and
  // unreachable processes come back as an AGateResponse with a 400 page.
  void Route(proto::AGateRequest req, Routed done);
  // After a broken stream: "ended" (400) once the directory says the owner
  // ended, "not reachable, session kept" (503) if it still lives after
  // `checks_left` looks 100 ms apart.
  void AwaitVerdict(const Gusid& owner, Routed done, int checks_left);
  const proto::ProcessInfo* Owner(const Gusid& id) const;
  const proto::ProcessInfo* AnyProcess();
  http::Response ToHttp(proto::AGateResponse& a, const std::string& instance,
                        const std::string& steps, const std::string& service);
  void Terminator(http::Request& req, Respond respond);
  void Portal(http::Request& req, Respond respond);
  std::vector<size_t> InstanceOrder();
  void Watch(size_t index);
  void AdminPage(const http::Request& req, Respond respond);
  std::string MetricsText() const;
  http::Response Page(int status, const std::string& title,
                      const std::string& message, const std::string& steps,
                      bool clear_cookie_for = false,
                      const std::string& service = "");
  void Reply(Respond& respond, http::Response r);
  void CallAgate(const std::string& address, proto::AGateRequest req,
                 GrpcSide::AgateDone done);
  void PruneAgates();
  void DirectoryUpdate(size_t index, uint64_t watch, proto::Directory& d);
  void DirectoryEnded(size_t index, uint64_t watch);
  void CheckManagers();  // every second: which managers fell silent

  const ClusterConfig& config_;
  const ServiceCatalog& services_;
  asio::io_context& io_;
  GrpcSide grpc_;
  std::vector<Instance> instances_;
  std::unordered_set<std::string>
      agates_;  // addresses with a stream (on grpc_)
  uint64_t next_watch_ = 1;
  std::unique_ptr<proto::R3::Stub> r3_;
  std::mt19937_64 rng_;
  Metrics metrics_;
  asio::steady_timer manager_check_;
  bool stopping_ = false;
};

// Cookie header value that sets (or, with empty `gusid`, clears) ~session.
std::string SessionCookie(const std::string& service, const std::string& gusid);

}  // namespace its::wgate
