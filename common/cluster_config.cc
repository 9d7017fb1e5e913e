#include "common/cluster_config.h"

#include <toml++/toml.h>

#include <limits>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "common/service_file.h"
#include "common/strings.h"
#include "common/toml_parse.h"

namespace its {
namespace {

// Reads typed keys from one TOML table and rejects keys nobody asked for.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string file, std::string prefix)
      : table_(table), file_(std::move(file)), prefix_(std::move(prefix)) {}

  template <typename T>
  absl::Status Read(std::string_view key, T* out) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    if constexpr (std::is_same_v<T, std::string>) {
      if (auto v = node->value<std::string>()) {
        *out = *v;
        return absl::OkStatus();
      }
      return Error(*node, key, "expected a string");
    } else if constexpr (std::is_same_v<T, bool>) {
      if (auto v = node->value<bool>()) {
        *out = *v;
        return absl::OkStatus();
      }
      return Error(*node, key, "expected true or false");
    } else if constexpr (std::is_same_v<T, double>) {
      if (auto v = node->value<double>()) {  // accepts integers too
        *out = *v;
        return absl::OkStatus();
      }
      return Error(*node, key, "expected a number");
    } else {
      if (node->is_integer()) {
        const int64_t v = *node->value<int64_t>();
        // Whole numbers must fit the setting's type: 4294967297 is not 1.
        if (!std::in_range<T>(v)) {
          return Error(*node, key,
                       Cat("out of range (", std::numeric_limits<T>::min(),
                           " to ", std::numeric_limits<T>::max(), ")"));
        }
        *out = static_cast<T>(v);
        return absl::OkStatus();
      }
      return Error(*node, key, "expected a whole number");
    }
  }

  // A whole number within [min, max], named by that range when it is not
  // (also when the type could not hold it: 4294967297 sessions is "must be
  // between 1 and 16000000", not wrapped, not the type's range).
  template <typename T>
  absl::Status ReadCount(std::string_view key, T* out, int64_t min,
                         int64_t max) {
    known_.insert(std::string(key));
    if (!std::in_range<T>(min) || !std::in_range<T>(max)) {  // a coding error
      return absl::InternalError(
          Cat(prefix_, key, ": range ", min, "..", max, " beyond its type"));
    }
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    if (!node->is_integer())
      return Error(*node, key, "expected a whole number");
    const int64_t v = *node->value<int64_t>();
    if (v < min || v > max)
      return Error(*node, key, Cat("must be between ", min, " and ", max));
    *out = static_cast<T>(v);
    return absl::OkStatus();
  }

  void MarkKnown(std::string_view key) { known_.insert(std::string(key)); }

  absl::Status Error(const toml::node& node, std::string_view key,
                     std::string_view why) const {
    return absl::InvalidArgumentError(Cat(file_, ":", node.source().begin.line,
                                          ": ", prefix_, key, ": ", why));
  }

  absl::Status RejectUnknown() const {
    for (const auto& [key, node] : table_) {
      if (!known_.count(std::string(key.str()))) {
        return Error(node, key.str(), "unknown key");
      }
    }
    return absl::OkStatus();
  }

 private:
  const toml::table& table_;
  std::string file_;
  std::string prefix_;
  std::set<std::string> known_;
};

#define ITS_RETURN_IF_ERROR(expr) \
  do {                            \
    absl::Status _s = (expr);     \
    if (!_s.ok()) return _s;      \
  } while (0)

