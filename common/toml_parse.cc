#include "common/toml_parse.h"

#include <map>
#include <vector>

#include "common/strings.h"

namespace its {
namespace {

bool IsBareKeyChar(char c) { return IsAlnum(c) || c == '_' || c == '-'; }

// Where a value's text leaves the reader: inside brackets or braces, or
// inside a multi-line string. Lines are fed in order; Feed() reads one.
class ValueScanner {
 public:
  bool open() const { return depth_ > 0 || !multiline_.empty(); }

  void Feed(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      if (!multiline_.empty()) {
        size_t end = s.find(multiline_, i);
        if (end == std::string_view::npos) return;
        i = end + 3;
        multiline_.clear();
        continue;
      }
      char c = s[i];
      if (c == '#') return;  // a comment to the end of the line
      if (c == '"' || c == '\'') {
        if (s.substr(i, 3) == std::string(3, c)) {
          multiline_ = std::string(3, c);
          i += 3;
          continue;
        }
        // A one-line string: to its closing quote (escapes in "..." only).
        ++i;
        while (i < s.size() && s[i] != c)
          i += (c == '"' && s[i] == '\\') ? 2 : 1;
        ++i;
        continue;
      }
      if (c == '[' || c == '{') ++depth_;
      if ((c == ']' || c == '}') && depth_ > 0) --depth_;
      ++i;
    }
  }

 private:
  int depth_ = 0;
  std::string multiline_;  // the closing delimiter while inside one
};

// The key at the start of `t` (stripped): bare or quoted parts joined by
// dots, as written; "" if `t` does not begin with one.
std::string LeadingKey(std::string_view t, size_t* end) {
  std::string key;
  size_t i = 0;
  for (;;) {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
    size_t start = i;
    if (i < t.size() && (t[i] == '"' || t[i] == '\'')) {
      char q = t[i];
      size_t close = t.find(q, i + 1);
      if (close == std::string_view::npos) break;
      i = close + 1;
    } else {
      while (i < t.size() && IsBareKeyChar(t[i])) ++i;
    }
    if (i == start) break;
    key += t.substr(start, i - start);
    size_t j = i;
    while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
    if (j < t.size() && t[j] == '.') {
      key += '.';
      i = j + 1;
      continue;
    }
    i = j;
    break;
  }
  if (!key.empty() && key.back() == '.') key.pop_back();
  *end = i;
  return key;
}

}  // namespace

std::string TomlKeyAt(std::string_view content, int line) {
  std::vector<std::string_view> lines = Split(content, '\n');
  if (line < 1 || line > static_cast<int>(lines.size())) return "";
  std::string table;                // "wgate.", "agate_instance[1].", ""
  std::map<std::string, int> seen;  // [[name]] headers so far
  std::string key;                  // the setting whose value is open
  ValueScanner value;
  for (int n = 1; n <= line; ++n) {
    std::string_view text = lines[n - 1];
    if (value.open()) {  // a continuation line of `key`'s value
      if (n == line) return table + key;
      value.Feed(text);
      continue;
    }
    std::string_view t = Trim(text);
    key.clear();
    if (t.empty() || t[0] == '#') {
      if (n == line) return "";
      continue;
    }
    if (t[0] == '[') {  // a table header
      if (n == line) return "";
      bool array = t.size() > 1 && t[1] == '[';
      size_t end;
      std::string name = LeadingKey(t.substr(array ? 2 : 1), &end);
      table = name.empty() ? "" : name + ".";
      if (array && !name.empty()) table = Cat(name, "[", seen[name]++, "].");
      continue;
    }
    size_t end;
    key = LeadingKey(t, &end);
    if (n == line) return key.empty() ? "" : table + key;
    size_t eq = t.find('=', end);
    if (eq != std::string_view::npos) value.Feed(t.substr(eq + 1));
  }
  return "";
}

absl::StatusOr<toml::table> ParseToml(std::string_view content,
                                      const std::string& file) {
  try {
    return toml::parse(content, file);
  } catch (const toml::parse_error& e) {
    int line = static_cast<int>(e.source().begin.line);
    std::string key = TomlKeyAt(content, line);
    return absl::InvalidArgumentError(Cat(
        file, ":", line, ": ", key.empty() ? "" : key + ": ", e.description()));
  }
}

}  // namespace its
