#include "agate/session_table.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace its::agate {
namespace {

using State = SessionContext::State;

class SessionTableTest : public ::testing::Test {
 protected:
  FakeClock clock_{5000 * kSimSecond};
  SessionTable table_{clock_, /*incarnation=*/3, /*max_sessions=*/2};

  SessionContext* New(SimMicros timeout) {
    SessionContext* s = table_.Create();
    if (s) {
      s->timeout = timeout;
      table_.Touch(*s);
    }
    return s;
  }
  Gusid IdOf(const SessionContext& s) {
    return Gusid{"IT1", "h", 0, s.slot, std::string(s.random_hex())};
  }
  std::vector<uint32_t> Advance() {
    std::vector<uint32_t> out;
    table_.Advance([&](SessionContext& s) {
      out.push_back(s.slot);
      table_.End(s, State::kTimedOut, kSimHour);
    });
    return out;
  }
};

// Sessions that all expire in the same second end over several calls of at
// most kExpiryBudget each (the agate runs the next at once), every one once.
TEST(SessionTableBurst, ExpiryOfABurstIsSpreadOverCalls) {
  FakeClock clock{5000 * kSimSecond};
  const int n = 3 * SessionTable::kExpiryBudget + 7;
  SessionTable table(clock, 1, n);
  for (int i = 0; i < n; ++i) {
    SessionContext* s = table.Create();
    ASSERT_NE(s, nullptr);
    s->timeout = 15 * kSimMinute;
    table.Touch(*s);
  }
  clock.Advance(15 * kSimMinute + kSimSecond);
  std::vector<uint32_t> ended;
  auto end = [&](SessionContext& s) {
    ended.push_back(s.slot);
    table.End(s, SessionContext::State::kTimedOut, kSimHour);
  };
  int calls = 1;
  while (!table.Advance(end)) {
    EXPECT_EQ(ended.size(), calls * SessionTable::kExpiryBudget);
    ++calls;
  }
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(ended.size(), static_cast<size_t>(n));
  std::sort(ended.begin(), ended.end());
  EXPECT_EQ(std::unique(ended.begin(), ended.end()), ended.end());
  EXPECT_EQ(table.active(), 0);
}

TEST_F(SessionTableTest, SlotsCarryTheIncarnationAndRandomPartsDiffer) {
  SessionContext* a = New(kSimMinute);
  SessionContext* b = New(kSimMinute);
  EXPECT_EQ(a->slot >> 24, 3u);
  EXPECT_NE(a->slot, b->slot);
  EXPECT_NE(a->random, b->random);
  EXPECT_EQ(table_.Create(), nullptr);  // MaxSessions reached
  EXPECT_EQ(table_.active(), 2);
}

TEST_F(SessionTableTest, FindChecksRandomPartAndIncarnation) {
  SessionContext* a = New(kSimMinute);
  SessionTable::Lookup why;
  EXPECT_EQ(table_.Find(IdOf(*a), &why), a);
  EXPECT_EQ(why, SessionTable::Lookup::kFound);
  Gusid wrong = IdOf(*a);
  wrong.random[5] = wrong.random[5] == '0' ? '1' : '0';
  EXPECT_EQ(table_.Find(wrong, &why), nullptr);
  EXPECT_EQ(why, SessionTable::Lookup::kWrongRandom);
  Gusid unknown = IdOf(*a);
  unknown.slot += 7;
  EXPECT_EQ(table_.Find(unknown, &why), nullptr);
  EXPECT_EQ(why, SessionTable::Lookup::kUnknown);
  Gusid earlier = IdOf(*a);
  earlier.slot = (2u << 24) | (earlier.slot & 0xffffff);
  EXPECT_EQ(table_.Find(earlier, &why), nullptr);
  EXPECT_EQ(why, SessionTable::Lookup::kOtherIncarnation);
}

TEST_F(SessionTableTest, TimeoutBoundaryPlusMinusOneSecond) {
  SessionContext* a = New(15 * kSimMinute);
  clock_.Advance(15 * kSimMinute - kSimSecond);
  EXPECT_TRUE(Advance().empty());
  EXPECT_EQ(a->state, State::kActive);
  clock_.Advance(2 * kSimSecond);
  EXPECT_EQ(Advance(), std::vector<uint32_t>{a->slot});
  EXPECT_EQ(a->state, State::kTimedOut);
  EXPECT_EQ(table_.active(), 0);
}

TEST_F(SessionTableTest, EachRequestRestartsTheTimeout) {
  SessionContext* a = New(10 * kSimMinute);
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(9 * kSimMinute);
    EXPECT_TRUE(Advance().empty());
    table_.Touch(*a);
  }
  clock_.Advance(10 * kSimMinute + kSimSecond);
  EXPECT_EQ(Advance().size(), 1u);
}

TEST_F(SessionTableTest, TombstonesAnswerUntilTheirTimeIsUp) {
  SessionContext* a = New(kSimMinute);
  uint32_t slot = a->slot;
  Gusid id = IdOf(*a);
  table_.End(*a, State::kLoggedOff, kSimHour);
  EXPECT_EQ(table_.active(), 0);
  SessionTable::Lookup why;
  SessionContext* t = table_.Find(id, &why);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->state, State::kLoggedOff);
  clock_.Advance(kSimHour + kSimSecond);
  EXPECT_TRUE(Advance().empty());  // tombstones are forgotten, not timed out
  EXPECT_EQ(table_.Find(id, &why), nullptr);
  EXPECT_EQ(why, SessionTable::Lookup::kUnknown);
  EXPECT_EQ(table_.size(), 0u);
  (void)slot;
}

TEST_F(SessionTableTest, EndedSessionsFreeCapacity) {
  SessionContext* a = New(kSimMinute);
  New(kSimMinute);
  EXPECT_EQ(table_.Create(), nullptr);
  table_.End(*a, State::kAborted, kSimHour);
  EXPECT_NE(New(kSimMinute), nullptr);
}

TEST(PackedStrings, EachStringKeepsItsValueWhateverTheOthersDo) {
  PackedStrings<4> p;
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(p.get(i), "");
  p.set(2, "middle");
  EXPECT_EQ(p.get(0), "");
  EXPECT_EQ(p.get(2), "middle");
  EXPECT_EQ(p.get(3), "");
  p.assign({"a", "", "ccc", std::string(70000, 'x')});  // > 64 KiB offsets
  p.set(1, p.get(2));  // a view into the block itself
  EXPECT_EQ(p.get(0), "a");
  EXPECT_EQ(p.get(1), "ccc");
  EXPECT_EQ(p.get(2), "ccc");
  EXPECT_EQ(p.get(3), std::string(70000, 'x'));
  PackedStrings<4> copy = p;
  p.set(3, "");
  p.set(0, "changed");
  EXPECT_EQ(copy.get(0), "a");
  EXPECT_EQ(copy.get(3).size(), 70000u);
  EXPECT_EQ(p.get(0), "changed");
  EXPECT_EQ(p.get(1), "ccc");
  EXPECT_EQ(p.get(3), "");
  copy = p;
  EXPECT_EQ(copy.get(0), "changed");
  PackedStrings<4> moved = std::move(copy);
  EXPECT_EQ(moved.get(1), "ccc");
}

}  // namespace
}  // namespace its::agate
