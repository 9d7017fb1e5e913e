// The TOML configuration files, as an administrator could break them: the
// same text read as cluster.toml, as a load scenario, as the R/3 stub's
// users.toml and transactions.toml (each beside the shipped other one) and
// as its sicf.toml, and as the launcher's link-delays.toml. Property: every
// reader accepts the text or refuses it with an error that names the file and
// line (config_fuzz.h) — no crash, no hang, no error without a place.
#include <string>

#include "clients/scenario.h"
#include "common/cluster_config.h"
#include "common/line_config.h"
#include "common/link_delays.h"
#include "common/profile.h"
#include "r3_stub/r3_data.h"
#include "r3_stub/timeouts.h"
#include "tests/fuzz/config_fuzz.h"

namespace {

const std::string kConfig = std::string(ITS_SOURCE_DIR) + "/deploy/config";

std::string Shipped(const std::string& name) {
  auto text = its::ReadFile(kConfig + "/r3/" + name);
  if (!text.ok()) {
    std::fprintf(stderr, "%s\n", text.status().ToString().c_str());
    std::abort();
  }
  return *text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace its;
  static const std::string users = Shipped("users.toml");
  static const std::string transactions = Shipped("transactions.toml");
  const std::string text(reinterpret_cast<const char*>(data), size);

  // The configuration directory is the shipped one: what cluster.toml names
  // there (services, r3/) exists.
  const std::string cluster_file = kConfig + "/cluster.toml";
  fuzz::CheckNamesAFile(
      ClusterConfig::Parse(text, kConfig, cluster_file).status(),
      {cluster_file, kConfig + "/"});

  // Beside the shipped scenarios: `data = "ess-people.csv"` finds its file.
  // (Not with a path into /dev, /proc or /sys: reading /dev/zero as a data
  // file never ends, which is the scenario's doing, not a finding.)
  const std::string scenario_dir =
      std::string(ITS_SOURCE_DIR) + "/deploy/scenarios/";
  const std::string scenario_file = scenario_dir + "fuzz.toml";
  if (text.find("dev/") == std::string::npos &&
      text.find("proc/") == std::string::npos &&
      text.find("sys/") == std::string::npos) {
    fuzz::CheckNamesAFile(load::Scenario::Parse(text, scenario_file).status(),
                          {scenario_file, scenario_dir});
  }

  fuzz::CheckNamesAFile(r3::MasterData::Parse(text, "users.toml", transactions,
                                              "transactions.toml")
                            .status(),
                        {"users.toml", "transactions.toml"});
  fuzz::CheckNamesAFile(
      r3::MasterData::Parse(users, "users.toml", text, "transactions.toml")
          .status(),
      {"users.toml", "transactions.toml"});

  auto profile = Profile::Parse("", "DEFAULT.PFL");
  FUZZ_CHECK(profile.ok());
  fuzz::CheckNamesAFile(
      r3::TimeoutSettings::Load(*profile, text, "sicf.toml").status(),
      {"sicf.toml"});
  fuzz::CheckNamesAFile(ParseLinkDelays(text, "link-delays.toml").status(),
                        {"link-delays.toml"});
  return 0;
}
