#pragma once

#include <string>
#include <string_view>

#include "clients/scenario.h"

namespace its::load {

// What went wrong with the page a step got, as an error kind for the
// report ("" if nothing did). ITS error pages are recognised by kind: R/3's
// lock conflicts, ended sessions, the logon page where a screen was due, no
// free capacity, other R/3 error messages; then the step's own checks
// (expect_status, expect_text, reject_text); and a page that shows another
// user than `user` is always an error. Pure: unit-tested.
std::string CheckPage(const StepDef& step, int status, std::string_view body,
                      std::string_view user);

}  // namespace its::load
