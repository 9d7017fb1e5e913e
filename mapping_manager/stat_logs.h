#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "common/clock.h"
#include "common/grpc_loop.h"
#include "proto/its.pb.h"

namespace its::mm {

// CPU time and memory of a process, read from /proc.
struct ProcessUsage {
  double cpu_s = 0;  // user + system seconds so far
  double rss_mb = 0;
};
ProcessUsage ReadUsage(pid_t pid);

// The ITS statistics logs of one instance, written once a simulated minute:
//   loadstat.log:    <date> <time>: <process>: w=<w> s=<free>/<max>
//   w=<free>/<max> h/s=<hits/s> tat=<s>
//                    <date> <time>: Total <n>: <free>/<max> req#=<requests in
//                    the minute>
//   performance.log: <date> <time>: <process>: sessions=<n>
//   threads=<busy>/<max> h/s=<x>
//                    tat=<s> cpu=<%> mem=<MiB>
class StatLogs {
 public:
  // Lines for `dir` at simulated time `now`; hits per second are counted
  // since the previous call (`minute_s` simulated seconds ago). `usage` maps
  // PIDs to their /proc figures; `real_s` is the real time since the last call.
  std::string Loadstat(const proto::Directory& dir, SimMicros now,
                       double minute_s);
  std::string Performance(const proto::Directory& dir, SimMicros now,
                          double minute_s,
                          const std::map<pid_t, ProcessUsage>& usage,
                          double real_s);

 private:
  std::map<int, uint64_t> last_requests_;  // per process number (Loadstat)
  std::map<int, uint64_t>
      last_requests_perf_;  // per process number (Performance)
  std::map<pid_t, double> last_cpu_;
};

// Writes loadstat.log and performance.log of an instance into `log_dir`
// once a simulated minute (at least once a real second), on the loop.
class StatLogWriter {
 public:
  // `directory` gives the instance's directory now (loop thread).
  StatLogWriter(GrpcLoop& loop, const ScaledClock& clock, std::string log_dir,
                std::function<proto::Directory()> directory);
  void Start();

 private:
  void Write();

  const ScaledClock& clock_;
  std::string log_dir_;
  std::function<proto::Directory()> directory_;
  StatLogs logs_;
  GrpcLoop::Timer timer_;
  std::chrono::steady_clock::time_point last_real_;
};

}  // namespace its::mm
