#include "clients/admin.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <variant>

#include "absl/strings/str_format.h"
#include "common/call_all.h"
#include "common/clock.h"
#include "common/grpc_util.h"
#include "common/http_client.h"
#include "common/strings.h"
#include "common/trace.h"
#include "proto/its.grpc.pb.h"

namespace its::admin {
namespace {

constexpr int kDeadlineMs = 3000;

// One admin call to the R/3 stub with a deadline; errors name its address.
template <typename Reply, typename Call>
absl::StatusOr<Reply> CallR3(const ClusterConfig& config, Call call) {
  auto stub = proto::R3::NewStub(MakeChannel(config.r3_advertise));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(kDeadlineMs));
  Reply reply;
  grpc::Status s = call(*stub, &ctx, &reply);
  if (!s.ok()) {
    return absl::Status(
        static_cast<absl::StatusCode>(s.error_code()),
        Cat("R/3 stub at ", config.r3_advertise, ": ", s.error_message()));
  }
  return reply;
}

// Every reachable Mapping Manager's directory; the others are named in
// `warnings` (an error only if none answers).
absl::StatusOr<std::vector<proto::Directory>> Directories(
    const ClusterConfig& config, std::vector<std::string>* warnings) {
  std::vector<proto::Directory> out;
  std::vector<std::string> errors;
  // All at once: silent managers cost the deadline once, not each.
  std::vector<std::string> addresses;
  for (const auto& inst : config.instances)
    addresses.push_back(inst.mapping_manager);
  auto calls = CallAll<proto::MappingManager, proto::Directory>(
      addresses, kDeadlineMs, [](auto& stub, auto* ctx, auto* cq) {
        return stub.PrepareAsyncGetDirectory(ctx, proto::Empty(), cq);
      });
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto& inst = config.instances[i];
    if (!calls[i]->status.ok()) {
      errors.push_back(Cat("Mapping Manager of ", inst.name, " at ",
                           inst.mapping_manager, ": ",
                           calls[i]->status.error_message()));
      warnings->push_back(
          Cat(errors.back(), " (its processes are not listed)"));
      continue;
    }
    out.push_back(std::move(calls[i]->reply));
  }
  if (out.empty()) {
    std::string all = "no Mapping Manager answers";
    for (const auto& e : errors) all += Cat("\n  ", e);
    return absl::UnavailableError(all);
  }
  return out;
}

}  // namespace

Table TimeTable(const ClusterConfig& config, int64_t real_us) {
  Table t;
  t.table.columns = {{"simulated_time", "Simulated time"},
                     {"time_scale", "Time scale"},
                     {"sim_epoch", "Simulated time epoch"}};
  bool known = config.sim_epoch > 0 || config.time_scale == 1.0;
  std::string now =
      known ? FormatDateTime(
                  SimulatedTime(config.sim_epoch, config.time_scale, real_us))
                  .substr(0, 19)
            : "";
  t.table.rows.push_back({now, config.time_scale, int64_t{config.sim_epoch}});
  return t;
}

std::string ClockLine(const ClusterConfig& config, int64_t real_us) {
  if (config.sim_epoch <= 0 && config.time_scale != 1.0) {
    return fmt::format(
        "time scale {:g} (simulated time differs per process: no sim_epoch "
        "in cluster.toml)",
        config.time_scale);
  }
  return Cat(
      "simulated time ",
      ClockText(SimulatedTime(config.sim_epoch, config.time_scale, real_us),
                config.time_scale));
}

