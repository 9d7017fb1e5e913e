#include "common/pages.h"

#include "common/its_protocol.h"
#include "common/strings.h"

namespace its {
namespace {

constexpr std::string_view kStyle =
    "<style>body{font-family:Arial,Helvetica,sans-serif;background:#f2f4f6;"
    "margin:0}"
    "header{background:#1f3b57;color:#fff;padding:6px 12px;font-size:14px}"
    "main{padding:12px 16px}h1{font-size:18px;color:#1f3b57}"
    "label{display:inline-block;min-width:180px}.row{margin:4px 0}"
    ".msg{padding:4px 8px;margin:8px 0;border-left:4px solid}"
    ".msg-E{border-color:#c00;color:#900}.msg-S{border-color:#2a2;color:#060}"
    ".msg-W,.msg-I{border-color:#c90}table{border-collapse:collapse}"
    "td,th{border:1px solid #bbb;padding:2px 6px;font-size:13px}"
    "footer{color:#666;font-size:11px;padding:8px 16px}</style>";

}  // namespace

void PageStart(std::string* out, std::string_view title,
               std::string_view head_extra) {
  out->append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
  out->append(HtmlEscape(title));
  out->append("</title>");
  out->append(kStyle);
  out->append(head_extra);
  out->append(
      "</head><body><header>SAP Internet Transaction Server "
      "(simulator)</header><main>");
}

void PageEnd(std::string* out) { out->append("</main></body></html>\n"); }

std::string HtmlPage(std::string_view title, std::string_view body_html,
                     std::string_view head_extra) {
  std::string out;
  out.reserve(body_html.size() + kStyle.size() + 256);
  PageStart(&out, title, head_extra);
  out += body_html;
  PageEnd(&out);
  return out;
}

std::string LogonPage(std::string_view service, const Params& carry,
                      std::string_view error, std::string_view client,
                      std::string_view language) {
  std::string body = Cat("<h1>Log On to ", HtmlEscape(service), "</h1>");
  if (!error.empty())
    body += Cat("<div class=\"msg msg-E\" id=\"its-message\">",
                HtmlEscape(error), "</div>");
  body += Cat("<form method=\"post\" action=\"",
              HtmlEscape(ServiceUrl(service)), "!\" autocomplete=\"off\">");
  for (const auto& [name, value] : carry.entries()) {
    if (name == "~login" || IsSecretParam(name) || name == "~client" ||
        name == "~language") {
      continue;
    }
    body += Cat("<input type=\"hidden\" name=\"", HtmlEscape(name),
                "\" value=\"", HtmlEscape(value), "\">");
  }
  body +=
      Cat("<div class=\"row\"><label for=\"c\">Client</label><input id=\"c\" "
          "name=\"~client\" value=\"",
          HtmlEscape(client), "\"></div>",
          "<div class=\"row\"><label for=\"u\">User</label><input id=\"u\" "
          "name=\"~login\"></div>",
          "<div class=\"row\"><label for=\"p\">Password</label>"
          "<input id=\"p\" type=\"password\" name=\"~password\"></div>",
          "<div class=\"row\"><label for=\"l\">Language</label><input id=\"l\" "
          "name=\"~language\" value=\"",
          HtmlEscape(language), "\"></div>",
          "<div class=\"row\"><button type=\"submit\">Log "
          "On</button></div></form>");
  return HtmlPage(Cat("Log On - ", service), body);
}

std::string MessagePage(std::string_view title, std::string_view message,
                        std::string_view link_href, std::string_view link_text,
                        std::string_view extra_html) {
  std::string body =
      Cat("<h1>", HtmlEscape(title), "</h1><p id=\"its-message\">",
          HtmlEscape(message), "</p>");
  if (!link_href.empty()) {
    body += Cat("<p><a href=\"", HtmlEscape(link_href), "\">",
                HtmlEscape(link_text), "</a></p>");
  }
  body += extra_html;
  return HtmlPage(title, body);
}

}  // namespace its
