// The Mapping Manager's assignments, registrations, load reports and
// directory (its processes' lifecycle is in supervision.cc). Loop thread
// only.
#include "mapping_manager/manager.h"

#include "common/load_weight.h"
#include "common/log.h"
#include "common/strings.h"

namespace its::mm {
namespace {

constexpr auto kAssignWait = std::chrono::seconds(10);
// How long a restarted manager waits for adopted processes to register.
constexpr auto kRecovery = std::chrono::seconds(2);

}  // namespace

MappingManager::MappingManager(const AgateInstanceConfig& config,
                               GrpcLoop& loop, Spawner spawner,
                               SupervisorConfig supervisor,
                               LivenessLimits liveness)
    : config_(config),
      loop_(loop),
      spawner_(std::move(spawner)),
      watcher_(loop),
      slots_(config.max_agates),
      waiter_timer_(loop),
      stop_timer_(loop),
      supervisor_(supervisor),
      liveness_(liveness),
      tick_timer_(loop),
      recovery_timer_(loop) {
  for (Slot& s : slots_) s.restart.emplace(supervisor_);
}

MappingManager::~MappingManager() {
  for (Slot& s : slots_) ReleasePidfd(s);
}

void MappingManager::Start() {
  if (recovering_) {
    recovery_timer_.Arm(kRecovery, [this] { EndRecovery(); });
  } else {
    for (int i = 0; i < config_.min_agates; ++i) StartSlot(i);
    Publish();
  }
  ArmTick();
}

void MappingManager::EndRecovery() {
  if (!recovering_) return;
  recovering_ = false;
  recovery_timer_.Cancel();
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (s.adopted && s.state == proto::ProcessInfo::STARTING) {
      spdlog::warn(
          "{}: adopted AGate process {} (pid {}) did not register; "
          "unresponsive",
          config_.name, i, s.pid);
      s.state = proto::ProcessInfo::UNRESPONSIVE;
    }
  }
  int running = 0;
  for (const Slot& s : slots_)
    running += s.in_use && s.state != proto::ProcessInfo::DOWN;
  for (int i = 0;
       i < static_cast<int>(slots_.size()) && running < config_.min_agates;
       ++i) {
    if (!slots_[i].in_use) {
      StartSlot(i);
      ++running;
    }
  }
  Publish();
  for (auto& [id, l] : listeners_) l(Directory());  // they waited for this
  TryAssignWaiting();
}

double MappingManager::Weight(const Slot& s) const {
  return LoadWeight({s.sessions(), config_.max_sessions, s.busy_threads,
                     config_.work_threads, s.turnaround_s});
}

grpc::Status MappingManager::Register(const proto::RegisterRequest& req) {
  int i = req.process();
  bool known = i >= 0 && i < static_cast<int>(slots_.size()) &&
               slots_[i].pid == req.pid() &&
               slots_[i].state != proto::ProcessInfo::DOWN;
  if (!known && i >= 0 && i < static_cast<int>(slots_.size()) && !recovering_ &&
      (!slots_[i].in_use || slots_[i].state == proto::ProcessInfo::DOWN)) {
    // Started by an earlier run of this manager and missed at adoption
    // (e.g. it was not yet exec'd): adopt it if it is an agate of ours.
    for (const RunningAgate& a :
         FindRunningAgates(config_.name, address_, config_dir_)) {
      if (a.pid == req.pid() && a.process == i) {
        slots_[i].in_use = false;  // a DOWN slot may take it
        known = Adopt({a}) == 1;
        recovering_ = false;
      }
    }
  }
  if (!known) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        Cat("process ", i, " pid ", req.pid(),
                            " was not started by this manager"));
  }
  Slot& s = slots_[i];
  if (s.adopted && (req.incarnation() & 0xff) != s.incarnation) {
    spdlog::warn(
        "{}: AGate process {} (pid {}) registers incarnation {}, its command "
        "line said {}",
        config_.name, i, s.pid, req.incarnation(), s.incarnation);
    s.incarnation = req.incarnation() & 0xff;
    SaveIncarnations();
  }
  s.address = req.address();
  s.metrics_address = req.metrics_address();
  s.state = proto::ProcessInfo::UP;
  s.last_report = std::chrono::steady_clock::now();
  spdlog::info("{}: AGate process {} (pid {}) up at {}", config_.name, i, s.pid,
               s.address);
  if (recovering_) {
    bool all = true;
    for (const Slot& o : slots_)
      all &= !(o.adopted && o.state == proto::ProcessInfo::STARTING);
    if (all) EndRecovery();
    return grpc::Status::OK;
  }
  Publish();
  TryAssignWaiting();
  return grpc::Status::OK;
}

