#pragma once

// Request tracing (docs/architecture.md §7.1): a W3C `traceparent` names the
// request's trace; every process records its spans in a bounded in-memory
// store, and the wgate gathers a trace from all of them when someone asks.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace its {

// A W3C trace-id: 128 bits, never all zero.
struct TraceId {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool valid() const { return (hi | lo) != 0; }
  friend bool operator==(const TraceId&, const TraceId&) = default;
};

// A parsed `traceparent` header: version 00, trace-id, parent-id (the
// caller's span), trace flags.
struct TraceContext {
  TraceId trace;
  uint64_t parent = 0;
  uint8_t flags = 0;
};

// "00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>", lower-case hex
// only, trace-id and parent-id not all zero, exactly 55 characters. Anything
// else (another version, upper case, overlong, all zero): nullopt, and the
// caller makes up a new trace.
std::optional<TraceContext> ParseTraceparent(std::string_view header);
std::string FormatTraceparent(TraceId trace, uint64_t span, uint8_t flags = 1);

// The trace-id alone as 32 lower-case hex digits (URLs, headers, logs).
std::string TraceHex(TraceId trace);
void AppendTraceHex(std::string* out, TraceId trace);
std::optional<TraceId> ParseTraceHex(std::string_view hex);
std::string SpanHex(uint64_t span);  // 16 lower-case hex digits

// Random IDs from a per-thread generator seeded once from getrandom(2):
// a few nanoseconds, no system call per request. Never zero.
uint64_t NewSpanId();
TraceId NewTraceId();

// Real time in microseconds since the Unix epoch (spans of different
// processes line up on it).
int64_t TraceNowMicros();

// Sets *out to at most `max` characters of `in` that a client may have sent
// (a session ID, a function code): printable ASCII kept, anything else '?'.
// A span's text stays short and valid UTF-8 whatever came in, so a ring
// slot never grows beyond `max` and the trace stays valid JSON and protobuf.
void SetSpanText(std::string* out, std::string_view in, size_t max = 64);

// One process's record of one step of a request. What it decided is kept as
// numbers (`kind`, `num`) and turned into words only when the trace is read;
// `text` holds what only words can say, and is filled where a request is
// rare (new sessions), or short enough to fit a string's inline buffer.
struct Span {
  TraceId trace;
  uint64_t id = 0;
  uint64_t parent = 0;
  int step = 0;  // ITS step 1-5 (docs/architecture.md §1.1); 0 the request
  int kind = 0;  // the recording process's own code for what it decided
  int64_t num[4] = {};
  std::string text;
  int64_t start_us = 0;
  int64_t end_us = 0;
};

// The last `capacity` spans of a process, in a ring: recording is O(1) and
// allocates nothing once every slot's text has grown to its size; reading a
// trace scans the ring (on demand only). Not thread-safe: it belongs to the
// thread that records (each process's logic thread, the wgate's Asio thread).
class SpanStore {
 public:
  static constexpr size_t kDefaultCapacity = 8192;
  explicit SpanStore(size_t capacity = kDefaultCapacity);

  // The next slot, overwriting the oldest span: trace, ids, step and kind
  // set, numbers zero, text empty, times zero.
  Span& Record(TraceId trace, uint64_t id, uint64_t parent, int step, int kind);
  // Where the last Record() went, and that span again while its slot still
  // holds it (a reply that comes later finishes its span: O(1)).
  size_t last() const { return last_; }
  Span* Still(size_t index, uint64_t id) {
    return index < ring_.size() && ring_[index].id == id ? &ring_[index]
                                                         : nullptr;
  }
  // Every span of `trace` still held, oldest first.
  std::vector<const Span*> Find(TraceId trace) const;
  // The trace-ids of the newest `n` traces, newest first, each once.
  std::vector<TraceId> Recent(size_t n) const;
  size_t size() const { return count_; }
  size_t capacity() const { return ring_.size(); }

 private:
  std::vector<Span> ring_;
  size_t next_ = 0;
  size_t last_ = 0;
  size_t count_ = 0;
};

}  // namespace its
