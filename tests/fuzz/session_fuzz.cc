// An AGate process and the R/3 stub in one program, under any sequence of
// what wgates, R/3 and time can do to them: logons with any ITS parameters,
// dialog steps and session commands for real, public, forged and ended
// session IDs, R/3 answering after its processing time, after the deadline
// or never (its connection breaks), ending sessions on its own (idle
// limits, displacement, SM05), ~timeout passing, answers that find the
// stream back to the wgate broken (new sessions then end at once), and the
// wgate's word whether a new session's browser got its answer (or the
// stream closing before it: the wgate crashed). Fake time, fake links, the
// real session logic on both sides.
//
// Properties:
// - every request gets exactly one answer, and every message either side
//   sends would parse at the other end (Protobuf strings must be UTF-8: one
//   bad message breaks a dialog stream);
// - whenever nothing is in flight, the R/3 sessions in SM04 are exactly the
//   agate's live sessions' (nothing leaked, nothing the agate believes in
//   that R/3 ended; with the connection pool, SM04 may hold pooled ones
//   besides), and every lock in SM12 belongs to one of them;
// - a session ends by its public ID only with the termination token its
//   own page carried;
// - when the stream back to the wgate closes, no session whose browser got
//   its answer ends; once it is closed for longer than the grace, every
//   live session is one whose browser got its answer or came with its ID
//   (none lost with the wgate lives on);
// - once time has run past every limit, no R/3 session and no lock is left.
//
// Input: one byte of options (work threads, R/3 connection pool), then
// operations (Bytes).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agate/agate_process.h"
#include "agate/unclaimed.h"
#include "common/clock.h"
#include "common/gusid.h"
#include "common/its_protocol.h"
#include "common/params.h"
#include "common/service_file.h"
#include "r3_stub/r3_system.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/r3_fixture.h"

namespace its::fuzz {
namespace {

template <typename Message>
void CheckParses(const Message& m) {
  Message copy;
  FUZZ_CHECK_SAW(copy.ParseFromString(m.SerializeAsString()),
                 m.ShortDebugString());
}

// The ITS parameters the agate reads, and the words of the transactions.
std::vector<std::string> ParamNames() {
  std::vector<std::string> names = {
      "~login",       "~password",      "~client",         "~language",
      "~transaction", "~timeout",       "~usertimeout",    "~okcode",
      "~command",     "~sapsessioncmd", "~servicerestart", "~cookies",
      "~exiturl",     "~agate_routing", "~passwd",         "SAPWP_ACTIVE"};
  for (const std::string& w : ShippedR3::Get().words) {
    if (!w.empty() && w.find('-') != std::string::npos) names.push_back(w);
  }
  return names;
}

const ServiceCatalog& Services() {
  static const ServiceCatalog* const catalog = [] {
    auto c = ServiceCatalog::Load(std::string(ITS_SOURCE_DIR) +
                                  "/deploy/config/services");
    FUZZ_CHECK(c.ok());
    return new ServiceCatalog(std::move(*c));
  }();
  return *catalog;
}

// R/3 behind a link whose calls the input answers when it likes.
class World final : public agate::R3Link {
 public:
  World(int work_threads, SimMicros r3_pool_keep) : pooled_(r3_pool_keep > 0) {
    agate::AGateOptions o;
    o.instance = "IT1";
    o.incarnation = 1;
    o.max_sessions = 3;
    o.work_threads = work_threads;
    o.r3_pool_keep = r3_pool_keep;
    o.exit_url_hosts = {"portal.example"};
    o.unclaimed_grace = kGrace;
    // Replayable IDs and tokens: an input that forges one from a real one
    // does the same on every run.
    o.random = [this] {
      const unsigned long long n = ++randoms_;
      char hex[33];
      std::snprintf(hex, sizeof hex, "%016llx%016llx", n,
                    n * 0x9e3779b97f4a7c15ULL);
      return std::string(hex);
    };
    agate_.emplace(
        o, clock_,
        [this](std::function<void()> fn) {
          deferred_.push_back(std::move(fn));
        },
        Services(), *this);
  }

  // agate::R3Link
  void Call(proto::R3Request request, Done done) override {
    CheckParses(request);
    pending_.push_back({std::move(request), std::move(done)});
  }

