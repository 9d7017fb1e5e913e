#include "wgate/terminator.h"

#include <gtest/gtest.h>

namespace its::wgate {
namespace {

const std::vector<std::string> kOwn = {"127.0.0.1:8080"};
constexpr char kId[] = "IT1-A:h:0001.01000002";

std::string SessUrl(const std::string& id = kId,
                    const std::string& token = "tok",
                    const std::string& extra = "") {
  return "/scripts/wgate/ess/?~sessid=" + UrlEncode(id) +
         "&~termtoken=" + token + extra;
}

absl::StatusOr<TerminatorRequest> Parse(const std::string& query) {
  Params p;
  EXPECT_TRUE(ParseQuery(query, &p).ok());
  return ParseTerminatorRequest(p, kOwn, 3);
}

TEST(Terminator, TermStringIsAnEscapedListOfEscapedUrls) {
  std::string list = UrlEncode(SessUrl(kId, "a", "&~SAPSessionCmd=USR_ABORT")) +
                     "&" +
                     UrlEncode(SessUrl("IT2-A:h:0000.01000001", "b",
                                       "&~SAPSessionCmd=USR_LOGOFF"));
  auto t = Parse("TermString=" + UrlEncode(list));
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->targets.size(), 2u);
  EXPECT_EQ(t->targets[0].service, "ess");
  EXPECT_EQ(t->targets[0].session, kId);
  EXPECT_EQ(t->targets[0].token, "a");
  EXPECT_EQ(t->targets[0].command, proto::USR_ABORT);
  EXPECT_EQ(t->targets[1].command, proto::USR_LOGOFF);
  EXPECT_EQ(t->rejected, 0u);
}

TEST(Terminator, CommandAppliesToEverySerKey) {
  std::string keys = UrlEncode(SessUrl()) + "&" +
                     UrlEncode(SessUrl("IT1-A:h:0002.01000003", "c"));
  auto t = Parse("Command=LOGOFF&SerKeyString=" + UrlEncode(keys));
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->targets.size(), 2u);
  for (const auto& target : t->targets)
    EXPECT_EQ(target.command, proto::USR_LOGOFF);
  EXPECT_FALSE(Parse("Command=SUSPEND&SerKeyString=x").ok());
  EXPECT_FALSE(Parse("nothing=here").ok());
}

TEST(Terminator, LogoffWinsOverAbortForTheSameSession) {
  std::string list =
      UrlEncode(SessUrl(kId, "a", "&~SAPSessionCmd=USR_ABORT")) + "&" +
      UrlEncode(SessUrl(kId, "a", "&~SAPSessionCmd=USR_LOGOFF")) + "&" +
      UrlEncode(SessUrl(kId, "a", "&~SAPSessionCmd=USR_ABORT"));
  auto t = Parse("TermString=" + UrlEncode(list));
  ASSERT_EQ(t->targets.size(), 1u);
  EXPECT_EQ(t->targets[0].command, proto::USR_LOGOFF);
}

TEST(Terminator, OnlyThisClustersSessionUrlsAreTargets) {
  std::vector<std::string> urls = {
      "http://evil.example/scripts/wgate/ess/?~sessid=" + UrlEncode(kId) +
          "&~termtoken=a",
      "http://127.0.0.1:9999/scripts/wgate/ess/?~sessid=" + UrlEncode(kId) +
          "&~termtoken=a",
      "//evil.example/scripts/wgate/ess/?~sessid=x",
      "/etc/passwd",
      "/scripts/wgate/ess/?~termtoken=a",  // no session
      "/scripts/wgate/../ess/?~sessid=" + UrlEncode(kId) + "&~termtoken=a",
      "/scripts/wgate/ess/?~sessid=" + UrlEncode(kId) +
          ".0123&~termtoken=a",  // full GUSID
      "/scripts/wgate/ess/?~sessid=" + UrlEncode(kId) +
          "&~termtoken=a&~SAPSessionCmd=RM_RF",
      "javascript:alert(1)",
      "/scripts/wgate/ess/?~sessid=" + UrlEncode(kId) +
          "&~termtoken=",  // an empty token matches no session's
  };
  std::string list;
  for (const auto& u : urls) list += UrlEncode(u) + "&";
  list += "%zz&";                                          // broken escaping
  list += UrlEncode("http://127.0.0.1:8080" + SessUrl());  // own host: accepted
  auto t = Parse("TermString=" + UrlEncode(list));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->rejected, urls.size() + 1);
  ASSERT_EQ(t->targets.size(), 1u);
  EXPECT_EQ(t->targets[0].session, kId);
}

TEST(Terminator, NeverMoreThanTheCap) {
  std::string list;
  for (int i = 0; i < 10000; ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "IT1-A:h:0001.%08x", 0x01000000 + i);
    list += UrlEncode(SessUrl(id)) + "&";
  }
  auto t = Parse("TermString=" + UrlEncode(list));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->targets.size(), 3u);
  EXPECT_EQ(t->rejected, 9997u);
  EXPECT_LE(t->reasons.size(), 5u);
}

TEST(LaunchUrl, OnlyRelativeWgateUrls) {
  EXPECT_TRUE(IsValidLaunchUrl("/scripts/wgate/ess/!?~transaction=PA30"));
  for (const char* bad :
       {"http://evil.example/", "//evil.example/scripts/wgate/x/!",
        "/scripts/wgate//evil.example", "javascript:alert(1)", "/other/",
        "/scripts/wgate/x/!\"><script>", "/scripts/wgate/x\\..\\", ""}) {
    EXPECT_FALSE(IsValidLaunchUrl(bad)) << bad;
  }
  std::string page = PortalPage("/scripts/wgate/ess/!?~transaction=PA30");
  EXPECT_NE(
      page.find(
          "src=\"/scripts/wgate/ess/!?~transaction=PA30&amp;sapwp_active=1\""),
      std::string::npos);
}

}  // namespace
}  // namespace its::wgate