grpc::Status MappingManager::ReportLoad(const proto::LoadReport& r) {
  int i = r.process();
  if (i < 0 || i >= static_cast<int>(slots_.size()) ||
      slots_[i].pid != r.pid() ||
      (slots_[i].state != proto::ProcessInfo::UP &&
       slots_[i].state != proto::ProcessInfo::UNRESPONSIVE)) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown process");
  }
  Slot& s = slots_[i];
  if (s.address.empty()) {
    // Adopted, but it never registered with this run (it was hung while
    // the manager restarted): NOT_FOUND makes it register, with its address.
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "not registered with this Mapping Manager");
  }
  s.last_report = std::chrono::steady_clock::now();
  if (s.state == proto::ProcessInfo::UNRESPONSIVE && !s.killed_unresponsive) {
    spdlog::info("{}: AGate process {} (pid {}) reports again", config_.name, i,
                 s.pid);
    s.state = proto::ProcessInfo::UP;
  }
  s.reported_sessions = r.sessions();
  const int lost = s.unconfirmed.Reported(r.starts(), s.last_report,
                                          liveness_.assignment_lost_after);
  if (lost > 0) {
    spdlog::warn(
        "{}: AGate process {} (pid {}) never received {} assigned start{} "
        "(lost on the way); no longer counted as sessions",
        config_.name, i, s.pid, lost, lost == 1 ? "" : "s");
  }
  s.busy_threads = r.busy_threads();
  s.turnaround_s = r.turnaround_s();
  s.requests = r.requests();
  if (s.draining && s.sessions() == 0 && !s.drained_said) {
    s.drained_said = true;
    spdlog::info("{}: AGate process {} (pid {}) drained: no session left",
                 config_.name, i, s.pid);
  }
  Publish();
  TryAssignWaiting();
  return grpc::Status::OK;
}

bool MappingManager::Draining(int process) const {
  if (instance_draining_) return true;
  return process >= 0 && process < static_cast<int>(slots_.size()) &&
         slots_[process].draining;
}

void MappingManager::ReportLeftOut(int64_t left_out) const {
  if (left_out <= 0) return;
  spdlog::info(
      "{}: {} more new-session decisions not logged (at most {} lines a "
      "second; each decision is in its request's trace)",
      config_.name, left_out, kDecisionLinesPerSecond);
}

