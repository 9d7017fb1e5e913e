#include "common/gusid.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>

#include "absl/status/status.h"
#include "common/strings.h"

namespace its {
namespace {

// Lower-case hex only, as IDs are issued: one session, one spelling (an
// upper-case alias would name the same session under another ID in logs
// and admin tables).
bool ParseHex(std::string_view s, size_t digits, uint32_t* out) {
  if (s.size() != digits) return false;
  uint32_t v = 0;
  for (char c : s) {
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v |= c - 'a' + 10;
    } else {
      return false;
    }
  }
  *out = v;
  return true;
}

bool AllOf(std::string_view s, bool (*pred)(char)) {
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}

bool InstanceChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool HostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '-';
}
bool LowerHexChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

}  // namespace

std::string Gusid::PublicId() const {
  // pppp.ssssssss in lower-case hex (on every page: no printf).
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[13];
  for (int i = 0; i < 4; ++i) buf[i] = kHex[(process >> (12 - 4 * i)) & 0xf];
  buf[4] = '.';
  for (int i = 0; i < 8; ++i) buf[5 + i] = kHex[(slot >> (28 - 4 * i)) & 0xf];
  return Cat(instance, "-A:", host, ":", std::string_view(buf, sizeof buf));
}

std::string Gusid::ToString() const { return Cat(PublicId(), ".", random); }

namespace {

absl::StatusOr<Gusid> Parse(std::string_view text, bool with_random) {
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(Cat("malformed session ID: ", why));
  };
  if (text.empty()) return bad("empty");
  if (text.size() > kGusidMaxLength) return bad("too long");
  size_t dash = text.find("-A:");
  if (dash == std::string_view::npos) return bad("no instance");
  Gusid g;
  g.instance = std::string(text.substr(0, dash));
  if (g.instance.empty() || g.instance.size() > 8 ||
      !AllOf(g.instance, InstanceChar))
    return bad("instance");
  std::vector<std::string_view> parts = Split(text.substr(dash + 3), ':');
  if (parts.size() != 2) return bad("host part");
  g.host = std::string(parts[0]);
  if (g.host.empty() || g.host.size() > 64 || !AllOf(g.host, HostChar))
    return bad("host");
  std::vector<std::string_view> ids = Split(parts[1], '.');
  if (ids.size() != (with_random ? 3u : 2u)) return bad("process.slot.random");
  if (!ParseHex(ids[0], 4, &g.process)) return bad("process number");
  if (!ParseHex(ids[1], 8, &g.slot)) return bad("session slot");
  if (!with_random) return g;
  if (ids[2].size() != kGusidRandomHex || !AllOf(ids[2], LowerHexChar))
    return bad("random part");
  g.random = std::string(ids[2]);
  return g;
}

}  // namespace

absl::StatusOr<Gusid> ParseGusid(std::string_view text) {
  return Parse(text, true);
}
absl::StatusOr<Gusid> ParsePublicId(std::string_view text) {
  return Parse(text, false);
}

std::string NewSessionRandom() {
  unsigned char bytes[kGusidRandomHex / 2];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(kGusidRandomHex, '0');
  for (size_t i = 0; i < sizeof bytes; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  // Keep the compiler from turning the loop into an early exit.
  asm volatile("" : "+r"(diff));
  return diff == 0;
}

}  // namespace its
