#include "common/trace.h"

#include <gtest/gtest.h>

#include <set>

namespace its {
namespace {

constexpr char kValid[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Traceparent, ParsesTheW3cExample) {
  auto c = ParseTraceparent(kValid);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->trace.hi, 0x4bf92f3577b34da6ULL);
  EXPECT_EQ(c->trace.lo, 0xa3ce929d0e0e4736ULL);
  EXPECT_EQ(c->parent, 0x00f067aa0ba902b7ULL);
  EXPECT_EQ(c->flags, 1);
  EXPECT_EQ(TraceHex(c->trace), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(FormatTraceparent(c->trace, c->parent, c->flags), kValid);
}

TEST(Traceparent, RefusesMalformedHeaders) {
  for (const char* bad : {
           "",
           "00",
           "garbage",
           // upper case hex (W3C: lower case only)
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
           // all-zero trace-id and parent-id
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
           // overlong (version 00 has exactly four fields)
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
           "00-4bf92f3577b34da6a3ce929d0e0e47360-00f067aa0ba902b7-01",
           // wrong version, including the forbidden ff
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           // wrong separators, non-hex, a short field
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-701",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0\n",
       }) {
    EXPECT_FALSE(ParseTraceparent(bad)) << bad;
  }
}

TEST(TraceHex, RoundTripsAndRefusesBadIds) {
  TraceId t{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  EXPECT_EQ(TraceHex(t), "0123456789abcdeffedcba9876543210");
  EXPECT_EQ(ParseTraceHex(TraceHex(t)), t);
  EXPECT_FALSE(ParseTraceHex("0123456789ABCDEFfedcba9876543210"));
  EXPECT_FALSE(ParseTraceHex("00000000000000000000000000000000"));
  EXPECT_FALSE(ParseTraceHex("0123456789abcdeffedcba987654321"));
  EXPECT_FALSE(ParseTraceHex("0123456789abcdeffedcba98765432100"));
  EXPECT_FALSE(ParseTraceHex("../../../../etc/passwd0123456789"));
  EXPECT_EQ(SpanHex(0xab), "00000000000000ab");
}

TEST(TraceIds, AreNonZeroAndDistinct) {
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (int i = 0; i < 10000; ++i) {
    TraceId t = NewTraceId();
    ASSERT_TRUE(t.valid());
    ASSERT_TRUE(seen.insert({t.hi, t.lo}).second);
    ASSERT_NE(NewSpanId(), 0u);
  }
  // A made-up trace parses back as a traceparent.
  TraceId t = NewTraceId();
  auto c = ParseTraceparent(FormatTraceparent(t, 42));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->trace, t);
  EXPECT_EQ(c->parent, 42u);
}

TEST(SpanText, IsShortAndPrintableWhateverCameIn) {
  std::string out;
  SetSpanText(&out, "/00", 24);
  EXPECT_EQ(out, "/00");
  SetSpanText(&out, std::string(100000, 'x'), 24);
  EXPECT_EQ(out.size(), 24u);
  SetSpanText(&out, std::string("a\xff\xfe\nb\0c", 7), 24);
  EXPECT_EQ(out, "a???b?c");
}

TEST(SpanStore, KeepsTheNewestSpansWithinItsCapacity) {
  SpanStore store(4);
  TraceId a{1, 1}, b{2, 2}, c{3, 3};
  store.Record(a, 1, 0, 0, 0).text = "a0";
  store.Record(a, 2, 1, 1, 0).num[0] = 7;
  store.Record(b, 3, 0, 0, 0);
  EXPECT_EQ(store.size(), 3u);
  auto spans = store.Find(a);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]->text, "a0");  // oldest first
  EXPECT_EQ(spans[1]->num[0], 7);
  // Two more: the ring wraps and the oldest two (both of a) go.
  store.Record(c, 4, 0, 0, 0);
  store.Record(c, 5, 4, 1, 0);
  EXPECT_EQ(store.size(), 4u);
  spans = store.Find(a);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->id, 2u);
  EXPECT_EQ(spans[0]->num[0], 7);
  store.Record(c, 6, 4, 2, 0);
  EXPECT_TRUE(store.Find(a).empty());
  // A reused slot starts clean (id 5 took the slot that held "a0").
  spans = store.Find(c);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[1]->id, 5u);
  EXPECT_EQ(spans[1]->text, "");
  EXPECT_EQ(spans[1]->num[0], 0);
  EXPECT_EQ(store.capacity(), 4u);
  auto recent = store.Recent(5);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0], c);
  EXPECT_EQ(recent[1], b);
  EXPECT_EQ(store.Recent(1).size(), 1u);
}

}  // namespace
}  // namespace its
