#include "common/params.h"

#include <cstdint>
#include <cstring>

#include "absl/status/status.h"
#include "common/strings.h"

namespace its {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<std::string> UrlDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) {
        return absl::InvalidArgumentError("truncated percent-encoding");
      }
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0)
        return absl::InvalidArgumentError("bad percent-encoding");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string UrlEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size() * 3 / 2);
  for (unsigned char c : in) {
    if (IsAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string Params::NormalizeName(std::string_view name) {
  if (!name.empty() && name[0] == '~') return ToLower(name);
  return ToUpper(name);
}

void Params::Set(std::string_view name, std::string value) {
  std::string key = NormalizeName(name);
  for (auto& e : entries_) {
    if (e.first == key) {
      e.second = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

std::optional<std::string_view> Params::Get(std::string_view name) const {
  std::string key = NormalizeName(name);
  for (const auto& e : entries_)
    if (e.first == key) return std::string_view(e.second);
  return std::nullopt;
}

std::string Params::GetOr(std::string_view name,
                          std::string_view fallback) const {
  auto v = Get(name);
  return std::string(v ? *v : fallback);
}

void Params::Erase(std::string_view name) {
  std::string key = NormalizeName(name);
  std::erase_if(entries_, [&](const Entry& e) { return e.first == key; });
}

void Params::MergeFrom(const Params& other) {
  for (const auto& e : other.entries_) Set(e.first, e.second);
}

namespace {

// Writes one field at `out` and returns where the next one goes.
char* WriteField(char* out, std::string_view text) {
  const auto n = static_cast<uint32_t>(text.size());
  std::memcpy(out, &n, sizeof n);
  if (n > 0) std::memcpy(out + sizeof n, text.data(), n);
  return out + sizeof n + n;
}

// Reads one field at *pos of `data` and moves *pos past it.
std::string_view ReadField(std::string_view data, size_t* pos) {
  uint32_t n;
  std::memcpy(&n, data.data() + *pos, sizeof n);
  std::string_view text = data.substr(*pos + sizeof n, n);
  *pos += sizeof n + n;
  return text;
}

}  // namespace

CompactParams::CompactParams(const Params& params) {
  size_t size = 0;
  for (const auto& [name, value] : params.entries())
    size += 2 * sizeof(uint32_t) + name.size() + value.size();
  data_ = ByteBlock(size);
  char* out = data_.data();
  for (const auto& [name, value] : params.entries()) {
    out = WriteField(out, name);
    out = WriteField(out, value);
  }
}

std::optional<std::string_view> CompactParams::Get(
    std::string_view name) const {
  const std::string key = Params::NormalizeName(name);
  const std::string_view data = data_.view();
  size_t pos = 0;
  while (pos < data.size()) {
    std::string_view entry = ReadField(data, &pos);
    std::string_view value = ReadField(data, &pos);
    if (entry == key) return value;
  }
  return std::nullopt;
}

std::string_view Utf8Prefix(std::string_view in, size_t max_bytes) {
  if (in.size() <= max_bytes) return in;
  size_t n = max_bytes;
  // Back to the start of the character the cut would split (continuation
  // bytes are 10xxxxxx; a character has at most 3 of them).
  for (int back = 0;
       back < 3 && n > 0 && (static_cast<unsigned char>(in[n]) & 0xC0) == 0x80;
       ++back) {
    --n;
  }
  return in.substr(0, n);
}

bool IsValidUtf8(std::string_view in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const auto* end = p + in.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int more;
    unsigned char lo = 0x80, hi = 0xbf;  // the second byte's range
    if (c >= 0xc2 && c <= 0xdf) {
      more = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      more = 2;
      if (c == 0xe0) lo = 0xa0;  // overlong
      if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3;
      if (c == 0xf0) lo = 0x90;  // overlong
      if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else {
      return false;
    }
    if (end - p <= more) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (int i = 2; i <= more; ++i) {
      if (p[i] < 0x80 || p[i] > 0xbf) return false;
    }
    p += more + 1;
  }
  return true;
}

absl::Status ParseQuery(std::string_view query, Params* out,
                        size_t max_params) {
  size_t count = 0;
  for (std::string_view pair : Split(query, '&', true)) {
    if (++count > max_params) {
      return absl::InvalidArgumentError(
          Cat("more than ", max_params, " parameters"));
    }
    size_t eq = pair.find('=');
    std::string_view raw_name = pair.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto name = UrlDecode(raw_name);
    if (!name.ok()) return name.status();
    auto value = UrlDecode(raw_value);
    if (!value.ok()) return value.status();
    if (name->empty()) continue;
    if (!IsValidUtf8(*name))
      return absl::InvalidArgumentError("a parameter name is not UTF-8");
    if (!IsValidUtf8(*value)) {
      return absl::InvalidArgumentError(
          Cat("parameter ", *name, " is not UTF-8"));
    }
    out->Set(*name, std::move(*value));
  }
  return absl::OkStatus();
}

std::optional<std::string_view> FindCookie(std::string_view header,
                                           std::string_view name) {
  for (std::string_view part : Split(header, ';')) {
    part = Trim(part);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    if (part.substr(0, eq) == name) return part.substr(eq + 1);
  }
  return std::nullopt;
}

bool IsSafeRedirect(std::string_view url,
                    const std::vector<std::string>& allowed_hosts) {
  if (url.empty()) return false;
  for (unsigned char c : url) {
    if (c < 0x21 || c == 0x7f || c == '\\')
      return false;  // CR, LF, spaces, controls
  }
  if (url[0] == '/') return url.size() == 1 || url[1] != '/';
  for (std::string_view scheme : {"http://", "https://"}) {
    if (ToLower(url.substr(0, scheme.size())) != scheme) continue;
    std::string_view rest = url.substr(scheme.size());
    std::string host = ToLower(rest.substr(0, rest.find_first_of("/?#")));
    if (host.empty() || host.find('@') != std::string::npos) return false;
    for (const auto& h : allowed_hosts)
      if (ToLower(h) == host) return true;
    return false;
  }
  return false;
}

std::string HtmlEscape(std::string_view in) {
  std::string out;
  out.reserve(in.size() + 16);
  AppendHtmlEscaped(&out, in);
  return out;
}

void AppendHtmlEscaped(std::string* out, std::string_view in) {
  // Copies the runs between special characters whole (on every page).
  size_t run = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const char* entity;
    switch (in[i]) {
      case '&':
        entity = "&amp;";
        break;
      case '<':
        entity = "&lt;";
        break;
      case '>':
        entity = "&gt;";
        break;
      case '"':
        entity = "&quot;";
        break;
      case '\'':
        entity = "&#39;";
        break;
      default:
        continue;
    }
    out->append(in.data() + run, i - run);
    out->append(entity);
    run = i + 1;
  }
  out->append(in.data() + run, in.size() - run);
}

}  // namespace its
