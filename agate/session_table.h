#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/expiry_wheel.h"
#include "common/gusid.h"
#include "common/params.h"

namespace its::agate {

// One ITS session context, held only in this AGate process's memory.
struct SessionContext {
  enum class State {
    kActive,     // R/3 session open
    kTimedOut,   // ~timeout passed; R/3 session ended; logon data may be kept
    kLoggedOff,  // /nex, ~command=logoff
    kAborted,    // SISP termination (USR_ABORT)
    kEnded,      // ended by R/3 (displaced, security session ended)
    kR3Lost,     // the connection to R/3 broke; R/3 ended the session
  };

  uint32_t slot = 0;
  State state = State::kActive;
  // The GUSID's random part, inline: as a std::string it took a heap block
  // of its own per session.
  std::array<char, kGusidRandomHex> random{};
  std::string service;
  const Params* service_params = nullptr;  // effective service-file parameters
  CompactParams overrides;                 // URL parameters given at start
  std::string client, user, password, language;
  uint64_t r3_session = 0;
  std::string tcode;
  SimMicros created = 0;
  SimMicros last_access = 0;
  SimMicros timeout = 0;         // ~timeout
  SimMicros keep_logon_for = 0;  // ~userTimeout
  bool logon_kept = false;  // after the end: may restart without a new logon
  bool sisp = false;        // started with sapwp_active=1: pages carry SessInfo
  bool busy = false;        // a dialog step is with R/3
  std::string
      term_token;  // termination-only token for SISP (not the session secret)
  // Requests queued behind the step in flight (rare: a double submit). A
  // vector, not a deque: libstdc++'s deque allocates ~600 bytes up front, on
  // every idle session.
  std::vector<std::function<void()>> waiting;

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
  // started, carried in the top byte of every session slot.
  SessionTable(const Clock& clock, uint32_t incarnation, int max_sessions);

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
  const std::unordered_map<uint32_t, std::unique_ptr<SessionContext>>& all()
      const {
    return sessions_;
  }

 private:
  const Clock& clock_;
  uint32_t incarnation_;
  int max_sessions_;
  uint32_t next_counter_ = 1;
  int active_ = 0;
  std::unordered_map<uint32_t, std::unique_ptr<SessionContext>> sessions_;
  ExpiryWheel<uint32_t> wheel_;
};

}  // namespace its::agate
