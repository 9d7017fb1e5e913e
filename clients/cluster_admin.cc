// The cluster launcher's admin API (itsadm processes, itsadm fault) and
// the fault injection behind it.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "clients/cluster_internal.h"
#include "common/call_all.h"
#include "common/grpc_util.h"
#include "common/process.h"
#include "common/spawn.h"
#include "common/strings.h"

namespace its::launcher {

absl::Status Cluster::StartAdmin() {
  std::string listen = config_parsed_.supervisor.listen;
  if (options_.ephemeral_ports) listen = WithPort0(listen);
  admin_service_ = std::make_unique<AdminService>(*this);
  auto server =
      StartGrpcServer(listen, {admin_service_.get()}, &admin_address_);
  if (!server.ok()) {
    return absl::UnavailableError(
        Cat("the cluster's admin API: ", server.status().message(),
            " ([supervisor] listen in cluster.toml)"));
  }
  admin_server_ = std::move(*server);
  admin_server_->SetServing(true);
  if (!config_.contains("supervisor"))
    config_.insert("supervisor", toml::table{});
  config_["supervisor"].as_table()->insert_or_assign("listen", admin_address_);
  return WriteConfig();
}

std::string Cluster::InstanceName(const std::string& name) const {
  for (const auto& inst : config_parsed_.instances) {
    if (ToUpper(inst.name) == ToUpper(name)) return inst.name;
  }
  return name;
}

absl::StatusOr<std::pair<pid_t, int>> Cluster::ResolveProcess(
    const std::string& given) const {
  std::string target = given;
  const std::string kManager = "mapping_manager ";
  if (target.rfind(kManager, 0) == 0)
    target = kManager + InstanceName(target.substr(kManager.size()));
  std::string name = target;
  if (name.rfind("agate ", 0) == 0) name = name.substr(6);
  auto slash = name.find('/');
  if (slash != std::string::npos) {  // IT1/1: ask its Mapping Manager
    std::string instance = InstanceName(name.substr(0, slash));
    int process;
    const AgateInstanceConfig* inst = config_parsed_.FindInstance(instance);
    // A slot the configuration cannot have is a wrong command (exit 2),
    // as drain's; a slot that is not running now is not (exit 1).
    if (inst == nullptr || !ParseInt(name.substr(slash + 1), &process) ||
        process < 0 || process >= inst->max_agates) {
      std::string have;
      for (const auto& i : config_parsed_.instances)
        Append(&have, have.empty() ? "" : ", ", i.name, "/0-",
               i.max_agates - 1);
      return absl::InvalidArgumentError(Cat("no AGate process '", target,
                                            "': the configuration has ", have,
                                            " (e.g. agate IT1/0)"));
    }
    auto mm = Find("mapping_manager " + instance);
    auto stub =
        proto::MappingManager::NewStub(MakeChannel(mm ? mm->address : ""));
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(2000));
    proto::Directory d;
    if (grpc::Status st = stub->GetDirectory(&ctx, proto::Empty(), &d);
        !st.ok()) {
      // Its manager is hung or restarting: the agate by its command line,
      // if exactly one claims the slot. (The launcher answered: no hint
      // that the cluster may be missing.)
      // (The address its agates dial, as the manager gives it them.)
      const AgateSlot slot{options_.run_dir, instance,
                           mm ? DialableAddress(mm->address, inst->host) : "",
                           process};
      auto pids = AgatePidsByCommandLine(slot);
      if (pids.size() == 1) {
        int fd = PidfdOpen(pids[0]);
        // Held by the pidfd: still that agate, not a reused PID?
        if (fd >= 0 && IsAgateOf(pids[0], slot))
          return std::make_pair(pids[0], fd);
        if (fd >= 0) ::close(fd);
        pids.clear();  // it ended meanwhile
      }
      std::string why =
          Cat("its Mapping Manager does not answer (hung? itsadm fault resume "
              "mapping_manager ",
              instance, "): ", st.error_message());
      if (pids.empty()) {
        return absl::NotFoundError(Cat("AGate process ", instance, "/", process,
                                       " is not running; ", why));
      }
      std::string list;
      for (pid_t pid : pids) Append(&list, list.empty() ? "" : ", ", pid);
      return absl::FailedPreconditionError(
          Cat("several processes (", list, ") claim to be AGate process ",
              instance, "/", process, ", and ", why));
    }
    for (const auto& p : d.processes()) {
      if (p.process() != process || p.state() == proto::ProcessInfo::DOWN ||
          p.pid() <= 0)
        continue;
      // Hold it by a pidfd, then check it is an agate of this cluster.
      int fd = PidfdOpen(p.pid());
      if (fd >= 0 && IsOurs(p.pid(), options_.run_dir))
        return std::make_pair(p.pid(), fd);
      if (fd >= 0) ::close(fd);
      break;
    }
    return absl::NotFoundError(
        Cat("AGate process ", instance, "/", process, " is not running"));
  }
  std::string names;
  absl::MutexLock l(&mu_);
  for (const auto& c : children_) {
    if (c->info.name == target) {
      if (c->info.pid <= 0 || c->pidfd < 0) {
        return absl::FailedPreconditionError(
            Cat(target,
                " is not running (restarting, or given up: itsadm "
                "processes)"));
      }
      return std::make_pair(c->info.pid, ::fcntl(c->pidfd, F_DUPFD_CLOEXEC, 0));
    }
    names += Cat(names.empty() ? "" : ", ", c->info.name);
  }
  return absl::InvalidArgumentError(Cat("no process '", target,
                                        "'; the cluster has ", names,
                                        " and agate IT<n>/<process>"));
}

