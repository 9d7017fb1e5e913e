#include "agate/render.h"

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

std::string RenderScreen(const proto::Screen& screen,
                         const RenderContext& ctx) {
  const std::string action = HtmlEscape(StepUrl(ctx));
  std::string body;  // the whole page: the body is built in place
  body.reserve(3072);
  PageStart(&body, screen.title());
  body += Cat("<h1 id=\"its-title\">", HtmlEscape(screen.title()), "</h1>");
  body +=
      Cat("<div id=\"its-screen\" data-tcode=\"", HtmlEscape(screen.tcode()),
          "\" data-dynpro=\"", screen.dynpro(), "\">",
          HtmlEscape(screen.tcode()), " / ", screen.dynpro(), "</div>");
  if (!screen.message().empty()) {
    body +=
        Cat("<div class=\"msg msg-", HtmlEscape(screen.message_type()),
            "\" id=\"its-message\">", HtmlEscape(screen.message()), "</div>");
  }
  // Enter in a field submits with the first button; /00 comes first.
  body += Cat("<form method=\"post\" action=\"", action, "\" id=\"its-form\">");
  for (const auto& f : screen.fields()) {
    std::string name = HtmlEscape(f.name());
    body += Cat("<div class=\"row\"><label for=\"", name, "\">",
                HtmlEscape(f.label()), "</label>");
    if (f.input()) {
      body += Cat("<input id=\"", name, "\" name=\"", name, "\" value=\"",
                  HtmlEscape(f.value()), "\">");
    } else {
      body +=
          Cat("<output id=\"", name, "\">", HtmlEscape(f.value()), "</output>");
    }
    body += "</div>";
  }
  if (screen.has_table()) {
    body += "<table id=\"its-table\"><tr>";
    for (const auto& c : screen.table().columns())
      body += Cat("<th>", HtmlEscape(c), "</th>");
    body += "</tr>";
    for (const auto& r : screen.table().rows()) {
      body += "<tr>";
      for (const auto& c : r.cells())
        body += Cat("<td>", HtmlEscape(c), "</td>");
      body += "</tr>";
    }
    body += "</table>";
  }
  body += "<div class=\"row\">";
  bool has_enter = false;
  for (const auto& b : screen.buttons()) has_enter |= b.okcode() == "/00";
  if (!has_enter)
    body +=
        "<button type=\"submit\" name=\"~okcode\" "
        "value=\"/00\">Enter</button> ";
  for (const auto& b : screen.buttons()) {
    if (b.okcode() != "/00") continue;
    body += Cat("<button type=\"submit\" name=\"~okcode\" value=\"/00\">",
                HtmlEscape(b.label()), "</button> ");
  }
  for (const auto& b : screen.buttons()) {
    if (b.okcode() == "/00") continue;
    body +=
        Cat("<button type=\"submit\" name=\"~okcode\" value=\"",
            HtmlEscape(b.okcode()), "\">", HtmlEscape(b.label()), "</button> ");
  }
  body += "</div></form>";
  // The command field is a form of its own, so Enter there sends only the
  // command.
  body +=
      Cat("<form method=\"post\" action=\"", action, "\" id=\"its-command\">",
          "<label for=\"its-okcode\">Command</label><input id=\"its-okcode\" "
          "name=\"~okcode\" "
          "placeholder=\"/n&lt;TCODE&gt; or /nex\"> <button "
          "type=\"submit\">Execute</button> "
          "<button type=\"submit\" name=\"~okcode\" value=\"/nex\">Log "
          "Off</button></form>");
  body += Cat("<footer>User ", HtmlEscape(ctx.user), " &middot; AGate ",
              HtmlEscape(ctx.agate));
  if (!ctx.clock.empty()) {
    body += Cat(" &middot; <span id=\"its-clock\">Simulated time ",
                HtmlEscape(ctx.clock), "</span>");
  }
  if (!ctx.trace.empty()) {  // 32 hex digits: nothing to escape
    body += Cat(" &middot; <a id=\"its-trace\" href=\"/trace/", ctx.trace,
                "\">Trace of this request</a>");
  }
  body += "</footer>";
  body += ctx.sisp;
  PageEnd(&body);
  return body;
}

}  // namespace its::agate