  // A request from a wgate. While the stream back to the wgate is down
  // (`wgate_up` false), answers cannot be sent: a new session's answer
  // makes the agate log it off at once, as agate_server.cc does; sent, it
  // waits for the wgate's word (Confirm) as unclaimed.
  void Send(proto::AGateRequest req) {
    CheckParses(req);
    if (req.kind() != proto::AGateRequest::START) Claimed(req.session());
    const size_t index = answers_.size();
    answers_.push_back(0);
    // Who may end a session: its holder (the full GUSID, from the cookie)
    // or, by the public ID, whoever has the termination token of its page.
    const bool by_public_id = !ParseGusid(req.session()).ok();
    const auto tokens = tokens_.find(req.session());
    const bool issued_token =
        tokens != tokens_.end() && tokens->second.count(req.term_token()) > 0;
    agate_->Handle(req, [this, index, by_public_id,
                         issued_token](proto::AGateResponse&& r) {
      FUZZ_CHECK(answers_[index]++ == 0);  // exactly once
      CheckParses(r);
      if (by_public_id && r.outcome() == proto::TERMINATED)
        FUZZ_CHECK(issued_token);
      const bool started = r.outcome() == proto::SESSION_STARTED ||
                           r.outcome() == proto::SERVICE_RESTARTED;
      if (!wgate_up_) {
        if (started)
          agate_->EndUnclaimed(r.session_public(),
                               agate::AGateProcess::Unclaimed::kNoStream);
        return;
      }
      if (!r.set_session().empty()) sessions_.push_back(r.set_session());
      if (started) {
        started_.push_back(r.session_public());
        if (unclaimed_.Answered(r.session_public()))
          unconfirmed_.push_back(r.session_public());
      }
      Harvest(r.body());
    });
  }
  // The stream back to the wgate closes (the wgate crashed: the new
  // sessions it had not confirmed end, as agate_server.cc does) or a new
  // one is there.
  void set_wgate_up(bool up) {
    if (wgate_up_ && !up) {
      const std::set<std::string> before = LiveDelivered();
      for (const std::string& p : unclaimed_.TakeAll())
        agate_->EndUnclaimed(p, agate::AGateProcess::Unclaimed::kStreamClosed);
      unconfirmed_.clear();
      FUZZ_CHECK(LiveDelivered() == before);  // none of them ended
      closed_at_ = clock_.Now();
    }
    wgate_up_ = up;
  }
  // The wgate's word on a new session: its browser got the answer or not.
  void Confirm(uint8_t which, bool delivered) {
    if (!wgate_up_ || unconfirmed_.empty()) return;
    const size_t at = which % unconfirmed_.size();
    const std::string p = unconfirmed_[at];
    unconfirmed_.erase(unconfirmed_.begin() + static_cast<ptrdiff_t>(at));
    if (delivered) delivered_.insert(p);
    if (unclaimed_.Confirmed(p, delivered) ==
        agate::UnclaimedSessions::Word::kEnd)
      agate_->EndUnclaimed(p, agate::AGateProcess::Unclaimed::kNotDelivered);
  }