bool MappingManager::AssignNow(AssignDone& done, bool may_wait,
                               std::optional<int> pinned,
                               const std::string& earlier) {
  std::vector<ProcessView> views;
  views.reserve(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (!s.in_use) continue;
    views.push_back(ProcessView{
        static_cast<int>(i), s.pid, s.state == proto::ProcessInfo::UP,
        s.state == proto::ProcessInfo::STARTING, Weight(s), s.sessions(),
        config_.max_sessions, s.draining,
        s.state == proto::ProcessInfo::UNRESPONSIVE});
  }
  // The candidates as step 3 of a trace shows them: formatted per new
  // session only (assignments are rare next to dialog steps).
  std::string candidates;
  for (const ProcessView& v : views) {
    Append(&candidates, candidates.empty() ? "" : ", ", "process ", v.process,
           " (pid ", v.pid, ") ",
           v.up             ? "up"
           : v.starting     ? "starting"
           : v.unresponsive ? "unresponsive"
                            : "down",
           v.draining ? " draining" : "", " w ",
           fmt::format("{:.2f}", v.weight));
  }
  if (candidates.empty()) candidates = "no process";
  last_decision_ = Cat("candidates: ", candidates, ". ", earlier);
  if (instance_draining_) {
    last_reason_ = "refused";
    Append(&last_decision_, "instance ", config_.name, " is draining");
    done(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      Cat("instance ", config_.name, " is draining")),
         proto::ProcessInfo());
    return true;
  }
  if (pinned) {  // ~agate_routing: this process or a refusal, nothing else
    std::string refusal = PinnedRefusal(views, *pinned, config_.max_agates);
    last_reason_ = refusal.empty() ? "pinned" : "refused";
    Append(&last_decision_, "~agate_routing to process ", *pinned, ": ",
           refusal.empty() ? "assigned" : Cat("it ", refusal));
    if (!refusal.empty()) {
      spdlog::info("{}: ~agate_routing to process {} refused: it {}",
                   config_.name, *pinned, refusal);
      done(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        Cat("AGate process ", *pinned, " of ", config_.name,
                            " ", refusal)),
           proto::ProcessInfo());
      return true;
    }
    slots_[*pinned].unconfirmed.Assigned(std::chrono::steady_clock::now());
    done(grpc::Status::OK, Info(*pinned));
    return true;
  }
  // Every decision in one line: a trainer reads step 3 in the log.
  std::string why;
  Assignment a = ExplainAssignment(views, config_.overload_weight,
                                   config_.max_agates, &why);
  last_reason_ = a.kind == Assignment::kFull ? "full"
                 : a.kind != Assignment::kAssign || !earlier.empty()
                     ? "scale-up"
                 : why.find("overloaded") != std::string::npos ? "overloaded"
                                                               : "highest PID";
  Append(&last_decision_, why);
  if (a.kind != Assignment::kWait || may_wait) {
    int64_t left_out = 0;
    const bool line =
        decision_log_.Take(std::chrono::steady_clock::now(), &left_out);
    ReportLeftOut(left_out);
    if (line && a.kind == Assignment::kAssign) {
      spdlog::info("{}: new session -> process {} (pid {}): {}", config_.name,
                   a.process, slots_[a.process].pid, why);
    } else if (line) {
      spdlog::info("{}: new session: {}", config_.name, why);
    }
  }
  switch (a.kind) {
    case Assignment::kAssign: {
      Slot& s = slots_[a.process];
      s.unconfirmed.Assigned(std::chrono::steady_clock::now());
      done(grpc::Status::OK, Info(a.process));
      return true;
    }
    case Assignment::kScaleUp: {
      int started = 0;
      for (size_t i = 0; i < slots_.size() && started < config_.inc_agates;
           ++i) {
        if (slots_[i].state == proto::ProcessInfo::DOWN && !slots_[i].in_use) {
          StartSlot(static_cast<int>(i));
          ++started;
        }
      }
      for (size_t i = 0; i < slots_.size() && started == 0; ++i) {
        if (slots_[i].state == proto::ProcessInfo::DOWN) {
          StartSlot(static_cast<int>(i));
          ++started;
        }
      }
      spdlog::info("{}: all AGate processes overloaded; started {} more",
                   config_.name, started);
      Publish();
      [[fallthrough]];
    }
    case Assignment::kWait:
      if (!may_wait) return false;
      waiting_.push_back(Waiter{std::move(done),
                                std::chrono::steady_clock::now() + kAssignWait,
                                std::nullopt, Cat(why, "; then ")});
      waiter_timer_.Arm(kAssignWait, [this] { TryAssignWaiting(); });
      return true;
    case Assignment::kFull:
      done(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       Cat("instance ", config_.name, " has no free capacity")),
          proto::ProcessInfo());
      return true;
  }
  return true;
}

