#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "clients/data_file.h"
#include "clients/scenario.h"

namespace its::load {

// What went wrong with the page a step got, as an error kind for the
// report ("" if nothing did). ITS error pages are recognised by kind: R/3's
// lock conflicts, ended sessions, the logon page where a screen was due, no
// free capacity, other R/3 error messages; then the step's own checks
// (expect_status, expect_screen, expect_field, expect_text, reject_text),
// with `row` the journey's data; and a page that shows another user than
// `user` is always an error. Kinds name the check as the scenario wrote it,
// never the data, so they stay few. Pure: unit-tested. No allocation unless
// a check fails.
std::string CheckPage(const StepDef& step, int status, std::string_view body,
                      std::string_view user, DataRow row = {});

// What marks the screen `screen` on a page: "TCODE/NUMBER" (transaction and
// screen number, "PA30/2000") or "NUMBER" alone. The error is a phrase.
absl::StatusOr<std::string> ScreenMarker(std::string_view screen);

// An expect_field check of field `name` (any case; pages name fields in
// upper case): its value shown in an input or an output field.
FieldCheck MakeFieldCheck(std::string_view name, Template value);

}  // namespace its::load
