// The R/3 stub under any sequence of what agates can send it — logons,
// dialog steps with any OK codes and field values a browser can put in a
// form, logoffs, broken connections (EndOwnedBy), SM05 ends — and of time
// passing. Small limits (4 users per instance, 2 sessions per user, a user
// locked after 3 wrong passwords, a 10-minute idle logout) so that short
// inputs reach them.
//
// Properties: SM04, SM05 and SM12 agree with the counts; every lock belongs
// to a session in SM04; every answer is one of the codes R/3 sends; and
// nothing leaks: once every connection has broken, no user session and no
// lock remain.
//
// Input: a sequence of operations, each a byte and its arguments (Bytes).
// Strings come from the shipped transactions.toml (transaction codes, field
// names, OK codes, values) or from the input itself.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "r3_stub/r3_system.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/r3_fixture.h"

namespace its::fuzz {
namespace {

// One input's R/3 system: fresh, so that inputs do not depend on each other.
struct World {
  FakeClock clock{1000 * kSimSecond};
  const std::vector<std::string>& words = ShippedR3::Get().words;
  std::unique_ptr<r3::R3System> system = std::make_unique<r3::R3System>(
      ShippedR3::Get().data, ShippedR3::Get().profile,
      ShippedR3::Get().timeouts, clock);
  std::vector<uint64_t> sessions;  // every ID R/3 gave out

  std::string Word(Bytes& in) {
    const uint8_t b = in.Byte();
    if (b < 0xf0) return words[b % words.size()];
    return std::string(in.Short());  // anything a form can carry
  }
  uint64_t Session(Bytes& in) {
    const uint8_t b = in.Byte();
    if (sessions.empty() || b == 0xff) return b;
    return sessions[b % sessions.size()];
  }
  template <typename Map>
  void Fields(Bytes& in, Map* fields) {
    for (size_t n = in.Below(4); n > 0; --n) {
      std::string name = Word(in);  // first the name, then the value
      (*fields)[name] = Word(in);
    }
  }

  void CheckAnswer(const proto::R3Response& r, bool logon) {
    FUZZ_CHECK(r.code() == proto::R3Response::OK ||
               r.code() == proto::R3Response::SESSION_GONE ||
               (logon && (r.code() == proto::R3Response::BAD_LOGON ||
                          r.code() == proto::R3Response::REFUSED ||
                          r.code() == proto::R3Response::BAD_CALL)));
    if (r.code() == proto::R3Response::OK) FUZZ_CHECK(r.session() != 0);
    if (r.code() != proto::R3Response::OK)
      FUZZ_CHECK(!r.error().empty() ||
                 r.code() == proto::R3Response::SESSION_GONE);
  }

  void CheckTables() {
    const proto::Sm04Reply sm04 = system->UserSessions();
    const proto::Sm12Reply sm12 = system->Locks();
    const proto::Sm05Reply sm05 = system->SecuritySessions();
    FUZZ_CHECK(static_cast<size_t>(sm04.rows_size()) ==
               system->session_count());
    FUZZ_CHECK(static_cast<size_t>(sm12.rows_size()) == system->lock_count());
    FUZZ_CHECK(static_cast<size_t>(sm05.rows_size()) ==
               system->security_session_count());
    FUZZ_CHECK(system->session_count() <= 4);  // rdisp/tm_max_no
    std::set<uint64_t> live;
    for (const auto& row : sm04.rows()) live.insert(row.session());
    FUZZ_CHECK(live.size() == system->session_count());
    for (const auto& lock : sm12.rows()) FUZZ_CHECK(live.count(lock.session()));
    int linked = 0;
    for (const auto& row : sm05.rows()) linked += row.sessions();
    FUZZ_CHECK(static_cast<size_t>(linked) <= system->session_count());
  }

  void Expire() {
    // Advance() says false while more are due (the budget per turn).
    for (int turns = 0; !system->Advance(); ++turns) FUZZ_CHECK(turns < 100000);
    for (const auto& e : system->TakeEnded()) {
      FUZZ_CHECK(e.session != 0 && !e.reason.empty());
    }
  }
};

}  // namespace
}  // namespace its::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace its;
  fuzz::World w;
  fuzz::Bytes in(data, size);
  int ms = 0;
  for (int ops = 0; !in.empty() && ops < 200; ++ops) {
    switch (in.Below(7)) {
      case 0: {
        proto::R3Logon req;
        req.set_client(in.Byte() == 0xff ? "200" : "100");
        req.set_user(w.Word(in));
        req.set_password(in.Byte() < 0xe0 ? "welcome" : w.Word(in));
        req.set_tcode(w.Word(in));
        req.set_terminal("IT1/0000");
        req.set_service(in.Byte() & 1 ? "webgui" : "ess");
        w.Fields(in, req.mutable_fields());
        if (in.Byte() & 1) req.set_okcode(w.Word(in));
        const uint32_t owner = 1 + in.Below(3);
        proto::R3Response r = w.system->Logon(req, &ms, owner);
        w.CheckAnswer(r, true);
        FUZZ_CHECK(ms >= 0);
        if (r.code() == proto::R3Response::OK)
          w.sessions.push_back(r.session());
        break;
      }
      case 1: {
        proto::R3Step req;
        req.set_session(w.Session(in));
        req.set_okcode(w.Word(in));
        w.Fields(in, req.mutable_fields());
        w.CheckAnswer(w.system->Step(req, &ms), false);
        FUZZ_CHECK(ms >= 0);
        break;
      }
      case 2: {
        proto::R3Logoff req;
        req.set_session(w.Session(in));
        req.set_reason("logoff");
        w.CheckAnswer(w.system->Logoff(req), false);
        break;
      }
      case 3:
        w.clock.Advance(in.Byte() * 10 * kSimSecond);
        w.Expire();
        break;
      case 4:
        w.system->EndOwnedBy(1 + in.Below(3));
        break;
      case 5: {
        const auto sm05 = w.system->SecuritySessions();
        const uint8_t b = in.Byte();
        w.system->EndSecuritySession(
            sm05.rows_size() > 0 ? sm05.rows(b % sm05.rows_size()).id() : b);
        break;
      }
      case 6:
        w.CheckTables();
        break;
    }
  }
  w.CheckTables();
  // Every connection breaks: nothing may be left behind.
  for (uint32_t owner = 1; owner <= 3; ++owner) w.system->EndOwnedBy(owner);
  FUZZ_CHECK(w.system->session_count() == 0);
  FUZZ_CHECK(w.system->lock_count() == 0);
  FUZZ_CHECK(w.system->owner_count() == 0);
  w.CheckTables();
  return 0;
}
