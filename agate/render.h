#pragma once

#include <string>

#include "proto/its.pb.h"

namespace its::agate {

struct RenderContext {
  std::string service;
  std::string gusid;        // for URL session handling (~cookies 0)
  bool session_in_url = false;
  std::string user;
  std::string agate;        // "IT1/0/1234": which process served the page
};

// HTML of one R/3 screen (the role of ITS HTML Business templates): the
// screen's fields in a form that posts the next dialog step, its buttons as
// OK codes, and a command field for /n<TCODE> and /nex.
std::string RenderScreen(const proto::Screen& screen, const RenderContext& ctx);

// The URL a page's forms post to ("/scripts/wgate/<service>/", plus the
// session when cookies are off).
std::string StepUrl(const RenderContext& ctx);

}  // namespace its::agate