absl::StatusOr<Table> Trace(const ClusterConfig& config, const std::string& id,
                            std::string* steps) {
  if (!ParseTraceHex(id)) {
    return absl::InvalidArgumentError(
        Cat("not a trace ID: ", id.substr(0, 80),
            " (32 lower-case hex digits, as in the X-ITS-Trace header)"));
  }
  // 3 s, as every itsadm call (docs/architecture.md §6).
  auto r = HttpGet(config.wgate_listen, Cat("/trace/", id, ".json"), 3000);
  if (!r.ok()) {
    return absl::UnavailableError(
        Cat("the wgate at ", config.wgate_listen,
            " does not answer: ", r.status().message()));
  }
  if (r->status == 404)
    return absl::NotFoundError(
        Cat("the wgate has no trace ", id, " (not made there, or too old)"));
  if (r->status != 200) {
    return absl::UnavailableError(
        Cat("the wgate answered ", r->status, " for trace ", id));
  }
  auto trace = nlohmann::json::parse(r->body, nullptr, false);
  if (trace.is_discarded() || !trace.contains("spans")) {
    return absl::UnavailableError("the wgate's trace is not JSON");
  }
  Table t;
  t.table.columns = {{"step", "Step"},
                     {"process", "Process"},
                     {"pid", "PID"},
                     {"at_ms", "At (ms)"},
                     {"duration_ms", "Duration (ms)"},
                     {"decided", "Decided"}};
  int64_t t0 = 0;
  for (const auto& s : trace["spans"]) {
    if (s["step"] == 0) t0 = s["start_us"].get<int64_t>();
  }
  for (const auto& s : trace["spans"]) {
    int64_t start = s["start_us"].get<int64_t>();
    t.table.rows.push_back(
        {admin_table::Cell(static_cast<int64_t>(s["step"].get<int>())),
         admin_table::Cell(s["process"].get<std::string>()),
         admin_table::Cell(static_cast<int64_t>(s["pid"].get<int>())),
         admin_table::Cell(t0 && start ? (start - t0) / 1000.0 : 0.0),
         admin_table::Cell(s["duration_ms"].get<double>()),
         admin_table::Cell(s["decided"].get<std::string>())});
  }
  for (const auto& m : trace["missing"])
    t.warnings.push_back(Cat("missing: ", m.get<std::string>()));
  if (steps != nullptr) {
    steps->clear();
    for (const auto& n : trace["steps"])
      Append(steps, steps->empty() ? "" : ",", n.get<int>());
  }
  return t;
}

absl::StatusOr<Table> Query(const ClusterConfig& config,
                            const std::string& command) {
  Table t;
  if (command == "time") {
    return TimeTable(config,
                     std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  }
  if (command == "sm05") {
    auto reply =
        CallR3<proto::Sm05Reply>(config, [](auto& stub, auto* ctx, auto* r) {
          return stub.ListSecuritySessions(ctx, proto::Empty(), r);
        });
    if (!reply.ok()) return reply.status();
    t.table = admin_table::Sm05Table(*reply);
    return t;
  }
  if (command == "sm04") {
    auto reply =
        CallR3<proto::Sm04Reply>(config, [](auto& stub, auto* ctx, auto* r) {
          return stub.ListUserSessions(ctx, proto::Empty(), r);
        });
    if (!reply.ok()) return reply.status();
    t.table = admin_table::Sm04Table(*reply);
    return t;
  }
  if (command == "sm12") {
    auto reply =
        CallR3<proto::Sm12Reply>(config, [](auto& stub, auto* ctx, auto* r) {
          return stub.ListLocks(ctx, proto::Empty(), r);
        });
    if (!reply.ok()) return reply.status();
    t.table = admin_table::Sm12Table(*reply);
    return t;
  }
  if (command == "agates" || command == "loadstat") {
    auto dirs = Directories(config, &t.warnings);
    if (!dirs.ok()) return dirs.status();
    bool agates = command == "agates";
    t.table = agates ? admin_table::AgateTable() : admin_table::LoadstatTable();
    for (const auto& d : *dirs) {
      for (const auto& p : d.processes()) {
        if (agates) {
          admin_table::AddAgateRow(p, &t.table);
        } else {
          admin_table::AddLoadstatRow(p, &t.table);
        }
      }
    }
    return t;
  }
  if (command == "processes") {
    auto stub = proto::Cluster::NewStub(MakeChannel(config.supervisor.listen));
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(kDeadlineMs));
    proto::ClusterProcesses reply;
    grpc::Status s = stub->ListProcesses(&ctx, proto::Empty(), &reply);
    if (!s.ok()) {
      return absl::UnavailableError(Cat("cluster launcher at ",
                                        config.supervisor.listen, ": ",
                                        s.error_message()));
    }
    t.table = admin_table::ProcessTable(reply);
    return t;
  }
  if (command == "sessions") {
    auto dirs = Directories(config, &t.warnings);
    if (!dirs.ok()) return dirs.status();
    t.table = admin_table::SessionTable();
    // Sessions left out are said: a hung process's sessions still exist
    // (and hold their R/3 sessions).
    auto who = [](const proto::ProcessInfo& p) {
      return Cat("AGate process ", p.instance(), "/", p.process(), " (pid ",
                 p.pid(), ")");
    };
    std::vector<const proto::ProcessInfo*> asked;
    std::vector<std::string> addresses;
    for (const auto& d : *dirs) {
      for (const auto& p : d.processes()) {
        if (p.state() != proto::ProcessInfo::UP &&
            p.state() != proto::ProcessInfo::UNRESPONSIVE) {
          continue;
        }
        if (p.address().empty()) {
          t.warnings.push_back(Cat(who(p), " has not registered: its ",
                                   p.sessions(), " sessions are not listed"));
          continue;
        }
        asked.push_back(&p);
        addresses.push_back(p.address());
      }
    }
    // All at once: hung agates cost the deadline once, not each.
    auto calls = CallAll<proto::AGate, proto::SessionsReply>(
        addresses, kDeadlineMs, [](auto& stub, auto* ctx, auto* cq) {
          return stub.PrepareAsyncListSessions(ctx, proto::Empty(), cq);
        });
    for (size_t i = 0; i < calls.size(); ++i) {
      const proto::ProcessInfo& p = *asked[i];
      if (!calls[i]->status.ok()) {  // hung, or it just ended
        t.warnings.push_back(Cat(who(p), " did not answer (",
                                 calls[i]->status.error_message(), "): its ",
                                 p.sessions(), " sessions are not listed"));
        continue;
      }
      admin_table::AddSessionRows(p, calls[i]->reply, &t.table);
    }
    return t;
  }
  return absl::InvalidArgumentError(Cat("unknown command '", command, "'"));
}

