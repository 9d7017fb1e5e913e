#pragma once

// Test data for itsload journeys: a CSV file of rows (DataFile), and the
// scenario texts that take a row's values through ${column} placeholders
// (Template). Both are pure and unit-tested; the scenario loader builds them
// once, so a request pays for no parsing.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace its::load {

// One row of a DataFile: its values in column order. Empty for a journey
// without data.
using DataRow = std::span<const std::string>;

// A CSV file: a header line of column names, then data rows with as many
// values each. Quoting as in RFC 4180: a value in double quotes may hold
// commas, line breaks and "" for a quote. Lines end in LF or CRLF; a UTF-8
// byte order mark is skipped; blank lines are skipped (write "" for an empty
// value in a one-column file). Refused, with file:line: an empty file, no
// data rows, a row with more or fewer values than the header, empty or
// repeated column names, stray or unterminated quotes.
class DataFile {
 public:
  static absl::StatusOr<DataFile> Parse(std::string_view text,
                                        const std::string& file);
  static absl::StatusOr<DataFile> Load(const std::string& path);

  const std::string& file() const { return file_; }
  const std::vector<std::string>& columns() const { return columns_; }
  // The index of the column `name`, or -1.
  int Column(std::string_view name) const;
  size_t rows() const { return columns_.empty() ? 0 : cells_.size() / width(); }
  DataRow row(size_t i) const {
    return DataRow(cells_.data() + i * width(), width());
  }

 private:
  size_t width() const { return columns_.size(); }

  std::string file_;
  std::vector<std::string> columns_;
  std::vector<std::string> cells_;  // row after row
};

// A scenario text with ${column} placeholders, split when the scenario is
// loaded into literal pieces and column indexes. "$${" stands for a literal
// "${"; any other '$' is itself. A text without placeholders is literal: it
// costs what a plain string does.
class Template {
 public:
  Template() = default;
  // A literal text, taken as it is.
  explicit Template(std::string text)
      : source_(text), literals_(std::move(text)) {}

  // Splits `text`. The error (a phrase, without file or key) names an
  // unclosed "${", an empty name, a column `data` does not have, or any
  // placeholder if `data` is nullptr.
  static absl::StatusOr<Template> Parse(std::string_view text,
                                        const DataFile* data);

  // The text as the scenario wrote it: for error kinds, which must not vary
  // with the data.
  const std::string& source() const { return source_; }
  bool literal() const { return parts_.empty(); }
  bool empty() const { return literal() && literals_.empty(); }

  // The text for `row`: the literal text itself, or the expansion written to
  // *buf.
  std::string_view View(DataRow row, std::string* buf) const;
  std::string Expand(DataRow row) const;
  // Whether `haystack` contains the text for `row`. No allocation.
  bool FoundIn(std::string_view haystack, DataRow row) const;
  // Calls `fn(std::string_view)` for the pieces of the text for `row`, in
  // order, while it returns true; returns false if it stopped early.
  template <typename Fn>
  bool ForEachPiece(DataRow row, Fn fn) const {
    if (literal()) return fn(std::string_view(literals_));
    for (const Part& p : parts_) {
      if (!fn(Piece(p, row))) return false;
    }
    return true;
  }

 private:
  // A column's value, or literals_[begin, begin + size).
  struct Part {
    int column = -1;
    size_t begin = 0, size = 0;
  };
  std::string_view Piece(const Part& p, DataRow row) const {
    return p.column >= 0 ? std::string_view(row[p.column])
                         : std::string_view(literals_).substr(p.begin, p.size);
  }
  // Whether the pieces from `i` on follow each other at haystack[pos...].
  bool MatchesAt(std::string_view haystack, size_t pos, size_t i,
                 DataRow row) const;

  std::string source_;
  std::string literals_;     // the literal pieces, "$${" resolved
  std::vector<Part> parts_;  // empty: literal, the text is literals_
};

}  // namespace its::load
