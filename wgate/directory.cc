#include "wgate/directory.h"

#include <algorithm>

#include "common/strings.h"

namespace its::wgate {

ProcessDirectory::ProcessDirectory(
    const std::vector<AgateInstanceConfig>& instances) {
  for (const auto& config : instances) {
    Instance i;
    i.config = &config;
    i.directory.set_instance(config.name);
    instances_.push_back(std::move(i));
  }
}

const ProcessDirectory::Instance* ProcessDirectory::Find(
    const std::string& name) const {
  for (const auto& inst : instances_)
    if (inst.config->name == name) return &inst;
  return nullptr;
}

bool ProcessDirectory::Update(size_t index, proto::Directory& directory,
                              Clock::time_point now) {
  Instance& inst = instances_[index];
  bool back = !inst.manager_ok;
  inst.last_directory = now;
  inst.manager_ok = true;
  inst.has_directory = true;
  inst.directory.Swap(&directory);
  return back;
}

bool ProcessDirectory::ManagerGone(size_t index) {
  Instance& inst = instances_[index];
  bool was = inst.manager_ok;
  inst.manager_ok = false;
  return was;
}

std::vector<std::string> ProcessDirectory::CheckSilence(Clock::time_point now) {
  std::vector<std::string> silent;
  for (Instance& inst : instances_) {
    if (inst.manager_ok && now - inst.last_directory > kManagerSilence) {
      inst.manager_ok = false;
      silent.push_back(inst.config->name);
    }
  }
  return silent;
}

const proto::ProcessInfo* ProcessDirectory::Owner(const Gusid& id) const {
  const Instance* inst = Find(id.instance);
  if (inst == nullptr) return nullptr;
  for (const auto& p : inst->directory.processes()) {
    if (static_cast<uint32_t>(p.process()) == id.process) return &p;
  }
  return nullptr;
}

const proto::ProcessInfo* ProcessDirectory::AnyLiveProcess(
    std::mt19937_64& rng) const {
  std::vector<const proto::ProcessInfo*> up;
  for (const auto& inst : instances_) {
    for (const auto& p : inst.directory.processes()) {
      if (p.state() == proto::ProcessInfo::UP) up.push_back(&p);
    }
  }
  if (up.empty()) return nullptr;
  return up[std::uniform_int_distribution<size_t>(0, up.size() - 1)(rng)];
}

double ProcessDirectory::FreeCapacity(size_t index) const {
  const auto& inst = instances_[index];
  // No one to assign a process there, or it takes none (itsadm drain).
  if (!inst.manager_ok || inst.directory.draining()) return 0;
  double free = 0;
  int in_use = 0;
  for (const auto& p : inst.directory.processes()) {
    ++in_use;
    if (p.state() == proto::ProcessInfo::UP && !p.draining()) {
      free += std::max(0, p.max_sessions() - p.sessions());
    }
  }
  return free +
         static_cast<double>(std::max(0, inst.config->max_agates - in_use)) *
             inst.config->max_sessions;
}

absl::StatusOr<size_t> ProcessDirectory::RoutedInstance(
    const AgateRouting& routing) const {
  for (size_t i = 0; i < instances_.size(); ++i) {
    const Instance& inst = instances_[i];
    if (inst.config->name != routing.instance) continue;
    if (routing.process && *routing.process >= inst.config->max_agates) {
      return absl::InvalidArgumentError(
          Cat("AGate instance ", routing.instance, " has no process ",
              *routing.process, " (its processes are 0 to ",
              inst.config->max_agates - 1, ")"));
    }
    if (!inst.manager_ok) {
      return absl::UnavailableError(
          Cat("The Mapping Manager of AGate instance ", routing.instance,
              " does not answer - please try again later"));
    }
    return i;
  }
  std::string names;
  for (const Instance& inst : instances_)
    names += Cat(names.empty() ? "" : ", ", inst.config->name);
  return absl::NotFoundError(Cat("There is no AGate instance ",
                                 routing.instance, " (configured: ", names,
                                 ")"));
}

std::vector<size_t> ProcessDirectory::InstanceOrder(
    std::mt19937_64& rng) const {
  std::vector<double> free(instances_.size(), 0);
  double total = 0;
  for (size_t i = 0; i < instances_.size(); ++i) {
    free[i] = FreeCapacity(i);
    total += free[i];
  }
  std::vector<size_t> order;
  std::vector<bool> used(instances_.size(), false);
  if (total > 0) {
    double r = std::uniform_real_distribution<double>(0, total)(rng);
    for (size_t i = 0; i < free.size(); ++i) {
      if (r < free[i] || i + 1 == free.size()) {
        if (free[i] > 0) {
          order.push_back(i);
          used[i] = true;
          break;
        }
      }
      r -= free[i];
    }
  }
  std::vector<size_t> rest;
  for (size_t i = 0; i < instances_.size(); ++i)
    if (!used[i] && instances_[i].manager_ok) rest.push_back(i);
  std::stable_sort(rest.begin(), rest.end(),
                   [&](size_t a, size_t b) { return free[a] > free[b]; });
  order.insert(order.end(), rest.begin(), rest.end());
  return order;
}

bool ProcessDirectory::Healthy(std::string* degraded) const {
  bool any = false;
  for (const auto& i : instances_) {
    const std::string& name = i.config->name;
    int up = 0, open = 0;  // open: may take a new session
    for (const auto& p : i.directory.processes()) {
      if (p.state() == proto::ProcessInfo::UP) {
        ++up;
        open += !p.draining() && p.sessions() < p.max_sessions();
      } else if (degraded) {
        *degraded +=
            Cat(name, "/", p.process(), ": AGate process ",
                ToLower(proto::ProcessInfo::State_Name(p.state())), "\n");
      }
    }
    if (!i.manager_ok) {
      if (degraded) {
        *degraded +=
            Cat(name, ": Mapping Manager unreachable (no new sessions; ",
                "its AGate processes keep serving)\n");
      }
    } else if (up == 0) {
      if (degraded) *degraded += Cat(name, ": no live AGate process\n");
    } else {
      // Drained or full, it still serves its sessions: degraded, not down
      // (a balancer must keep sending them here).
      if ((open == 0 || i.directory.draining()) && degraded) {
        *degraded += Cat(name,
                         ": takes no new sessions (every live AGate process "
                         "drained or full)\n");
      }
      any = true;
    }
  }
  return any;
}

std::unordered_set<std::string> ProcessDirectory::Addresses() const {
  std::unordered_set<std::string> live;
  for (const auto& inst : instances_)
    for (const auto& p : inst.directory.processes()) live.insert(p.address());
  return live;
}

size_t ProcessDirectory::MostProcesses() const {
  size_t most = 0;
  for (const auto& inst : instances_)
    most += static_cast<size_t>(inst.config->max_agates);
  return most;
}

}  // namespace its::wgate
