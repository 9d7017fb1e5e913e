#pragma once

// The metrics of one Mapping Manager (docs/architecture.md §7, README
// "Metrics") and its HTTP service-discovery document (/sd). Every series
// carries the label instance (IT1, ...); per-process series also process
// (the slot). Updated on the manager's loop thread, read by its metrics
// endpoint's thread: prometheus-cpp's counters and gauges are atomics, the
// /sd document is a string behind a mutex, rebuilt with every directory.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/status.h"
#include "proto/its.pb.h"

namespace its::mm {

// The Prometheus http_sd document of a directory: one target group per
// process that is up (or unresponsive) and has a metrics endpoint, labelled
// job "agate", instance, process and pid, and one for the manager itself
// (`self`, job "mapping_manager") unless empty.
// https://prometheus.io/docs/prometheus/latest/http_sd/ describes the format.
std::string ServiceDiscovery(const proto::Directory& directory,
                             const std::string& self);

class MmMetrics {
 public:
  MmMetrics(prometheus::Registry& registry, const std::string& instance,
            int max_agates);

  // Loop thread: every directory the manager publishes.
  void Directory(const proto::Directory& d, const std::string& self);
  // Loop thread: a process slot is started again after its process ended.
  void Restarted(int process);
  // Loop thread: an Assign call was answered after `seconds`.
  void Assigned(double seconds, grpc::StatusCode code);

  // Metrics endpoint's thread: the last /sd document.
  std::string sd() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct PerProcess {
    prometheus::Gauge* sessions;
    prometheus::Gauge* busy_threads;
    prometheus::Gauge* weight;
    prometheus::Gauge* pid;
    prometheus::Gauge* up;
    prometheus::Gauge* draining;
    prometheus::Counter* restarts;
  };
  prometheus::Family<prometheus::Counter>& assignments_;
  prometheus::Counter& assigned_ok_;
  prometheus::Histogram& assign_latency_;
  prometheus::Gauge& agates_up_;
  prometheus::Gauge& draining_;
  std::vector<PerProcess> processes_;
  mutable absl::Mutex mu_;
  std::string sd_ ABSL_GUARDED_BY(mu_) = "[]";
};

}  // namespace its::mm
