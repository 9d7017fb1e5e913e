#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "common/clock.h"
#include "common/expiry_wheel.h"
#include "common/profile.h"
#include "proto/its.pb.h"
#include "r3_stub/r3_data.h"
#include "r3_stub/timeouts.h"

namespace its::r3 {

// The simulated R/3 application server: user sessions (SM04), HTTP security
// sessions (SM05), the lock table (SM12), the dialog of data-defined
// transactions, and the R/3 side of session lifetime: idle limits
// (TimeoutSettings), displacement beyond rdisp/max_alt_modes, user lock after
// login/fails_to_user_lock. Not thread-safe: the server calls it from one
// thread. Time comes from the injected clock.
// A session's field values by name: a few per screen, in one vector (a
// std::map took a 96-byte node per field on every idle session), each named
// by a pointer to the field's name in the master data (a copy of the name
// took 32 bytes a field).
class FieldValues {
 public:
  // The value of `name`, or nullptr.
  const std::string* find(std::string_view name) const {
    for (const Entry& e : entries_)
      if (*e.name == name) return &e.value;
    return nullptr;
  }
  // The value of `name`, or "".
  const std::string& get(std::string_view name) const {
    static const std::string kNone;
    const std::string* v = find(name);
    return v ? *v : kNone;
  }
  bool contains(std::string_view name) const { return find(name) != nullptr; }
  // The value of `name` to set; `name` must outlive these values (a name in
  // the master data, which outlives every session).
  std::string& at(std::string&& name) = delete;  // would dangle
  std::string& at(const std::string& name) {
    for (Entry& e : entries_)
      if (*e.name == name) return e.value;
    return entries_.emplace_back(Entry{&name, std::string()}).value;
  }
  void reserve(size_t n) { entries_.reserve(n); }
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    const std::string* name;
    std::string value;
  };
  std::vector<Entry> entries_;
};

class R3System {
 public:
  // A user session R/3 ended on its own; the server pushes it to the agate
  // that logged it on (`owner`, as given to Logon).
  struct Ended {
    uint64_t session;
    uint32_t owner;
    std::string reason;
    bool timeout;  // an idle limit ran out (proto::R3SessionEnded::timeout)
  };

  R3System(MasterData data, Profile profile, TimeoutSettings timeouts,
           const Clock& clock);

  // Each returns the response; *step_ms is the simulated processing time the
  // caller must wait before sending it (0 = at once). `owner` (not 0) names
  // the connection that logs on: EndOwnedBy() ends its sessions at once.
  proto::R3Response Logon(const proto::R3Logon& req, int* step_ms,
                          uint32_t owner = 0);
  proto::R3Response Step(const proto::R3Step& req, int* step_ms);
  proto::R3Response Logoff(const proto::R3Logoff& req);

  proto::Sm04Reply UserSessions() const;
  proto::Sm12Reply Locks() const;
  proto::Sm05Reply SecuritySessions() const;
  // Ends a security session and every application session linked to it.
  bool EndSecuritySession(uint64_t id);
  // Ends every user session `owner` logged on (its connection broke), locks
  // released, nothing reported by TakeEnded(); returns how many.
  size_t EndOwnedBy(uint32_t owner);
  // Owners that hold at least one session.
  size_t owner_count() const { return owned_.size(); }
  // Ends what passed its R/3-side idle limit (call once a simulated second).
  // Visits at most kExpiryBudget deadlines; returns false when more are due
  // (call again on the loop's next turn: a burst is spread, not a stall).
  bool Advance();
  static constexpr size_t kExpiryBudget = 512;
  // Sessions ended by R/3 itself since the last call.
  std::vector<Ended> TakeEnded();

  size_t session_count() const { return sessions_.size(); }
  // How many sessions the tables are sized for (rdisp/tm_max_no, capped).
  size_t expected_sessions() const { return expected_sessions_; }
  size_t security_session_count() const { return security_.size(); }
  size_t lock_count() const { return locks_.size(); }
  const TimeoutSettings& timeouts() const { return timeouts_; }

