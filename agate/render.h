#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proto/its.pb.h"

namespace its::agate {

// What a page shows besides the screen. The views must outlive the
// RenderScreen call (they point into the session and the process).
struct RenderContext {
  std::string_view service;
  std::string gusid;  // for URL session handling (~cookies 0)
  bool session_in_url = false;
  std::string_view user;
  std::string_view agate;  // "IT1/0/1234": which process served the page
  std::string sisp;        // SessInfo script (SispScript), or empty
  std::string_view clock;  // simulated time and time scale (ClockText), or ""
  std::string trace;       // the request's trace-id (32 hex), or empty
};

// SessInfo of SISP (docs/sisp-and-dsm.md), handed to the portal page's DSM.
struct SessInfo {
  std::string gusid;  // the session's public ID (never its secret)
  std::string
      sess_url;  // where termination commands go (termination token only)
  std::string last_cmd;      // USR_OPEN, SRV_CLOSE, SRV_ERROR
  std::string redirect_url;  // with SRV_CLOSE: ~exitURL
  int64_t timeout_s = 0;     // dTimeout
  std::string label;
};

// <script> that builds the SessInfo object and gives it to the portal page:
// SAPWP_receiveSessInfo when the parent is same-origin, else postMessage to
// this page's own origin. Every value is JSON-encoded and safe inside <script>.
std::string SispScript(const SessInfo& info);

// HTML of one R/3 screen (the role of ITS HTML Business templates): the
// screen's fields in a form that posts the next dialog step, its buttons as
// OK codes, and a command field for /n<TCODE> and /nex.
std::string RenderScreen(const proto::Screen& screen, const RenderContext& ctx);

// The URL a page's forms post to ("/scripts/wgate/<service>/", plus the
// session when cookies are off).
std::string StepUrl(const RenderContext& ctx);

}  // namespace its::agate
