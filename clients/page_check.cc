#include "clients/page_check.h"

#include <algorithm>

#include "absl/status/status.h"
#include "common/params.h"
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

// The title of an ITS message page (common/pages.cc MessagePage: the wgate's
// and agate's refusals, "Session lost", R/3 timeouts), "" for a screen.
std::string_view MessageTitle(std::string_view body) {
  constexpr std::string_view kEnd = "</h1><p id=\"its-message\">";
  size_t e = body.find(kEnd);
  if (e == std::string_view::npos) return {};
  size_t b = body.rfind("<h1>", e);
  if (b == std::string_view::npos) return {};
  return Utf8Prefix(body.substr(b + 4, e - b - 4), 80);
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

// How the page writes `c` (agate/render.cc escapes with HtmlEscape), or ""
// if as it is.
std::string_view Entity(char c) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '"':
      return "&quot;";
    case '\'':
      return "&#39;";
    default:
      return {};
  }
}

// Whether the page text `shown` is `value` for `row`, HTML-escaped. No
// allocation: compared piece by piece, character by character.
bool Shows(std::string_view shown, const Template& value, DataRow row) {
  size_t pos = 0;
  bool same = value.ForEachPiece(row, [&](std::string_view piece) {
    for (size_t i = 0; i < piece.size(); ++i) {
      std::string_view e = Entity(piece[i]);
      if (e.empty()) e = piece.substr(i, 1);
      if (shown.compare(pos, e.size(), e) != 0) return false;
      pos += e.size();
    }
    return true;
  });
  return same && pos == shown.size();
}

// The (escaped) value the page shows in field `f`; false if it has no such
// field.
bool FieldValue(std::string_view body, const FieldCheck& f,
                std::string_view* value) {
  std::string_view end_mark = "\"";
  size_t p = body.find(f.input_marker);
  if (p != std::string_view::npos) {
    p += f.input_marker.size();
  } else {
    p = body.find(f.output_marker);
    if (p == std::string_view::npos) return false;
    p += f.output_marker.size();
    end_mark = "</output>";
  }
  size_t e = body.find(end_mark, p);
  if (e == std::string_view::npos) return false;
  *value = body.substr(p, e - p);
  return true;
}

}  // namespace

absl::StatusOr<std::string> ScreenMarker(std::string_view screen) {
  size_t slash = screen.rfind('/');
  std::string_view tcode =
      slash == std::string_view::npos ? "" : screen.substr(0, slash);
  std::string_view number =
      slash == std::string_view::npos ? screen : screen.substr(slash + 1);
  int dynpro = 0;
  bool tcode_ok = slash == std::string_view::npos || !tcode.empty();
  for (char c : tcode) tcode_ok &= IsAlnum(c) || c == '_' || c == '/';
  if (!tcode_ok || number.find_first_not_of("0123456789") != number.npos ||
      !ParseInt(number, &dynpro)) {
    return absl::InvalidArgumentError(
        "expected \"TCODE/SCREEN\" or \"SCREEN\", as \"PA30/2000\"");
  }
  // agate/render.cc: <div id="its-screen" data-tcode="PA30"
  // data-dynpro="2000">
  std::string marker = Cat("data-dynpro=\"", dynpro, "\"");
  if (!tcode.empty())
    marker = Cat("data-tcode=\"", ToUpper(tcode), "\" ", marker);
  return marker;
}

FieldCheck MakeFieldCheck(std::string_view name, Template value) {
  FieldCheck f;
  f.name = ToUpper(name);
  std::string id = HtmlEscape(f.name);
  // agate/render.cc: <input id="N" name="N" value="V"> or
  // <output id="N">V</output>
  f.input_marker = Cat("<input id=\"", id, "\" name=\"", id, "\" value=\"");
  f.output_marker = Cat("<output id=\"", id, "\">");
  f.value = std::move(value);
  return f;
}

std::string CheckPage(const StepDef& step, int status, std::string_view body,
                      std::string_view user, DataRow row) {
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
  // Where an error status came unasked, or the expected screen is missing,
  // a refusal page says why (a few fixed titles: "Session lost", "Logon not
  // possible", ...); a step may also expect such a page. Looked for only
  // then: a good page is not scanned for it.
  const bool screen_missing =
      !step.screen_marker.empty() &&
      body.find(step.screen_marker) == std::string_view::npos;
  if (screen_missing || (status >= 400 && step.expect_status == 0)) {
    if (std::string_view t = MessageTitle(body); !t.empty()) {
      // Kinds go into the JSON report and the workers' Protobuf: UTF-8 only.
      return IsValidUtf8(t) ? Cat("page \"", t, "\"")
                            : std::string("page with a title not in UTF-8");
    }
  }
  if (screen_missing) return Cat("screen is not ", step.expect_screen);
  for (const FieldCheck& f : step.expect_field) {
    std::string_view shown;
    if (!FieldValue(body, f, &shown))
      return Cat("field ", f.name, " not on the page");
    if (!Shows(shown, f.value, row))
      return Cat("field ", f.name, " is not ",
                 Utf8Prefix(f.value.source(), 60));
  }
  for (const Template& t : step.expect_text) {
    if (!t.FoundIn(body, row))
      return Cat("expected text missing: ", Utf8Prefix(t.source(), 60));
  }
  for (const Template& t : step.reject_text) {
    if (t.FoundIn(body, row))
      return Cat("rejected text present: ", Utf8Prefix(t.source(), 60));
  }
  return "";
}

}  // namespace its::load