  // R/3 takes the oldest call in flight and answers it (`in_time`), or
  // answers after the agate gave up on it (a TIMEOUT now, the answer later).
  void Answer(bool in_time) {
    if (pending_.empty()) return;
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    proto::R3Response resp = Run(p.request);
    PushEnded();
    if (in_time) {
      p.done(resp);
    } else {
      // DialogClient fails a call past its deadline from its sweep, on a
      // later turn of the loop.
      deferred_.push_back([done = std::move(p.done)]() mutable {
        proto::R3Response timeout =
            agate::R3Failure(agate::R3Client::Failure::kDeadline);
        done(timeout);
      });
      late_.push_back(std::move(resp));
    }
  }
  // R/3 processes the oldest call now and answers after its processing
  // time (step_ms): what it ends meanwhile is pushed before the answer.
  void Hold() {
    if (pending_.empty()) return;
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    proto::R3Response resp = Run(p.request);
    PushEnded();
    held_.push_back({std::move(resp), std::move(p.done)});
  }
  void DeliverHeld() {
    while (!held_.empty()) {
      Held h = std::move(held_.front());
      held_.pop_front();
      h.done(h.response);
    }
  }
  void DeliverLate() {
    while (!late_.empty()) {
      proto::R3Response r = std::move(late_.front());
      late_.pop_front();
      agate_->LateR3Answer(r);
    }
  }
  // An administrator ends an SM05 security session.
  void EndSecuritySession(uint8_t which) {
    const proto::Sm05Reply sm05 = r3_->SecuritySessions();
    if (sm05.rows_size() == 0) return;
    r3_->EndSecuritySession(sm05.rows(which % sm05.rows_size()).id());
    PushEnded();
  }
  // The R/3 stream breaks: R/3 ends the sessions logged on over it;
  // DialogClient tells the agate at once (R3ConnectionLost) and fails the
  // calls in flight on the loop's next turn; answers on their way are lost.
  void BreakConnection() {
    r3_->EndOwnedBy(owner_);
    ++owner_;
    agate_->R3ConnectionLost();
    auto fail = [this](Done done) {
      deferred_.push_back([done = std::move(done)]() mutable {
        proto::R3Response lost =
            agate::R3Failure(agate::R3Client::Failure::kConnectionLost);
        done(lost);
      });
    };
    for (Pending& p : pending_) fail(std::move(p.done));
    for (Held& h : held_) fail(std::move(h.done));
    pending_.clear();
    held_.clear();
    late_.clear();
  }
  void Pass(SimMicros d) {
    clock_.Advance(d);
    for (int i = 0; !r3_->Advance(); ++i) FUZZ_CHECK(i < 100000);
    PushEnded();
    for (int i = 0; !agate_->Tick(); ++i) FUZZ_CHECK(i < 100000);
  }
  void RunDeferred() {
    for (int i = 0; !deferred_.empty(); ++i) {
      FUZZ_CHECK(i < 1000000);
      auto fn = std::move(deferred_.front());
      deferred_.pop_front();
      fn();
    }
  }
  // Until nothing is in flight: every call answered, every late answer
  // delivered, every deferred piece of work done.
  void Settle() {
    for (int i = 0; !pending_.empty() || !held_.empty() || !late_.empty() ||
                    !deferred_.empty();
         ++i) {
      FUZZ_CHECK(i < 100000);
      RunDeferred();
      DeliverHeld();
      while (!pending_.empty()) Answer(true);
      DeliverLate();
    }
  }

  void CheckAgreement() {
    std::multiset<uint64_t> agate_r3;
    const proto::SessionsReply sessions = agate_->ListSessions();
    for (const auto& row : sessions.rows()) {
      CheckParses(row);
      if (row.r3_session() != 0) agate_r3.insert(row.r3_session());
    }
    std::multiset<uint64_t> sm04;
    const proto::Sm04Reply users = r3_->UserSessions();
    for (const auto& row : users.rows()) sm04.insert(row.session());
    if (pooled_) {
      // Pooled R/3 connections are in SM04 but no session's.
      FUZZ_CHECK(std::includes(sm04.begin(), sm04.end(), agate_r3.begin(),
                               agate_r3.end()));
    } else {
      FUZZ_CHECK(agate_r3 == sm04);
    }
    const proto::Sm12Reply locks = r3_->Locks();
    for (const auto& lock : locks.rows())
      FUZZ_CHECK(sm04.count(lock.session()) == 1);
    if (!wgate_up_ && clock_.Now() > closed_at_ + kGrace) {
      // Nobody can reach a session its browser never got.
      for (const auto& row : sessions.rows()) {
        if (row.state() == "active")
          FUZZ_CHECK_SAW(delivered_.count(row.session()) == 1 ||
                             claimed_.count(row.session()) == 1,
                         row.session());
      }
    }
  }
  void CheckAllAnswered() {
    for (int n : answers_) FUZZ_CHECK(n == 1);
  }

  // A browser came with the session's full ID (cookie or URL): it has it.
  // A forged ID claims nothing.
  void Claimed(const std::string& session) {
    if (std::find(sessions_.begin(), sessions_.end(), session) ==
        sessions_.end()) {
      return;
    }
    if (auto id = ParseGusid(session); id.ok()) claimed_.insert(id->PublicId());
  }

