// Hostile input: malformed HTTP, forged session IDs,
// unknown services. The processes stay up and keep serving.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "common/gusid.h"
#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

class Hostile : public SharedClusterTest {
 protected:
  static std::vector<int> Pids() {
    std::vector<int> pids;
    for (const auto& p : Admin(*cluster_, "agates")) pids.push_back(p["pid"]);
    for (const auto& p : cluster_->processes()) pids.push_back(p.pid);
    return pids;
  }
};

TEST_F(Hostile, MalformedHttpGets400AndTheConnectionCloses) {
  auto before = Pids();
  for (const std::string& bad : {
           std::string("GARBAGE\r\n\r\n"),
           std::string("GET / HTTP/9.9\r\n\r\n"),
           std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: "
                       "abc\r\n\r\n"),
           std::string("GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"),
           std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                       "chunked\r\n\r\nzz\r\n"),
           std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                       11),  // a TLS hello
       }) {
    HttpClient c(cluster_->url(), 3000);
    auto r = c.SendRaw(bad);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(r->Header("connection"), "close");
    EXPECT_TRUE(c.PeerClosed());
  }
  EXPECT_EQ(Pids(), before);
  Browser b(cluster_->url());
  EXPECT_EQ(b.Get(StartUrl("webgui", "DEMO")).status, 200);
}

TEST_F(Hostile, ForgedTruncatedOversizedAndForeignSessionIdsGet400) {
  Browser owner(cluster_->url());
  ASSERT_EQ(owner.Get(StartUrl("webgui", "DEMO")).status, 200);
  std::string real = owner.session();
  auto id = ParseGusid(real);
  ASSERT_TRUE(id.ok());
  Gusid flipped = *id;
  flipped.random[0] = flipped.random[0] == 'a' ? 'b' : 'a';
  Gusid other_slot = *id;
  other_slot.slot += 1000;
  Gusid foreign = *id;
  foreign.instance = "XX9";
  Gusid bad_process = *id;
  bad_process.process = 0x7777;
  for (const std::string& forged : {
           flipped.ToString(),
           other_slot.ToString(),
           foreign.ToString(),
           bad_process.ToString(),
           real.substr(0, real.size() - 5),
           real + "00",
           std::string(3000, 'A'),
           std::string("IT1-A:h:0000.00000000.") + std::string(32, 'z'),
           std::string("<script>alert(1)</script>"),
           std::string("%00%0d%0aSet-Cookie:x=1"),
       }) {
    Browser b(cluster_->url());
    b.set_cookie(UrlEncode(forged));
    HttpResult r = b.Get(Step("webgui", "~okcode=/00"));
    EXPECT_EQ(r.status, 400) << forged;
    EXPECT_EQ(r.body.find("Display Document"), std::string::npos) << forged;
    EXPECT_EQ(r.body.find("<script>alert"), std::string::npos);
    for (const auto& sc : r.Headers("set-cookie"))
      EXPECT_EQ(sc.find("x=1"), std::string::npos);
  }
  // The real session is untouched.
  HttpResult ok = owner.Get(Step("webgui", "~okcode=/00&RF05L-BELNR=9"));
  EXPECT_EQ(ok.status, 200);
}

TEST_F(Hostile, UnknownServicesAndPathsGet404) {
  for (const char* path :
       {"/scripts/wgate/nosuch/!", "/scripts/wgate/../../etc/passwd/!",
        "/scripts/wgate/abcdefghijklmnop/!", "/nothing",
        "/scripts/wgate/webgui/x"}) {
    auto r = HttpGet(cluster_->url(), path);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 404) << path;
  }
}

TEST_F(Hostile, BadPercentEncodingGets400AndMarkupIsEscaped) {
  auto r = HttpGet(cluster_->url(), "/scripts/wgate/webgui/!?~login=%zz");
  EXPECT_EQ(r->status, 400);
  Browser b(cluster_->url());
  ASSERT_EQ(b.Get(StartUrl("webgui", "DEMO")).status, 200);
  HttpResult x = b.Get(Step(
      "webgui", "~okcode=/00&RF05L-BELNR=%3Cscript%3Ealert(1)%3C/script%3E"));
  EXPECT_EQ(x.status, 200);
  EXPECT_EQ(x.body.find("<script>alert(1)"), std::string::npos);
  EXPECT_NE(x.body.find("&lt;script&gt;alert(1)"), std::string::npos);
}

// Protobuf strings must be UTF-8: one message that is not would make the
// agate drop the dialog stream, and every request on it with it.
TEST_F(Hostile, ParametersThatAreNotUtf8Get400AndTheSessionLivesOn) {
  Browser b(cluster_->url());
  ASSERT_EQ(b.Get(StartUrl("webgui", "DEMO")).status, 200);
  auto before = Pids();
  HttpResult bad = b.Get(Step("webgui", "~okcode=%2F00%FF"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("~okcode is not UTF-8"), std::string::npos);
  EXPECT_EQ(b.Get(Step("webgui", "%C0%AF=1")).status, 400);
  EXPECT_EQ(HttpGet(cluster_->url(),
                    "/scripts/wgate/webgui/!?~login=DEMO&~client=%ED%A0%80")
                ->status,
            400);
  HttpResult ok = b.Get(Step("webgui", "~okcode=/00&RF05L-BELNR=M%C3%BCller"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("M\xc3\xbcller"), std::string::npos);
  EXPECT_EQ(Pids(), before);
}

// A listening socket on 127.0.0.1 that nobody accepts on (non-blocking, so
// that its queue can be drained): its fd and address.
struct Listener {
  int fd = -1;
  sockaddr_in address{};
  explicit Listener(int backlog) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof address;
    auto* sa = reinterpret_cast<sockaddr*>(&address);
    if (fd < 0 || ::bind(fd, sa, len) != 0 || ::listen(fd, backlog) != 0 ||
        ::getsockname(fd, sa, &len) != 0) {
      ADD_FAILURE() << "listen on 127.0.0.1: " << std::strerror(errno);
    }
  }
  ~Listener() { ::close(fd); }
  std::string hostport() const {
    return Cat("127.0.0.1:", ntohs(address.sin_port));
  }
};

// A server that takes the connection and never answers (a hung wgate: the
// kernel still accepts) costs a client its deadline once, not twice: the
// retry for a server that closed an idle connection is not for a deadline.
TEST(HttpClientDeadline, AServerThatDoesNotAnswerIsAskedOnce) {
  Listener l(8);
  auto r = HttpGet(l.hostport(), "/healthz", 200);
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  int connections = 0;
  while (true) {
    int c = ::accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) break;
    ++connections;
    ::close(c);
  }
  EXPECT_EQ(connections, 1);
}

// A server whose accept queue is full drops the SYN (as a cut link would):
// the connect itself keeps to the deadline instead of the kernel's minutes
// of SYN retries.
TEST(HttpClientDeadline, AConnectThatGetsNoAnswerKeepsToTheDeadline) {
  Listener l(0);
  std::vector<int> fill;  // never accepted: the queue stays full
  for (int i = 0; i < 4; ++i) {
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    (void)::connect(c, reinterpret_cast<const sockaddr*>(&l.address),
                    sizeof l.address);
    fill.push_back(c);
  }
  auto t0 = std::chrono::steady_clock::now();
  auto r = HttpGet(l.hostport(), "/healthz", 300);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(r.ok());
  EXPECT_LT(took, std::chrono::seconds(2)) << r.status();
  for (int c : fill) ::close(c);
}

}  // namespace
}  // namespace its::testing