namespace {

// Sessions left in the processes `process` (-1: all) of directory `d`, and
// what to say of them.
int SessionsLeft(const proto::Directory& d, int process, std::string* said) {
  int left = 0;
  said->clear();
  for (const auto& p : d.processes()) {
    if (process != -1 && p.process() != process) continue;
    left += p.sessions();
    if (process != -1) {
      *said = Cat(d.instance(), "/", p.process(), " (pid ", p.pid(), ")");
    }
  }
  if (process == -1) *said = Cat("instance ", d.instance());
  return left;
}

}  // namespace

absl::StatusOr<std::string> Drain(const ClusterConfig& config,
                                  const std::string& target, bool drain,
                                  double wait_s) {
  std::string name = target;
  int process = -1;
  if (size_t slash = target.find('/'); slash != std::string::npos) {
    name = target.substr(0, slash);
    if (!ParseInt(target.substr(slash + 1), &process) || process < 0) {
      return absl::InvalidArgumentError(Cat(
          "'", target, "': expected an instance (IT1) or a process (IT1/0)"));
    }
  }
  const AgateInstanceConfig* inst = nullptr;
  for (const auto& i : config.instances) {
    if (ToUpper(i.name) == ToUpper(name)) inst = &i;  // it2 is IT2
  }
  if (inst == nullptr) {
    return absl::InvalidArgumentError(
        Cat("no AGate instance '", name, "' in ", config.file));
  }
  name = inst->name;
  auto stub =
      proto::MappingManager::NewStub(MakeChannel(inst->mapping_manager));
  proto::DrainRequest request;
  request.set_process(process);
  request.set_drain(drain);
  proto::Directory d;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(kDeadlineMs));
    grpc::Status s = stub->Drain(&ctx, request, &d);
    if (!s.ok()) {
      return s.error_code() == grpc::StatusCode::NOT_FOUND
                 ? absl::InvalidArgumentError(s.error_message())
                 : absl::UnavailableError(Cat("Mapping Manager of ", name,
                                              " at ", inst->mapping_manager,
                                              ": ", s.error_message()));
    }
  }
  std::string who;
  int left = SessionsLeft(d, process, &who);
  if (!drain) return Cat(who, " takes new sessions again");
  auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000));
  while (left > 0 && wait_s > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(kDeadlineMs));
    if (stub->GetDirectory(&ctx, proto::Empty(), &d).ok()) {
      left = SessionsLeft(d, process, &who);
    }
  }
  if (left == 0) return Cat(who, " drained: no session left");
  std::string status =
      Cat(who, " draining: ", left, " session", left == 1 ? "" : "s", " left");
  if (wait_s > 0) {
    return absl::DeadlineExceededError(
        Cat(status, " - not drained within ", absl::StrFormat("%g s", wait_s)));
  }
  return status;
}

