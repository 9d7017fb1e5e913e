// The line-oriented files: the same text read as an SAP instance profile
// (DEFAULT.PFL, and the R/3 stub's limits from it), as an ITS service file
// (`~name value`) and as a load scenario's CSV data file with a template
// over its columns. Property: each accepts the text or names the file and
// line in its error (config_fuzz.h); what the CSV reader accepts is
// rectangular and a template expands for every row.
#include <string>

#include "clients/data_file.h"
#include "common/params.h"
#include "common/profile.h"
#include "common/service_file.h"
#include "r3_stub/timeouts.h"
#include "tests/fuzz/config_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace its;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto profile = Profile::Parse(text, "DEFAULT.PFL");
  fuzz::CheckNamesAFile(profile.status(), {"DEFAULT.PFL"});
  if (profile.ok()) {
    fuzz::CheckNamesAFile(
        r3::TimeoutSettings::Load(*profile, "", "sicf.toml").status(),
        {"DEFAULT.PFL", "sicf.toml"});
  }

  auto service = ParseServiceFile(text, "fuzz.srvc");
  fuzz::CheckNamesAFile(service.status(), {"fuzz.srvc"});
  if (service.ok()) {
    for (const auto& [name, value] : service->entries())
      FUZZ_CHECK(Params::NormalizeName(name) == name);
  }

  auto csv = load::DataFile::Parse(text, "fuzz.csv");
  fuzz::CheckNamesAFile(csv.status(), {"fuzz.csv"});
  if (csv.ok()) {
    FUZZ_CHECK(!csv->columns().empty() && csv->rows() > 0);
    // A template over every column a scenario can name (a name with "}"
    // cannot be written as a placeholder): each row fills every one, and
    // the expansion is found where it stands.
    std::string tmpl = "[";
    size_t named = 0;
    for (const std::string& c : csv->columns()) {
      if (c.find('}') != std::string::npos) continue;
      tmpl += "${" + c + "}|";
      ++named;
    }
    auto t = load::Template::Parse(tmpl, &*csv);
    FUZZ_CHECK_SAW(t.ok(), t.status().ToString());
    std::string buf;
    for (size_t i = 0; i < csv->rows(); ++i) {
      const std::string_view out = t->View(csv->row(i), &buf);
      FUZZ_CHECK(out.size() >= 1 + named && out.starts_with("["));
      FUZZ_CHECK(t->FoundIn(out, csv->row(i)));
      FUZZ_CHECK(t->Expand(csv->row(i)) == out);
    }
  }
  // The same text as a template over the data file (placeholders or not).
  auto t = load::Template::Parse(text, csv.ok() ? &*csv : nullptr);
  if (t.ok() && csv.ok()) {
    std::string buf;
    const std::string_view out = t->View(csv->row(0), &buf);
    FUZZ_CHECK(t->FoundIn(out, csv->row(0)));
  }
  return 0;
}
