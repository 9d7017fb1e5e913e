#pragma once

#include <cstddef>
#include <string>
#include <unordered_set>
#include <vector>

namespace its::agate {

// The new sessions one wgate stream was told about and has not yet said it
// handed to a browser (proto::Delivery). When the stream closes, whatever
// is left was lost with its wgate and is ended (AGateProcess::EndUnclaimed).
// Loop thread; one per stream.
class UnclaimedSessions {
 public:
  // A wgate confirms each new session once its HTTP answer is written, so
  // only logons in flight are held; past this many (a wgate that never
  // confirms) new ones are not tracked and wait for ~timeout as before.
  static constexpr size_t kMaxHeld = 65536;

  // An answer that started `session_public` went out on this stream. False
  // if it is not tracked (kMaxHeld reached).
  bool Answered(const std::string& session_public) {
    if (held_.size() >= kMaxHeld) return false;
    held_.insert(session_public);
    return true;
  }
  // The wgate's word on a session: kEnd if it was held here and its browser
  // did not get it, kDelivered if it was held here and did, kNotHeld if
  // this stream does not hold it (ended meanwhile, another stream's, or
  // forged).
  enum class Word { kNotHeld, kDelivered, kEnd };
  Word Confirmed(const std::string& session_public, bool delivered) {
    if (held_.erase(session_public) == 0) return Word::kNotHeld;
    return delivered ? Word::kDelivered : Word::kEnd;
  }
  // The stream closed: every session still held.
  std::vector<std::string> TakeAll() {
    std::vector<std::string> all(held_.begin(), held_.end());
    held_.clear();
    return all;
  }
  size_t size() const { return held_.size(); }

 private:
  std::unordered_set<std::string> held_;
};

}  // namespace its::agate