std::vector<std::string> Cluster::AgateAddresses(
    const std::vector<std::string>& instances) const {
  std::vector<std::string> managers;
  for (const std::string& name : instances) {
    if (auto mm = Find("mapping_manager " + name)) {
      managers.push_back(mm->address);
    }
  }
  std::vector<std::string> out;
  for (const auto& call : CallAll<proto::MappingManager, proto::Directory>(
           managers, 2000, [](auto&stub, auto*ctx, auto*cq) {
             return stub.PrepareAsyncGetDirectory(ctx, proto::Empty(), cq);
           })) {
    if (!call->status.ok()) continue;
    for (const auto& p : call->reply.processes()) {
      if (!p.address().empty() && p.state() != proto::ProcessInfo::DOWN)
        out.push_back(p.address());
    }
  }
  return out;
}

absl::StatusOr<std::string> Cluster::SetR3Delay(
    const std::vector<std::string>& instances, double seconds) {
  absl::MutexLock serial(&delay_mu_);
  for (const auto& name : instances) {
    if (seconds > 0) {
      delays_.r3_delay_s[name] = seconds;
    } else {
      delays_.r3_delay_s.erase(name);
    }
  }
  delays_.generation = NextLinkDelayGeneration(delays_.generation);
  // The file first: an agate that starts from now on reads it; one that
  // runs already reads it too within its next tick, and is told at once
  // below. The generation keeps the two from undoing each other.
  const std::string file = LinkDelaysPath(options_.run_dir);
  absl::Status written = WriteLinkDelays(file, delays_);
  proto::LinkDelay delay;
  delay.set_r3_seconds(seconds);
  delay.set_generation(delays_.generation);
  int set = 0;
  // One that does not answer (hung) reads the file when it goes on.
  for (const auto& call : CallAll<proto::AGate, proto::Empty>(
           AgateAddresses(instances), 1000,
           [&delay](auto&stub, auto*ctx, auto*cq) {
             return stub.PrepareAsyncSetLinkDelay(ctx, delay, cq);
           })) {
    set += call->status.ok();
  }
  const std::string of = instances.size() == config_parsed_.instances.size()
                             ? ""
                             : Cat(" of ", instances.front());
  const std::string how = Cat(" (", set, " told at once, the others read ",
                              file, " within 0.25 s)");
  std::string done =
      seconds > 0 ? Cat("calls to R/3 of the AGate processes", of, " now wait ",
                        seconds, " s, also of those started later", how)
                  : Cat("no R/3 delay on the AGate processes", of, how);
  if (!written.ok()) {
    // Only the agates told at once have the change.
    return absl::InternalError(
        Cat(written.message(), ": ", set, " AGate process(es)", of,
            " were told at once; the others, and those started later, do "
            "not get the change"));
  }
  return done;
}

