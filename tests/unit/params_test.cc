#include "common/params.h"

#include <gtest/gtest.h>

namespace its {
namespace {

TEST(UrlDecode, DecodesAndRejectsBadEscapes) {
  EXPECT_EQ(*UrlDecode("a+b%20c%7e"), "a b c~");
  EXPECT_EQ(*UrlDecode("%2Fn%2fEX"), "/n/EX");
  EXPECT_FALSE(UrlDecode("%").ok());
  EXPECT_FALSE(UrlDecode("%4").ok());
  EXPECT_FALSE(UrlDecode("abc%zz").ok());
  EXPECT_FALSE(UrlDecode("abc%4g").ok());
}

TEST(UrlEncode, RoundTrips) {
  std::string s = "IT1-A:host:0001.00000002.ab cd/&=?";
  EXPECT_EQ(*UrlDecode(UrlEncode(s)), s);
  EXPECT_EQ(UrlEncode("a:b"), "a%3Ab");
}

TEST(Params, TildeNamesAreCaseInsensitive) {
  Params p;
  ASSERT_TRUE(
      ParseQuery("~OKCODE=%2F00&~Transaction=fb03&rf05l-belnr=42", &p).ok());
  EXPECT_EQ(p.GetOr("~okcode", ""), "/00");
  EXPECT_EQ(p.GetOr("~TRANSACTION", ""), "fb03");
  EXPECT_EQ(p.GetOr("RF05L-BELNR", ""), "42");
  EXPECT_FALSE(p.Has("~login"));
}

TEST(Params, LaterValuesAndMergeOverride) {
  Params a, b;
  ASSERT_TRUE(ParseQuery("~timeout=5&~timeout=10", &a).ok());
  EXPECT_EQ(a.GetOr("~timeout", ""), "10");
  b.Set("~TIMEOUT", "20");
  b.Set("~login", "DEMO");
  a.MergeFrom(b);
  EXPECT_EQ(a.GetOr("~timeout", ""), "20");
  EXPECT_EQ(a.GetOr("~login", ""), "DEMO");
  EXPECT_EQ(a.size(), 2u);
}

TEST(Params, LimitsAndBadEscaping) {
  Params p;
  EXPECT_FALSE(ParseQuery("a=1&b=2&c=3", &p, 2).ok());
  Params q;
  EXPECT_FALSE(ParseQuery("~okcode=%G0", &q).ok());
  Params r;
  EXPECT_TRUE(ParseQuery("&&=x&a", &r).ok());
  EXPECT_TRUE(r.Has("A"));
}

TEST(Cookie, FindsNamedCookie) {
  std::string h = "foo=1; ~session=IT1-A%3Ahost; bar=2";
  EXPECT_EQ(*FindCookie(h, "~session"), "IT1-A%3Ahost");
  EXPECT_EQ(*FindCookie(h, "bar"), "2");
  EXPECT_FALSE(FindCookie(h, "session").has_value());
  EXPECT_FALSE(FindCookie("", "~session").has_value());
}

TEST(Redirect, RelativeOrConfiguredHostsOnly) {
  const std::vector<std::string> hosts = {"portal.example.com",
                                          "intranet:8443"};
  EXPECT_TRUE(IsSafeRedirect("/bye.html", hosts));
  EXPECT_TRUE(IsSafeRedirect("/", hosts));
  EXPECT_TRUE(IsSafeRedirect("https://portal.example.com/home?x=1", hosts));
  EXPECT_TRUE(IsSafeRedirect("HTTP://Portal.Example.com", hosts));
  EXPECT_TRUE(IsSafeRedirect("http://intranet:8443/", hosts));
  for (const char* bad :
       {"", "//evil.example/", "/\\evil.example", "http://evil.example/",
        "http://intranet/", "https://portal.example.com@evil.example/",
        "javascript:alert(1)", "/ok\r\nSet-Cookie: x=1", "bye.html", "/a b"}) {
    EXPECT_FALSE(IsSafeRedirect(bad, hosts)) << bad;
  }
  EXPECT_FALSE(IsSafeRedirect("https://portal.example.com/", {}));
}

TEST(Html, EscapesMarkup) {
  EXPECT_EQ(HtmlEscape("<script>alert('x')&\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;");
}

}  // namespace
}  // namespace its