absl::Status ReadInstance(const toml::table& t, const std::string& file,
                          int index, AgateInstanceConfig* inst) {
  TableReader r(t, file, Cat("agate_instance[", index, "].", ""));
  ITS_RETURN_IF_ERROR(r.Read("name", &inst->name));
  ITS_RETURN_IF_ERROR(r.Read("mapping_manager", &inst->mapping_manager));
  inst->host_configured = t.get("host") != nullptr;
  ITS_RETURN_IF_ERROR(r.Read("host", &inst->host));
  ITS_RETURN_IF_ERROR(r.Read("listen_host", &inst->listen_host));
  ITS_RETURN_IF_ERROR(r.Read("metrics_listen", &inst->metrics_listen));
  ITS_RETURN_IF_ERROR(r.ReadCount("min_agates", &inst->min_agates, 1, 256));
  ITS_RETURN_IF_ERROR(r.ReadCount("max_agates", &inst->max_agates, 1, 256));
  ITS_RETURN_IF_ERROR(r.ReadCount("inc_agates", &inst->inc_agates, 1, 256));
  ITS_RETURN_IF_ERROR(
      r.ReadCount("max_sessions", &inst->max_sessions, 1, 16'000'000));
  ITS_RETURN_IF_ERROR(
      r.ReadCount("work_threads", &inst->work_threads, 1, 1024));
  ITS_RETURN_IF_ERROR(r.Read("overload_weight", &inst->overload_weight));
  ITS_RETURN_IF_ERROR(
      r.Read("unresponsive_restart_s", &inst->unresponsive_restart_s));
  ITS_RETURN_IF_ERROR(r.RejectUnknown());
  auto check = [&](std::string_view key, bool ok,
                   std::string_view why) -> absl::Status {
    if (ok) return absl::OkStatus();
    const toml::node* n = t.get(key);
    return r.Error(n ? *n : static_cast<const toml::node&>(t), key, why);
  };
  bool name_ok = !inst->name.empty() && inst->name.size() <= 8;
  for (char c : inst->name)
    name_ok &= (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  ITS_RETURN_IF_ERROR(
      check("name", name_ok, "must be 1-8 characters A-Z, 0-9 (like IT1)"));
  std::string host;
  int port;
  ITS_RETURN_IF_ERROR(
      check("mapping_manager",
            ParseHostPort(inst->mapping_manager, &host, &port).ok(),
            "expected host:port"));
  ITS_RETURN_IF_ERROR(
      check("mapping_manager", !IsWildcardHost(host),
            Cat("\"", host,
                "\" is no address to dial: give the address wgates and agates "
                "reach the Mapping Manager by (bind it with listen_host)")));
  if (IsWildcardHost(inst->host)) {
    ITS_RETURN_IF_ERROR(check(
        "host", false,
        Cat("\"", inst->host,
            "\" is no address others can reach: set host to the instance's "
            "address and listen_host = \"",
            inst->host, "\"")));
  }
  ITS_RETURN_IF_ERROR(
      check("host", IsAdvertisableHost(inst->host),
            "must be a host name or IPv4 address (A-Z, a-z, "
            "0-9, '.', '-'; at most 64): the GUSID carries it"));
  if (inst->listen_host.empty()) {
    ITS_RETURN_IF_ERROR(check("listen_host", t.get("listen_host") == nullptr,
                              "must not be empty"));
    inst->listen_host = inst->host;
  }
  ITS_RETURN_IF_ERROR(
      check("listen_host",
            inst->listen_host.find_first_of(" \t/:") == std::string::npos ||
                IsWildcardHost(inst->listen_host),
            "expected a host or IP address (\"0.0.0.0\": every address)"));
  ITS_RETURN_IF_ERROR(
      check("listen_host",
            !IsWildcardHost(inst->listen_host) || inst->host_configured,
            Cat("\"", inst->listen_host,
                "\" listens on every address: set agate_instance[", index,
                "].host to the address others reach this instance by")));
  if (!t.contains("metrics_listen"))
    inst->metrics_listen = inst->listen_host + ":0";
  ITS_RETURN_IF_ERROR(check(
      "metrics_listen", ParseHostPort(inst->metrics_listen, &host, &port).ok(),
      "expected host:port (the Mapping Manager's /metrics and /sd)"));
  ITS_RETURN_IF_ERROR(check("min_agates", inst->min_agates <= inst->max_agates,
                            "must be between 1 and max_agates"));
  ITS_RETURN_IF_ERROR(
      check("overload_weight",
            inst->overload_weight >= 0 && inst->overload_weight <= 1,
            "must be between 0 and 1"));
  ITS_RETURN_IF_ERROR(check("unresponsive_restart_s",
                            inst->unresponsive_restart_s >= 0 &&
                                inst->unresponsive_restart_s <= 86400,
                            "must be between 0 (never) and 86400"));
  return absl::OkStatus();
}

// A number of real seconds in (min, max]; names the key otherwise.
absl::Status CheckSeconds(const toml::table& t, TableReader& r,
                          std::string_view key, double v, double min,
                          double max, bool zero_ok = false) {
  if ((v > min && v <= max) || (zero_ok && v == 0)) return absl::OkStatus();
  const toml::node* n = t.get(key);
  return r.Error(n ? *n : static_cast<const toml::node&>(t), key,
                 zero_ok && min == 0
                     ? Cat("must be between 0 and ", max, " seconds")
                     : Cat("must be ", zero_ok ? "0 or " : "", "> ", min,
                           " and <= ", max, " seconds"));
}

}  // namespace