  r3::R3System& r3() { return *r3_; }
  const std::vector<std::string>& sessions() const { return sessions_; }
  const std::vector<std::string>& started() const { return started_; }
  const std::vector<std::string>& token_list() const { return token_list_; }

 private:
  struct Pending {
    proto::R3Request request;
    Done done;
  };
  struct Held {
    proto::R3Response response;
    Done done;
  };

  // What a page gives its user: the session in the form's URL (~cookies=0
  // sessions have no cookie) and, for SISP, its termination token.
  void Harvest(const std::string& body) {
    for (size_t at = body.find("?~session="); at != std::string::npos;
         at = body.find("?~session=", at + 1)) {
      const size_t from = at + 10;
      auto id =
          UrlDecode(body.substr(from, body.find_first_of("&\"'", from) - from));
      if (id.ok() && ParseGusid(*id).ok()) sessions_.push_back(*id);
    }
    for (size_t at = body.find("~sessid="); at != std::string::npos;
         at = body.find("~sessid=", at + 1)) {
      const size_t from = at + 8;
      const size_t amp = body.find('&', from);
      if (amp == std::string::npos) break;
      auto id = UrlDecode(body.substr(from, amp - from));
      if (!id.ok() || body.compare(amp, 12, "&~termtoken=") != 0) continue;
      const size_t t = amp + 12;
      std::string token = body.substr(t, body.find_first_of("&\"'\\", t) - t);
      tokens_[*id].insert(token);
      token_list_.push_back(std::move(token));
    }
  }

  proto::R3Response Run(const proto::R3Request& req) {
    int ms = 0;
    proto::R3Response r;
    if (req.has_logon()) {
      r = r3_->Logon(req.logon(), &ms, owner_);
    } else if (req.has_step()) {
      r = r3_->Step(req.step(), &ms);
    } else if (req.has_logoff()) {
      r = r3_->Logoff(req.logoff());
    } else {
      FUZZ_CHECK_SAW(false, req.ShortDebugString());
    }
    r.set_id(req.id());
    CheckParses(r);
    return r;
  }
  // Public IDs of the live sessions whose browser got the answer.
  std::set<std::string> LiveDelivered() const {
    std::set<std::string> live;
    const proto::SessionsReply sessions = agate_->ListSessions();
    for (const auto& row : sessions.rows()) {
      if (row.state() == "active" && delivered_.count(row.session()))
        live.insert(row.session());
    }
    return live;
  }

  // R/3 pushes the sessions it ended on its own.
  void PushEnded() {
    proto::R3Down down;
    for (const auto& e : r3_->TakeEnded()) {
      auto* ended = down.add_ended();
      ended->set_session(e.session);
      ended->set_reason(e.reason);
    }
    if (down.ended_size() > 0) {
      CheckParses(down);
      agate_->R3Ended(down);
    }
  }

  FakeClock clock_{1000 * kSimSecond};
  std::unique_ptr<r3::R3System> r3_ = std::make_unique<r3::R3System>(
      ShippedR3::Get().data, ShippedR3::Get().profile,
      ShippedR3::Get().timeouts, clock_);
  uint32_t owner_ = 1;
  std::deque<Pending> pending_;
  std::deque<proto::R3Response> late_;
  std::deque<std::function<void()>> deferred_;
  std::optional<agate::AGateProcess> agate_;
  std::vector<int> answers_;
  std::vector<std::string> sessions_;  // GUSIDs handed out
  std::vector<std::string> started_;   // their public IDs
  // Termination tokens on pages, by public ID, and all of them.
  std::map<std::string, std::set<std::string>> tokens_;
  std::vector<std::string> token_list_;
  std::deque<Held> held_;
  bool wgate_up_ = true;
  uint64_t randoms_ = 0;  // random parts handed out
  // The stream's new sessions awaiting the wgate's word (agate_server.cc's
  // ledger), the same in order, and those whose browser got the answer.
  agate::UnclaimedSessions unclaimed_;
  std::vector<std::string> unconfirmed_;
  std::set<std::string> delivered_;
  std::set<std::string> claimed_;  // public IDs a request came with
  // When the stream back to the wgate last closed; how long a session it
  // left unconfirmed waits for its browser.
  SimMicros closed_at_ = 0;
  static constexpr SimMicros kGrace = 30 * kSimSecond;
  const bool pooled_;
};

// Values: the transactions' words, and what ITS parameters take (minutes,
// hours, flags, a redirect).
std::vector<std::string> Values() {
  std::vector<std::string> values = ShippedR3::Get().words;
  for (const char* v : {"0", "1", "2", "15", "60", "-1", "99999999999",
                        "USR_ABORT", "USR_LOGOFF", "logoff", "/nex",
                        "https://portal.example/bye", "//evil.example/"})
    values.emplace_back(v);
  return values;
}

struct Vocabulary {
  const std::vector<std::string> words = Values();
  const std::vector<std::string> names = ParamNames();

