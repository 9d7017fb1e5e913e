#pragma once

// Helpers for the integration tests: a real cluster on ephemeral ports and a
// browser-like HTTP client with a ~session cookie jar.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "clients/admin.h"
#include "clients/cluster_launcher.h"
#include "common/cluster_config.h"
#include "common/http_client.h"
#include "common/params.h"
#include "common/strings.h"

namespace its::testing {

// Where the cluster's programs come from: ITS_CLUSTER_BIN_DIR if set
// (deploy/test points it at a directory with a ThreadSanitizer wgate beside the
// release processes), else this build's.
inline std::string ClusterBinDir() {
  const char* dir = getenv("ITS_CLUSTER_BIN_DIR");
  return dir != nullptr && *dir != '\0' ? dir : ITS_BIN_DIR;
}

// `bin_dir`: the programs to run instead of ClusterBinDir()'s.
inline std::unique_ptr<launcher::Cluster> StartCluster(
    std::function<void(toml::table&)> edit = nullptr,
    std::vector<std::pair<std::string, std::string>> files = {},
    std::string bin_dir = "") {
  static int counter = 0;
  launcher::Options o;
  o.config_dir = std::string(ITS_SOURCE_DIR) + "/deploy/config";
  o.run_dir = Cat(std::filesystem::temp_directory_path().string(), "/its-test-",
                  getpid(), "-", ++counter);
  std::filesystem::remove_all(o.run_dir);
  o.bin_dir = bin_dir.empty() ? ClusterBinDir() : bin_dir;
  o.ephemeral_ports = true;
  o.remove_run_dir =
      getenv("ITS_KEEP_TEST_RUNS") == nullptr;  // set it to look at the logs
  // A test that failed shows the end of every process's log: on a CI
  // machine the run directory is gone with the machine.
  o.before_remove = [](const std::string& run_dir) {
    if (!::testing::Test::HasFailure()) return;
    std::error_code ec;
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(run_dir, ec)) {
      if (e.path().extension() != ".log") continue;
      std::ifstream in(e.path());
      std::vector<std::string> lines;
      for (std::string l; std::getline(in, l);) {
        lines.push_back(std::move(l));
        if (lines.size() > 40) lines.erase(lines.begin());
      }
      std::fprintf(stderr, "---- the last %zu lines of %s\n", lines.size(),
                   e.path().c_str());
      for (const auto& l : lines) std::fprintf(stderr, "%s\n", l.c_str());
    }
  };
  o.edit = std::move(edit);
  o.files = std::move(files);
  auto c = launcher::Cluster::Start(std::move(o));
  if (!c.ok()) {
    ADD_FAILURE() << "cluster did not start: " << c.status().message();
    return nullptr;
  }
  return std::move(*c);
}

// Base of a test suite whose tests share one cluster (default configuration).
class SharedClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = StartCluster().release(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(cluster_, nullptr); }

  static inline launcher::Cluster* cluster_ = nullptr;
};

// The JSON rows of an itsadm listing.
inline nlohmann::json Admin(const launcher::Cluster& c,
                            const std::string& command) {
  auto config = ClusterConfig::Load(c.config_dir());
  EXPECT_TRUE(config.ok()) << config.status().message();
  auto t = admin::Query(*config, command);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? admin::ToJson(*t) : nlohmann::json::array();
}

// The value of the wgate's counter `name` on its /metrics (0 and a test
// failure if it has none).
inline uint64_t WgateCounter(const std::string& url, const std::string& name) {
  auto r = HttpGet(url, "/metrics");
  EXPECT_TRUE(r.ok()) << url << "/metrics";
  std::smatch m;
  std::regex re("\n" + name + " ([0-9]+)\n");
  if (r.ok() && std::regex_search(r->body, m, re)) return std::stoull(m[1]);
  ADD_FAILURE() << "no metric " << name;
  return 0;
}

// How long a crashed process may take to run again (the 1 s;
// deploy/test allows more under the sanitizers, which slow every start).
// SM04 rows of `user` (its R/3 sessions).
inline int UsersNamed(const launcher::Cluster& c, const std::string& user) {
  int n = 0;
  for (const auto& u : Admin(c, "sm04")) n += u["user"] == user;
  return n;
}

// cluster.toml edit: ten simulated minutes per real second.
inline void Fast(toml::table& t) { t.insert_or_assign("time_scale", 600.0); }

inline double RecoveryLimitSeconds() {
  const char* v = getenv("ITS_RECOVERY_LIMIT_S");
  return v != nullptr && *v != '\0' ? std::atof(v) : 1.0;
}