 private:
  using UserKey = std::pair<std::string, std::string>;  // client, user
  // What every idle session keeps, so it is kept small (a million of them in
  // tests/bench/million): client and user are the key of the user's entry in
  // by_user_ (it lives as long as the user has a session), the logon's
  // language and service are not kept (the service only chose limit_s).
  struct Session {
    uint64_t id = 0;
    const UserKey* who = nullptr;  // client, user: by_user_'s key
    const TransactionDef* tx = nullptr;
    int screen = 0;
    uint32_t owner = 0;  // the connection that logged it on (0: none)
    FieldValues vars;    // the screens' field values
    SimMicros logon_time = 0;
    SimMicros last_step = 0;
    WheelItem expiry;     // last_step + limit_s
    int32_t limit_s = 0;  // R/3-side idle limit (0 = none), at most 10^8 s
    LimitSource limit_source = LimitSource::kNone;  // the setting that gave it
    uint64_t security = 0;                          // its HTTP security session
    const std::string* terminal = nullptr;          // in terminals_
    // The keys it holds in locks_ (most sessions hold none: no vector).
    std::unique_ptr<std::vector<std::pair<std::string, std::string>>> locks;
    // The other sessions of the same owner (a list through the sessions: an
    // owner's sessions end together without a per-session index).
    Session* owned_prev = nullptr;
    Session* owned_next = nullptr;

    const std::string& client() const { return who->first; }
    const std::string& user() const { return who->second; }
  };
  struct SecuritySession {         // its ID is its key in security_
    const UserKey* who = nullptr;  // as Session::who: one user's sessions
    SimMicros created = 0;
    SimMicros last_activity = 0;
    WheelItem expiry;  // last_activity + http/security_session_timeout
    absl::InlinedVector<uint64_t, 1> sessions;  // usually one: no heap block
  };
  struct Lock {
    uint64_t session;
    std::string client, user, mode;
    SimMicros time;
  };
  using LockKey = std::pair<std::string, std::string>;  // table, argument

  std::string Expand(const std::string& tmpl, const Session& s,
                     const std::string& lock_owner = "") const;
  void EnterScreen(Session& s, int screen);
  void StartTransaction(Session& s, const TransactionDef* tx);
  void ReleaseLocks(uint64_t session, const std::string& table = "");
  // Records activity now: restarts the session's and its security session's
  // idle time.
  void Touch(Session& s);
  // The answer to a request for a session that no longer exists.
  static proto::R3Response SessionGone(uint64_t session);
  // Ends a user session (locks released); `reason` goes to the agate unless
  // empty.
  void EndUserSession(uint64_t id, const std::string& reason,
                      bool timeout = false);
  void Render(const Session& s, const std::string& message,
              const std::string& type, proto::Screen* out) const;
  // Applies `okcode` with the entered `fields` to the session's screen: the
  // screen flow of one dialog step. Sets the message and its type.
  void Dispatch(Session& s, const std::string& okcode,
                const google::protobuf::Map<std::string, std::string>& fields,
                std::string* message, const char** type);
  // "" if every field of a transaction call is an input field of `tx`'s
  // first screen; else the sentence naming the first one that is not.
  std::string CheckCallFields(
      const TransactionDef& tx,
      const google::protobuf::Map<std::string, std::string>& fields) const;

  void Link(Session& s);    // into its owner's list
  void Unlink(Session& s);  // out of it
  static constexpr uint64_t kSecurityKey =
      1ull << 63;  // wheel keys of security sessions

  MasterData data_;
  Profile profile_;
  TimeoutSettings timeouts_;
  const Clock& clock_;
  int64_t max_users_;
  size_t expected_sessions_ = 0;
  int64_t max_alt_modes_;
  int64_t fails_to_lock_;
  uint64_t next_session_ = 1;
  // SM05's IDs are a number space of their own (SAP shows long keys): from
  // 1001, so that nobody takes one for an SM04 session number.
  uint64_t next_security_ = 1001;
  std::unordered_map<uint64_t, Session> sessions_;
  std::unordered_map<uint64_t, SecuritySession> security_;
  std::map<UserKey, std::vector<uint64_t>>
      by_user_;  // sessions per user, oldest first
  std::map<UserKey, int> failed_logons_;
  ExpiryWheel<uint64_t> wheel_;
  std::vector<Ended> ended_;
  std::map<LockKey, Lock> locks_;
  std::map<LockKey, std::map<std::string, std::string>> records_;  // saved data
  std::unordered_map<uint32_t, Session*> owned_;  // first session per owner
  // The terminals (AGate processes) sessions were logged on from, each once:
  // a few names for any number of sessions.
  std::unordered_set<std::string> terminals_;
};

}  // namespace its::r3