void MappingManager::Assign(AssignDone done, std::optional<int> pinned) {
  if (metrics_) {
    done = [metrics = metrics_, start = std::chrono::steady_clock::now(),
            done = std::move(done)](const grpc::Status& status,
                                    const proto::ProcessInfo& info) {
      metrics->Assigned(std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count(),
                        status.error_code());
      done(status, info);
    };
  }
  if (stopping_) {
    last_reason_ = "refused";
    last_decision_ = "the Mapping Manager is stopping";
    done(grpc::Status(
             grpc::StatusCode::UNAVAILABLE,
             Cat("the Mapping Manager of ", config_.name, " is stopping")),
         proto::ProcessInfo());
    return;
  }
  if (recovering_) {  // adopted processes first: they may have room
    waiting_.push_back(Waiter{std::move(done),
                              std::chrono::steady_clock::now() + kAssignWait,
                              pinned, ""});
    return;
  }
  AssignNow(done, true, pinned);
}

void MappingManager::TryAssignWaiting() {
  auto now = std::chrono::steady_clock::now();
  while (!waiting_.empty()) {
    Waiter& w = waiting_.front();
    if (w.deadline <= now) {
      last_reason_ = "full";
      last_decision_ = Cat(w.earlier, "no AGate process became free");
      w.done(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          Cat("instance ", config_.name,
                              ": no AGate process became free")),
             proto::ProcessInfo());
      waiting_.pop_front();
      continue;
    }
    if (!AssignNow(w.done, false, w.pinned, w.earlier)) return;
    waiting_.pop_front();
  }
}

proto::ProcessInfo MappingManager::Info(int index) const {
  const Slot& s = slots_[index];
  proto::ProcessInfo p;
  p.set_instance(config_.name);
  p.set_process(index);
  p.set_pid(s.pid);
  p.set_address(s.address);
  p.set_sessions(s.sessions());
  p.set_max_sessions(config_.max_sessions);
  p.set_busy_threads(s.busy_threads);
  p.set_max_threads(config_.work_threads);
  p.set_weight(s.state == proto::ProcessInfo::UP ? Weight(s) : 0.0);
  p.set_state(s.state);
  p.set_incarnation(s.incarnation);
  p.set_turnaround_s(s.turnaround_s);
  p.set_requests(s.requests);
  p.set_draining(s.draining);
  p.set_metrics_address(s.metrics_address);
  return p;
}

grpc::Status MappingManager::Drain(const proto::DrainRequest& request) {
  const int n = request.process();
  if (n < -1 || n >= static_cast<int>(slots_.size())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        Cat(config_.name, " has no AGate process ", n));
  }
  if (n == -1) instance_draining_ = request.drain();
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (n != -1 && static_cast<int>(i) != n) continue;
    slots_[i].draining = request.drain();
    slots_[i].drained_said = false;
  }
  spdlog::info("{}: {} {}", config_.name,
               n == -1 ? std::string("instance") : Cat("AGate process ", n),
               request.drain() ? "draining: no new sessions"
                               : "takes new sessions again");
  Publish();
  return grpc::Status::OK;
}

proto::Directory MappingManager::Directory() const {
  proto::Directory d;
  d.set_instance(config_.name);
  d.set_version(version_);
  d.set_draining(instance_draining_);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].in_use) *d.add_processes() = Info(static_cast<int>(i));
  }
  return d;
}

void MappingManager::Publish() {
  ++version_;
  if (listeners_.empty() || recovering_) return;
  proto::Directory d = Directory();
  for (auto& [id, l] : listeners_) l(d);
}

int MappingManager::AddListener(DirectoryListener listener) {
  int id = next_listener_++;
  if (!recovering_) listener(Directory());  // else once recovery ends
  listeners_.emplace_back(id, std::move(listener));
  return id;
}

void MappingManager::RemoveListener(int id) {
  std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
}

}  // namespace its::mm