// Polls `pred` every 20 ms for up to `ms`; true once it holds.
template <typename Pred>
bool WaitFor(Pred pred, int ms = 5000) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

// A program of this build run to its end (bounded: a run that hangs is killed
// after 60 s and fails on its exit code, 124).
struct ProgramRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};
// `path` is a program or script, run from the test's working directory.
inline ProgramRun RunPath(const std::string& path, const std::string& args) {
  std::string cmd = Cat("timeout 60 ", path, " ", args, " 2>&1 </dev/null");
  FILE* f = popen(cmd.c_str(), "r");
  ProgramRun r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.output.append(buf, n);
  int status = pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}
inline ProgramRun RunProgram(const std::string& program,
                             const std::string& args) {
  return RunPath(Cat(ITS_BIN_DIR, "/", program), args);
}

// itscluster as deploy/up runs it, in a process of its own on ephemeral
// ports. The caller signals `pid` and removes `run_dir`.
struct Itscluster {
  pid_t pid = -1;
  std::string run_dir;
  std::string url;  // empty if it did not get ready within 30 s
};
inline std::string TestRunDir(const std::string& name) {
  return Cat(std::filesystem::temp_directory_path().string(), "/its-", name,
             "-", getpid());
}
// In `run_dir` (another test's, or a link to one).
inline Itscluster StartItsclusterIn(const std::string& run_dir,
                                    const char* option = nullptr) {
  Itscluster c;
  c.run_dir = run_dir;
  std::string out = c.run_dir + ".out";
  c.pid = fork();
  if (c.pid == 0) {
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    execl(ITS_BIN_DIR "/itscluster", "itscluster", "--config",
          ITS_SOURCE_DIR "/deploy/config", "--run-dir", c.run_dir.c_str(),
          "--ephemeral-ports", option, static_cast<char*>(nullptr));
    _exit(127);
  }
  WaitFor(
      [&] {
        std::ifstream in(out);
        std::string word;
        if (in >> word && word == "ready") in >> c.url;
        return !c.url.empty();
      },
      30000);
  std::filesystem::remove(out);
  return c;
}
inline Itscluster StartItscluster(const std::string& name,
                                  const char* option = nullptr) {
  return StartItsclusterIn(TestRunDir(name), option);
}

// A browser: one keep-alive connection and a cookie jar for ~session.
class Browser {
 public:
  explicit Browser(const std::string& url) : http_(url) {}

  HttpResult Get(const std::string& target) { return Send("GET", target, ""); }
  HttpResult Post(const std::string& target, const std::string& form) {
    return Send("POST", target, form);
  }
  HttpResult Send(const std::string& method, const std::string& target,
                  const std::string& body) {
    std::vector<std::pair<std::string, std::string>> h;
    if (!cookie_.empty()) h.emplace_back("Cookie", "~session=" + cookie_);
    if (method == "POST")
      h.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    auto r = http_.Send(method, target, h, body);
    EXPECT_TRUE(r.ok()) << target << ": " << r.status().message();
    if (!r.ok()) return HttpResult();
    for (const std::string& sc : r->Headers("set-cookie")) {
      auto v = FindCookie(sc, "~session");
      if (!v) continue;
      if (sc.find("Max-Age=0") != std::string::npos)
        cookie_.clear();
      else
        cookie_ = std::string(*v);
    }
    return *r;
  }
  // The session ID in the jar (decoded), or "".
  std::string session() const {
    auto d = UrlDecode(cookie_);
    return d.ok() ? *d : "";
  }
  void set_cookie(const std::string& raw) { cookie_ = raw; }
  const std::string& raw_cookie() const { return cookie_; }

 private:
  HttpClient http_;
  std::string cookie_;
};

inline std::string StartUrl(const std::string& service, const std::string& user,
                            const std::string& extra = "") {
  return Cat("/scripts/wgate/", service, "/!?~client=100&~login=", user,
             "&~password=welcome&~language=EN", extra);
}

inline std::string Step(const std::string& service, const std::string& query) {
  return Cat("/scripts/wgate/", service, "/?", query);
}

// The "instance/process/pid" a response names.
struct AgateId {
  std::string instance;
  int process = -1;
  int pid = -1;
};
inline AgateId ServedBy(const HttpResult& r) {
  AgateId id;
  auto h = r.Header("x-its-agate");
  if (!h) return id;
  auto parts = Split(*h, '/');
  if (parts.size() != 3) return id;
  id.instance = std::string(parts[0]);
  ParseInt(parts[1], &id.process);
  ParseInt(parts[2], &id.pid);
  return id;
}

}  // namespace its::testing
