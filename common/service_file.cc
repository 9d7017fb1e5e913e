#include "common/service_file.h"

#include <filesystem>

#include "absl/status/status.h"
#include "common/its_protocol.h"
#include "common/line_config.h"
#include "common/strings.h"
#include "common/transaction_call.h"

namespace its {
namespace {

// Parameters whose value must be a non-negative whole number.
constexpr std::string_view kNumeric[] = {"~timeout", "~usertimeout", "~cookies",
                                         "~servicerestart"};

}  // namespace

bool IsValidServiceName(std::string_view name) {
  if (name.empty() || name.size() > kMaxServiceName) return false;
  for (char c : name) {
    if (!IsAlnum(c) && c != '_') return false;
  }
  return true;
}

absl::StatusOr<Params> ParseServiceFile(std::string_view content,
                                        std::string_view filename) {
  auto lines = ReadConfigLines(content, filename, ConfigSeparator::kWhitespace);
  if (!lines.ok()) return lines.status();
  Params out;
  for (const auto& [line, name, value] : *lines) {
    if (name.size() < 2 || name[0] != '~') {
      return ConfigLineError(
          filename, line, "",
          Cat("expected '~parameter value', got '", name, "'"));
    }
    std::string key = Params::NormalizeName(name);
    for (std::string_view numeric : kNumeric) {
      int64_t v;
      if (key == numeric && (!ParseInt(value, &v) || v < 0)) {
        return ConfigLineError(
            filename, line, name,
            Cat("expected a whole number >= 0, got '", value, "'"));
      }
    }
    // What a start would refuse at run time is refused here, by line.
    if (key == "~transaction") {
      if (auto call = ParseTransactionCall(value); !call.ok()) {
        return ConfigLineError(filename, line, name,
                               std::string(call.status().message()));
      }
    } else if (key == "~agate_routing") {
      if (auto routing = ParseAgateRouting(value); !routing.ok()) {
        return ConfigLineError(filename, line, name,
                               std::string(routing.status().message()));
      }
    }
    out.Set(key, std::string(value));
  }
  return out;
}

absl::StatusOr<ServiceCatalog> ServiceCatalog::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(Cat(dir, ": not a directory of service files"));
  }
  Params global;
  std::map<std::string, Params> own;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".srvc") continue;
    std::string path = entry.path().string();
    auto content = ReadFile(path);
    if (!content.ok()) return content.status();
    auto params = ParseServiceFile(*content, path);
    if (!params.ok()) return params.status();
    std::string name = ToLower(entry.path().stem().string());
    if (name == "global") {
      global = std::move(*params);
    } else if (!IsValidServiceName(name)) {
      return absl::InvalidArgumentError(
          Cat(path, ": service name must be 1-14 letters, digits or '_'"));
    } else {
      own[name] = std::move(*params);
    }
  }
  ServiceCatalog catalog;
  for (auto& [name, params] : own) {
    Params merged = global;
    merged.MergeFrom(params);
    catalog.services_[name] = std::move(merged);
  }
  return catalog;
}

const Params* ServiceCatalog::Find(std::string_view service) const {
  auto it = services_.find(ToLower(service));
  return it == services_.end() ? nullptr : &it->second;
}

}  // namespace its
