#include "common/toml_parse.h"

#include <map>
#include <set>
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
      if (!multiline_.empty()) {  // to its closing delimiter
        if (multiline_[0] == '"' && s[i] == '\\') {
          i += 2;  // an escape: \" does not close it
          continue;
        }
        if (s.substr(i, 3) == multiline_) {
          i += 3;
          multiline_.clear();
          continue;
        }
        ++i;
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

// The key at the start of `t`: its dotted parts, quotes taken off as the
// configuration errors name keys ("a".b -> a, b); none if `t` does not begin
// with one. `*end`: where the key ends.
std::vector<std::string> LeadingKey(std::string_view t, size_t* end) {
  std::vector<std::string> parts;
  size_t i = 0;
  for (;;) {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
    std::string part;
    if (i < t.size() && (t[i] == '"' || t[i] == '\'')) {
      const char q = t[i++];
      while (i < t.size() && t[i] != q) {
        if (q == '"' && t[i] == '\\' && i + 1 < t.size()) ++i;
        part += t[i++];
      }
      if (i >= t.size()) break;  // unterminated
      ++i;
    } else {
      size_t start = i;
      while (i < t.size() && IsBareKeyChar(t[i])) ++i;
      if (i == start) break;
      part = std::string(t.substr(start, i - start));
    }
    parts.push_back(std::move(part));
    size_t j = i;
    while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
    if (j < t.size() && t[j] == '.') {
      i = j + 1;
      continue;
    }
    i = j;
    break;
  }
  *end = i;
  return parts;
}

std::string Dotted(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) Append(&out, out.empty() ? "" : ".", p);
  return out;
}

}  // namespace

std::string TomlKeyAt(std::string_view content, int line) {
  std::vector<std::string_view> lines = Split(content, '\n');
  if (line < 1 || line > static_cast<int>(lines.size())) return "";
  // The current table as the errors name it: "wgate.",
  // "transaction[1].screen[0].", "".
  std::string table;
  // Arrays of tables by their dotted name ("transaction.screen"), and how
  // many elements each array has so far, by its resolved name
  // ("transaction[1].screen"): an element of a parent starts its own count.
  std::set<std::string> arrays;
  std::map<std::string, int> elements;
  std::string key;  // the setting whose value is open
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
      const bool array = t.size() > 1 && t[1] == '[';
      size_t end;
      std::vector<std::string> parts =
          LeadingKey(t.substr(array ? 2 : 1), &end);
      std::string raw, resolved;
      for (size_t k = 0; k < parts.size(); ++k) {
        Append(&raw, k == 0 ? "" : ".", parts[k]);
        Append(&resolved, k == 0 ? "" : ".", parts[k]);
        if (k + 1 < parts.size()) {  // a parent: its current element
          if (arrays.count(raw) && elements[resolved] > 0)
            Append(&resolved, "[", elements[resolved] - 1, "]");
        } else if (array) {
          arrays.insert(raw);
          Append(&resolved, "[", elements[resolved]++, "]");
        }
      }
      table = resolved.empty() ? "" : resolved + ".";
      continue;
    }
    size_t end;
    key = Dotted(LeadingKey(t, &end));
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
