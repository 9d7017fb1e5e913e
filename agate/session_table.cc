#include "agate/session_table.h"

namespace its::agate {

std::string SessionContext::Param(std::string_view name,
                                  std::string_view fallback) const {
  if (auto v = overrides.Get(name)) return std::string(*v);
  if (service_params) {
    if (auto v = service_params->Get(name)) return std::string(*v);
  }
  return std::string(fallback);
}

const char* StateName(SessionContext::State s) {
  switch (s) {
    case SessionContext::State::kActive:
      return "active";
    case SessionContext::State::kTimedOut:
      return "timed_out";
    case SessionContext::State::kLoggedOff:
      return "logged_off";
    case SessionContext::State::kAborted:
      return "aborted";
    case SessionContext::State::kEnded:
      return "ended";
    case SessionContext::State::kR3Lost:
      return "r3_lost";
  }
  return "?";
}

SessionTable::SessionTable(const Clock& clock, uint32_t incarnation,
                           int max_sessions,
                           std::function<std::string()> random)
    : clock_(clock),
      random_(random ? std::move(random) : NewSessionRandom),
      incarnation_(incarnation & 0xff),
      max_sessions_(max_sessions),
      wheel_(clock.Now()) {
  // No rehash of every session on the way up (a stall of the logic thread:
  // 24 ms at 700,000); tombstones may take more, rarely.
  const auto expected =
      static_cast<size_t>(std::clamp(max_sessions, 0, 2'000'000));
  sessions_.reserve(expected);
}

SessionContext* SessionTable::Create() {
  if (active_ >= max_sessions_) return nullptr;
  uint32_t slot;
  do {  // 24-bit counter; skip slots still held by old sessions or tombstones
    slot = (incarnation_ << 24) | (next_counter_ & 0xffffff);
    next_counter_ = (next_counter_ + 1) & 0xffffff;
    if (next_counter_ == 0) next_counter_ = 1;
  } while (sessions_.count(slot));
  SessionContext& s = sessions_[slot];
  s.slot = slot;
  s.set_random(random_());
  s.last_access = clock_.Now();
  ++active_;
  return &s;
}

SessionContext* SessionTable::Find(const Gusid& id, Lookup* why) {
  if ((id.slot >> 24) != incarnation_) {
    *why = Lookup::kOtherIncarnation;
    return nullptr;
  }
  auto it = sessions_.find(id.slot);
  if (it == sessions_.end()) {
    *why = Lookup::kUnknown;
    return nullptr;
  }
  if (!ConstantTimeEquals(it->second.random_hex(), id.random)) {
    *why = Lookup::kWrongRandom;
    return nullptr;
  }
  *why = Lookup::kFound;
  return &it->second;
}

SessionContext* SessionTable::FindByToken(const Gusid& public_id,
                                          std::string_view token, Lookup* why) {
  if ((public_id.slot >> 24) != incarnation_) {
    *why = Lookup::kOtherIncarnation;
    return nullptr;
  }
  auto it = sessions_.find(public_id.slot);
  if (it == sessions_.end()) {
    *why = Lookup::kUnknown;
    return nullptr;
  }
  const std::string_view expected = it->second.term_token();
  if (expected.empty() || !ConstantTimeEquals(expected, token)) {
    *why = Lookup::kWrongRandom;
    return nullptr;
  }
  *why = Lookup::kFound;
  return &it->second;
}

void SessionTable::Touch(SessionContext& s) {
  s.last_access = clock_.Now();
  wheel_.Schedule(s.slot, s.expiry, s.last_access + s.timeout);
}

void SessionTable::End(SessionContext& s, SessionContext::State why,
                       SimMicros keep_for) {
  if (s.state == SessionContext::State::kActive) --active_;
  s.state = why;
  s.r3_session = 0;
  s.busy = false;
  wheel_.Schedule(s.slot, s.expiry, clock_.Now() + keep_for);
}

void SessionTable::Erase(uint32_t slot) {
  auto it = sessions_.find(slot);
  if (it == sessions_.end()) return;
  if (it->second.state == SessionContext::State::kActive) --active_;
  sessions_.erase(it);
}

bool SessionTable::Advance(
    const std::function<void(SessionContext&)>& on_timeout) {
  return wheel_.Advance(
      clock_.Now(),
      [&](uint32_t slot) -> WheelItem* {
        auto it = sessions_.find(slot);
        return it == sessions_.end() ? nullptr : &it->second.expiry;
      },
      [&](uint32_t slot) {
        auto it = sessions_.find(slot);
        if (it == sessions_.end()) return;
        SessionContext& s = it->second;
        if (s.state == SessionContext::State::kActive) {
          on_timeout(s);  // must End() it, which files the tombstone's deadline
          if (s.state == SessionContext::State::kActive)
            End(s, SessionContext::State::kTimedOut, 0);
        } else {
          sessions_.erase(it);
        }
      },
      kExpiryBudget);
}

}  // namespace its::agate
