#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/byte_block.h"
#include "common/clock.h"
#include "common/expiry_wheel.h"
#include "common/gusid.h"
#include "common/params.h"

namespace its::agate {

// A few short strings in one heap block (a ByteBlock).
// What an idle session keeps of its text (service, logon data, transaction,
// SISP token): seven std::string members took 224 bytes of every idle
// session, this 8 and a block of ~70. Setting one rebuilds the block; they
// change rarely (the transaction code, when the user starts another one).
template <size_t N>
class PackedStrings {
 public:
  std::string_view get(size_t i) const {
    if (data_.empty()) return {};
    const uint32_t begin = i == 0 ? 0 : End(i - 1);
    return {data_.data() + kHeader + begin, End(i) - begin};
  }
  void set(size_t i, std::string_view value) {
    if (get(i) == value) return;
    std::array<std::string_view, N> all;
    for (size_t k = 0; k < N; ++k) all[k] = k == i ? value : get(k);
    assign(all);
  }
  // All at once (the views may point into this block).
  void assign(const std::array<std::string_view, N>& all) {
    size_t chars = 0;
    for (std::string_view v : all) chars += v.size();
    if (chars == 0) {
      data_ = ByteBlock();
      return;
    }
    ByteBlock fresh(kHeader + chars);
    uint32_t end = 0;
    for (size_t k = 0; k < N; ++k) {
      if (!all[k].empty())
        std::memcpy(fresh.data() + kHeader + end, all[k].data(), all[k].size());
      end += static_cast<uint32_t>(all[k].size());
      std::memcpy(fresh.data() + k * sizeof(uint32_t), &end, sizeof end);
    }
    data_ = std::move(fresh);
  }

 private:
  static constexpr size_t kHeader = N * sizeof(uint32_t);
  uint32_t End(size_t i) const {
    uint32_t end;
    std::memcpy(&end, data_.data() + i * sizeof(uint32_t), sizeof end);
    return end;
  }

  ByteBlock data_;  // [N uint32 end offsets][chars]; empty: all empty
};

// One ITS session context, held only in this AGate process's memory.
struct SessionContext {
  enum class State : uint8_t {
    kActive,     // R/3 session open
    kTimedOut,   // ~timeout passed; R/3 session ended; logon data may be kept
    kLoggedOff,  // /nex, ~command=logoff
    kAborted,    // SISP termination (USR_ABORT)
    kEnded,      // ended by R/3 (displaced, security session ended)
    kR3Lost,     // the connection to R/3 broke; R/3 ended the session
  };

  uint32_t slot = 0;
  State state = State::kActive;
  bool logon_kept = false;  // after the end: may restart without a new logon
  bool sisp = false;        // started with sapwp_active=1: pages carry SessInfo
  bool busy = false;        // a dialog step is with R/3
  bool cookies_off = false;  // ~cookies=0: the session travels in URLs
  // A request came with its full ID (or its SISP token): a browser has it,
  // so it is no unclaimed session (AGateProcess::EndUnclaimed).
  bool claimed = false;
  // The GUSID's random part, inline: as a std::string it took a heap block
  // of its own per session.
  std::array<char, kGusidRandomHex> random{};
  const Params* service_params = nullptr;  // effective service-file parameters
  CompactParams overrides;                 // URL parameters given at start
  uint64_t r3_session = 0;
  SimMicros last_access = 0;
  WheelItem expiry;       // its deadline: ~timeout, or the tombstone's end
  SimMicros timeout = 0;  // ~timeout
  SimMicros keep_logon_for = 0;  // ~userTimeout
  // Requests queued behind the step in flight (rare: a double submit). A
  // vector, not a deque: libstdc++'s deque allocates ~600 bytes up front, on
  // every idle session.
  std::vector<std::function<void()>> waiting;