  std::string Pick(Bytes& in, const std::vector<std::string>& from) {
    const uint8_t b = in.Byte();
    if (b < 0xf0) return from[b % from.size()];
    return std::string(in.Short());
  }
};

std::string SessionId(Bytes& in, const World& w) {
  const uint8_t how = in.Byte();
  const auto& ids = w.sessions();
  const auto& pub = w.started();
  switch (how % 5) {
    case 0:
    case 1:
      return ids.empty() ? "" : ids[in.Byte() % ids.size()];
    case 2:
      return pub.empty() ? "" : pub[in.Byte() % pub.size()];
    case 3: {  // a forged one: a GUSID with a byte changed
      if (ids.empty()) return "";
      std::string id = ids[in.Byte() % ids.size()];
      const size_t at = in.Byte() % id.size();
      id[at] ^= static_cast<char>(1 + in.Below(127));
      return id;
    }
    default:
      return std::string(in.Short());
  }
}

// The wgate sends an agate only session IDs that parse (wgate/
// session_routing.cc): a GUSID, or for a session command its public ID.
bool WgateWouldRoute(const std::string& session, bool terminate) {
  return ParseGusid(session).ok() || (terminate && ParsePublicId(session).ok());
}

void AddParams(Bytes& in, Vocabulary& v, proto::AGateRequest* req, size_t max) {
  for (size_t n = in.Below(max + 1); n > 0; --n) {
    std::string name = Params::NormalizeName(v.Pick(in, v.names));
    std::string value = v.Pick(in, v.words);
    // The wgate passes only UTF-8 (ParseQuery): so do we.
    if (!IsValidUtf8(name)) name = "X";
    if (!IsValidUtf8(value)) value = "x";
    auto* p = req->add_params();
    p->set_name(std::move(name));
    p->set_value(std::move(value));
  }
}

}  // namespace
}  // namespace its::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace its;
  // The processes' log lines (a broken R/3 connection, an unclaimed
  // session) are what the properties check; thousands a second are noise.
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  fuzz::Bytes in(data, size);
  fuzz::Vocabulary v;
  const uint8_t options = in.Byte();
  fuzz::World w(1 + options % 3, (options / 3) % 2 ? 5 * kSimMinute : 0);
  for (int ops = 0; !in.empty() && ops < 100; ++ops) {
    switch (in.Below(13)) {
      case 0: {  // a logon with the usual parameters and some others
        proto::AGateRequest req;
        req.set_kind(proto::AGateRequest::START);
        req.set_service(in.Byte() & 1 ? "webgui" : "ess");
        auto param = [&req](const char* name, std::string value) {
          auto* p = req.add_params();
          p->set_name(name);
          p->set_value(std::move(value));
        };
        static const char* const kUsers[] = {"DEMO", "DEMO2", "LOAD00001",
                                             "NOBODY"};
        param("~client", "100");
        param("~login", kUsers[in.Below(4)]);
        param("~password", in.Byte() < 0xf0 ? "welcome" : "wrong");
        std::string tcode = v.Pick(in, v.words);
        if (in.Byte() & 1) {  // a deep link with a field
          const std::string field = v.Pick(in, v.words);
          const size_t number = 1000 + in.Below(4);
          tcode = "*" + tcode + " " + field + "=" + std::to_string(number);
        }
        param("~transaction", IsValidUtf8(tcode) ? tcode : "FB03");
        param("~timeout", std::to_string(in.Below(4)));
        fuzz::AddParams(in, v, &req, 3);
        w.Send(std::move(req));
        break;
      }
      case 1: {  // a start with any parameters
        proto::AGateRequest req;
        req.set_kind(proto::AGateRequest::START);
        // The wgate routes only valid service names (lower case) to agates.
        std::string service = v.Pick(in, {"webgui", "ess", "global", "nosuch"});
        req.set_service(IsValidServiceName(service) ? service : "nosuch");
        fuzz::AddParams(in, v, &req, 6);
        w.Send(std::move(req));
        break;
      }
      case 2:
      case 3: {  // a dialog step (or a session command in its parameters)
        proto::AGateRequest req;
        req.set_kind(proto::AGateRequest::STEP);
        req.set_service(in.Byte() & 1 ? "webgui" : "ess");
        req.set_session(fuzz::SessionId(in, w));
        fuzz::AddParams(in, v, &req, 3);
        Params parsed;
        for (const auto& p : req.params()) parsed.Set(p.name(), p.value());
        // As the wgate does: a session command is a termination.
        const bool terminate = IsTermination(parsed);
        if (terminate) req.set_kind(proto::AGateRequest::TERMINATE);
        req.set_command(ParseSessionCommand(parsed));
        if (fuzz::WgateWouldRoute(req.session(), terminate))
          w.Send(std::move(req));
        break;
      }
      case 4: {  // a termination (SISP, DSM), with the right token or not
        proto::AGateRequest req;
        req.set_kind(proto::AGateRequest::TERMINATE);
        req.set_service(in.Byte() & 1 ? "webgui" : "ess");
        req.set_session(fuzz::SessionId(in, w));
        req.set_command(in.Byte() & 1 ? proto::USR_LOGOFF : proto::USR_ABORT);
        const auto& tokens = w.token_list();
        const uint8_t t = in.Byte();
        if (!tokens.empty() && t < 0xc0) {
          req.set_term_token(tokens[t % tokens.size()]);
        } else if (t < 0xf0) {
          req.set_term_token(std::string(in.Short()));
        }
        if (!IsValidUtf8(req.term_token())) req.clear_term_token();
        if (fuzz::WgateWouldRoute(req.session(), true)) w.Send(std::move(req));
        break;
      }
      case 5:
        for (size_t n = 1 + in.Below(4); n > 0; --n) w.Answer(true);
        break;
      case 6:
        w.Answer(false);
        break;
      case 7:
        w.DeliverLate();
        break;
      case 8:
        w.BreakConnection();
        break;
      case 9:
        w.Pass(in.Byte() * 5 * kSimSecond);
        break;
      case 10: {  // the stream back to the wgate breaks, or is back; or
                  // the wgate says whether a new session reached its browser
        const uint8_t b = in.Byte();
        if (b < 0x80) {
          w.set_wgate_up(b & 1);
        } else {
          w.Confirm(in.Byte(), b & 1);
        }
        break;
      }
      case 11:
        w.Hold();
        if (in.Byte() & 1) w.DeliverHeld();
        break;
      case 12:
        w.EndSecuritySession(in.Byte());
        break;
    }
    // After each operation: the loop's end of burst, or not yet; all in
    // flight settled (and the two sides compared), or not yet.
    if (in.Byte() & 1) w.RunDeferred();
    if (in.Byte() & 1) {
      w.Settle();
      w.CheckAgreement();
    }
  }
  w.Settle();
  w.CheckAllAnswered();
  w.CheckAgreement();
  // Time runs past every limit (R/3's idle logout is 10 minutes, so every
  // R/3 session ends by then if the agate does not end it first): the
  // agate must have let go of every one, and nothing is left in R/3.
  w.Pass(12 * kSimHour);
  w.Settle();
  w.Pass(kSimSecond);
  w.Settle();
  w.CheckAllAnswered();
  w.CheckAgreement();
  FUZZ_CHECK(w.r3().session_count() == 0);
  FUZZ_CHECK(w.r3().lock_count() == 0);
  return 0;
}