absl::Status ParseHostPort(std::string_view addr, std::string* host,
                           int* port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(Cat("'", addr, "' is not host:port"));
  }
  int p;
  if (!ParseInt(addr.substr(colon + 1), &p) || p < 0 || p > 65535) {
    return absl::InvalidArgumentError(Cat("'", addr, "': bad port"));
  }
  *host = std::string(addr.substr(0, colon));
  *port = p;
  return absl::OkStatus();
}

bool IsWildcardHost(std::string_view host) {
  return host == "0.0.0.0" || host == "::" || host == "[::]";
}

bool IsAdvertisableHost(std::string_view host) {
  if (host.empty() || host.size() > 64 || IsWildcardHost(host)) return false;
  for (char c : host) {
    if (!IsAlnum(c) && c != '.' && c != '-') return false;
  }
  return true;
}

std::string WithHost(std::string_view address, std::string_view host) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::string(address);
  return Cat(host, address.substr(colon));
}

std::string DialableAddress(std::string_view bound,
                            std::string_view advertise) {
  std::string host;
  int port = 0;
  if (ParseHostPort(bound, &host, &port).ok() && IsWildcardHost(host))
    return WithHost(bound, advertise);
  return std::string(bound);
}

absl::StatusOr<ClusterConfig> ClusterConfig::Load(const std::string& dir) {
  std::string file = dir + "/cluster.toml";
  auto content = ReadFile(file);
  if (!content.ok()) return content.status();
  return Parse(*content, dir, file);
}