grpc::Status Cluster::Fault(const proto::FaultRequest& req,
                            proto::FaultReply* reply) {
  auto bad = [](const std::string& why) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, why);
  };
  if (!(req.seconds() >= 0 && req.seconds() <= 3600)) {
    return bad("the duration must be between 0 and 3600 seconds");
  }
  if (req.action() == proto::FaultRequest::DELAY &&
      req.seconds() > kMaxLinkDelaySeconds) {
    return bad(
        Cat("a link delay must be at most ", kMaxLinkDelaySeconds, " seconds"));
  }
  using Action = proto::FaultRequest;
  if (req.action() == Action::DELAY || req.action() == Action::CLEAR) {
    std::string instance;
    double seconds = req.seconds();
    if (req.action() == Action::DELAY) {
      std::string link = req.target();
      auto space = link.find(' ');
      if (space != std::string::npos) {
        instance = InstanceName(link.substr(0, space));
        link = link.substr(space + 1);
        if (!config_parsed_.FindInstance(instance)) {
          return bad(Cat("no AGate instance '", instance, "'"));
        }
      }
      if (link != "agate->r3") {
        return bad(Cat(
            "unknown link '", req.target(),
            "': delays exist for 'agate->r3' (quote it in a shell), optionally "
            "after an instance: IT2 'agate->r3'"));
      }
    } else {
      seconds = 0;
    }
    std::vector<std::string> instances;
    for (const auto& inst : config_parsed_.instances) {
      if (instance.empty() || inst.name == instance)
        instances.push_back(inst.name);
    }
    // Hung processes resume first: a Mapping Manager that was stopped then
    // answers with its directory, so that its agates are told at once.
    // A hung agate may have been killed by its Mapping Manager meanwhile
    // (unresponsive_restart_s): the launcher does not see its end, only that
    // the signal finds nobody.
    std::string resumed, gone;
    if (req.action() == Action::CLEAR) {
      absl::MutexLock l(&mu_);
      for (auto& [pid, hung] : hung_) {
        // The pidfd holds the PID: a zombie's cannot be reused meanwhile.
        const bool running = PidfdSignal(hung.pidfd, SIGCONT) && !HasEnded(pid);
        std::string& list = running ? resumed : gone;
        list += Cat(list.empty() ? "" : ", ", pid);
        ::close(hung.pidfd);
      }
      hung_.clear();
    }
    auto done = SetR3Delay(instances, seconds);
    if (!done.ok()) {
      Report(Cat("fault: ", done.status().message()));
      return ToGrpc(done.status());
    }
    std::string text = *done;
    if (!resumed.empty()) text += Cat("; resumed pid ", resumed);
    if (!gone.empty()) text += Cat("; pid ", gone, " (hung) had ended");
    reply->set_done(text);
    Report(Cat("fault: ", reply->done()));
    return grpc::Status::OK;
  }
  auto target = ResolveProcess(req.target());
  if (!target.ok()) {
    return grpc::Status(static_cast<grpc::StatusCode>(target.status().code()),
                        std::string(target.status().message()));
  }
  auto [pid, pidfd] = *target;
  absl::MutexLock l(&mu_);
  switch (req.action()) {
    case Action::KILL:
      PidfdSignal(pidfd, SIGKILL);
      ::close(pidfd);
      ForgetHung(pid);
      reply->set_done(
          Cat("killed ", req.target(), " (pid ", pid, ", SIGKILL)"));
      break;
    case Action::HANG: {
      PidfdSignal(pidfd, SIGSTOP);
      ForgetHung(pid);
      Hung& hung = hung_[pid];
      hung.pidfd = pidfd;  // resumed through it: never a reused PID
      if (req.seconds() > 0) {
        hung.resume_at = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(
                             static_cast<int64_t>(req.seconds() * 1000));
        reply->set_done(Cat("stopped ", req.target(), " (pid ", pid,
                            ", SIGSTOP) for ", req.seconds(), " s"));
      } else {
        reply->set_done(
            Cat("stopped ", req.target(), " (pid ", pid,
                ", SIGSTOP) until 'itsadm fault resume' or 'clear'"));
      }
      uint64_t one = 1;  // the supervisor resumes it in time
      if (::write(wake_fd_, &one, sizeof one) < 0) {
      }
      break;
    }
    case Action::RESUME:
      PidfdSignal(pidfd, SIGCONT);
      ::close(pidfd);
      ForgetHung(pid);
      reply->set_done(
          Cat("resumed ", req.target(), " (pid ", pid, ", SIGCONT)"));
      break;
    default:
      ::close(pidfd);
      return bad("unknown action");
  }
  Report(Cat("fault: ", reply->done()));
  return grpc::Status::OK;
}

proto::ClusterProcesses Cluster::ListProcesses() const {
  proto::ClusterProcesses out;
  absl::MutexLock l(&mu_);
  for (const auto& c : children_) {
    proto::ClusterProcess* p = out.add_processes();
    p->set_name(c->info.name);
    p->set_pid(std::max(0, static_cast<int>(c->info.pid)));
    p->set_address(c->info.address);
    p->set_restarts(c->info.restarts);
    const char* state = "running";
    if (c->info.given_up) {
      state = "given_up";
    } else if (c->info.pid <= 0 || c->restart_at || c->ready_deadline) {
      state = "restarting";
    } else if (hung_.count(c->info.pid) != 0) {
      state = "hung";
    } else if (IsStopped(c->info.pid)) {
      state = "stopped";  // by someone else's SIGSTOP: no fault of ours
    }
    p->set_state(state);
  }
  return out;
}

void Cluster::ForgetHung(pid_t pid) {
  auto it = hung_.find(pid);
  if (it == hung_.end()) return;
  ::close(it->second.pidfd);
  hung_.erase(it);
}

}  // namespace its::launcher
