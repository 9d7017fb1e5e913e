#include "clients/data_file.h"

#include <set>
#include <utility>

#include "absl/status/status.h"
#include "common/line_config.h"  // ReadFile
#include "common/strings.h"

namespace its::load {
namespace {

// Whether text[i] ends a line: LF, CRLF, or the end of the text (a CR just
// before it included).
bool AtLineEnd(std::string_view text, size_t i) {
  return i >= text.size() || text[i] == '\n' ||
         (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] == '\n'));
}

// Past the line end at text[i] (see AtLineEnd).
size_t SkipLineEnd(std::string_view text, size_t i) {
  if (i < text.size() && text[i] == '\r') ++i;
  if (i < text.size() && text[i] == '\n') ++i;
  return i;
}

}  // namespace

absl::StatusOr<DataFile> DataFile::Parse(std::string_view text,
                                         const std::string& file) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  DataFile d;
  d.file_ = file;
  int line = 1;
  auto error = [&](int at, std::string_view why) {
    return absl::InvalidArgumentError(Cat(file, ":", at, ": ", why));
  };
  bool header = true;
  std::vector<std::string> record;
  size_t i = 0;
  while (i < text.size()) {
    if (AtLineEnd(text, i)) {  // a blank line
      i = SkipLineEnd(text, i);
      ++line;
      continue;
    }
    const int record_line = line;
    record.clear();
    for (;;) {  // one value, then a comma or the line's end
      std::string value;
      // (i may be at the end: "a,b," ends in an empty value.)
      if (i < text.size() && text[i] == '"') {
        const int quote_line = line;
        ++i;
        for (;;) {
          if (i >= text.size())
            return error(quote_line, "quoted value without a closing quote");
          char c = text[i++];
          if (c == '"') {
            if (i < text.size() && text[i] == '"') {
              value.push_back('"');
              ++i;
              continue;
            }
            break;
          }
          if (c == '\n') ++line;
          value.push_back(c);
        }
        if (!AtLineEnd(text, i) && text[i] != ',') {
          return error(line,
                       "text after a closing quote (write \"\" for a quote)");
        }
      } else {
        size_t end = text.find_first_of(",\n\"", i);
        if (end == std::string_view::npos) end = text.size();
        if (end < text.size() && text[end] == '"') {
          return error(line,
                       "quote inside an unquoted value (quote the whole "
                       "value and write \"\" for a quote)");
        }
        size_t value_end = end;
        if (value_end > i && text[value_end - 1] == '\r' &&
            AtLineEnd(text, value_end - 1)) {
          --value_end;
        }
        value.assign(text.substr(i, value_end - i));
        i = end;
      }
      record.push_back(std::move(value));
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      i = SkipLineEnd(text, i);
      ++line;
      break;
    }
    if (header) {
      std::set<std::string_view> seen;
      for (const std::string& name : record) {
        if (name.empty())
          return error(record_line, "empty column name in the header");
        if (!seen.insert(name).second)
          return error(record_line, Cat("column \"", name, "\" twice"));
      }
      d.columns_ = std::move(record);
      record = {};
      header = false;
      continue;
    }
    if (record.size() != d.columns_.size()) {
      return error(record_line,
                   Cat(record.size(), " values where the header has ",
                       d.columns_.size(), " columns"));
    }
    for (std::string& v : record) d.cells_.push_back(std::move(v));
  }
  if (header) return error(1, "empty file: expected a header of column names");
  if (d.cells_.empty()) return error(line, "no data rows after the header");
  return d;
}

absl::StatusOr<DataFile> DataFile::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

int DataFile::Column(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

absl::StatusOr<Template> Template::Parse(std::string_view text,
                                         const DataFile* data) {
  Template t;
  t.source_ = std::string(text);
  size_t literal_begin = 0;  // of the literal piece being collected
  auto flush_literal = [&t, &literal_begin] {
    if (t.literals_.size() > literal_begin) {
      t.parts_.push_back(
          {-1, literal_begin, t.literals_.size() - literal_begin});
    }
    literal_begin = t.literals_.size();
  };
  size_t i = 0;
  while (i < text.size()) {
    size_t dollar = text.find('$', i);
    if (dollar == std::string_view::npos) {
      t.literals_.append(text.substr(i));
      break;
    }
    t.literals_.append(text.substr(i, dollar - i));
    std::string_view rest = text.substr(dollar);
    if (rest.starts_with("$${")) {
      t.literals_ += "${";
      i = dollar + 3;
      continue;
    }
    if (!rest.starts_with("${")) {
      t.literals_ += '$';
      i = dollar + 1;
      continue;
    }
    size_t close = text.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(
          "\"${\" without a closing \"}\" (write $${ for a literal ${)");
    }
    std::string_view name = text.substr(dollar + 2, close - dollar - 2);
    if (name.empty()) return absl::InvalidArgumentError("empty ${}");
    if (data == nullptr) {
      return absl::InvalidArgumentError(
          Cat("${", name, "} but the journey has no data file"));
    }
    int column = data->Column(name);
    if (column < 0) {
      return absl::InvalidArgumentError(
          Cat("${", name, "}: no column \"", name, "\" in ", data->file()));
    }
    flush_literal();
    t.parts_.push_back({column, 0, 0});
    i = close + 1;
  }
  if (!t.parts_.empty()) flush_literal();
  return t;
}

std::string_view Template::View(DataRow row, std::string* buf) const {
  if (literal()) return literals_;
  buf->clear();
  for (const Part& p : parts_) buf->append(Piece(p, row));
  return *buf;
}

std::string Template::Expand(DataRow row) const {
  std::string out;
  return std::string(View(row, &out));
}

bool Template::MatchesAt(std::string_view haystack, size_t pos, size_t i,
                         DataRow row) const {
  for (; i < parts_.size(); ++i) {
    std::string_view p = Piece(parts_[i], row);
    if (haystack.compare(pos, p.size(), p) != 0) return false;
    pos += p.size();
  }
  return true;
}

bool Template::FoundIn(std::string_view haystack, DataRow row) const {
  if (literal()) return haystack.find(literals_) != std::string_view::npos;
  // The first non-empty piece anchors the search; the rest must follow it.
  size_t k = 0;
  while (k < parts_.size() && Piece(parts_[k], row).empty()) ++k;
  if (k == parts_.size()) return true;
  std::string_view first = Piece(parts_[k], row);
  for (size_t pos = haystack.find(first); pos != std::string_view::npos;
       pos = haystack.find(first, pos + 1)) {
    if (MatchesAt(haystack, pos + first.size(), k + 1, row)) return true;
  }
  return false;
}

}  // namespace its::load
