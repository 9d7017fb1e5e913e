#include "mapping_manager/mm_metrics.h"

#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace its::mm {
namespace {

const char* CodeLabel(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "ok";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "no_capacity";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "refused";
    case grpc::StatusCode::UNAVAILABLE:
      return "stopping";
    default:
      return "error";
  }
}

}  // namespace

std::string ServiceDiscovery(const proto::Directory& directory,
                             const std::string& self) {
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& p : directory.processes()) {
    if (p.metrics_address().empty() ||
        (p.state() != proto::ProcessInfo::UP &&
         p.state() != proto::ProcessInfo::UNRESPONSIVE)) {
      continue;
    }
    groups.push_back({{"targets", {p.metrics_address()}},
                      {"labels",
                       {{"job", "agate"},
                        {"instance", p.instance()},
                        {"process", std::to_string(p.process())},
                        {"pid", std::to_string(p.pid())}}}});
  }
  if (!self.empty()) {
    groups.push_back(
        {{"targets", {self}},
         {"labels",
          {{"job", "mapping_manager"}, {"instance", directory.instance()}}}});
  }
  return groups.dump();
}

MmMetrics::MmMetrics(prometheus::Registry& registry,
                     const std::string& instance, int max_agates)
    : assignments_(prometheus::BuildCounter()
                       .Name("its_mm_assignments_total")
                       .Help("Assign calls answered, by result (ok, "
                             "no_capacity, refused, stopping, error)")
                       .Labels({{"instance", instance}})
                       .Register(registry)),
      assigned_ok_(assignments_.Add({{"result", "ok"}})),
      assign_latency_(
          prometheus::BuildHistogram()
              .Name("its_mm_assign_seconds")
              .Help("Assign latency: from the call to the answer, waiting "
                    "for a process to start included (real seconds)")
              .Labels({{"instance", instance}})
              .Register(registry)
              .Add({},
                   prometheus::Histogram::BucketBoundaries{
                       0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                       0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})),
      agates_up_(prometheus::BuildGauge()
                     .Name("its_mm_agates_up")
                     .Help("AGate processes of the instance that are up")
                     .Labels({{"instance", instance}})
                     .Register(registry)
                     .Add({})),
      draining_(prometheus::BuildGauge()
                    .Name("its_mm_instance_draining")
                    .Help("1 while the whole instance is drained (itsadm "
                          "drain)")
                    .Labels({{"instance", instance}})
                    .Register(registry)
                    .Add({})) {
  for (const char* r : {"no_capacity", "refused", "stopping", "error"})
    assignments_.Add({{"result", r}});
  auto gauges = [&](const char* name, const char* help) -> auto& {
    return prometheus::BuildGauge()
        .Name(name)
        .Help(help)
        .Labels({{"instance", instance}})
        .Register(registry);
  };
  auto& sessions = gauges("its_mm_agate_sessions",
                          "Sessions per process slot, as the Mapping Manager "
                          "counts them (reports plus assignments in flight)");
  auto& busy = gauges("its_mm_agate_busy_threads",
                      "Busy work threads per process slot (last report)");
  auto& weight = gauges("its_mm_agate_weight",
                        "Load weight w per process slot, as the Mapping "
                        "Manager computes it (0 unless up)");
  auto& pid = gauges("its_mm_agate_pid", "PID of the slot's process (0: none)");
  auto& up = gauges("its_mm_agate_up", "1 while the slot's process is up");
  auto& draining =
      gauges("its_mm_agate_draining", "1 while the slot is drained");
  auto& restarts = prometheus::BuildCounter()
                       .Name("its_mm_agate_restarts_total")
                       .Help(
                           "Restarts of a process slot after its process "
                           "ended (crash, kill, unresponsive)")
                       .Labels({{"instance", instance}})
                       .Register(registry);
  for (int i = 0; i < max_agates; ++i) {
    std::map<std::string, std::string> l = {{"process", std::to_string(i)}};
    processes_.push_back({&sessions.Add(l), &busy.Add(l), &weight.Add(l),
                          &pid.Add(l), &up.Add(l), &draining.Add(l),
                          &restarts.Add(l)});
  }
}

void MmMetrics::Directory(const proto::Directory& d, const std::string& self) {
  int up = 0;
  for (const auto& p : d.processes()) {
    bool is_up = p.state() == proto::ProcessInfo::UP;
    up += is_up;
    if (p.process() < 0 || p.process() >= static_cast<int>(processes_.size()))
      continue;
    const PerProcess& m = processes_[p.process()];
    m.sessions->Set(p.sessions());
    m.busy_threads->Set(p.busy_threads());
    m.weight->Set(p.weight());
    m.pid->Set(p.state() == proto::ProcessInfo::DOWN ? 0 : p.pid());
    m.up->Set(is_up ? 1 : 0);
    m.draining->Set(p.draining() ? 1 : 0);
  }
  agates_up_.Set(up);
  draining_.Set(d.draining() ? 1 : 0);
  std::string doc = ServiceDiscovery(d, self);
  absl::MutexLock l(&mu_);
  sd_ = std::move(doc);
}

void MmMetrics::Restarted(int process) {
  if (process >= 0 && process < static_cast<int>(processes_.size()))
    processes_[process].restarts->Increment();
}

void MmMetrics::Assigned(double seconds, grpc::StatusCode code) {
  assign_latency_.Observe(seconds);
  if (code == grpc::StatusCode::OK) {
    assigned_ok_.Increment();
  } else {
    assignments_.Add({{"result", CodeLabel(code)}}).Increment();
  }
}

std::string MmMetrics::sd() const {
  absl::MutexLock l(&mu_);
  return sd_;
}

}  // namespace its::mm
