#include "wgate/wgate.h"

#include <algorithm>

#include "common/gusid.h"
#include "common/its_protocol.h"
#include "common/log.h"
#include "common/pages.h"
#include "common/strings.h"
#include "common/trace_wire.h"
#include "wgate/directory_reader.h"
#include "wgate/outcome.h"
#include "wgate/router.h"
#include "wgate/session_routing.h"
#include "wgate/topology.h"

namespace its::wgate {
namespace {

// The longest value a service request's parameter may have.
constexpr size_t kMaxParamValue = 4096;

bool IsFormPost(const http::Request& req) {
  if (req.method != "POST") return false;
  auto ct = req.Header("content-type");
  return ct && ToLower(*ct).rfind("application/x-www-form-urlencoded", 0) == 0;
}

}  // namespace

WGate::WGate(const ClusterConfig& config, const ServiceCatalog& services,
             asio::io_context& io)
    : config_(config),
      services_(services),
      io_(io),
      grpc_(io, std::chrono::milliseconds(
                    static_cast<int64_t>(config.wgate_step_timeout_s * 1000))),
      directory_(config.instances),
      watches_(config.instances.size(), 0),
      r3_(proto::R3::NewStub(MakeChannel(config.r3_advertise))),
      rng_(std::random_device{}()),
      clock_(config.time_scale, config.sim_epoch),
      manager_check_(io) {
  for (const auto& inst : config_.instances) {
    managers_.push_back(
        proto::MappingManager::NewStub(MakeChannel(inst.mapping_manager)));
  }
}

WGate::~WGate() = default;

void WGate::Start() {
  // A session started after its request's deadline would be reachable by
  // nobody (its browser had a 504): the agate ends it (and its R/3 session)
  // at once.
  grpc_.set_late_hook([this](const std::string& address,
                             proto::AGateResponse& late) {
    if (late.outcome() != proto::SESSION_STARTED &&
        late.outcome() != proto::SERVICE_RESTARTED) {
      return;
    }
    if (late.session_public().empty()) return;
    std::string agate = address;
    if (agate.empty()) {  // a step's: its session names the process
      auto id = ParsePublicId(late.session_public());
      const proto::ProcessInfo* p = id.ok() ? directory_.Owner(*id) : nullptr;
      if (p == nullptr) return;
      agate = p->address();
    }
    spdlog::warn("session {} started after its request's deadline; ending it",
                 late.session_public());
    ++metrics_.undelivered_sessions;
    grpc_.Deliver(agate, late.session_public(), false);
  });
  grpc_.Start();
  for (size_t i = 0; i < managers_.size(); ++i) Watch(i);
  CheckManagers();
}

void WGate::Stop() {
  stopping_ = true;
  if (metrics_.terminations_kept > 0) {
    spdlog::warn(
        "stopping with {} termination(s) kept for unreachable AGate processes: "
        "their sessions end at their ~timeout",
        metrics_.terminations_kept);
  }
  manager_check_.cancel();
  grpc_.Stop();  // cancels the directory streams and the agate streams
  agates_.clear();
}

// ------------------------------------------------------ directory upkeep

void WGate::Watch(size_t index) {
  uint64_t watch = next_watch_++;
  watches_[index] = watch;
  WatchDirectory(
      grpc_, managers_[index].get(),
      [this, index, watch](proto::Directory& d) {
        if (watches_[index] != watch) return;
        if (directory_.Update(index, d, std::chrono::steady_clock::now())) {
          spdlog::info("Mapping Manager of {} answers again",
                       directory_.instance(index).config->name);
        }
        PruneAgates();
        RetryTerminations(directory_.instance(index).config->name);
      },
      [this, index, watch] {
        if (watches_[index] != watch) return;
        watches_[index] = 0;
        // The manager is gone (crashed, restarting): new sessions go
        // elsewhere, but its agates keep serving their sessions with the
        // directory we have.
        if (directory_.ManagerGone(index)) {
          spdlog::warn(
              "Mapping Manager of {} unreachable: routing its sessions with "
              "the last directory",
              directory_.instance(index).config->name);
        }
        if (stopping_) return;
        auto timer = std::make_shared<asio::steady_timer>(
            io_, std::chrono::milliseconds(300));
        timer->async_wait([this, index, timer](const asio::error_code&) {
          if (!stopping_) Watch(index);
        });
      });
}

void WGate::CheckManagers() {
  for (const std::string& name :
       directory_.CheckSilence(std::chrono::steady_clock::now())) {
    spdlog::warn(
        "Mapping Manager of {} silent for {} s: no new sessions go there; "
        "its AGate processes keep serving their sessions",
        name, ProcessDirectory::kManagerSilence.count());
  }
  if (stopping_) return;
  manager_check_.expires_after(std::chrono::seconds(1));
  manager_check_.async_wait([this](const asio::error_code& ec) {
    if (!ec) CheckManagers();
  });
}

void WGate::PruneAgates() {
  // Connections to processes that left every directory (ended, restarted on
  // a new port) go; their calls in flight fail and are answered.
  if (agates_.size() <= directory_.MostProcesses()) return;  // none stale yet
  std::unordered_set<std::string> live = directory_.Addresses();
  std::erase_if(agates_, [&](const std::string& a) { return !live.count(a); });
  grpc_.KeepAgates(std::move(live));
}

void WGate::CallAgate(const std::string& address, proto::AGateRequest req,
                      GrpcSide::AgateDone done) {
  agates_.insert(address);
  grpc_.CallAgate(address, std::move(req), std::move(done));
}

// ------------------------------------------------------------ HTTP side

void WGate::Reply(Respond& respond, http::Response r) {
  ++metrics_.by_status[r.status];
  respond(std::move(r));
}

http::Response WGate::Page(int status, const std::string& title,
                           const std::string& message,
                           const std::string& steps) {
  http::Response r;
  r.status = status;
  r.body = MessagePage(title, message);
  if (!steps.empty()) r.AddHeader("X-ITS-Steps", steps);
  r.AddHeader("Cache-Control", "no-store");
  return r;
}

void WGate::Handle(http::Request& req, Respond respond) {
  ++metrics_.requests;
  Endpoint e = RoutePath(req.path);
  if (const char* allow = AllowedMethods(e.kind);
      allow != nullptr && !MethodAllowed(req.method, e.kind)) {
    // A DELETE or PUT must not start a session or run a dialog step.
    http::Response r = Page(405, "Method Not Allowed",
                            Cat(req.method,
                                " is not served here; this address "
                                "takes ",
                                allow),
                            e.kind == Endpoint::kService ? "1" : "");
    r.AddHeader("Allow", allow);
    // Every answer to a service URL carries its trace (§7.1).
    if (e.kind == Endpoint::kService)
      BeginTrace(req, e.service, e.start, &respond);
    Reply(respond, std::move(r));
    return;
  }
  switch (e.kind) {
    case Endpoint::kHealth: {
      http::Response r;
      std::string degraded;
      r.status = Healthy(&degraded) ? 200 : 503;
      r.content_type = "text/plain; charset=utf-8";
      if (r.status == 200) {
        r.body = degraded.empty() ? "ok\n" : Cat("ok, degraded:\n", degraded);
      } else {
        r.body = Cat("no AGate instance can take a new session:\n", degraded);
      }
      Reply(respond, std::move(r));
      return;
    }
    case Endpoint::kMetrics: {
      http::Response r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = MetricsText(metrics_, directory_);
      Reply(respond, std::move(r));
      return;
    }
    case Endpoint::kTopology: {
      http::Response r;
      r.content_type = "text/html; charset=utf-8";
      r.body = TopologyPage();
      Reply(respond, std::move(r));
      return;
    }
    case Endpoint::kTopologyJson: {
      std::vector<std::string> services;
      for (const auto& [name, params] : services_.services())
        services.push_back(name);
      http::Response r;
      r.content_type = "application/json";
      r.AddHeader("Cache-Control", "no-store");
      r.body = TopologyJson(config_, directory_, services,
                            ProcessDirectory::Clock::now())
                   .dump();
      Reply(respond, std::move(r));
      return;
    }
    case Endpoint::kTerminator:
      Terminator(req, std::move(respond));
      return;
    case Endpoint::kPortal:
      Portal(req, std::move(respond));
      return;
    case Endpoint::kAdmin:
      AdminPage(req, std::move(respond));
      return;
    case Endpoint::kAdminRedirect:
      AdminRedirect(req, std::move(respond));
      return;
    case Endpoint::kService:
      HandleService(req, e.service, e.start, std::move(respond));
      return;
    case Endpoint::kTraceList:
      ServeTraceList(std::move(respond));
      return;
    case Endpoint::kTrace:
    case Endpoint::kTraceJson:
      ServeTrace(e.trace, e.kind == Endpoint::kTraceJson, std::move(respond));
      return;
    case Endpoint::kNotFound:
      break;
  }
  ++metrics_.not_found;
  Reply(respond,
        Page(404, "Not Found", "There is nothing at this address", ""));
}

void WGate::HandleService(http::Request& req, const std::string& service,
                          bool start, Respond respond) {
  const TraceRef trace = BeginTrace(req, service, start, &respond);
  if (services_.Find(service) == nullptr) {
    ++metrics_.not_found;
    Reply(respond, Page(404, "Service not found",
                        Cat("Service ", service, " does not exist"), "1"));
    return;
  }
  Params url;
  absl::Status parsed = ParseQuery(req.query, &url, config_.http.max_params);
  if (parsed.ok() && IsFormPost(req))
    parsed = ParseQuery(req.body, &url, config_.http.max_params);
  // Screen fields are short (SAP's longest are a few hundred characters); a
  // value kept in the session and echoed on every page must not be a
  // megabyte.
  for (const auto& [name, value] : url.entries()) {
    if (!parsed.ok()) break;
    if (value.size() > kMaxParamValue) {
      parsed = absl::InvalidArgumentError(Cat(
          "parameter ", name, " is longer than ", kMaxParamValue, " bytes"));
    }
  }
  if (!parsed.ok()) {
    ++metrics_.bad_request;
    Reply(respond,
          Page(400, "Bad Request",
               Cat("Bad request parameters: ", parsed.message()), "1"));
    return;
  }
  const bool session_in_url = url.Has(kSessionCookieName);
  std::string session = TakeSessionId(url, req.Header("cookie"));
  if (start) {
    StartSession(service, std::move(url), session, req.client_ip, trace,
                 std::move(respond));
    return;
  }
  proto::AGateRequest areq;
  const bool terminate = IsTermination(url);
  // SISP: a termination may name its session by the public ID (~sessid)
  // with the termination-only token; neither is a parameter of a step.
  bool by_sessid = false;
  if (auto sessid = url.Get("~sessid")) {
    if (terminate) {
      session = std::string(*sessid);
      by_sessid = true;
    }
    url.Erase("~sessid");
  }
  // A session named in the URL may be another than the cookie's (a crafted
  // link): an answer about it must not clear the cookie of the session that
  // lives. A termination by public ID clears it only when it terminated.
  bool keep_cookie = false;
  if (session_in_url || by_sessid) {
    Params none;
    std::string cookie = TakeSessionId(none, req.Header("cookie"));
    bool same = cookie == session;
    if (by_sessid && !same) {  // the cookie's session by its public ID?
      auto id = ParseGusid(cookie);
      same = id.ok() && id->PublicId() == session;
    }
    keep_cookie = !cookie.empty() && !same;
  }
  if (auto token = url.Get("~termtoken")) {
    areq.set_term_token(std::string(*token));
    url.Erase("~termtoken");
  }
  if (session.empty()) {
    ++metrics_.no_session;
    http::Response r = Page(400, "No session",
                            "No session - please start the service again", "1");
    // A ~session cookie that did not decode is no session: it goes.
    if (auto header = req.Header("cookie");
        header && FindCookie(*header, kSessionCookieName)) {
      r.AddHeader("Set-Cookie", SessionCookie(service, ""));
    }
    Reply(respond, std::move(r));
    return;
  }
  areq.set_kind(terminate ? proto::AGateRequest::TERMINATE
                          : proto::AGateRequest::STEP);
  areq.set_command(ParseSessionCommand(url));
  areq.set_service(service);
  areq.set_session(std::move(session));
  areq.set_client_ip(req.client_ip);
  SetTrace(&areq, trace.trace, trace.root);
  for (const auto& [n, v] : url.entries()) {
    auto* p = areq.add_params();
    p->set_name(n);
    p->set_value(v);
  }
  ++metrics_.dialog_steps;
  Route(std::move(areq),
        [this, service, keep_cookie, by_sessid, respond = std::move(respond)](
            proto::AGateResponse& a, const std::string& instance,
            const std::string& address) mutable {
          if (keep_cookie || (by_sessid && a.outcome() != proto::TERMINATED))
            a.set_clear_session(false);
          Reply(respond,
                ToHttp(a, instance, address, ExistingSteps(a), service));
        });
}

// ------------------------------------------------ existing sessions' route

void WGate::Route(proto::AGateRequest req, Routed done) {
  if (req.kind() == proto::AGateRequest::TERMINATE) {
    done = KeepIfUnreachable(
        req, std::chrono::steady_clock::now() + kHoldTerminations,
        std::move(done), false);
  }
  RouteOnce(std::move(req), std::move(done));
}

namespace {

// A termination names its session by the full ID or (SISP) the public one.
absl::StatusOr<Gusid> TerminationOwner(const std::string& session) {
  auto id = ParseGusid(session);
  return id.ok() ? id : ParsePublicId(session);
}

}  // namespace

WGate::Routed WGate::KeepIfUnreachable(
    const proto::AGateRequest& req, std::chrono::steady_clock::time_point until,
    Routed done, bool retry) {
  return [this, req, until, retry, done = std::move(done)](
             proto::AGateResponse& a, const std::string& instance,
             const std::string& address) mutable {
    // The wgate's own answer (pid 0) that no process could be asked; a hung
    // one (AGATE_TIMEOUT) has it in its stream and acts on it when it runs.
    if (a.pid() == 0 && !stopping_ &&
        (a.outcome() == proto::STARTING ||
         a.outcome() == proto::AGATE_UNREACHABLE)) {
      KeepTermination(std::move(req), until, retry);
    }
    if (done) done(a, instance, address);
  };
}

void WGate::KeepTermination(proto::AGateRequest req,
                            std::chrono::steady_clock::time_point until,
                            bool retry) {
  auto id = TerminationOwner(req.session());
  if (!id.ok()) return;
  std::string public_id = id->PublicId();  // logged: without the secret
  if (!held_sessions_.insert(public_id).second) return;  // kept already
  std::vector<HeldTermination>& held = held_terminations_[id->instance];
  if (held.size() >= kMaxHeldTerminations) {
    held_sessions_.erase(public_id);
    if (metrics_.terminations_given_up++ == 0) {
      spdlog::warn(
          "{} terminations kept for {} already: giving up on more (see "
          "its_wgate_terminations_given_up_total)",
          held.size(), id->instance);
    }
    return;
  }
  if (!retry) {
    ++metrics_.terminations_held;
    spdlog::info(
        "termination of {} kept: its AGate process cannot be reached now; "
        "sent when {}'s directory says where it is",
        public_id, id->instance);
  }
  held.push_back({std::move(req), until});
  ++metrics_.terminations_kept;
}

void WGate::RetryTerminations(const std::string& instance) {
  auto it = held_terminations_.find(instance);
  if (it == held_terminations_.end() || it->second.empty() || stopping_) return;
  const auto now = std::chrono::steady_clock::now();
  std::vector<HeldTermination> held;
  held.swap(it->second);
  metrics_.terminations_kept -= held.size();
  size_t expired = 0;
  for (HeldTermination& h : held) {
    if (auto id = TerminationOwner(h.request.session()); id.ok())
      held_sessions_.erase(id->PublicId());
    if (h.until <= now) {
      ++expired;
      continue;
    }
    Routed again = KeepIfUnreachable(h.request, h.until, nullptr, true);
    RouteOnce(std::move(h.request), std::move(again));
  }
  if (expired > 0) {
    metrics_.terminations_given_up += expired;
    spdlog::warn(
        "{} kept termination(s) of {} given up: their AGate processes stayed "
        "unreachable for {} min",
        expired, instance,
        std::chrono::duration_cast<std::chrono::minutes>(kHoldTerminations)
            .count());
  }
}

void WGate::RouteOnce(proto::AGateRequest req, Routed done) {
  RouteDecision d = DecideRoute(directory_, req.session(),
                                req.kind() == proto::AGateRequest::TERMINATE,
                                config_.routing == "naive", rng_);
  RecordRoute(req, d);
  if (d.target == nullptr) {
    auto a = WgateAnswer(d.refusal);
    done(a, "", "");
    return;
  }
  if (d.misrouted) ++metrics_.misrouted_commands;
  std::string instance = d.target->instance();
  CallAgate(
      d.target->address(), std::move(req),
      [this, instance, address = d.target->address(),
       owner = std::move(d.owner), done = std::move(done)](
          const absl::Status& transport, proto::AGateResponse& a) mutable {
        if (transport.ok()) {
          done(a, instance, address);
        } else if (absl::IsDeadlineExceeded(transport)) {
          auto f = WgateAnswer(proto::AGATE_TIMEOUT);  // hung, not gone
          done(f, instance, "");
        } else {
          // The stream broke: a crash (its manager reports it within
          // milliseconds) or a cut link (the process lives on).
          AwaitVerdict(owner, std::move(done), 10);
        }
      });
}

void WGate::AwaitVerdict(const Gusid& owner, Routed done, int checks_left) {
  auto timer =
      std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
  timer->async_wait([this, timer, owner, checks_left,
                     done = std::move(done)](const asio::error_code&) mutable {
    if (OwnerEnded(directory_, owner)) {
      auto f = WgateAnswer(proto::SESSION_LOST);
      done(f, "", "");
    } else if (checks_left > 1 && !stopping_) {
      AwaitVerdict(owner, std::move(done), checks_left - 1);
    } else {
      auto f = WgateAnswer(proto::AGATE_UNREACHABLE);
      done(f, "", "");
    }
  });
}

http::Response WGate::ToHttp(proto::AGateResponse& a,
                             const std::string& instance,
                             const std::string& address, const char* steps,
                             const std::string& service) {
  metrics_.Count(a.outcome());
  http::Response r;
  bool redirect = !a.location().empty() &&
                  IsSafeRedirect(a.location(), config_.exit_url_hosts);
  r.status = HttpStatus(a.outcome(), redirect);
  r.body = std::move(*a.mutable_body());
  r.AddHeader("X-ITS-Steps", steps);
  // Only a process that answered is named (a hung one did not).
  if (!instance.empty() && a.pid() != 0)
    r.AddHeader("X-ITS-AGate", Cat(instance, "/", a.process(), "/", a.pid()));
  r.AddHeader("Cache-Control", "no-store");
  if (!a.set_session().empty()) {
    r.AddHeader("Set-Cookie", SessionCookie(service, a.set_session()));
  } else if (a.clear_session()) {
    r.AddHeader("Set-Cookie", SessionCookie(service, ""));
  }
  if (redirect) r.AddHeader("Location", a.location());
  if ((a.outcome() == proto::SESSION_STARTED ||
       a.outcome() == proto::SERVICE_RESTARTED) &&
      !a.session_public().empty() && !address.empty()) {
    // The agate holds the new session as unclaimed until told the browser
    // has its answer (proto::Delivery): if this process dies first, the
    // agate ends it unless a browser shows up with it.
    r.on_sent = [this, address,
                 session_public = a.session_public()](bool written) {
      if (!written) ++metrics_.undelivered_sessions;
      grpc_.Deliver(address, session_public, written);
    };
  }
  return r;
}

}  // namespace its::wgate
