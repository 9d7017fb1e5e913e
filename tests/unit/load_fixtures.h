#pragma once

// Scenarios built in code for itsload's unit tests.

#include "clients/scenario.h"

namespace its::load::testing {

inline StepDef Step(const char* name) {
  StepDef s;
  s.name = name;
  return s;
}

// Journey "a" (steps x, y, x: two slots for three steps; ends with a
// logoff) and journey "b" (step x; abandons).
inline Scenario TwoJourneys() {
  Scenario s;
  JourneyDef a;
  a.name = "a";
  a.steps = {Step("x"), Step("y"), Step("x")};
  JourneyDef b;
  b.name = "b";
  b.end = JourneyDef::kAbandon;
  b.steps = {Step("x")};
  s.journeys = {a, b};
  return s;
}

}  // namespace its::load::testing
