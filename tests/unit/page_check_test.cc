#include "clients/page_check.h"

#include <gtest/gtest.h>

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
}

TEST(PageCheckTest, AnotherUsersPageIsAlwaysAnError) {
  StepDef step;
  step.expect_text = {"Display Document"};
  EXPECT_EQ(CheckPage(step, 200, Page("LOAD00009"), "LOAD00001"),
            "page of another user");
}

TEST(PageCheckTest, TheStepsOwnChecks) {
  StepDef step;
  step.expect_text = {"Display Document", "4711"};
  EXPECT_EQ(CheckPage(step, 200, Page("U"), "U"),
            "expected text missing: 4711");
  step.expect_text = {"Display Document"};
  step.reject_text = {"Error"};
  EXPECT_EQ(CheckPage(step, 200, Page("U") + "Error", "U"),
            "rejected text present: Error");
  step.reject_text.clear();
  step.expect_status = 302;
  EXPECT_EQ(CheckPage(step, 200, Page("U"), "U"),
            "HTTP 200 where 302 was expected");
}

}  // namespace
}  // namespace its::load
