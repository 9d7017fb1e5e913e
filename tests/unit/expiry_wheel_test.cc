#include "common/expiry_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <vector>

namespace its {
namespace {

// Keys with their items in a table, as a session table keeps them: Cancel()
// ends the record, as ending a session does.
class Wheel {
 public:
  explicit Wheel(SimMicros now, size_t ring_buckets = 4096)
      : wheel_(now, ring_buckets) {}
  void Schedule(int key, SimMicros deadline) {
    wheel_.Schedule(key, items_[key], deadline);
  }
  void Cancel(int key) { items_.erase(key); }
  size_t size() const {
    return std::count_if(items_.begin(), items_.end(),
                         [](const auto& kv) { return kv.second.filed(); });
  }
  template <typename F>
  bool Advance(SimMicros now, F&& expire,
               size_t budget = std::numeric_limits<size_t>::max()) {
    return wheel_.Advance(
        now,
        [&](int key) -> WheelItem* {
          auto it = items_.find(key);
          return it == items_.end() ? nullptr : &it->second;
        },
        [&](int key) {
          EXPECT_FALSE(items_.at(key).filed());
          expire(key);
        },
        budget);
  }
  std::unordered_map<int, WheelItem>& items() { return items_; }

 private:
  ExpiryWheel<int> wheel_;
  std::unordered_map<int, WheelItem> items_;
};

std::vector<int> Advance(Wheel& w, SimMicros now) {
  std::vector<int> out;
  w.Advance(now, [&](int k) { out.push_back(k); });
  return out;
}

constexpr SimMicros kT0 = 1'000'000 * kSimSecond;

TEST(ExpiryWheel, ExpiresAtDeadlineNotOneSecondBefore) {
  Wheel w(kT0);
  w.Schedule(1, kT0 + 15 * kSimMinute);
  EXPECT_TRUE(Advance(w, kT0 + 15 * kSimMinute - kSimSecond).empty());
  EXPECT_EQ(Advance(w, kT0 + 15 * kSimMinute + kSimSecond),
            std::vector<int>{1});
  EXPECT_EQ(w.size(), 0u);
}

TEST(ExpiryWheel, ExactDeadlineAndOneSecondResolution) {
  Wheel w(kT0);
  w.Schedule(1, kT0 + 10 * kSimSecond);
  w.Schedule(
      2, kT0 + 20 * kSimSecond + 500'000);  // fires at the next whole second
  EXPECT_TRUE(Advance(w, kT0 + 10 * kSimSecond - 1).empty());
  EXPECT_EQ(Advance(w, kT0 + 10 * kSimSecond), std::vector<int>{1});
  EXPECT_TRUE(Advance(w, kT0 + 20 * kSimSecond + 999'999).empty());
  EXPECT_EQ(Advance(w, kT0 + 21 * kSimSecond), std::vector<int>{2});
}

TEST(ExpiryWheel, TouchMovesDeadlineLater) {
  Wheel w(kT0);
  w.Schedule(1, kT0 + 60 * kSimSecond);
  Advance(w, kT0 + 59 * kSimSecond);
  w.Schedule(1, kT0 + 119 * kSimSecond);  // request at t0+59s
  EXPECT_TRUE(Advance(w, kT0 + 118 * kSimSecond).empty());
  EXPECT_EQ(Advance(w, kT0 + 120 * kSimSecond), std::vector<int>{1});
}

TEST(ExpiryWheel, DeadlineMovedEarlierIsHonoured) {
  Wheel w(kT0);
  w.Schedule(1, kT0 + 3600 * kSimSecond);
  w.Schedule(1, kT0 + 5 * kSimSecond);
  EXPECT_EQ(Advance(w, kT0 + 5 * kSimSecond), std::vector<int>{1});
  EXPECT_TRUE(
      Advance(w, kT0 + 7200 * kSimSecond).empty());  // stale entry is dropped
}

TEST(ExpiryWheel, CancelAndLongDeadlinesBeyondOneRingTurn) {
  Wheel w(kT0, 64);
  w.Schedule(1, kT0 + 10 * kSimSecond);
  w.Schedule(2, kT0 + 1000 * kSimSecond);  // many turns of a 64-bucket ring
  w.Schedule(3, kT0 + 20 * kSimSecond);
  w.Cancel(3);
  EXPECT_EQ(Advance(w, kT0 + 30 * kSimSecond), std::vector<int>{1});
  EXPECT_TRUE(Advance(w, kT0 + 999 * kSimSecond).empty());
  EXPECT_EQ(Advance(w, kT0 + 1000 * kSimSecond), std::vector<int>{2});
}

TEST(ExpiryWheel, BigJumpExpiresEverythingDue) {
  Wheel w(kT0, 16);
  for (int i = 0; i < 100; ++i) w.Schedule(i, kT0 + (i + 1) * kSimSecond);
  auto out = Advance(w, kT0 + 50 * kSimSecond);
  EXPECT_EQ(out.size(), 50u);
  EXPECT_EQ(w.size(), 50u);
  out = Advance(w, kT0 + 10 * kSimHour);
  EXPECT_EQ(out.size(), 50u);
}

TEST(ExpiryWheel, ExpireCallbackMayReschedule) {
  Wheel w(kT0);
  w.Schedule(1, kT0 + kSimSecond);
  std::vector<int> seen;
  w.Advance(kT0 + 2 * kSimSecond, [&](int k) {
    seen.push_back(k);
    w.Schedule(k + 100, kT0 + 3 * kSimSecond);  // e.g. keep logon data a while
  });
  EXPECT_EQ(seen, std::vector<int>{1});
  EXPECT_EQ(Advance(w, kT0 + 3 * kSimSecond), std::vector<int>{101});
}

// A burst of deadlines in one second is spread over calls: each visits at
// most `budget` entries, and together they expire every key exactly once.
TEST(ExpiryWheel, ABudgetSpreadsABurstOverCalls) {
  Wheel w(kT0);
  for (int k = 0; k < 1000; ++k) w.Schedule(k, kT0 + 60 * kSimSecond);
  w.Schedule(5000, kT0 + 61 * kSimSecond);  // the next second: not yet due
  std::vector<int> out;
  auto collect = [&](int k) { out.push_back(k); };
  EXPECT_TRUE(w.Advance(kT0 + 59 * kSimSecond, collect, 100));
  int calls = 0;
  while (!w.Advance(kT0 + 60 * kSimSecond, collect, 100)) {
    ++calls;
    EXPECT_EQ(out.size(), static_cast<size_t>(calls) * 100);
    // A key scheduled while the burst is half done still fires on time.
    if (calls == 3) w.Schedule(7000, kT0 + 60 * kSimSecond);
  }
  EXPECT_EQ(calls, 10);  // 1,001 entries at 100 a call
  std::sort(out.begin(), out.end());
  std::vector<int> want(1000);
  for (int k = 0; k < 1000; ++k) want[k] = k;
  want.push_back(7000);
  EXPECT_EQ(out, want);
  EXPECT_EQ(w.size(), 1u);  // 5000 only
  out.clear();
  EXPECT_TRUE(w.Advance(kT0 + 61 * kSimSecond, collect, 100));
  EXPECT_EQ(out, std::vector<int>{5000});
}

// Entries of a later turn of the ring share a slot with due ones; they cost
// no budget, so however many there are the due ones end and Advance comes
// to true (a review found they could use up every call's budget).
TEST(ExpiryWheel, LaterTurnsInTheSameSlotDoNotUseTheBudget) {
  Wheel w(kT0, /*ring_buckets=*/64);
  for (int k = 0; k < 600; ++k)
    w.Schedule(k, kT0 + (10 + 64 * 3) * kSimSecond);  // same slot, 3 turns on
  for (int k = 1000; k < 1010; ++k) w.Schedule(k, kT0 + 10 * kSimSecond);
  std::vector<int> out;
  auto collect = [&](int k) { out.push_back(k); };
  int calls = 1;
  while (!w.Advance(kT0 + 10 * kSimSecond, collect, 4) && calls < 100) ++calls;
  EXPECT_EQ(calls, 3);  // 10 due entries at 4 a call
  EXPECT_EQ(out.size(), 10u);
  EXPECT_EQ(w.size(), 600u);
  out.clear();
  EXPECT_TRUE(w.Advance(kT0 + (10 + 64 * 3) * kSimSecond, collect));
  EXPECT_EQ(out.size(), 600u);
}

// The item lives with its record: a cancelled item keeps its record and
// can be filed again; a record that is gone drops its ring entries.
TEST(ExpiryWheel, CancelledItemsAndRecordsThatAreGone) {
  Wheel w(kT0);
  w.Schedule(1, kT0 + 10 * kSimSecond);
  w.Schedule(2, kT0 + 10 * kSimSecond);
  ExpiryWheel<int>::Cancel(w.items()[1]);  // record stays, not filed
  EXPECT_FALSE(w.items()[1].filed());
  EXPECT_EQ(w.size(), 1u);
  w.Cancel(2);  // record gone
  EXPECT_TRUE(Advance(w, kT0 + 20 * kSimSecond).empty());
  w.Schedule(1, kT0 + 30 * kSimSecond);  // filed again after the cancel
  w.Schedule(2, kT0 + 30 * kSimSecond);  // a new record of the same key
  EXPECT_TRUE(Advance(w, kT0 + 29 * kSimSecond).empty());
  auto out = Advance(w, kT0 + 30 * kSimSecond);
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (std::vector<int>{1, 2}));
  EXPECT_EQ(w.size(), 0u);
}

}  // namespace
}  // namespace its
