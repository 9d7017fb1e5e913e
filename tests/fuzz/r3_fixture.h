#pragma once

// The R/3 stub's shipped data for the fuzz targets that run it in-process
// (r3_dialog_fuzz, session_fuzz).

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "common/line_config.h"
#include "common/profile.h"
#include "r3_stub/r3_data.h"
#include "r3_stub/timeouts.h"
#include "tests/fuzz/fuzz.h"

namespace its::fuzz {

inline const std::string kR3 =
    std::string(ITS_SOURCE_DIR) + "/deploy/config/r3";

inline std::string ReadOrDie(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    std::fprintf(stderr, "%s\n", text.status().ToString().c_str());
    std::abort();
  }
  return *text;
}

// Every quoted string of transactions.toml: the words the transactions
// react to.
inline std::vector<std::string> R3Words() {
  const std::string text = ReadOrDie(kR3 + "/transactions.toml");
  std::set<std::string> words = {"", "DEMO", "DEMO2", "LOAD00001", "welcome"};
  for (size_t q = text.find('"'); q != std::string::npos;) {
    size_t end = text.find('"', q + 1);
    if (end == std::string::npos) break;
    words.insert(text.substr(q + 1, end - q - 1));
    q = text.find('"', end + 1);
  }
  return {words.begin(), words.end()};
}

// What every input starts from, read once: the shipped master data, and
// small limits (4 users per instance, 2 sessions per user, a user locked
// after 3 wrong passwords, a 10-minute idle logout) that short inputs reach.
struct ShippedR3 {
  r3::MasterData data;
  Profile profile;
  r3::TimeoutSettings timeouts;
  std::vector<std::string> words = R3Words();

  static const ShippedR3& Get() {
    static const ShippedR3* const shipped = [] {
      auto data = r3::MasterData::Load(kR3);
      auto profile = Profile::Parse(
          "rdisp/tm_max_no = 4\nrdisp/max_alt_modes = 2\n"
          "login/fails_to_user_lock = 3\nrdisp/plugin_auto_logout = 600\n"
          "http/security_session_timeout = 900\n",
          "DEFAULT.PFL");
      FUZZ_CHECK(data.ok() && profile.ok());
      auto timeouts = r3::TimeoutSettings::Load(
          *profile, ReadOrDie(kR3 + "/sicf.toml"), "sicf.toml");
      FUZZ_CHECK(timeouts.ok());
      return new ShippedR3{std::move(*data), std::move(*profile),
                           std::move(*timeouts)};
    }();
    return *shipped;
  }
};

}  // namespace its::fuzz