absl::StatusOr<ClusterConfig> ClusterConfig::Parse(std::string_view content,
                                                   const std::string& dir,
                                                   const std::string& file) {
  ClusterConfig c;
  c.dir = dir;
  c.file = file;
  auto parsed = ParseToml(content, file);
  if (!parsed.ok()) return parsed.status();
  const toml::table& root = *parsed;
  TableReader top(root, file, "");
  ITS_RETURN_IF_ERROR(top.Read("time_scale", &c.time_scale));
  ITS_RETURN_IF_ERROR(top.Read("sim_epoch", &c.sim_epoch));
  ITS_RETURN_IF_ERROR(top.Read("routing", &c.routing));
  ITS_RETURN_IF_ERROR(top.Read("log_dir", &c.log_dir));
  ITS_RETURN_IF_ERROR(top.Read("sched_batch", &c.sched_batch));
  top.MarkKnown("exit_url_hosts");
  if (const toml::node* hosts = root.get("exit_url_hosts")) {
    const toml::array* list = hosts->as_array();
    if (!list)
      return top.Error(*hosts, "exit_url_hosts",
                       "expected a list of \"host[:port]\" strings");
    for (const toml::node& h : *list) {
      auto v = h.value<std::string>();
      if (!v || v->empty() || v->find_first_of("/ \t") != std::string::npos) {
        return top.Error(h, "exit_url_hosts",
                         "expected a list of \"host[:port]\" strings");
      }
      c.exit_url_hosts.push_back(*v);
    }
  }
  for (const char* t : {"wgate", "r3", "agate", "supervisor", "agate_instance"})
    top.MarkKnown(t);  // read below
  ITS_RETURN_IF_ERROR(top.RejectUnknown());
  if (!(c.time_scale > 0 && c.time_scale <= 100000)) {
    return top.Error(*root.get("time_scale"), "time_scale",
                     "must be > 0 and <= 100000");
  }
  if (c.sim_epoch < 0 || c.sim_epoch > 4102444800) {  // up to 2100-01-01
    return top.Error(*root.get("sim_epoch"), "sim_epoch",
                     "must be Unix seconds (0 = each process's own start)");
  }
  if (c.routing != "sticky" && c.routing != "naive") {
    return top.Error(*root.get("routing"), "routing",
                     "must be \"sticky\" or \"naive\"");
  }
  if (const toml::node* w = root.get("wgate")) {
    if (!w->is_table()) return top.Error(*w, "wgate", "expected a table");
    TableReader r(*w->as_table(), file, "wgate.");
    ITS_RETURN_IF_ERROR(r.Read("listen", &c.wgate_listen));
    ITS_RETURN_IF_ERROR(
        r.ReadCount("max_request_line", &c.http.max_request_line, 64, 1 << 20));
    ITS_RETURN_IF_ERROR(r.ReadCount("max_header_bytes",
                                    &c.http.max_header_bytes, 256, 1 << 20));
    ITS_RETURN_IF_ERROR(
        r.ReadCount("max_headers", &c.http.max_headers, 1, 10000));
    // A page may echo a body several times over; a stream batch holds 8 MiB.
    ITS_RETURN_IF_ERROR(r.ReadCount("max_body", &c.http.max_body, 0, 4 << 20));
    ITS_RETURN_IF_ERROR(
        r.ReadCount("max_params", &c.http.max_params, 1, 100000));
    ITS_RETURN_IF_ERROR(
        r.ReadCount("max_connections", &c.http.max_connections, 1, 1000000));
    ITS_RETURN_IF_ERROR(r.Read("header_timeout_s", &c.http.header_timeout_s));
    ITS_RETURN_IF_ERROR(r.Read("idle_timeout_s", &c.http.idle_timeout_s));
    ITS_RETURN_IF_ERROR(r.Read("one_cpu", &c.wgate_one_cpu));
    ITS_RETURN_IF_ERROR(r.Read("step_timeout_s", &c.wgate_step_timeout_s));
    ITS_RETURN_IF_ERROR(r.RejectUnknown());
    ITS_RETURN_IF_ERROR(CheckSeconds(*w->as_table(), r, "step_timeout_s",
                                     c.wgate_step_timeout_s, 0, 3600));
    const toml::table& wt = *w->as_table();
    ITS_RETURN_IF_ERROR(CheckSeconds(wt, r, "header_timeout_s",
                                     c.http.header_timeout_s, 0, 3600));
    ITS_RETURN_IF_ERROR(
        CheckSeconds(wt, r, "idle_timeout_s", c.http.idle_timeout_s, 0, 86400));
  }
  if (const toml::node* a = root.get("agate")) {
    if (!a->is_table()) return top.Error(*a, "agate", "expected a table");
    TableReader r(*a->as_table(), file, "agate.");
    ITS_RETURN_IF_ERROR(r.Read("r3_timeout_s", &c.agate_r3_timeout_s));
    ITS_RETURN_IF_ERROR(r.Read("orphan_exit_s", &c.agate_orphan_exit_s));
    ITS_RETURN_IF_ERROR(r.Read("r3_pool_keep_s", &c.agate_r3_pool_keep_s));
    ITS_RETURN_IF_ERROR(
        r.Read("unclaimed_grace_s", &c.agate_unclaimed_grace_s));
    ITS_RETURN_IF_ERROR(r.RejectUnknown());
    ITS_RETURN_IF_ERROR(CheckSeconds(*a->as_table(), r, "r3_timeout_s",
                                     c.agate_r3_timeout_s, 0, 3600));
    ITS_RETURN_IF_ERROR(CheckSeconds(*a->as_table(), r, "orphan_exit_s",
                                     c.agate_orphan_exit_s, 1, 86400, true));
    ITS_RETURN_IF_ERROR(CheckSeconds(*a->as_table(), r, "r3_pool_keep_s",
                                     c.agate_r3_pool_keep_s, 0, 86400, true));
    ITS_RETURN_IF_ERROR(CheckSeconds(*a->as_table(), r, "unclaimed_grace_s",
                                     c.agate_unclaimed_grace_s, 0, 86400,
                                     true));
  }
  if (const toml::node* sv = root.get("supervisor")) {
    if (!sv->is_table())
      return top.Error(*sv, "supervisor", "expected a table");
    const toml::table& t = *sv->as_table();
    TableReader r(t, file, "supervisor.");
    SupervisorConfig& s = c.supervisor;
    ITS_RETURN_IF_ERROR(r.Read("listen", &s.listen));
    ITS_RETURN_IF_ERROR(r.ReadCount("max_restarts", &s.max_restarts, 1, 1000));
    ITS_RETURN_IF_ERROR(r.Read("window_s", &s.window_s));
    ITS_RETURN_IF_ERROR(r.Read("first_delay_s", &s.first_delay_s));
    ITS_RETURN_IF_ERROR(r.Read("max_delay_s", &s.max_delay_s));
    ITS_RETURN_IF_ERROR(r.RejectUnknown());
    std::string host;
    int port;
    if (!ParseHostPort(s.listen, &host, &port).ok()) {
      return r.Error(*t.get("listen"), "listen", "expected host:port");
    }
    ITS_RETURN_IF_ERROR(CheckSeconds(t, r, "window_s", s.window_s, 0, 86400));
    ITS_RETURN_IF_ERROR(
        CheckSeconds(t, r, "first_delay_s", s.first_delay_s, 0, 60));
    ITS_RETURN_IF_ERROR(CheckSeconds(t, r, "max_delay_s", s.max_delay_s,
                                     s.first_delay_s - 1e-9, 600));
  }
  if (const toml::node* r3 = root.get("r3")) {
    if (!r3->is_table()) return top.Error(*r3, "r3", "expected a table");
    TableReader r(*r3->as_table(), file, "r3.");
    ITS_RETURN_IF_ERROR(r.Read("listen", &c.r3_listen));
    ITS_RETURN_IF_ERROR(r.Read("advertise", &c.r3_advertise));
    ITS_RETURN_IF_ERROR(r.Read("metrics_listen", &c.r3_metrics_listen));
    ITS_RETURN_IF_ERROR(r.RejectUnknown());
    if (const toml::node* n = r3->as_table()->get("advertise")) {
      std::string host;
      int port;
      if (!ParseHostPort(c.r3_advertise, &host, &port).ok() || port == 0) {
        return r.Error(*n, "advertise",
                       "expected host:port (the address agates dial)");
      }
      if (IsWildcardHost(host)) {
        return r.Error(*n, "advertise",
                       Cat("\"", host,
                           "\" is no address to dial: give the address the "
                           "agates reach the R/3 stub by"));
      }
    }
  }
  if (c.agate_r3_timeout_s >= c.wgate_step_timeout_s) {
    // The agate must give up on R/3 first, so users read why.
    const toml::node* a = root.get("agate");
    const toml::node* n =
        a && a->is_table() ? a->as_table()->get("r3_timeout_s") : nullptr;
    return top.Error(n ? *n : static_cast<const toml::node&>(root),
                     "agate.r3_timeout_s",
                     Cat("must be below [wgate] step_timeout_s (",
                         c.wgate_step_timeout_s, ")"));
  }
  std::string host;
  int port;
  if (!ParseHostPort(c.wgate_listen, &host, &port).ok()) {
    return top.Error(*root.get("wgate"), "wgate.listen", "expected host:port");
  }
  if (!ParseHostPort(c.r3_listen, &host, &port).ok()) {
    return top.Error(*root.get("r3"), "r3.listen", "expected host:port");
  }
  if (c.r3_advertise.empty()) {
    if (IsWildcardHost(host)) {
      const toml::node* r3 = root.get("r3");
      const toml::node* n = r3->as_table()->get("listen");
      return top.Error(n ? *n : *r3, "r3.listen",
                       Cat("\"", host,
                           "\" listens on every address: set r3.advertise to "
                           "the host:port the agates dial"));
    }
    c.r3_advertise = c.r3_listen;
  }
  if (c.r3_metrics_listen.empty()) c.r3_metrics_listen = host + ":0";
  if (!ParseHostPort(c.r3_metrics_listen, &host, &port).ok()) {
    return top.Error(*root.get("r3"), "r3.metrics_listen",
                     "expected host:port");
  }
  if (const toml::node* list = root.get("agate_instance")) {
    const toml::array* arr = list->as_array();
    if (arr == nullptr)
      return top.Error(*list, "agate_instance",
                       "expected [[agate_instance]] tables");
    std::set<std::string> names;
    int index = 0;
    for (const toml::node& n : *arr) {
      if (!n.is_table())
        return top.Error(n, "agate_instance", "expected a table");
      AgateInstanceConfig inst;
      ITS_RETURN_IF_ERROR(ReadInstance(*n.as_table(), file, index, &inst));
      if (!names.insert(inst.name).second) {
        return top.Error(n, Cat("agate_instance[", index, "].name"),
                         Cat("duplicate instance name ", inst.name));
      }
      c.instances.push_back(std::move(inst));
      ++index;
    }
  }
  if (c.instances.empty()) {
    return absl::InvalidArgumentError(
        Cat(file,
            ":1: agate_instance: at least one [[agate_instance]] is required"));
  }
  return c;
}

std::string ClusterConfig::LogDir() const {
  if (!log_dir.empty() && log_dir[0] == '/') return log_dir;
  return Cat(dir, "/", log_dir);
}

const AgateInstanceConfig* ClusterConfig::FindInstance(
    std::string_view name) const {
  for (const auto& i : instances)
    if (i.name == name) return &i;
  return nullptr;
}

}  // namespace its
