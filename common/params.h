#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/byte_block.h"

namespace its {

// Decodes application/x-www-form-urlencoded text ('+' is a space). Fails on a
// '%' not followed by two hex digits.
absl::StatusOr<std::string> UrlDecode(std::string_view in);
// Encodes everything but unreserved characters (RFC 3986).
std::string UrlEncode(std::string_view in);

// ITS request parameters. Names that start with '~' are case-insensitive
// (`~OKCODE` = `~okcode`) and stored in lower case; other names (screen fields
// such as RF05L-BELNR) are stored in upper case, as SAP spells them.
class Params {
 public:
  using Entry = std::pair<std::string, std::string>;

  static std::string NormalizeName(std::string_view name);

  // Sets (replaces) a parameter.
  void Set(std::string_view name, std::string value);
  std::optional<std::string_view> Get(std::string_view name) const;
  std::string GetOr(std::string_view name, std::string_view fallback) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  void Erase(std::string_view name);
  // Every parameter of `other` replaces the one of this set.
  void MergeFrom(const Params& other);

  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<Entry> entries_;
};

// A read-only copy of a Params in one allocation: what a long-lived session
// keeps of its start URL. A Params of five entries holds about 500 bytes on
// the heap (a vector of string pairs, grown by doubling); this holds the
// entries' bytes and their lengths, about 80. Lookups scan it (a session
// has a handful of parameters).
class CompactParams {
 public:
  CompactParams() = default;
  explicit CompactParams(const Params& params);

  std::optional<std::string_view> Get(std::string_view name) const;
  bool empty() const { return data_.empty(); }

 private:
  // Per entry: name length, name, value length, value (lengths as uint32).
  ByteBlock data_;
};

// True if `in` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view in);
// The longest prefix of `in` of at most `max_bytes` that does not end inside
// a UTF-8 sequence: a cut that keeps valid UTF-8 valid (JSON writers and
// Protobuf strings refuse a broken character).
std::string_view Utf8Prefix(std::string_view in, size_t max_bytes);

// Parses "a=1&b=2" into `out` (later values win). Fails on bad escaping, on a
// name or value that is not UTF-8 once decoded (Protobuf strings must be, and
// one such message would break the dialog stream it travels on), or when more
// than `max_params` parameters are given.
absl::Status ParseQuery(std::string_view query, Params* out,
                        size_t max_params = 1000);

// Value of cookie `name` in a Cookie header, if present (not decoded).
std::optional<std::string_view> FindCookie(std::string_view header,
                                           std::string_view name);

// A redirect target that cannot split headers or lead anywhere unexpected:
// a relative URL on this host ("/x", never "//x"), or an http(s) URL whose
// host (or host:port) is in `allowed_hosts`.
bool IsSafeRedirect(std::string_view url,
                    const std::vector<std::string>& allowed_hosts);

// HTML-escapes & < > " ' for text and attribute values.
std::string HtmlEscape(std::string_view in);
// The same, appended to *out (no string of its own: pages are built in place).
void AppendHtmlEscaped(std::string* out, std::string_view in);

}  // namespace its