  // Its text: the ITS service, the logon data (kept for a restart with
  // ~userTimeout; the password goes when it is not), the transaction shown,
  // and SISP's termination-only token (not the session secret).
  enum Text {
    kService,
    kClient,
    kUser,
    kPassword,
    kLanguage,
    kTcode,
    kTermToken
  };
  PackedStrings<kTermToken + 1> text;
  std::string_view service() const { return text.get(kService); }
  std::string_view client() const { return text.get(kClient); }
  std::string_view user() const { return text.get(kUser); }
  std::string_view password() const { return text.get(kPassword); }
  std::string_view language() const { return text.get(kLanguage); }
  std::string_view tcode() const { return text.get(kTcode); }
  std::string_view term_token() const { return text.get(kTermToken); }

  std::string_view random_hex() const { return {random.data(), random.size()}; }
  // Copies the first kGusidRandomHex characters of `hex` (fewer: the rest 0).
  void set_random(std::string_view hex) {
    random.fill(0);
    std::copy_n(hex.begin(), std::min(hex.size(), random.size()),
                random.begin());
  }
  // Effective ITS parameter: URL override, else service file.
  std::string Param(std::string_view name,
                    std::string_view fallback = "") const;
};

const char* StateName(SessionContext::State s);

// All session contexts of one AGate process, keyed by session slot. Expiry is
// O(1) per session (ExpiryWheel). Not thread-safe; the agate's logic thread
// owns it. Time comes from the injected clock.
class SessionTable {
 public:
  enum class Lookup {
    kFound,
    kUnknown,           // no such slot (ITS access-log type 'a')
    kWrongRandom,       // slot exists, random part differs ('w')
    kOtherIncarnation,  // the slot belonged to an earlier run of this process
  };

  // `max_sessions`: capacity; `incarnation`: how often this process slot was
  // started, carried in the top byte of every session slot; `random`: where
  // the random parts come from (NewSessionRandom unless given).
  SessionTable(const Clock& clock, uint32_t incarnation, int max_sessions,
               std::function<std::string()> random = nullptr);

  // A new active session with a fresh slot and random part; nullptr if full.
  SessionContext* Create();
  // Looks `id` up; the random part is compared in constant time.
  SessionContext* Find(const Gusid& id, Lookup* why);
  // Looks up by the public ID (no random part) for a SISP termination; the
  // termination token is compared in constant time (kWrongRandom if wrong).
  SessionContext* FindByToken(const Gusid& public_id, std::string_view token,
                              Lookup* why);
  // Records a request now: ~timeout counts from here.
  void Touch(SessionContext& s);
  // Ends an active session (the caller closed its R/3 session). The context
  // stays as a tombstone for `keep_for`, so the next request can be told why
  // (and, with logon data kept, restarted).
  void End(SessionContext& s, SessionContext::State why, SimMicros keep_for);
  void Erase(uint32_t slot);

  // Calls `on_timeout(s)` for every active session whose ~timeout passed; the
  // callback must End() it. Forgets tombstones whose time is up. Visits at
  // most kExpiryBudget deadlines per call and returns false when more are
  // due: the caller calls again on its loop's next turn, so sessions that
  // all expire in the same second do not stall the dialog steps.
  bool Advance(const std::function<void(SessionContext&)>& on_timeout);
  static constexpr size_t kExpiryBudget = 512;

  int active() const { return active_; }
  int max_sessions() const { return max_sessions_; }
  size_t size() const { return sessions_.size(); }
  // Every context, tombstones included (the caller must not add or erase).
  std::unordered_map<uint32_t, SessionContext>& all() { return sessions_; }
  const std::unordered_map<uint32_t, SessionContext>& all() const {
    return sessions_;
  }

 private:
  const Clock& clock_;
  std::function<std::string()> random_;
  uint32_t incarnation_;
  int max_sessions_;
  uint32_t next_counter_ = 1;
  int active_ = 0;
  // The contexts themselves in the nodes (stable addresses), not behind a
  // unique_ptr: one heap block per session less.
  std::unordered_map<uint32_t, SessionContext> sessions_;
  ExpiryWheel<uint32_t> wheel_;
};

}  // namespace its::agate
