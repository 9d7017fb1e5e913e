// The agate's session IDs and the SISP pieces of its pages: pure functions.
#include <gtest/gtest.h>

#include "agate/render.h"
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

// A page: every text of the screen escaped where it lands, numbers as
// decimals, /00 first among the buttons, the footer's pieces.
TEST(RenderScreen, EscapesEveryTextAndOrdersTheButtons) {
  proto::Screen s;
  s.set_title("A<B");
  s.set_tcode("FB03");
  s.set_dynpro(-700);
  s.set_message("x & y");
  s.set_message_type("E");
  auto* in = s.add_fields();
  in->set_name("F\"1");
  in->set_label("L'1");
  in->set_input(true);
  in->set_value("<v>");
  auto* out = s.add_fields();
  out->set_name("F2");
  out->set_label("L2");
  out->set_value("1,000.00 EUR");
  s.mutable_table()->add_columns("C&");
  s.mutable_table()->add_rows()->add_cells("<td>");
  auto* back = s.add_buttons();
  back->set_okcode("/EBACK");
  back->set_label("Back");
  auto* enter = s.add_buttons();
  enter->set_okcode("/00");
  enter->set_label("Go");
  RenderContext ctx{"webgui",  "G",       true,         "U<",
                    "IT1/0/1", "<sisp/>", "12:00 & 1x", std::string(32, 'f')};
  std::string page = RenderScreen(s, ctx);
  for (const char* want : {
           "<h1 id=\"its-title\">A&lt;B</h1>",
           "data-tcode=\"FB03\" data-dynpro=\"-700\">FB03 / -700</div>",
           "<div class=\"msg msg-E\" id=\"its-message\">x &amp; y</div>",
           "action=\"/scripts/wgate/webgui/?~session=G\" id=\"its-form\"",
           "<label for=\"F&quot;1\">L&#39;1</label><input id=\"F&quot;1\" "
           "name=\"F&quot;1\" value=\"&lt;v&gt;\">",
           "<output id=\"F2\">1,000.00 EUR</output>",
           "<th>C&amp;</th></tr><tr><td>&lt;td&gt;</td></tr>",
           "<footer>User U&lt; &middot; AGate IT1/0/1 &middot; <span "
           "id=\"its-clock\">Simulated time 12:00 &amp; 1x</span>",
           "href=\"/trace/ffffffffffffffffffffffffffffffff\"",
           "</footer><sisp/>",
       }) {
    EXPECT_NE(page.find(want), std::string::npos) << want << "\n" << page;
  }
  // /00 first, then the others; no extra Enter when /00 is a button.
  const size_t go = page.find(">Go</button>");
  const size_t back_at = page.find("value=\"/EBACK\">Back</button>");
  ASSERT_NE(go, std::string::npos);
  ASSERT_NE(back_at, std::string::npos);
  EXPECT_LT(go, back_at);
  EXPECT_EQ(page.find(">Enter</button>"), std::string::npos);
}

}  // namespace
}  // namespace its::agate
