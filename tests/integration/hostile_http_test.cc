// Hostile HTTP against the wgate: limits, timeouts, the connection
// cap, pipelining, and a randomized flood of malformed requests.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <random>

#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

// A raw TCP connection to the wgate.
class Raw {
 public:
  // `rcvbuf` > 0: a small receive buffer, for a client that reads slowly.
  explicit Raw(const std::string& url, int rcvbuf = 0) {
    std::string host;
    int port = 0;
    std::string addr = url.substr(7);
    EXPECT_TRUE(ParseHostPort(addr, &host, &port).ok());
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, host.c_str(), &sa.sin_addr);
    connected_ =
        ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  }
  ~Raw() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& bytes) {
    (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  void EndWrites() { ::shutdown(fd_, SHUT_WR); }
  // Reads until EOF or `ms` pass; returns what arrived and whether EOF came.
  std::string ReadAll(int ms, bool* eof) {
    std::string out;
    *eof = false;
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (true) {
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(
              deadline - std::chrono::steady_clock::now())
              .count());
      if (left <= 0) return out;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) return out;
      char buf[8192];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        *eof = true;
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

void Limits(toml::table& t) {
  auto* w = t["wgate"].as_table();
  w->insert_or_assign("header_timeout_s", 0.5);
  w->insert_or_assign("idle_timeout_s", 1.5);
  w->insert_or_assign("max_connections", 16);
  w->insert_or_assign("max_params", 50);
}

class HostileHttp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = StartCluster(Limits).release(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(cluster_, nullptr); }
  static inline launcher::Cluster* cluster_ = nullptr;
};

TEST_F(HostileHttp, SlowHeadersGet408AndTheConnectionCloses) {
  Raw r(cluster_->url());
  ASSERT_TRUE(r.connected());
  r.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // ... and nothing more
  bool eof;
  auto t0 = std::chrono::steady_clock::now();
  std::string out = r.ReadAll(5000, &eof);
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 408");
  EXPECT_TRUE(eof);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST_F(HostileHttp, IdleKeepAliveConnectionsAreClosed) {
  HttpClient c(cluster_->url(), 4000);
  ASSERT_EQ(c.Send("GET", "/healthz")->status, 200);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.PeerClosed());
  EXPECT_GE(std::chrono::steady_clock::now() - t0,
            std::chrono::milliseconds(1000));
}

TEST_F(HostileHttp, ConnectionsBeyondTheCapGet503OthersAreUnaffected) {
  std::vector<std::unique_ptr<Raw>> held;
  for (int i = 0; i < 16; ++i)
    held.push_back(std::make_unique<Raw>(cluster_->url()));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Raw extra(cluster_->url());
  bool eof;
  std::string out = extra.ReadAll(2000, &eof);
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 503") << out;
  EXPECT_TRUE(eof);
  held[3]->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string ok = held[3]->ReadAll(300, &eof);
  EXPECT_EQ(ok.substr(0, 12), "HTTP/1.1 200");
  held.clear();
  EXPECT_TRUE(WaitFor([&] {
    auto r = HttpGet(cluster_->url(), "/healthz", 500);
    return r.ok() && r->status == 200;
  }));
}

TEST_F(HostileHttp, PipelinedRequestsAreAnsweredInOrder) {
  HttpClient c(cluster_->url());
  auto first = c.SendRaw(
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /scripts/wgate/nosuch/! HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /scripts/wgate/webgui/! HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\n~login=%Z"
      "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(c.ReadResponse()->status, 404);
  EXPECT_EQ(c.ReadResponse()->status, 400);
  auto last = c.ReadResponse();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->status, 200);
  EXPECT_NE(last->body.find("its_wgate_requests_total"), std::string::npos);
}

// Bare CRLFs begin no request; they must not hold a connection open by
// re-arming its deadline: it closes at the idle timeout (1.5 s here).
TEST_F(HostileHttp, StrayLineEndsDoNotKeepAConnectionOpen) {
  Raw r(cluster_->url());
  ASSERT_TRUE(r.connected());
  bool eof = false;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 30 && !eof; ++i) {
    r.Send("\r\n");
    r.ReadAll(200, &eof);
  }
  EXPECT_TRUE(eof) << "still open after 6 s of CRLFs";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

// A client that sends requests and never reads the answers: once the socket
// buffers are full, nothing more is acknowledged, and after an idle timeout
// (1.5 s here) without progress the wgate closes.
TEST_F(HostileHttp, AClientThatDoesNotReadIsDisconnected) {
  Raw r(cluster_->url(), /*rcvbuf=*/4096);
  ASSERT_TRUE(r.connected());
  std::string many;
  for (int i = 0; i < 4000; ++i) many += "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  r.Send(many);
  // The first period saw the buffers fill (progress), the second none.
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  bool eof = false;
  std::string got = r.ReadAll(3000, &eof);
  EXPECT_TRUE(eof) << "connection still open; read " << got.size() << " bytes";
  EXPECT_LT(got.size(), 4000u * 2000u) << "it got every answer: not stuck";
}

TEST_F(HostileHttp, HeadGetsHeadersOnlyAndTheConnectionGoesOn) {
  Raw r(cluster_->url());
  r.Send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  bool eof;
  std::string head = r.ReadAll(500, &eof);
  EXPECT_EQ(head.substr(0, 12), "HTTP/1.1 200") << head;
  EXPECT_NE(head.find("Content-Length: 3\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n") << "a body followed";
  r.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string get = r.ReadAll(500, &eof);
  EXPECT_EQ(get.substr(0, 12), "HTTP/1.1 200") << get;
  EXPECT_EQ(get.substr(get.size() - 3), "ok\n");
}

// Only the methods of the contract (docs/architecture.md §4): a DELETE or a
// PUT neither starts a session nor runs a step, and says what is allowed.
TEST_F(HostileHttp, OtherMethodsGet405AndStartNothing) {
  struct Case {
    std::string method, target, allow;
  };
  for (const Case& c : {
           Case{"DELETE",
                "/scripts/wgate/webgui/!?~login=DEMO&~password=welcome",
                "GET, HEAD, POST"},
           Case{"PUT", "/scripts/wgate/webgui/?~okcode=/00", "GET, HEAD, POST"},
           Case{"PATCH", "/dsm/terminator", "GET, HEAD, POST"},
           Case{"POST", "/healthz", "GET, HEAD"},
           Case{"DELETE", "/metrics", "GET, HEAD"},
           Case{"OPTIONS", "/scripts/wgate/admin/!", "GET, HEAD"},
       }) {
    Raw r(cluster_->url());
    r.Send(Cat(c.method, " ", c.target,
               " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
    bool eof;
    std::string out = r.ReadAll(500, &eof);
    EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 405") << c.method << " " << out;
    EXPECT_NE(out.find(Cat("\r\nAllow: ", c.allow, "\r\n")), std::string::npos)
        << out;
    EXPECT_EQ(out.find("Set-Cookie"), std::string::npos) << out;
    // The connection goes on.
    r.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string next = r.ReadAll(500, &eof);
    EXPECT_EQ(next.substr(0, 12), "HTTP/1.1 200") << next;
  }
  // HTTP/2 in clear text, and HTTP/1.1 without Host, are refused.
  for (const auto& [req, status] :
       std::vector<std::pair<std::string, std::string>>{
           {"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", "505"},
           {"GET /healthz HTTP/1.1\r\n\r\n", "400"},
       }) {
    Raw r(cluster_->url());
    r.Send(req);
    bool eof;
    std::string out = r.ReadAll(500, &eof);
    EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 " + status) << req << out;
  }
}

TEST_F(HostileHttp, ExpectContinueIsAnsweredBeforeTheBody) {
  Raw r(cluster_->url());
  r.Send(
      "POST /scripts/wgate/webgui/! HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/x-www-form-urlencoded\r\nExpect: 100-continue\r\n"
      "Content-Length: 11\r\n\r\n");
  bool eof;
  std::string cont = r.ReadAll(300, &eof);
  EXPECT_EQ(cont, "HTTP/1.1 100 Continue\r\n\r\n");
  r.Send("~login=DEMO");
  std::string page = r.ReadAll(500, &eof);
  EXPECT_EQ(page.substr(0, 12), "HTTP/1.1 200") << page;  // the logon page
}

// Lenient parsing lets requests be smuggled behind a proxy that reads them
// differently: chunk data not ended by CRLF, header names that are not tokens.
TEST_F(HostileHttp, MalformedChunksAndHeaderNamesGet400) {
  for (const std::string& bad : {
           std::string("POST /scripts/wgate/webgui/! HTTP/1.1\r\nHost: x\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n"
                       "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
           std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n"
                       "\r\n"),
           std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n: x\r\n\r\n"),
       }) {
    Raw r(cluster_->url());
    r.Send(bad);
    bool eof;
    std::string out = r.ReadAll(1000, &eof);
    EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 400") << bad << "\n" << out;
    EXPECT_EQ(out.find("HTTP/1.1 200"), std::string::npos) << bad;
  }
}

TEST_F(HostileHttp, TooManyParametersGet400) {
  std::string q;
  for (int i = 0; i < 60; ++i) q += Cat("p", i, "=1&");
  auto r = HttpGet(cluster_->url(), "/scripts/wgate/webgui/!?" + q);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("parameters"), std::string::npos);
  // A field of 4 KiB is a field; one byte more is refused, by name.
  auto fits = HttpGet(cluster_->url(),
                      "/scripts/wgate/webgui/!?X=" + std::string(4096, 'a'));
  EXPECT_EQ(fits->status, 200);
  auto too_long = HttpGet(
      cluster_->url(), "/scripts/wgate/webgui/!?X=" + std::string(4097, 'a'));
  EXPECT_EQ(too_long->status, 400);
  EXPECT_NE(too_long->body.find("parameter X is longer than 4096 bytes"),
            std::string::npos)
      << too_long->body;
}

// Thousands of malformed requests (seeded, so a failure can be replayed);
// then a normal session still works and no process restarted.
TEST_F(HostileHttp, RandomizedHostileInputBreaksNothing) {
  std::vector<int> pids_before;
  for (const auto& p : Admin(*cluster_, "agates"))
    pids_before.push_back(p["pid"]);
  std::mt19937 rng(20261122);
  auto pick = [&](int n) {
    return static_cast<int>(rng() % static_cast<unsigned>(n));
  };
  auto random_bytes = [&](int n) {
    std::string s(static_cast<size_t>(n), '\0');
    for (char& ch : s) ch = static_cast<char>(rng() & 0xff);
    return s;
  };
  const std::string valid =
      "GET /scripts/wgate/webgui/?~okcode=/00 HTTP/1.1\r\nHost: x\r\nCookie: "
      "~session=abc\r\n\r\n";
  int answered = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string req;
    switch (pick(10)) {
      case 0:
        req = random_bytes(1 + pick(300)) + "\r\n\r\n";
        break;
      case 1:
        req = valid;
        req[static_cast<size_t>(pick(static_cast<int>(req.size())))] ^=
            static_cast<char>(1 + pick(255));
        break;
      case 2:
        req = "GET /" +
              std::string(static_cast<size_t>(9000 + pick(4000)), 'a') +
              " HTTP/1.1\r\nHost: x\r\n\r\n";
        break;
      case 3:
        req = "GET / HTTP/1.1\r\nHost: x\r\n" +
              std::string(static_cast<size_t>(pick(100)), 'h') + "\r\n\r\n";
        break;
      case 4:
        req = "POST /dsm/terminator HTTP/1.1\r\nHost: x\r\nContent-Length: " +
              std::to_string(-pick(5)) + "\r\n\r\n";
        break;
      case 5:
        req =
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
            random_bytes(pick(20)) + "\r\n0\r\n\r\n";
        break;
      case 6: {
        req = "GET / HTTP/1.1\r\nHost: x\r\n";
        for (int h = 0; h < 150; ++h) req += Cat("X-", h, ": v\r\n");
        req += "\r\n";
        break;
      }
      case 7:
        req = "GET /scripts/wgate/webgui/?~okcode=%" + random_bytes(2) +
              " HTTP/1.1\r\nHost: x\r\n\r\n";
        break;
      case 8:
        req =
            "GET /scripts/wgate/webgui/ HTTP/1.1\r\nHost: x\r\nCookie: "
            "~session=" +
            UrlEncode(random_bytes(40)) + "\r\n\r\n";
        break;
      default:
        req = std::string("\0\0\0", 3) + random_bytes(pick(50));
        break;
    }
    Raw r(cluster_->url());
    ASSERT_TRUE(r.connected()) << "request " << i;
    r.Send(req);
    r.EndWrites();
    bool eof;
    std::string out = r.ReadAll(3000, &eof);
    ASSERT_TRUE(eof) << "request " << i << " left the connection hanging";
    if (!out.empty()) {
      ++answered;
      ASSERT_EQ(out.substr(0, 9), "HTTP/1.1 ") << i;
      EXPECT_NE(out.substr(9, 1), "5")
          << "request " << i << " got " << out.substr(0, 12);
    }
  }
  EXPECT_GT(answered, 1000);
  Browser b(cluster_->url());
  EXPECT_EQ(b.Get(StartUrl("webgui", "DEMO")).status, 200);
  EXPECT_EQ(b.Get(Step("webgui", "~okcode=/00&RF05L-BELNR=1")).status, 200);
  std::vector<int> pids_after;
  for (const auto& p : Admin(*cluster_, "agates"))
    pids_after.push_back(p["pid"]);
  EXPECT_EQ(pids_after, pids_before);
  for (const auto& p : cluster_->processes()) {
    EXPECT_EQ(kill(p.pid, 0), 0) << p.name;
    EXPECT_EQ(p.restarts, 0) << p.name;
  }
}

}  // namespace
}  // namespace its::testing
