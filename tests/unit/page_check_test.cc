#include "clients/page_check.h"

#include <gtest/gtest.h>

#include "common/params.h"
#include "common/strings.h"

namespace its::load {
namespace {

// A dialog page as the agate renders it: an R/3 message and the footer.
std::string Page(std::string_view user, std::string_view type = "",
                 std::string_view message = "") {
  std::string body = "<h1>Display Document</h1>";
  if (!type.empty()) {
    body += Cat("<div class=\"msg msg-", type, "\" id=\"its-message\">",
                message, "</div>");
  }
  return body + Cat("<footer>User ", user, " &middot; AGate IT1/0/42</footer>");
}

TEST(PageCheckTest, AGoodPagePasses) {
  StepDef step;
  EXPECT_EQ(CheckPage(step, 200, Page("LOAD00001"), "LOAD00001"), "");
  EXPECT_EQ(CheckPage(step, 200, Page("LOAD00001", "S", "Saved"), "LOAD00001"),
            "");
  EXPECT_EQ(CheckPage(step, 0, "", "LOAD00001"), "") << "a transport error";
}

TEST(PageCheckTest, ItsErrorPagesByKind) {
  StepDef step;
  EXPECT_EQ(CheckPage(step, 200,
                      Page("LOAD00002", "E",
                           "Personnel number 1000 is locked by user LOAD00001"),
                      "LOAD00002"),
            "locked by another user");
  EXPECT_EQ(CheckPage(step, 200, Page("LOAD00002", "E", "Document not found"),
                      "LOAD00002"),
            "R/3 error message");
  EXPECT_EQ(CheckPage(step, 400, "<h1>Session timed out</h1>", "X"),
            "session timed out");
  EXPECT_EQ(CheckPage(step, 503, "<h1>No free capacity</h1>", "X"),
            "no free capacity");
  EXPECT_EQ(CheckPage(step, 200, "<h1>Log On to webgui</h1>", "X"),
            "logon page instead of a screen");
  // An error status nobody expected: its page's title says why.
  EXPECT_EQ(CheckPage(step, 503,
                      "<h1>Logon not possible</h1><p id=\"its-message\">"
                      "Connection to the R/3 system broken</p>",
                      "X"),
            "page \"Logon not possible\"");
  StepDef expects_it;
  expects_it.expect_status = 503;
  EXPECT_EQ(CheckPage(expects_it, 503,
                      "<h1>Logon not possible</h1><p id=\"its-message\">"
                      "Connection to the R/3 system broken</p>",
                      "X"),
            "");
  // Any other refusal page by its title, not as a missing screen.
  step.expect_screen = "PA30/2000";
  step.screen_marker = *ScreenMarker(step.expect_screen);
  EXPECT_EQ(CheckPage(step, 400,
                      "<h1>Session lost</h1><p id=\"its-message\">The AGate "
                      "process that held this session ended</p>",
                      "X"),
            "page \"Session lost\"");
}

TEST(PageCheckTest, AnotherUsersPageIsAlwaysAnError) {
  StepDef step;
  step.expect_text = {Template("Display Document")};
  EXPECT_EQ(CheckPage(step, 200, Page("LOAD00009"), "LOAD00001"),
            "page of another user");
}

TEST(PageCheckTest, TheStepsOwnChecks) {
  StepDef step;
  step.expect_text = {Template("Display Document"), Template("4711")};
  EXPECT_EQ(CheckPage(step, 200, Page("U"), "U"),
            "expected text missing: 4711");
  step.expect_text = {Template("Display Document")};
  step.reject_text = {Template("Error")};
  EXPECT_EQ(CheckPage(step, 200, Page("U") + "Error", "U"),
            "rejected text present: Error");
  step.reject_text.clear();
  step.expect_status = 302;
  EXPECT_EQ(CheckPage(step, 200, Page("U"), "U"),
            "HTTP 200 where 302 was expected");
}

// Error kinds go into the JSON report and the workers' Protobuf, which
// refuse broken UTF-8: a long check is cut between characters, and a page
// title that is not UTF-8 is not quoted.
TEST(PageCheckTest, ErrorKindsStayUtf8) {
  StepDef step;
  const std::string text = std::string(59, 'a') + "\xc3\xbc";  // 'ü' at 59
  step.expect_text = {Template(text)};
  std::string kind = CheckPage(step, 200, Page("U"), "U");
  EXPECT_EQ(kind, "expected text missing: " + std::string(59, 'a'));
  EXPECT_TRUE(IsValidUtf8(kind));
  StepDef plain;
  kind =
      CheckPage(plain, 503,
                "<h1>Nicht m\xc3<p>\xff</h1><p id=\"its-message\">x</p>", "X");
  EXPECT_EQ(kind, "page with a title not in UTF-8");
  kind = CheckPage(plain, 503,
                   "<h1>" + std::string(79, 'T') +
                       "\xc3\xa4</h1><p id=\"its-message\">x</p>",
                   "X");
  EXPECT_EQ(kind, "page \"" + std::string(79, 'T') + "\"");
}

// A screen as agate/render.cc writes it: its marker, an input field and an
// output field (values HTML-escaped), the footer.
std::string Screen(std::string_view tcode, int dynpro, std::string_view input,
                   std::string_view output) {
  return Cat("<h1 id=\"its-title\">Change Addresses</h1>",
             "<div id=\"its-screen\" data-tcode=\"", tcode, "\" data-dynpro=\"",
             dynpro, "\">", tcode, " / ", dynpro,
             "</div><form><div class=\"row\"><label "
             "for=\"P0006-STRAS\">Street</label><input id=\"P0006-STRAS\" "
             "name=\"P0006-STRAS\" value=\"",
             input,
             "\"></div><div class=\"row\"><label "
             "for=\"RP50G-PERNR\">Personnel Number</label><output "
             "id=\"RP50G-PERNR\">",
             output,
             "</output></div></form><footer>User U &middot; AGate "
             "IT1/0/42</footer>");
}

TEST(PageCheckTest, ExpectScreen) {
  StepDef step;
  step.expect_screen = "PA30/2000";
  step.screen_marker = *ScreenMarker(step.expect_screen);
  EXPECT_EQ(CheckPage(step, 200, Screen("PA30", 2000, "", "3001"), "U"), "");
  EXPECT_EQ(CheckPage(step, 200, Screen("PA30", 1000, "", "3001"), "U"),
            "screen is not PA30/2000");
  EXPECT_EQ(CheckPage(step, 200, Screen("FB03", 2000, "", "3001"), "U"),
            "screen is not PA30/2000");
  EXPECT_EQ(CheckPage(step, 200, Screen("PA30", 20000, "", "3001"), "U"),
            "screen is not PA30/2000");
  EXPECT_EQ(CheckPage(step, 200, Page("U"), "U"), "screen is not PA30/2000")
      << "a page without a screen";
  // The number alone: any transaction's screen of that number.
  step.expect_screen = "0100";
  step.screen_marker = *ScreenMarker(step.expect_screen);
  EXPECT_EQ(CheckPage(step, 200, Screen("FB03", 100, "", ""), "U"), "");
  EXPECT_EQ(CheckPage(step, 200, Screen("FB03", 700, "", ""), "U"),
            "screen is not 0100");
}

TEST(PageCheckTest, ScreenMarkerSyntax) {
  EXPECT_EQ(*ScreenMarker("pa30/2000"),
            "data-tcode=\"PA30\" data-dynpro=\"2000\"");
  EXPECT_EQ(*ScreenMarker("/SAPAPO/RES01/100"),
            "data-tcode=\"/SAPAPO/RES01\" data-dynpro=\"100\"");
  EXPECT_EQ(*ScreenMarker("2000"), "data-dynpro=\"2000\"");
  for (const char* bad : {"", "PA30", "PA30/", "/2000", "PA 30/2000",
                          "PA30/20x0", "PA\"30/2000", "PA30/-1"}) {
    EXPECT_FALSE(ScreenMarker(bad).ok()) << bad;
  }
}

TEST(PageCheckTest, ExpectFieldComparesTheShownValue) {
  StepDef step;
  step.expect_field = {
      MakeFieldCheck("p0006-stras", Template("Am \"Alten\" Markt & Co's")),
      MakeFieldCheck("RP50G-PERNR", Template("3001"))};
  std::string good =
      Screen("PA30", 2000, "Am &quot;Alten&quot; Markt &amp; Co&#39;s", "3001");
  EXPECT_EQ(CheckPage(step, 200, good, "U"), "");
  EXPECT_EQ(CheckPage(step, 200, Screen("PA30", 2000, "Am", "3001"), "U"),
            "field P0006-STRAS is not Am \"Alten\" Markt & Co's");
  EXPECT_EQ(
      CheckPage(step, 200,
                Screen("PA30", 2000,
                       "Am &quot;Alten&quot; Markt &amp; Co&#39;s 2", "3001"),
                "U"),
      "field P0006-STRAS is not Am \"Alten\" Markt & Co's")
      << "a longer value is another value";
  EXPECT_EQ(
      CheckPage(step, 200,
                Screen("PA30", 2000,
                       "Am &quot;Alten&quot; Markt &amp; Co&#39;s", "30011"),
                "U"),
      "field RP50G-PERNR is not 3001");
  step.expect_field.push_back(MakeFieldCheck("BKPF-BLART", Template("SA")));
  EXPECT_EQ(CheckPage(step, 200, good, "U"),
            "field BKPF-BLART not on the page");
  // An empty value.
  step.expect_field = {MakeFieldCheck("P0006-STRAS", Template(""))};
  EXPECT_EQ(CheckPage(step, 200, Screen("PA30", 2000, "", "1"), "U"), "");
  EXPECT_EQ(CheckPage(step, 200, Screen("PA30", 2000, "x", "1"), "U"),
            "field P0006-STRAS is not ");
}

TEST(PageCheckTest, ChecksTakeTheJourneysRow) {
  auto data = DataFile::Parse(
      "pernr,street\n3001,Hauptstraße 1\n3002,\"Rue de l'Église 3, Bât. B\"\n",
      "people.csv");
  ASSERT_TRUE(data.ok()) << data.status();
  StepDef step;
  step.expect_field = {
      MakeFieldCheck("RP50G-PERNR", *Template::Parse("${pernr}", &*data)),
      MakeFieldCheck("P0006-STRAS", *Template::Parse("${street}", &*data))};
  step.expect_text = {*Template::Parse("No. ${pernr}", &*data)};
  std::string page =
      Screen("PA30", 2000, "Rue de l&#39;Église 3, Bât. B", "3002") +
      "No. 3002";
  EXPECT_EQ(CheckPage(step, 200, page, "U", data->row(1)), "");
  // The kinds name the check as written, not the row's values: they stay
  // few however many rows there are.
  EXPECT_EQ(CheckPage(step, 200, page, "U", data->row(0)),
            "field RP50G-PERNR is not ${pernr}");
  step.expect_field.clear();
  EXPECT_EQ(CheckPage(step, 200, page, "U", data->row(0)),
            "expected text missing: No. ${pernr}");
  step.expect_text.clear();
  step.reject_text = {*Template::Parse("No. ${pernr}", &*data)};
  EXPECT_EQ(CheckPage(step, 200, page, "U", data->row(1)),
            "rejected text present: No. ${pernr}");
  EXPECT_EQ(CheckPage(step, 200, page, "U", data->row(0)), "");
}

}  // namespace
}  // namespace its::load
