#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <unordered_map>
#include <vector>

#include "common/clock.h"

namespace its {

// Deadlines of many keys, filed in a hashed ring of one-simulated-second
// buckets. Every operation is O(1) per key (amortised): Schedule() only
// records a later deadline and the key is re-filed when its old bucket comes
// due; Advance() visits only the buckets that came due since the last call
// (at most one turn of the ring), never the whole key set.
//
// A key expires in the first Advance(now) with deadline <= now.
template <typename Key>
class ExpiryWheel {
 public:
  explicit ExpiryWheel(SimMicros now, size_t ring_buckets = 4096)
      : ring_(ring_buckets), next_bucket_(now / kSimSecond) {}

  // Sets (or moves) the deadline of `key`.
  void Schedule(Key key, SimMicros deadline) {
    int64_t bucket = BucketOf(deadline);
    auto [it, inserted] = items_.try_emplace(key, Item{deadline, bucket});
    if (!inserted) {
      it->second.deadline = deadline;
      if (bucket >= it->second.bucket)
        return;                    // re-filed when the old bucket is due
      it->second.bucket = bucket;  // earlier: file again, old entry goes stale
    }
    ring_[Slot(bucket)].push_back(Entry{key, bucket});
  }

  void Cancel(Key key) { items_.erase(key); }
  bool Contains(Key key) const { return items_.count(key) != 0; }
  size_t size() const { return items_.size(); }

  // Makes room for `n` keys at once: growing the key table later rehashes
  // every key in one go (measured: 24 ms at 700,000 keys), a stall of the
  // thread that owns the wheel.
  void Reserve(size_t n) { items_.reserve(n); }

  // Calls `expire(key)` for every key whose deadline is <= now, and forgets it.
  // `expire` may call Schedule() and Cancel().
  //
  // Spends at most `budget` on entries due by `now` per call (an entry of a
  // later ring turn only moves back, free): what is due beyond that stays
  // filed, first in line, for the next call, so a million deadlines in one
  // second are spread over many turns of the caller's loop instead of stalling
  // one. Returns true once everything due by `now` was visited.
  template <typename F>
  bool Advance(SimMicros now, F&& expire,
               size_t budget = std::numeric_limits<size_t>::max()) {
    int64_t last = now / kSimSecond;
    if (last < next_bucket_) return true;
    int64_t end = std::min<int64_t>(
        last, next_bucket_ + static_cast<int64_t>(ring_.size()) - 1);
    for (int64_t b = next_bucket_; b <= end; ++b) {
      next_bucket_ = b;  // what Schedule() from `expire` clamps to
      std::vector<Entry> slot;
      slot.swap(ring_[Slot(b)]);
      for (size_t i = 0; i < slot.size(); ++i) {
        const Entry e = slot[i];
        if (e.bucket > last) {  // a later turn of the ring: no budget spent
          ring_[Slot(e.bucket)].push_back(e);
          continue;
        }
        if (budget == 0) {  // the rest, first in line for the next call
          std::vector<Entry>& back = ring_[Slot(b)];
          back.insert(back.begin(), slot.begin() + static_cast<ptrdiff_t>(i),
                      slot.end());
          return false;
        }
        --budget;  // every entry from here on is progress: gone or moved
        auto it = items_.find(e.key);
        if (it == items_.end() || it->second.bucket != e.bucket)
          continue;  // stale
        if (it->second.deadline <= now) {
          items_.erase(it);
          expire(e.key);
        } else {
          int64_t nb = BucketOf(it->second.deadline);  // > last
          it->second.bucket = nb;
          ring_[Slot(nb)].push_back(Entry{e.key, nb});
        }
      }
    }
    next_bucket_ = last + 1;
    return true;
  }

 private:
  struct Item {
    SimMicros deadline;
    int64_t bucket;
  };
  struct Entry {
    Key key;
    int64_t bucket;
  };

  int64_t BucketOf(SimMicros deadline) const {
    int64_t b = (deadline + kSimSecond - 1) / kSimSecond;  // ceil
    return b < next_bucket_ ? next_bucket_ : b;
  }
  size_t Slot(int64_t bucket) const {
    return static_cast<size_t>(bucket) % ring_.size();
  }

  std::unordered_map<Key, Item> items_;
  std::vector<std::vector<Entry>> ring_;
  int64_t next_bucket_;  // first bucket Advance() has not processed
};

}  // namespace its
