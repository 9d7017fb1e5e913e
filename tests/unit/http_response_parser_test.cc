#include "common/http_response_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/http_client.h"

namespace its {
namespace {

// Feeds `in` in pieces of `step` bytes; returns the complete responses as
// "status|body" and leaves the parser after the last.
std::vector<std::string> FeedAll(HttpResponseParser& p, const std::string& in,
                                 size_t step) {
  std::vector<std::string> out;
  size_t off = 0;
  while (off < in.size()) {
    size_t n = std::min(step, in.size() - off);
    size_t used = 0;
    while (used < n) {
      used += p.Feed(in.data() + off + used, n - used);
      if (p.failed()) return out;
      if (!p.complete()) break;
      out.push_back(std::to_string(p.status()) + "|" + std::string(p.body()));
      p.Reset();
    }
    off += n;
  }
  return out;
}

TEST(HttpResponseParser, StatusHeadersAndBody) {
  HttpResponseParser p;
  std::string in =
      "HTTP/1.1 302 Found\r\nLocation: /scripts/wgate/x/!\r\n"
      "Set-Cookie: ~session=abc; Path=/\r\nSET-COOKIE: other=1\r\n"
      "X-Empty:\r\nContent-Length: 5\r\n\r\nhello";
  EXPECT_EQ(p.Feed(in.data(), in.size()), in.size());
  ASSERT_TRUE(p.complete());
  EXPECT_FALSE(p.failed());
  EXPECT_EQ(p.status(), 302);
  EXPECT_TRUE(p.keep_alive());
  EXPECT_EQ(p.body(), "hello");
  EXPECT_EQ(p.Header("location"), "/scripts/wgate/x/!");
  EXPECT_EQ(p.Header("set-cookie"), "~session=abc; Path=/");
  EXPECT_EQ(p.Header("x-empty"), "");
  EXPECT_EQ(p.Header("content-length"), "5");
  EXPECT_EQ(p.Header("x-missing"), std::nullopt);
  ASSERT_EQ(p.header_count(), 5u);
  EXPECT_EQ(p.header_name(2), "set-cookie");  // names in lower case, in order
  EXPECT_EQ(p.header_value(2), "other=1");
}

TEST(HttpResponseParser, PipelinedResponsesComeOneAtATime) {
  std::string in =
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
      "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nccc";
  HttpResponseParser p;
  EXPECT_EQ(FeedAll(p, in, in.size()),
            (std::vector<std::string>{"200|a", "404|", "200|ccc"}));
  // The first response stops the parser: the rest is left for the next.
  HttpResponseParser q;
  size_t used = q.Feed(in.data(), in.size());
  EXPECT_EQ(used, in.find("HTTP/1.1 404"));
  EXPECT_EQ(q.Feed(in.data() + used, in.size() - used), 0u);  // until Reset
}

TEST(HttpResponseParser, SplitReadsGiveTheSameResponses) {
  std::string in =
      "HTTP/1.1 200 OK\r\nX-ITS-AGate: IT1/0\r\nContent-Length: 10\r\n\r\n"
      "0123456789HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n"
      "no";
  for (size_t step : {1, 2, 3, 7, 64}) {
    HttpResponseParser p;
    EXPECT_EQ(FeedAll(p, in, step),
              (std::vector<std::string>{"200|0123456789", "503|no"}))
        << step;
  }
}

TEST(HttpResponseParser, HeaderSplitInsideNameAndValue) {
  HttpResponseParser p;
  std::string a = "HTTP/1.1 200 OK\r\nX-ITS-A", b = "Gate: IT2/",
              c = "3\r\nContent-Length: 0\r\n\r\n";
  p.Feed(a.data(), a.size());
  p.Feed(b.data(), b.size());
  EXPECT_FALSE(p.complete());
  p.Feed(c.data(), c.size());
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.Header("x-its-agate"), "IT2/3");
}

TEST(HttpResponseParser, ChunkedBody) {
  HttpResponseParser p;
  std::string in =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  EXPECT_EQ(FeedAll(p, in, 4), (std::vector<std::string>{"200|hello world"}));
}

TEST(HttpResponseParser, BodyUntilTheConnectionEnds) {
  HttpResponseParser p;
  std::string in = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npart";
  EXPECT_EQ(p.Feed(in.data(), in.size()), in.size());
  EXPECT_FALSE(p.complete());
  EXPECT_TRUE(p.FinishAtEof());
  EXPECT_EQ(p.body(), "part");
  EXPECT_FALSE(p.keep_alive());
}

TEST(HttpResponseParser, EofInsideAResponseIsNoResponse) {
  HttpResponseParser p;
  std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
  p.Feed(in.data(), in.size());
  EXPECT_FALSE(p.FinishAtEof());
  EXPECT_TRUE(p.failed());
  HttpResponseParser nothing;
  EXPECT_FALSE(nothing.FinishAtEof());
}

TEST(HttpResponseParser, MalformedInputIsAnError) {
  for (std::string in : {"HTTP/1.1 2x0 OK\r\n\r\n", "garbage\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"}) {
    HttpResponseParser p;
    p.Feed(in.data(), in.size());
    EXPECT_TRUE(p.failed()) << in;
    EXPECT_FALSE(p.complete()) << in;
    EXPECT_EQ(std::string(p.error_name()).rfind("HPE_", 0), 0u) << in;
    EXPECT_EQ(p.Feed(in.data(), in.size()), 0u);  // stays failed until Reset
    p.Reset();
    std::string ok = "HTTP/1.1 204 No Content\r\n\r\n";
    p.Feed(ok.data(), ok.size());
    EXPECT_TRUE(p.complete());
    EXPECT_EQ(p.status(), 204);
  }
}

// RFC 9112: three digits. llhttp takes "3" and "42"; the parser does not.
TEST(HttpResponseParser, AStatusOfFewerThanThreeDigitsIsAnError) {
  for (std::string in : {"HTTP/1.1 3 OK\r\n\r\n", "HTTP/1.1 42 X\r\n\r\n",
                         "HTTP/1.0 099 Low\r\n\r\n"}) {
    HttpResponseParser p;
    p.Feed(in.data(), in.size());
    EXPECT_TRUE(p.failed()) << in;
    EXPECT_STREQ(p.error_name(), "HPE_INVALID_STATUS") << in;
  }
  HttpResponseParser p;
  std::string ok = "HTTP/1.1 100 Continue\r\n\r\n";
  p.Feed(ok.data(), ok.size());
  EXPECT_FALSE(p.failed());
}

TEST(HttpResponseParser, ResetForgetsTheHeadersOfTheLastResponse) {
  HttpResponseParser p;
  std::string a =
      "HTTP/1.1 200 OK\r\nSet-Cookie: ~session=1\r\nX-A: 1\r\n"
      "Content-Length: 0\r\n\r\n";
  std::string b = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi";
  p.Feed(a.data(), a.size());
  p.Reset();
  p.Feed(b.data(), b.size());
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.header_count(), 1u);
  EXPECT_EQ(p.Header("set-cookie"), std::nullopt);
  EXPECT_FALSE(p.keep_alive());  // HTTP/1.0 without keep-alive
}

// Tools dial names too (a Kubernetes service, localhost), not only
// addresses. No sockets: an address is taken as it is, localhost comes from
// /etc/hosts.
TEST(ResolveIPv4, AddressesAsTheyAreNamesResolved) {
  EXPECT_EQ(ResolveIPv4("10.213.77.10").value_or(""), "10.213.77.10");
  EXPECT_EQ(ResolveIPv4("localhost").value_or(""), "127.0.0.1");
  EXPECT_FALSE(ResolveIPv4("").ok());
}

}  // namespace
}  // namespace its
