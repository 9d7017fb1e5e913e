#include "r3_stub/r3_system.h"

#include "common/strings.h"

namespace its::r3 {
proto::R3Response R3System::SessionGone(uint64_t session) {
  proto::R3Response resp;
  resp.set_session(session);
  resp.set_code(proto::R3Response::SESSION_GONE);
  resp.set_error("User session does not exist");
  return resp;
}

R3System::R3System(MasterData data, Profile profile, TimeoutSettings timeouts,
                   const Clock& clock)
    : data_(std::move(data)),
      profile_(std::move(profile)),
      timeouts_(std::move(timeouts)),
      clock_(clock),
      wheel_(clock.Now()) {
  // Out-of-range values were rejected when the profile was checked at start;
  // these fall back to SAP's defaults.
  max_users_ =
      profile_.GetInt("rdisp/tm_max_no", 200, 1, 10'000'000).value_or(200);
  max_alt_modes_ = profile_.GetInt("rdisp/max_alt_modes", 6, 2, 16).value_or(6);
  fails_to_lock_ =
      profile_.GetInt("login/fails_to_user_lock", 5, 1, 99).value_or(5);
  // Room for rdisp/tm_max_no sessions (up to two million) from the start:
  // growing a table later rehashes all of it at once, a stall of the loop
  // (24 ms at 700,000 entries).
  expected_sessions_ =
      static_cast<size_t>(std::min<int64_t>(max_users_, 2'000'000));
  sessions_.reserve(expected_sessions_);
  security_.reserve(expected_sessions_);
}

void R3System::Touch(Session& s) {
  s.last_step = clock_.Now();
  if (s.limit_s > 0)
    wheel_.Schedule(s.id, s.expiry, s.last_step + s.limit_s * kSimSecond);
  auto sec = security_.find(s.security);
  if (sec != security_.end()) {
    sec->second.last_activity = s.last_step;
    if (timeouts_.security_session > 0) {
      wheel_.Schedule(s.security | kSecurityKey, sec->second.expiry,
                      s.last_step + timeouts_.security_session * kSimSecond);
    }
  }
}

void R3System::EndUserSession(uint64_t id, const std::string& reason,
                              bool timeout) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session& s = it->second;
  ReleaseLocks(id);
  Unlink(s);
  auto mine = by_user_.find(*s.who);
  std::erase(mine->second, id);
  if (mine->second.empty()) by_user_.erase(mine);  // s.who dangles from here
  auto sec = security_.find(s.security);
  if (sec != security_.end()) {
    auto& linked = sec->second.sessions;
    linked.erase(std::remove(linked.begin(), linked.end(), id), linked.end());
    if (sec->second.sessions.empty()) {  // the logon is over
      security_.erase(sec);
    }
  }
  const uint32_t owner = s.owner;
  sessions_.erase(it);
  if (!reason.empty()) ended_.push_back(Ended{id, owner, reason, timeout});
}

void R3System::Link(Session& s) {
  if (s.owner == 0) return;
  Session*& head = owned_[s.owner];
  s.owned_prev = nullptr;
  s.owned_next = head;
  if (head) head->owned_prev = &s;
  head = &s;
}

void R3System::Unlink(Session& s) {
  if (s.owner == 0) return;
  if (s.owned_next) s.owned_next->owned_prev = s.owned_prev;
  if (s.owned_prev) {
    s.owned_prev->owned_next = s.owned_next;
  } else if (s.owned_next) {
    owned_[s.owner] = s.owned_next;
  } else {
    owned_.erase(s.owner);
  }
  s.owned_prev = s.owned_next = nullptr;
}

size_t R3System::EndOwnedBy(uint32_t owner) {
  size_t n = 0;
  while (true) {
    auto it = owned_.find(owner);
    if (it == owned_.end()) return n;
    EndUserSession(it->second->id, "");  // unlinks it: the next is the head
    ++n;
  }
}

bool R3System::EndSecuritySession(uint64_t id) {
  auto sec = security_.find(id);
  if (sec == security_.end()) return false;
  auto linked = sec->second.sessions;
  for (uint64_t s : linked) EndUserSession(s, "security session ended (SM05)");
  security_.erase(id);  // if it had no sessions left
  return true;
}

