#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/profile.h"
#include "proto/its.pb.h"
#include "r3_stub/r3_data.h"

namespace its::r3 {

// The simulated R/3 application server: user sessions (SM04), lock table
// (SM12) and the dialog of data-defined transactions. Not thread-safe: the
// server calls it from one thread. Time comes from the injected clock.
class R3System {
 public:
  R3System(MasterData data, Profile profile, const Clock& clock);

  // Each returns the response; *step_ms is the simulated processing time the
  // caller must wait before sending it (0 = at once).
  proto::R3Response Logon(const proto::R3Logon& req, int* step_ms);
  proto::R3Response Step(const proto::R3Step& req, int* step_ms);
  proto::R3Response Logoff(const proto::R3Logoff& req);

  proto::Sm04Reply UserSessions() const;
  proto::Sm12Reply Locks() const;
  size_t session_count() const { return sessions_.size(); }

 private:
  struct Session {
    uint64_t id = 0;
    std::string client, user, language, terminal;
    const TransactionDef* tx = nullptr;
    int screen = 0;
    std::map<std::string, std::string> vars;  // field values the user entered
    SimMicros logon_time = 0;
    SimMicros last_step = 0;
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
  void Render(const Session& s, const std::string& message, const std::string& type,
              proto::Screen* out) const;

  MasterData data_;
  Profile profile_;
  const Clock& clock_;
  int64_t max_users_;
  uint64_t next_session_ = 1;
  std::unordered_map<uint64_t, Session> sessions_;
  std::map<LockKey, Lock> locks_;
  std::map<LockKey, std::map<std::string, std::string>> records_;  // saved data
};

}  // namespace its::r3
