#include <gtest/gtest.h>

#include "wgate/http.h"

namespace its::http {
namespace {

HttpLimits Limits() {
  HttpLimits l;
  l.max_request_line = 64;
  l.max_header_bytes = 128;
  l.max_headers = 4;
  l.max_body = 16;
  return l;
}

TEST(HttpParser, ParsesARequestWithBody) {
  Parser p(Limits());
  std::string in =
      "POST /scripts/wgate/webgui/?a=1 HTTP/1.1\r\nHost: x\r\nCookie: "
      "~session=abc\r\n"
      "Content-Length: 5\r\n\r\nhello";
  EXPECT_EQ(p.Feed(in.data(), in.size()), in.size());
  ASSERT_TRUE(p.has_request());
  Request r = p.TakeRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/scripts/wgate/webgui/");
  EXPECT_EQ(r.query, "a=1");
  EXPECT_EQ(r.Header("cookie"), "~session=abc");
  EXPECT_EQ(r.body, "hello");
  EXPECT_TRUE(r.keep_alive);
}

TEST(HttpParser, PipelinedRequestsComeOneAtATimeInOrder) {
  Parser p(Limits());
  std::string in =
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /c HTTP/1.0\r\n\r\n";
  size_t off = 0;
  std::vector<std::string> paths;
  while (off < in.size()) {
    off += p.Feed(in.data() + off, in.size() - off);
    ASSERT_FALSE(p.failed()) << p.error_message();
    if (p.has_request()) paths.push_back(p.TakeRequest().path);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/a", "/b", "/c"}));
}

TEST(HttpParser, RequestSplitAcrossReads) {
  Parser p(Limits());
  std::string in = "GET /split HTTP/1.1\r\nHo";
  p.Feed(in.data(), in.size());
  EXPECT_FALSE(p.has_request());
  EXPECT_TRUE(p.in_request());
  std::string rest = "st: x\r\n\r\n";
  p.Feed(rest.data(), rest.size());
  ASSERT_TRUE(p.has_request());
  EXPECT_EQ(p.TakeRequest().Header("host"), "x");
}

TEST(HttpParser, LimitsGiveTheRightStatus) {
  struct Case {
    std::string input;
    int status;
  };
  for (const Case& c : {
           Case{"GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n", 414},
           Case{"GET / HTTP/1.1\r\nX: " + std::string(200, 'b') + "\r\n\r\n",
                431},
           Case{
               "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n",
               431},
           Case{"POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n", 413},
           Case{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                "chunked\r\n\r\n20\r\n" +
                    std::string(32, 'c') + "\r\n0\r\n\r\n",
                413},
           Case{"NONSENSE\r\n\r\n", 400},
           Case{"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: "
                "2\r\n\r\n",
                400},
           // Only HTTP/1.x, and HTTP/1.1 with exactly one Host.
           Case{"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
           Case{"GET /\r\n\r\n", 400},  // HTTP/0.9: no version
           Case{"GET / HTTP/1.1\r\n\r\n", 400},
           Case{"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
       }) {
    Parser p(Limits());
    p.Feed(c.input.data(), c.input.size());
    EXPECT_TRUE(p.failed()) << c.input;
    EXPECT_EQ(p.error_status(), c.status) << c.input;
  }
}

TEST(HttpParser, ConnectionCloseAndHttp10) {
  Parser p(Limits());
  std::string in = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  p.Feed(in.data(), in.size());
  EXPECT_FALSE(p.TakeRequest().keep_alive);
}

TEST(HttpResponse, EveryStatusTheWgateSendsHasItsReasonPhrase) {
  for (int status : {200, 204, 302, 303, 400, 403, 404, 405, 408, 413, 414, 431,
                     500, 502, 503, 504, 505}) {
    EXPECT_STRNE(ReasonPhrase(status), "Unknown") << status;
  }
  EXPECT_STREQ(ReasonPhrase(504), "Gateway Timeout");
}

TEST(HttpResponse, HeadersWithCrLfAreNeverSent) {
  Response r;
  r.body = "x";
  r.AddHeader("Location", "/ok");
  r.AddHeader("Location", "/bad\r\nSet-Cookie: evil=1");
  std::string head = SerializeHead(r, true);
  EXPECT_NE(head.find("Location: /ok\r\n"), std::string::npos);
  EXPECT_EQ(head.find("evil"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 1\r\n"), std::string::npos);
  EXPECT_NE(head.find("Connection: keep-alive"), std::string::npos);
}

// Every HTML page refuses other sites' frames (clickjacking); a response
// that sets its own policy keeps it, and JSON needs none.
TEST(HttpResponse, HtmlPagesRefuseForeignFramesUnlessTheySayOtherwise) {
  Response html;
  html.status = 400;
  std::string head = SerializeHead(html, true);
  EXPECT_NE(head.find("Content-Security-Policy: frame-ancestors 'self'\r\n"),
            std::string::npos)
      << head;
  Response own;
  own.AddHeader("Content-Security-Policy", "frame-ancestors *");
  head = SerializeHead(own, true);
  EXPECT_EQ(head.find("'self'"), std::string::npos) << head;
  EXPECT_NE(head.find("frame-ancestors *"), std::string::npos) << head;
  Response json;
  json.content_type = "application/json";
  EXPECT_EQ(SerializeHead(json, true).find("Content-Security-Policy"),
            std::string::npos);
}

}  // namespace
}  // namespace its::http
