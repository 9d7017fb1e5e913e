#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/clock.h"

namespace its {

// A key's deadline and its bucket on an ExpiryWheel, kept in the record the
// key names (a session), so the wheel needs no table of its own: an idle
// session costs 16 bytes here instead of a hash-table node and bucket, and
// rescheduling it on every request costs no hash lookup.
struct WheelItem {
  static constexpr int64_t kNotFiled = std::numeric_limits<int64_t>::min();
  SimMicros deadline = 0;
  int64_t bucket = kNotFiled;
  bool filed() const { return bucket != kNotFiled; }
};

// Deadlines of many keys, filed in a hashed ring of one-simulated-second
// buckets. Every operation is O(1) per key (amortised): Schedule() only
// records a later deadline and the key is re-filed when its old bucket comes
// due; Advance() visits only the buckets that came due since the last call
// (at most one turn of the ring), never the whole key set.
//
// The ring holds keys; each key's WheelItem lives with its record, which
// Advance() finds through the caller's `find(key)` (nullptr once the record
// is gone: its entries are dropped as stale). A key expires in the first
// Advance(now) with deadline <= now.
template <typename Key>
class ExpiryWheel {
 public:
  explicit ExpiryWheel(SimMicros now, size_t ring_buckets = 4096)
      : ring_(ring_buckets), next_bucket_(now / kSimSecond) {}

  // Sets (or moves) the deadline of `key`, whose item is `item`.
  void Schedule(Key key, WheelItem& item, SimMicros deadline) {
    int64_t bucket = BucketOf(deadline);
    const bool was_filed = item.filed();
    item.deadline = deadline;
    if (was_filed) {
      if (bucket >= item.bucket) return;  // re-filed when the old bucket is due
      // earlier: file again, the old entry goes stale
    }
    item.bucket = bucket;
    ring_[Slot(bucket)].push_back(Entry{key, bucket});
  }

  // The key no longer expires (its ring entry goes stale).
  static void Cancel(WheelItem& item) { item.bucket = WheelItem::kNotFiled; }

  // Calls `expire(key)` for every key whose deadline is <= now (its item is
  // no longer filed by then). `expire` may call Schedule() and Cancel() and
  // end the key's record.
  //
  // Spends at most `budget` on entries due by `now` per call (an entry of a
  // later ring turn only moves back, free): what is due beyond that stays
  // filed, first in line, for the next call, so a million deadlines in one
  // second are spread over many turns of the caller's loop instead of stalling
  // one. Returns true once everything due by `now` was visited.
  template <typename Find, typename F>
  bool Advance(SimMicros now, Find&& find, F&& expire,
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
        WheelItem* item = find(e.key);
        if (item == nullptr || item->bucket != e.bucket) continue;  // stale
        if (item->deadline <= now) {
          Cancel(*item);
          expire(e.key);
        } else {
          int64_t nb = BucketOf(item->deadline);  // > last
          item->bucket = nb;
          ring_[Slot(nb)].push_back(Entry{e.key, nb});
        }
      }
    }
    next_bucket_ = last + 1;
    return true;
  }

 private:
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

  std::vector<std::vector<Entry>> ring_;
  int64_t next_bucket_;  // first bucket Advance() has not processed
};

}  // namespace its
