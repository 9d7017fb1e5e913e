#include "mapping_manager/stat_logs.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/process.h"
#include "common/strings.h"

namespace its::mm {

ProcessUsage ReadUsage(pid_t pid) {
  ProcessUsage u;
  std::string text = ReadProcFile(pid, "stat");  // "" once it ended
  size_t close = text.rfind(')');  // the command may contain spaces
  if (close != std::string::npos) {
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field;
         ++i) {  // fields 14 and 15: utime, stime
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    u.cpu_s = (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::istringstream status(ReadProcFile(pid, "status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0)
      u.rss_mb = std::stod(line.substr(6)) / 1024.0;
  }
  return u;
}

std::string StatLogs::Loadstat(const proto::Directory& dir, SimMicros now,
                               double minute_s) {
  std::string when = FormatDateTime(now);
  std::string out;
  int n = 0, free_total = 0, max_total = 0;
  uint64_t requests = 0;
  for (const auto& p : dir.processes()) {
    if (p.state() != proto::ProcessInfo::UP) continue;
    uint64_t& last = last_requests_[p.process()];
    uint64_t hits = p.requests() >= last ? p.requests() - last : p.requests();
    last = p.requests();
    int free_sessions = std::max(0, p.max_sessions() - p.sessions());
    out += fmt::format(
        "{}: {}: w={:.3f} s={}/{} w={}/{} h/s={:.3f} tat={:.3f}\n", when,
        p.process(), p.weight(), free_sessions, p.max_sessions(),
        std::max(0, p.max_threads() - p.busy_threads()), p.max_threads(),
        minute_s > 0 ? static_cast<double>(hits) / minute_s : 0.0,
        p.turnaround_s());
    ++n;
    free_total += free_sessions;
    max_total += p.max_sessions();
    requests += hits;
  }
  out += fmt::format("{}: Total {}: {}/{} req#={}\n", when, n, free_total,
                     max_total, requests);
  return out;
}

std::string StatLogs::Performance(const proto::Directory& dir, SimMicros now,
                                  double minute_s,
                                  const std::map<pid_t, ProcessUsage>& usage,
                                  double real_s) {
  std::string when = FormatDateTime(now);
  std::string out;
  for (const auto& p : dir.processes()) {
    if (p.state() != proto::ProcessInfo::UP) continue;
    uint64_t& last = last_requests_perf_[p.process()];
    uint64_t hits = p.requests() >= last ? p.requests() - last : p.requests();
    last = p.requests();
    double cpu_pct = 0, rss = 0;
    if (auto it = usage.find(p.pid()); it != usage.end()) {
      double& prev = last_cpu_[p.pid()];
      if (real_s > 0 && prev > 0)
        cpu_pct = 100.0 * (it->second.cpu_s - prev) / real_s;
      prev = it->second.cpu_s;
      rss = it->second.rss_mb;
    }
    out += fmt::format(
        "{}: {}: sessions={} threads={}/{} h/s={:.3f} tat={:.3f} cpu={:.1f}% "
        "mem={:.1f}MiB\n",
        when, p.process(), p.sessions(), p.busy_threads(), p.max_threads(),
        minute_s > 0 ? static_cast<double>(hits) / minute_s : 0.0,
        p.turnaround_s(), cpu_pct, rss);
  }
  return out;
}

StatLogWriter::StatLogWriter(GrpcLoop& loop, const ScaledClock& clock,
                             std::string log_dir,
                             std::function<proto::Directory()> directory)
    : clock_(clock),
      log_dir_(std::move(log_dir)),
      directory_(std::move(directory)),
      timer_(loop),
      last_real_(std::chrono::steady_clock::now()) {}

void StatLogWriter::Start() {
  timer_.Arm(std::max(std::chrono::microseconds(1'000'000),
                      clock_.RealDuration(kSimMinute)),
             [this] {
               Write();
               Start();
             });
}

void StatLogWriter::Write() {
  proto::Directory dir = directory_();
  std::map<pid_t, ProcessUsage> usage;
  for (const auto& p : dir.processes()) {
    if (p.state() == proto::ProcessInfo::UP)
      usage[p.pid()] = ReadUsage(p.pid());
  }
  auto now_real = std::chrono::steady_clock::now();
  double real_s = std::chrono::duration<double>(now_real - last_real_).count();
  last_real_ = now_real;
  std::ofstream(log_dir_ + "/loadstat.log", std::ios::app)
      << logs_.Loadstat(dir, clock_.Now(), 60.0);
  std::ofstream(log_dir_ + "/performance.log", std::ios::app)
      << logs_.Performance(dir, clock_.Now(), 60.0, usage, real_s);
}

}  // namespace its::mm