absl::StatusOr<std::string> Fault(const ClusterConfig& config,
                                  const std::vector<std::string>& words) {
  constexpr char kUsage[] =
      "usage: itsadm fault kill|hang|resume TARGET [DURATION] | delay "
      "[INSTANCE] 'agate->r3' "
      "DURATION | clear   (TARGET: agate IT1/0, mapping_manager IT2, r3_stub, "
      "wgate)";
  if (words.empty()) return absl::InvalidArgumentError(kUsage);
  proto::FaultRequest req;
  const std::string& action = words[0];
  std::vector<std::string> rest(words.begin() + 1, words.end());
  std::optional<double> duration;
  if (!rest.empty()) {
    duration = ParseDuration(rest.back());
    if (duration) {
      rest.pop_back();
    } else if (rest.size() > 1 && !rest.back().empty() &&
               std::isdigit(static_cast<unsigned char>(rest.back()[0]))) {
      return absl::InvalidArgumentError(
          Cat("'", rest.back(), "' is not a duration (e.g. 200ms, 20s, 2m)"));
    }
  }
  std::string target;
  for (const auto& w : rest) target += Cat(target.empty() ? "" : " ", w);
  if (action == "kill" || action == "hang" || action == "resume") {
    req.set_action(action == "kill"   ? proto::FaultRequest::KILL
                   : action == "hang" ? proto::FaultRequest::HANG
                                      : proto::FaultRequest::RESUME);
    if (target.empty() || (duration && action != "hang")) {
      return absl::InvalidArgumentError(kUsage);
    }
  } else if (action == "delay") {
    req.set_action(proto::FaultRequest::DELAY);
    if (target.empty() || !duration) return absl::InvalidArgumentError(kUsage);
  } else if (action == "clear") {
    req.set_action(proto::FaultRequest::CLEAR);
    if (!target.empty() || duration) return absl::InvalidArgumentError(kUsage);
  } else {
    return absl::InvalidArgumentError(
        Cat("unknown fault '", action, "'; ", kUsage));
  }
  req.set_target(target);
  req.set_seconds(duration.value_or(0));
  auto stub = proto::Cluster::NewStub(MakeChannel(config.supervisor.listen));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(10000));
  proto::FaultReply reply;
  grpc::Status s = stub->Fault(&ctx, req, &reply);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                        Cat("cluster launcher at ", config.supervisor.listen,
                            ": ", s.error_message()));
  }
  return reply.done();
}

absl::Status EndSecuritySession(const ClusterConfig& config, uint64_t id) {
  proto::EndSecuritySessionRequest req;
  req.set_id(id);
  return CallR3<proto::Empty>(config,
                              [&](auto& stub, auto* ctx, auto* r) {
                                return stub.EndSecuritySession(ctx, req, r);
                              })
      .status();
}

nlohmann::json ToJson(const Table& listing) {
  const admin_table::Table& t = listing.table;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row : t.rows) {
    nlohmann::json obj = nlohmann::json::object();
    for (size_t i = 0; i < t.columns.size(); ++i) {
      std::visit([&](const auto& v) { obj[t.columns[i].key] = v; }, row[i]);
    }
    out.push_back(std::move(obj));
  }
  return out;
}

std::string ToText(const Table& listing) {
  const admin_table::Table& t = listing.table;
  std::vector<std::vector<std::string>> rows = admin_table::TextRows(t);
  std::vector<size_t> width;
  for (const auto& c : t.columns) width.push_back(c.key.size());
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size())
        out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    out += "\n";
  };
  std::vector<std::string> header;
  for (const auto& c : t.columns) header.push_back(ToUpper(c.key));
  line(header);
  for (const auto& row : rows) line(row);
  out += Cat("(", Counted(rows.size(), "row", "rows"), ")");
  return out;
}

}  // namespace its::admin