bool R3System::Advance() {
  std::vector<uint64_t> due;
  const bool all = wheel_.Advance(
      clock_.Now(),
      [&](uint64_t key) -> WheelItem* {
        if (key & kSecurityKey) {
          auto sec = security_.find(key & ~kSecurityKey);
          return sec == security_.end() ? nullptr : &sec->second.expiry;
        }
        auto s = sessions_.find(key);
        return s == sessions_.end() ? nullptr : &s->second.expiry;
      },
      [&](uint64_t key) { due.push_back(key); }, kExpiryBudget);
  for (uint64_t key : due) {
    if (key & kSecurityKey) {
      uint64_t id = key & ~kSecurityKey;
      auto sec = security_.find(id);
      if (sec == security_.end()) continue;
      auto linked = sec->second.sessions;
      for (uint64_t s : linked) {
        EndUserSession(
            s, "security session timed out (http/security_session_timeout)",
            /*timeout=*/true);
      }
      security_.erase(id);
    } else {
      auto s = sessions_.find(key);
      if (s == sessions_.end()) continue;
      EndUserSession(key,
                     Cat("R/3 session timed out (idle longer than ",
                         TimeoutSettings::LimitName(s->second.limit_source,
                                                    s->second.limit_s),
                         ")"),
                     /*timeout=*/true);
    }
  }
  return all;
}

std::vector<R3System::Ended> R3System::TakeEnded() {
  std::vector<Ended> out;
  out.swap(ended_);
  return out;
}

