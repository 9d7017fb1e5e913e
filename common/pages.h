#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/params.h"

namespace its {

// The one place that builds HTML shells; every value is HTML-escaped here or
// by the caller's use of HtmlEscape.
// `body_html` must already be safe HTML.
// The page around a body built in place: PageStart(&out, title), append the
// body, PageEnd(&out). HtmlPage(title, body) is the same in one call.
void PageStart(std::string* out, std::string_view title,
               std::string_view head_extra = "");
void PageEnd(std::string* out);
std::string HtmlPage(std::string_view title, std::string_view body_html,
                     std::string_view head_extra = "");

// Logon page of service `service`: a form that posts name and password (never
// put into a URL) back to the service's start URL. `carry` are the URL
// parameters to keep (passwords are never carried); `error` is shown in red.
std::string LogonPage(std::string_view service, const Params& carry,
                      std::string_view error, std::string_view client = "",
                      std::string_view language = "");

// Page for a request that cannot be served ("Session timed out - please log
// in again", ...). `status_line` like "400 Session timed out".
// `extra_html` (already safe) goes at the end of the body, e.g. a SISP script.
std::string MessagePage(std::string_view title, std::string_view message,
                        std::string_view link_href = "",
                        std::string_view link_text = "",
                        std::string_view extra_html = "");

}  // namespace its
