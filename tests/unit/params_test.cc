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

TEST(Utf8, APrefixNeverEndsInsideACharacter) {
  const std::string s = "M\xc3\xbcller \xe2\x82\xac\xf0\x9f\x98\x80";
  EXPECT_EQ(Utf8Prefix(s, 100), s);
  EXPECT_EQ(Utf8Prefix(s, 1), "M");
  EXPECT_EQ(Utf8Prefix(s, 2), "M") << "inside \xc3\xbc";
  EXPECT_EQ(Utf8Prefix(s, 3), "M\xc3\xbc");
  EXPECT_EQ(Utf8Prefix(s, 9), "M\xc3\xbcller ") << "inside the euro sign";
  EXPECT_EQ(Utf8Prefix(s, 13), "M\xc3\xbcller \xe2\x82\xac")
      << "inside the 4-byte emoji";
  EXPECT_EQ(Utf8Prefix(s, 0), "");
  for (size_t n = 0; n <= s.size(); ++n)
    EXPECT_TRUE(IsValidUtf8(Utf8Prefix(s, n))) << n;
}

TEST(Utf8, AcceptsWellFormedAndRejectsTheRest) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain /00"));
  EXPECT_TRUE(IsValidUtf8("M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("/00\xff"));           // never in UTF-8
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xc3\x28"));          // bad continuation
}

TEST(Params, NamesAndValuesMustBeUtf8) {
  Params p;
  EXPECT_TRUE(ParseQuery("NAME=M%C3%BCller", &p).ok());
  EXPECT_EQ(p.GetOr("NAME", ""), "M\xc3\xbcller");
  Params q;
  absl::Status s = ParseQuery("~okcode=%2F00%FF", &q);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "parameter ~okcode is not UTF-8");
  Params r;
  EXPECT_FALSE(ParseQuery("%FE=1", &r).ok());
  Params raw;  // bytes the HTTP parser let through unescaped
  EXPECT_FALSE(ParseQuery("A=\xc0\xaf", &raw).ok());
}

TEST(CompactParams, KeepsEveryEntryOfTheParams) {
  Params p;
  ASSERT_TRUE(ParseQuery("~Transaction=FB03&~timeout=5&rf05l-belnr=42&"
                         "NUL=a%00b&EMPTY=&LONG=" +
                             std::string(300, 'x'),
                         &p)
                  .ok());
  CompactParams c(p);
  EXPECT_EQ(c.Get("~TRANSACTION"), "FB03");
  EXPECT_EQ(c.Get("~timeout"), "5");
  EXPECT_EQ(c.Get("RF05L-BELNR"), "42");
  EXPECT_EQ(c.Get("NUL"), std::string_view("a\0b", 3));
  EXPECT_EQ(c.Get("EMPTY"), "");
  EXPECT_EQ(c.Get("LONG"), std::string(300, 'x'));
  EXPECT_FALSE(c.Get("~login").has_value());
  EXPECT_FALSE(c.Get("~timeou").has_value());
  EXPECT_FALSE(CompactParams().Get("~timeout").has_value());
  EXPECT_TRUE(CompactParams(Params()).empty());
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
