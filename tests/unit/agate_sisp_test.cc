// The agate's session IDs and the SISP pieces of its pages: pure functions.
#include <gtest/gtest.h>

#include "agate/session_ids.h"
#include "agate/session_table.h"
#include "agate/sisp.h"
#include "common/gusid.h"

namespace its::agate {
namespace {

const std::string kRandom(32, 'a');

TEST(SessionIds, BuildsTheFullAndThePublicIdOfThisProcess) {
  SessionIds ids("IT1", "host-1", 2);
  EXPECT_EQ(ids.Public(0x01000007), "IT1-A:host-1:0002.01000007");
  EXPECT_EQ(ids.Full(0x01000007, kRandom),
            "IT1-A:host-1:0002.01000007." + kRandom);
  auto parsed = ParseGusid(ids.Full(0x01000007, kRandom));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->slot, 0x01000007u);
  EXPECT_EQ(parsed->random, kRandom);
}

TEST(SessionIds, OwnsIdsOfItsInstanceAndProcessOnly) {
  SessionIds ids("IT1", "host-1", 2);
  EXPECT_TRUE(ids.Owns(Gusid{"IT1", "host-1", 2, 5, ""}));
  EXPECT_TRUE(ids.Owns(Gusid{"IT1", "other", 2, 5, ""}));  // host not checked
  EXPECT_FALSE(ids.Owns(Gusid{"IT2", "host-1", 2, 5, ""}));
  EXPECT_FALSE(ids.Owns(Gusid{"IT1", "host-1", 3, 5, ""}));
}

TEST(Sisp, SessionUrlCarriesThePublicIdAndTheTerminationTokenOnly) {
  EXPECT_EQ(SispSessionUrl("webgui", "IT1-A:h:0000.01000001", "tok"),
            "/scripts/wgate/webgui/?~sessid=IT1-A%3Ah%3A0000.01000001"
            "&~termtoken=tok");
}

TEST(Sisp, ScriptOnlyForSispSessionsAndNeverWithTheSecret) {
  SessionIds ids("IT1", "h", 0);
  SessionContext s;
  s.slot = 0x01000001;
  s.set_random(kRandom);
  s.text.set(SessionContext::kService, "webgui");
  s.text.set(SessionContext::kTcode, "FB03");
  s.timeout = 15 * kSimMinute;
  s.text.set(SessionContext::kTermToken, "tok");
  EXPECT_EQ(SispScriptFor(s, ids, "USR_OPEN"), "");  // not a SISP session
  s.sisp = true;
  std::string script = SispScriptFor(s, ids, "SRV_CLOSE", "/bye");
  EXPECT_NE(script.find("\"GUSID\":\"IT1-A:h:0000.01000001\""),
            std::string::npos);
  EXPECT_NE(script.find("~termtoken=tok"), std::string::npos);
  EXPECT_NE(script.find("\"lastSessCmd\":\"SRV_CLOSE\""), std::string::npos);
  EXPECT_NE(script.find("\"redirectURL\":\"/bye\""), std::string::npos);
  EXPECT_NE(script.find("\"dTimeout\":900"), std::string::npos);
  EXPECT_NE(script.find("\"label\":\"webgui FB03\""), std::string::npos);
  EXPECT_EQ(script.find(kRandom), std::string::npos);
}

}  // namespace
}  // namespace its::agate
