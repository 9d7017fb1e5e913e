#include "common/trace.h"

#include <sys/random.h>

#include <chrono>

namespace its {
namespace {

constexpr char kHex[] = "0123456789abcdef";

int LowerHexValue(char c) {  // lower case only, as W3C requires
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool ParseHex64(std::string_view s, uint64_t* out) {
  uint64_t v = 0;
  for (char c : s) {
    int d = LowerHexValue(c);
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

void AppendHex64(std::string* out, uint64_t v) {
  char buf[16];
  for (int i = 15; i >= 0; --i, v >>= 4) buf[i] = kHex[v & 15];
  out->append(buf, 16);
}

// xoshiro256** per thread, seeded once from getrandom(2) (splitmix64 spread
// if getrandom fails, which it does not on Linux >= 3.17).
struct Rng {
  uint64_t s[4];
  Rng() {
    uint64_t seed[4] = {};
    if (getrandom(seed, sizeof seed, 0) != sizeof seed) {
      uint64_t x = static_cast<uint64_t>(
          std::chrono::steady_clock::now().time_since_epoch().count());
      for (auto& v : seed) {
        x += 0x9e3779b97f4a7c15ULL;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        v = z ^ (z >> 31);
      }
    }
    for (int i = 0; i < 4; ++i) s[i] = seed[i] | (i == 0 ? 1 : 0);
  }
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t Next() {
    uint64_t result = Rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = Rotl(s[3], 45);
    return result;
  }
};

uint64_t NextRandom() {
  thread_local Rng rng;
  return rng.Next();
}

}  // namespace

std::optional<TraceContext> ParseTraceparent(std::string_view h) {
  // 00-<32>-<16>-<2>
  if (h.size() != 55 || h[2] != '-' || h[35] != '-' || h[52] != '-')
    return std::nullopt;
  if (h.substr(0, 2) != "00") return std::nullopt;
  TraceContext c;
  uint64_t flags = 0;
  if (!ParseHex64(h.substr(3, 16), &c.trace.hi) ||
      !ParseHex64(h.substr(19, 16), &c.trace.lo) ||
      !ParseHex64(h.substr(36, 16), &c.parent) ||
      !ParseHex64(h.substr(53, 2), &flags)) {
    return std::nullopt;
  }
  if (!c.trace.valid() || c.parent == 0) return std::nullopt;
  c.flags = static_cast<uint8_t>(flags);
  return c;
}

std::string FormatTraceparent(TraceId trace, uint64_t span, uint8_t flags) {
  std::string out = "00-";
  out.reserve(55);
  AppendTraceHex(&out, trace);
  out.push_back('-');
  AppendHex64(&out, span);
  out.push_back('-');
  out.push_back(kHex[flags >> 4]);
  out.push_back(kHex[flags & 15]);
  return out;
}

void AppendTraceHex(std::string* out, TraceId trace) {
  AppendHex64(out, trace.hi);
  AppendHex64(out, trace.lo);
}

std::string TraceHex(TraceId trace) {
  std::string out;
  out.reserve(32);
  AppendTraceHex(&out, trace);
  return out;
}

std::optional<TraceId> ParseTraceHex(std::string_view hex) {
  TraceId t;
  if (hex.size() != 32 || !ParseHex64(hex.substr(0, 16), &t.hi) ||
      !ParseHex64(hex.substr(16), &t.lo) || !t.valid()) {
    return std::nullopt;
  }
  return t;
}

std::string SpanHex(uint64_t span) {
  std::string out;
  AppendHex64(&out, span);
  return out;
}

uint64_t NewSpanId() {
  for (;;) {
    if (uint64_t v = NextRandom(); v != 0) return v;
  }
}

TraceId NewTraceId() { return TraceId{NextRandom(), NewSpanId()}; }

int64_t TraceNowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void SetSpanText(std::string* out, std::string_view in, size_t max) {
  if (in.size() > max) in = in.substr(0, max);
  out->assign(in);
  for (char& c : *out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
}

SpanStore::SpanStore(size_t capacity) : ring_(capacity == 0 ? 1 : capacity) {}

Span& SpanStore::Record(TraceId trace, uint64_t id, uint64_t parent, int step,
                        int kind) {
  Span& s = ring_[next_];
  last_ = next_;
  next_ = next_ + 1 == ring_.size() ? 0 : next_ + 1;
  if (count_ < ring_.size()) ++count_;
  s.trace = trace;
  s.id = id;
  s.parent = parent;
  s.step = step;
  s.kind = kind;
  for (auto& n : s.num) n = 0;
  s.text.clear();  // keeps its capacity: no allocation once warm
  s.start_us = s.end_us = 0;
  return s;
}

std::vector<const Span*> SpanStore::Find(TraceId trace) const {
  std::vector<const Span*> out;
  const size_t n = ring_.size();
  size_t i = count_ < n ? 0 : next_;  // the oldest
  for (size_t k = 0; k < count_; ++k, i = i + 1 == n ? 0 : i + 1) {
    if (ring_[i].trace == trace) out.push_back(&ring_[i]);
  }
  return out;
}

std::vector<TraceId> SpanStore::Recent(size_t want) const {
  std::vector<TraceId> out;
  const size_t n = ring_.size();
  size_t i = next_;
  for (size_t k = 0; k < count_ && out.size() < want; ++k) {
    i = i == 0 ? n - 1 : i - 1;
    const TraceId& t = ring_[i].trace;
    bool seen = false;
    for (const TraceId& o : out) seen = seen || o == t;
    if (!seen) out.push_back(t);
  }
  return out;
}

}  // namespace its
