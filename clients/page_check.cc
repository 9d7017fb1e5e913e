#include "clients/page_check.h"

#include "common/strings.h"

namespace its::load {
namespace {

// The text of the page's R/3 error message (type E), if it has one. No
// allocation: this runs for every page a load run gets.
std::string_view ErrorMessage(std::string_view body) {
  constexpr std::string_view kMarker =
      "<div class=\"msg msg-E\" id=\"its-message\">";
  size_t p = body.find(kMarker);
  if (p == std::string_view::npos) return {};
  p += kMarker.size();
  size_t e = body.find("</div>", p);
  return body.substr(p, e == std::string_view::npos ? 0 : e - p);
}

// The user the page's footer names ("<footer>User NAME &middot; ...").
std::string_view PageUser(std::string_view body) {
  constexpr std::string_view kFooter = "<footer>User ";
  size_t p = body.find(kFooter);
  if (p == std::string_view::npos) return {};
  p += kFooter.size();
  size_t e = body.find(" &middot;", p);
  return e == std::string_view::npos ? std::string_view{}
                                     : body.substr(p, e - p);
}

}  // namespace

std::string CheckPage(const StepDef& step, int status, std::string_view body,
                      std::string_view user) {
  if (status == 0) return "";  // no page: counted as a transport error
  // Never allowed: another user's screen, data or locks.
  if (std::string_view who = PageUser(body); !who.empty() && who != user)
    return "page of another user";
  if (step.expect_status != 0 && status != step.expect_status)
    return Cat("HTTP ", status, " where ", step.expect_status, " was expected");
  if (body.find("No free capacity") != std::string_view::npos)
    return "no free capacity";
  if (body.find("Session timed out") != std::string_view::npos)
    return "session timed out";
  if (body.find("<h1>Log On to ") != std::string_view::npos)
    return "logon page instead of a screen";
  if (std::string_view m = ErrorMessage(body); !m.empty()) {
    if (m.find("is locked by user") != std::string_view::npos)
      return "locked by another user";
    return "R/3 error message";
  }
  for (const std::string& t : step.expect_text) {
    if (body.find(t) == std::string_view::npos)
      return Cat("expected text missing: ", t.substr(0, 60));
  }
  for (const std::string& t : step.reject_text) {
    if (body.find(t) != std::string_view::npos)
      return Cat("rejected text present: ", t.substr(0, 60));
  }
  return "";
}

}  // namespace its::load
