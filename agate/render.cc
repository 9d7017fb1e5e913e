#include "agate/render.h"

#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "common/its_protocol.h"
#include "common/pages.h"
#include "common/params.h"
#include "common/strings.h"

namespace its::agate {

std::string StepUrl(const RenderContext& ctx) {
  std::string url = ServiceUrl(ctx.service);
  if (ctx.session_in_url)
    url += Cat("?", kSessionCookieName, "=", UrlEncode(ctx.gusid));
  return url;
}

std::string SispScript(const SessInfo& info) {
  nlohmann::json j = {{"protocolVersion", "1.0"},
                      {"GUSID", info.gusid},
                      {"sessUrl", info.sess_url},
                      {"lastSessCmd", info.last_cmd},
                      {"redirectURL", info.redirect_url},
                      {"dTimeout", info.timeout_s},
                      {"label", info.label}};
  // Nothing in the data may close the script element.
  std::string data;
  for (char c : j.dump()) {
    switch (c) {
      case '<':
        data += "\\u003c";
        break;
      case '>':
        data += "\\u003e";
        break;
      case '&':
        data += "\\u0026";
        break;
      default:
        data.push_back(c);
    }
  }
  return Cat(
      "<script id=\"sisp-sessinfo\">(function(){var s=", data,
      ";var p=window.parent;if(!p||p===window)return;"
      "try{if(typeof "
      "p.SAPWP_receiveSessInfo===\"function\"){p.SAPWP_receiveSessInfo(s);"
      "return;}}catch(e){}"
      "p.postMessage({type:\"SAPWP_SessInfo\",sessInfo:s},location.origin);})()"
      ";</script>");
}

namespace {

// A page built in place: text as it is, Esc{} HTML-escaped, numbers as
// decimals; no string of its own per piece (a page has dozens).
struct Esc {
  std::string_view text;
};
class Page {
 public:
  explicit Page(std::string* out) : out_(*out) {}
  Page& operator<<(std::string_view text) {
    out_.append(text);
    return *this;
  }
  Page& operator<<(const char* text) { return *this << std::string_view(text); }
  Page& operator<<(Esc e) {
    AppendHtmlEscaped(&out_, e.text);
    return *this;
  }
  Page& operator<<(int64_t n) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, end);
    return *this;
  }

 private:
  std::string& out_;
};

}  // namespace

std::string RenderScreen(const proto::Screen& screen,
                         const RenderContext& ctx) {
  const std::string action = HtmlEscape(StepUrl(ctx));
  std::string body;  // the whole page: the body is built in place
  body.reserve(3072);
  PageStart(&body, screen.title());
  Page p(&body);
  p << "<h1 id=\"its-title\">" << Esc{screen.title()} << "</h1>";
  p << "<div id=\"its-screen\" data-tcode=\"" << Esc{screen.tcode()}
    << "\" data-dynpro=\"" << int64_t{screen.dynpro()} << "\">"
    << Esc{screen.tcode()} << " / " << int64_t{screen.dynpro()} << "</div>";
  if (!screen.message().empty()) {
    p << "<div class=\"msg msg-" << Esc{screen.message_type()}
      << "\" id=\"its-message\">" << Esc{screen.message()} << "</div>";
  }
  // Enter in a field submits with the first button; /00 comes first.
  p << "<form method=\"post\" action=\"" << action << "\" id=\"its-form\">";
  for (const auto& f : screen.fields()) {
    const Esc name{f.name()};
    p << "<div class=\"row\"><label for=\"" << name << "\">" << Esc{f.label()}
      << "</label>";
    if (f.input()) {
      p << "<input id=\"" << name << "\" name=\"" << name << "\" value=\""
        << Esc{f.value()} << "\">";
    } else {
      p << "<output id=\"" << name << "\">" << Esc{f.value()} << "</output>";
    }
    p << "</div>";
  }
  if (screen.has_table()) {
    p << "<table id=\"its-table\"><tr>";
    for (const auto& c : screen.table().columns())
      p << "<th>" << Esc{c} << "</th>";
    p << "</tr>";
    for (const auto& r : screen.table().rows()) {
      p << "<tr>";
      for (const auto& c : r.cells()) p << "<td>" << Esc{c} << "</td>";
      p << "</tr>";
    }
    p << "</table>";
  }
  p << "<div class=\"row\">";
  bool has_enter = false;
  for (const auto& b : screen.buttons()) has_enter |= b.okcode() == "/00";
  if (!has_enter)
    p << "<button type=\"submit\" name=\"~okcode\" "
         "value=\"/00\">Enter</button> ";
  for (const auto& b : screen.buttons()) {
    if (b.okcode() != "/00") continue;
    p << "<button type=\"submit\" name=\"~okcode\" value=\"/00\">"
      << Esc{b.label()} << "</button> ";
  }
  for (const auto& b : screen.buttons()) {
    if (b.okcode() == "/00") continue;
    p << "<button type=\"submit\" name=\"~okcode\" value=\"" << Esc{b.okcode()}
      << "\">" << Esc{b.label()} << "</button> ";
  }
  p << "</div></form>";
  // The command field is a form of its own, so Enter there sends only the
  // command.
  p << "<form method=\"post\" action=\"" << action << "\" id=\"its-command\">"
    << "<label for=\"its-okcode\">Command</label><input id=\"its-okcode\" "
       "name=\"~okcode\" "
       "placeholder=\"/n&lt;TCODE&gt; or /nex\"> <button "
       "type=\"submit\">Execute</button> "
       "<button type=\"submit\" name=\"~okcode\" value=\"/nex\">Log "
       "Off</button></form>";
  p << "<footer>User " << Esc{ctx.user} << " &middot; AGate " << Esc{ctx.agate};
  if (!ctx.clock.empty()) {
    p << " &middot; <span id=\"its-clock\">Simulated time " << Esc{ctx.clock}
      << "</span>";
  }
  if (!ctx.trace.empty()) {  // 32 hex digits: nothing to escape
    p << " &middot; <a id=\"its-trace\" href=\"/trace/" << ctx.trace
      << "\">Trace of this request</a>";
  }
  p << "</footer>" << ctx.sisp;
  PageEnd(&body);
  return body;
}

}  // namespace its::agate