proto::Sm05Reply R3System::SecuritySessions() const {
  std::vector<std::pair<uint64_t, const SecuritySession*>> list;
  for (const auto& [id, s] : security_) list.emplace_back(id, &s);
  std::sort(list.begin(), list.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  proto::Sm05Reply reply;
  SimMicros now = clock_.Now();
  for (const auto& [id, s] : list) {
    proto::Sm05Row* r = reply.add_rows();
    r->set_id(id);
    r->set_client(s->who->first);
    r->set_user(s->who->second);
    r->set_sessions(static_cast<int>(s->sessions.size()));
    for (uint64_t session : s->sessions) r->add_session_ids(session);
    r->set_created(FormatTimeOfDay(s->created));
    r->set_last_activity(FormatTimeOfDay(s->last_activity));
    if (timeouts_.security_session > 0) {
      r->set_expires_in_s(
          static_cast<double>(s->last_activity +
                              timeouts_.security_session * kSimSecond - now) /
          kSimSecond);
    }
  }
  return reply;
}

proto::R3Response R3System::Logon(const proto::R3Logon& req, int* step_ms,
                                  uint32_t owner) {
  proto::R3Response resp;
  *step_ms = 0;
  auto user = data_.FindUser(req.client(), req.user());
  UserKey key{req.client(), user ? user->name : ToUpper(req.user())};
  auto& failures = failed_logons_[key];
  if (user && failures >= fails_to_lock_) {
    resp.set_code(proto::R3Response::REFUSED);
    resp.set_error("User is locked. Please notify the person responsible");
    return resp;
  }
  if (!user || user->password != req.password()) {
    if (user)
      ++failures;  // login/fails_to_user_lock
    else
      failed_logons_.erase(key);
    resp.set_code(proto::R3Response::BAD_LOGON);
    resp.set_error(user && failures >= fails_to_lock_
                       ? "User is locked. Please notify the person responsible"
                       : "Name or password is incorrect (repeat logon)");
    return resp;
  }
  failed_logons_.erase(key);
  if (static_cast<int64_t>(sessions_.size()) >= max_users_) {
    resp.set_code(proto::R3Response::REFUSED);
    resp.set_error(
        Cat("Logon not possible: the maximum number of logged-on users (",
            max_users_, ", rdisp/tm_max_no) is reached"));
    return resp;
  }
  const TransactionDef* tx = data_.FindTransaction(req.tcode());
  if (!tx) {
    resp.set_code(proto::R3Response::REFUSED);
    resp.set_error(
        Cat("Transaction ", ToUpper(req.tcode()), " does not exist"));
    return resp;
  }
  // A deep link's fields: all of them, or no session at all.
  if (std::string bad = CheckCallFields(*tx, req.fields()); !bad.empty()) {
    resp.set_code(proto::R3Response::BAD_CALL);
    resp.set_error(std::move(bad));
    return resp;
  }
  // More than rdisp/max_alt_modes sessions of one user: the oldest goes.
  while (true) {
    auto mine = by_user_.find(key);
    if (mine == by_user_.end() ||
        static_cast<int64_t>(mine->second.size()) < max_alt_modes_)
      break;
    EndUserSession(
        mine->second.front(),
        "displaced: the user opened more than rdisp/max_alt_modes sessions");
  }
  Session s;
  s.id = next_session_++;
  auto mine = by_user_.try_emplace(std::move(key)).first;
  mine->second.push_back(s.id);
  s.who = &mine->first;
  s.owner = owner;
  s.terminal = &*terminals_.insert(req.terminal()).first;
  s.limit_s = static_cast<int32_t>(
      timeouts_.ApplicationLimit(ToLower(req.service()), &s.limit_source));
  s.logon_time = s.last_step = clock_.Now();
  SecuritySession sec;  // one HTTP security session per logon (SM05)
  const uint64_t sec_id = next_security_++;
  sec.who = s.who;
  sec.created = sec.last_activity = s.logon_time;
  sec.sessions.push_back(s.id);
  s.security = sec_id;
  security_.emplace(sec_id, std::move(sec));
  StartTransaction(s, tx);
  // The call's fields, all input fields of the first screen (checked above):
  // each value under the screen's own name for the field.
  if (!req.fields().empty()) {
    const ScreenDef& first = tx->screens.at(tx->start);
    for (const auto& [k, v] : req.fields()) {
      const std::string name = ToUpper(k);
      for (const FieldDef& f : first.fields)
        if (f.name == name) s.vars.at(f.name) = v;
    }
  }
  *step_ms = tx->step_ms;
  std::string message;
  const char* type = "";
  if (!req.okcode().empty()) {  // *TCODE, DYNP_OKCODE, ~okcode: one more step
    Dispatch(s, req.okcode(), {}, &message, &type);
    *step_ms += s.tx->step_ms;
  }
  resp.set_session(s.id);
  Render(s, message, type, resp.mutable_screen());
  auto [it, inserted] = sessions_.emplace(s.id, std::move(s));
  Link(it->second);  // its address is final now
  Touch(it->second);
  return resp;
}

proto::R3Response R3System::Logoff(const proto::R3Logoff& req) {
  if (!sessions_.count(req.session())) return SessionGone(req.session());
  EndUserSession(req.session(), "");  // the agate asked: nothing to push back
  proto::R3Response resp;
  resp.set_session(req.session());
  return resp;
}

proto::Sm04Reply R3System::UserSessions() const {
  std::vector<const Session*> list;
  list.reserve(sessions_.size());
  for (const auto& [id, s] : sessions_) list.push_back(&s);
  std::sort(list.begin(), list.end(),
            [](auto* a, auto* b) { return a->id < b->id; });
  proto::Sm04Reply reply;
  for (const Session* s : list) {
    proto::Sm04Row* r = reply.add_rows();
    r->set_client(s->client());
    r->set_user(s->user());
    r->set_terminal(*s->terminal);
    r->set_tcode(s->tx->code);
    r->set_type("Plugin HTTP");
    r->set_last_step(FormatTimeOfDay(s->last_step));
    r->set_session(s->id);
  }
  return reply;
}

proto::Sm12Reply R3System::Locks() const {
  proto::Sm12Reply reply;
  for (const auto& [key, l] : locks_) {
    proto::Sm12Row* r = reply.add_rows();
    r->set_client(l.client);
    r->set_user(l.user);
    r->set_mode(l.mode);
    r->set_table(key.first);
    r->set_argument(key.second);
    r->set_time(FormatTimeOfDay(l.time));
    r->set_session(l.session);
  }
  return reply;
}

}  // namespace its::r3
