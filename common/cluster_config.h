#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace its {

struct AgateInstanceConfig {
  std::string name;             // IT1, IT2, ...
  std::string mapping_manager;  // host:port of its Mapping Manager
  // The address others reach this instance's Mapping Manager and agates by:
  // agates register <host>:<their port>, and it is the GUSID's host part
  // (docs/architecture.md §3). `mapping_manager --advertise` overrides it.
  std::string host = "127.0.0.1";
  bool host_configured = false;  // `host` was in the file
  // Where its Mapping Manager and agates bind ("0.0.0.0": every address);
  // default: host.
  std::string listen_host;
  // host:port of the Mapping Manager's metrics endpoint (/metrics, /sd);
  // default: listen_host, port 0 (any free port).
  std::string metrics_listen;
  int min_agates = 2;       // MinAGates
  int max_agates = 4;       // MaxAGates
  int inc_agates = 1;       // IncAGates
  int max_sessions = 1000;  // MaxSessions per AGate process
  int work_threads = 8;     // MaxWorkThreads per AGate process
  double overload_weight = 0.25;
  // A process whose load reports stopped (unresponsive) is killed and
  // restarted after this many real seconds; 0 = never.
  double unresponsive_restart_s = 60;
};

// How the cluster launcher restarts r3_stub, the wgate and the Mapping
// Managers, and a Mapping Manager its agates ([supervisor] table).
struct SupervisorConfig {
  // The launcher's admin API (itsadm processes, itsadm fault).
  std::string listen = "127.0.0.1:3899";
  int max_restarts = 5;        // crashes within the window before giving up
  double window_s = 60;        // real seconds
  double first_delay_s = 0.1;  // back-off: first restart after this long,
  double max_delay_s = 5;      // doubling per crash in the window up to this
};

// Limits of the wgate's HTTP front end ([wgate] table).
struct HttpLimits {
  size_t max_request_line = 8192;
  size_t max_header_bytes = 16384;
  size_t max_headers = 100;
  size_t max_body = 1 << 20;
  size_t max_params = 1000;
  size_t max_connections = 10000;
  double header_timeout_s = 10;  // real seconds to receive a request's headers
  double idle_timeout_s = 60;  // real seconds a keep-alive connection may idle
};

// cluster.toml (docs/architecture.md §5). Paths are relative to `dir`.
struct ClusterConfig {
  std::string dir;   // configuration directory
  std::string file;  // path of cluster.toml
  double time_scale = 1.0;
  // Unix seconds at which simulated time equals real time; it runs
  // time_scale times as fast from there (common/clock.h SimulatedTime). The
  // launcher sets it in its working copy so all processes agree; 0: every
  // process starts simulated time at its own start.
  int64_t sim_epoch = 0;
  std::string routing = "sticky";  // or "naive"
  std::string log_dir =
      "logs";  // ITS logs (access.log per instance); relative to dir
  std::vector<std::string>
      exit_url_hosts;  // hosts an absolute ~exitURL may name
  // The cluster's processes run under SCHED_BATCH (docs/hot-path.md).
  bool sched_batch = true;
  std::string wgate_listen = "127.0.0.1:8080";
  // Not a key: `wgate --advertise HOST` as host:port (the listen port), the
  // address others reach this wgate by; absolute DSM Terminator URLs may
  // name it. Empty: none besides the listen address and the Host header.
  std::string wgate_advertise;
  // The wgate keeps its HTTP and gRPC threads on one CPU (docs/hot-path.md:
  // off by default since an A/B showed it no longer helps).
  bool wgate_one_cpu = false;
  HttpLimits http;
  // Real seconds the wgate waits for an AGate process's answer (504 after).
  double wgate_step_timeout_s = 30;
  // Real seconds an agate waits for R/3's answer to one call.
  double agate_r3_timeout_s = 10;
  // An agate that could not reach any Mapping Manager for this many real
  // seconds exits (nobody would ever stop it otherwise); 0 = never.
  double agate_orphan_exit_s = 120;
  // Real seconds an agate keeps the R/3 connection of an ended session in its
  // connection pool (reset, not logged off: SM04 shows a reference); 0 = none.
  double agate_r3_pool_keep_s = 0;
  // Real seconds a new session waits for a request from its browser when
  // its wgate's stream closed before the wgate confirmed the browser got it
  // (docs/faults.md, "Unclaimed sessions"); 0 = ended at once.
  double agate_unclaimed_grace_s = 60;
  SupervisorConfig supervisor;
  std::string r3_listen = "127.0.0.1:3200";  // where r3_stub binds
  // host:port the agates (and wgates, itsadm) dial for R/3; default:
  // r3_listen. Required when r3_listen is a wildcard address.
  std::string r3_advertise;
  // The R/3 stub's metrics endpoint (/metrics); default: r3_listen's host,
  // port 0 (any free port).
  std::string r3_metrics_listen;
  std::vector<AgateInstanceConfig> instances;

  // Loads DIR/cluster.toml. Errors name the file, line and key.
  static absl::StatusOr<ClusterConfig> Load(const std::string& dir);
  static absl::StatusOr<ClusterConfig> Parse(std::string_view content,
                                             const std::string& dir,
                                             const std::string& file);
  const AgateInstanceConfig* FindInstance(std::string_view name) const;
  // log_dir as a path (relative ones are relative to the config directory).
  std::string LogDir() const;
};

// Splits "host:port"; port 0 is allowed (bind any).
absl::Status ParseHostPort(std::string_view addr, std::string* host, int* port);

// "0.0.0.0", "::" or "[::]": an address to listen on, never one to dial.
bool IsWildcardHost(std::string_view host);

// A host others may dial and the GUSID may carry: a host name or IPv4
// address of A-Z, a-z, 0-9, '.', '-' (1-64 characters), not a wildcard.
bool IsAdvertisableHost(std::string_view host);

// "host:port" with `host` in place of the address's host (the port kept).
std::string WithHost(std::string_view address, std::string_view host);

// Where others dial a server bound at `bound`: the same address, or, when it
// is bound to every address (a wildcard), `advertise` with its port.
std::string DialableAddress(std::string_view bound, std::string_view advertise);

}  // namespace its
