#include "clients/wgate_processes.h"

#include <set>
#include <utility>

#include "absl/status/status.h"
#include "common/http_client.h"
#include "common/strings.h"

namespace its::load {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// Parses the label set after its '{' up to and including the '}':
// name="value" pairs separated by commas (a trailing comma allowed), spaces
// between tokens. Returns the position after '}', or npos if malformed.
size_t ParseLabels(std::string_view s, size_t pos,
                   std::vector<std::pair<std::string, std::string>>* labels) {
  auto skip = [&] {
    while (pos < s.size() && IsSpace(s[pos])) ++pos;
  };
  for (;;) {
    skip();
    if (pos >= s.size()) return std::string_view::npos;
    if (s[pos] == '}') return pos + 1;
    size_t start = pos;
    while (pos < s.size() && (IsAlnum(s[pos]) || s[pos] == '_')) ++pos;
    if (pos == start) return std::string_view::npos;
    std::string name(s.substr(start, pos - start));
    skip();
    if (pos >= s.size() || s[pos] != '=') return std::string_view::npos;
    ++pos;
    skip();
    if (pos >= s.size() || s[pos] != '"') return std::string_view::npos;
    ++pos;
    std::string value;
    for (;;) {
      if (pos >= s.size()) return std::string_view::npos;  // unterminated
      char c = s[pos++];
      if (c == '"') break;
      if (c == '\\') {
        if (pos >= s.size()) return std::string_view::npos;
        char e = s[pos++];
        value.push_back(e == 'n' ? '\n' : e);  // \\ and \" stand for themselves
      } else {
        value.push_back(c);
      }
    }
    labels->emplace_back(std::move(name), std::move(value));
    skip();
    if (pos < s.size() && s[pos] == ',')
      ++pos;
    else if (pos >= s.size() || s[pos] != '}')
      return std::string_view::npos;
  }
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseAgateProcesses(
    std::string_view text) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    size_t name_end = 0;
    while (name_end < line.size() && line[name_end] != '{' &&
           !IsSpace(line[name_end]))
      ++name_end;
    std::string_view name = line.substr(0, name_end);
    if (name != "its_agate_sessions" && name != "its_agate_weight") continue;
    std::vector<std::pair<std::string, std::string>> labels;
    if (name_end >= line.size() || line[name_end] != '{' ||
        ParseLabels(line, name_end + 1, &labels) == std::string_view::npos) {
      return absl::InvalidArgumentError(
          Cat("metrics line ", line_no, ": cannot read the labels of ", name));
    }
    const std::string* instance = nullptr;
    int process = -1, pid = -1;
    bool numbers_ok = true;
    for (const auto& [key, value] : labels) {
      if (key == "instance") instance = &value;
      if (key == "process") numbers_ok &= ParseInt(value, &process);
      if (key == "pid") numbers_ok &= ParseInt(value, &pid);
    }
    if (instance == nullptr || process < 0 || pid < 0 || !numbers_ok) {
      return absl::InvalidArgumentError(
          Cat("metrics line ", line_no, ": ", name,
              " needs the labels instance, process and pid (numbers); a "
              "wgate from before the pid label?"));
    }
    std::string key = Cat(*instance, "/", process, "/", pid);
    if (seen.insert(key).second) out.push_back(std::move(key));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> FetchAgateProcesses(
    const std::string& host, int port, int timeout_ms) {
  std::string address = Cat(host, ":", port);
  auto r = HttpGet(address, "/metrics", timeout_ms);
  if (!r.ok()) {
    return absl::Status(
        r.status().code(),
        Cat("wgate ", address, " /metrics: ", r.status().message()));
  }
  if (r->status != 200) {
    return absl::UnavailableError(
        Cat("wgate ", address, " /metrics: HTTP ", r->status));
  }
  auto processes = ParseAgateProcesses(r->body);
  if (!processes.ok()) {
    return absl::Status(
        processes.status().code(),
        Cat("wgate ", address, " /metrics: ", processes.status().message()));
  }
  return processes;
}

}  // namespace its::load
