#include "mapping_manager/stat_logs.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace its::mm {
namespace {

proto::Directory Dir(uint64_t requests0, uint64_t requests1) {
  proto::Directory d;
  d.set_instance("IT1");
  auto add = [&](int process, int sessions, int busy, double w,
                 uint64_t requests) {
    auto* p = d.add_processes();
    p->set_instance("IT1");
    p->set_process(process);
    p->set_pid(100 + process);
    p->set_state(proto::ProcessInfo::UP);
    p->set_sessions(sessions);
    p->set_max_sessions(64);
    p->set_busy_threads(busy);
    p->set_max_threads(4);
    p->set_weight(w);
    p->set_requests(requests);
    p->set_turnaround_s(0.25);
  };
  add(0, 0, 0, 1.0, requests0);
  add(1, 16, 1, 0.5625, requests1);
  auto* down = d.add_processes();
  down->set_process(2);
  down->set_state(proto::ProcessInfo::DOWN);
  return d;
}

TEST(StatLogs, LoadstatLinesAsTheItsWritesThem) {
  StatLogs logs;
  SimMicros t = 1'700'000'000LL * kSimSecond;  // 2023/11/14 22:13:20
  std::string first = logs.Loadstat(Dir(60, 120), t, 60);
  EXPECT_EQ(
      first,
      "2023/11/14 22:13:20.000: 0: w=1.000 s=64/64 w=4/4 h/s=1.000 tat=0.250\n"
      "2023/11/14 22:13:20.000: 1: w=0.562 s=48/64 w=3/4 h/s=2.000 tat=0.250\n"
      "2023/11/14 22:13:20.000: Total 2: 112/128 req#=180\n");
  // Hits per second count what happened since the last line.
  std::string second = logs.Loadstat(Dir(60, 180), t + kSimMinute, 60);
  EXPECT_NE(second.find(": 0: w=1.000 s=64/64 w=4/4 h/s=0.000"),
            std::string::npos);
  EXPECT_NE(second.find(": 1: w=0.562 s=48/64 w=3/4 h/s=1.000"),
            std::string::npos);
  EXPECT_NE(second.find("Total 2: 112/128 req#=60"), std::string::npos);
}

TEST(StatLogs, PerformanceLinesAndProcUsage) {
  StatLogs logs;
  std::map<pid_t, ProcessUsage> usage = {{100, {2.0, 30.5}},
                                         {101, {1.0, 12.0}}};
  logs.Performance(Dir(0, 0), 0, 60, usage, 60);
  usage[100].cpu_s = 8.0;  // 6 s of CPU in 60 s
  std::string out = logs.Performance(Dir(600, 0), kSimMinute, 60, usage, 60);
  EXPECT_NE(out.find(": 0: sessions=0 threads=0/4 h/s=10.000 tat=0.250 "
                     "cpu=10.0% mem=30.5MiB"),
            std::string::npos)
      << out;
  ProcessUsage self = ReadUsage(getpid());
  EXPECT_GT(self.rss_mb, 1.0);
  EXPECT_GE(self.cpu_s, 0.0);
}

}  // namespace
}  // namespace its::mm
