#include "wgate/wgate.h"

#include <grpcpp/support/client_callback.h>

#include <algorithm>
#include <unordered_set>

#include "common/gusid.h"
#include "common/log.h"
#include "common/pages.h"
#include "common/params.h"
#include "common/strings.h"
#include "wgate/terminator.h"

namespace its::wgate {
namespace {

constexpr char kStepsNew[] = "1,2,3,4,5";
constexpr char kStepsExisting[] = "1,4,5";
constexpr char kPrefix[] = "/scripts/wgate/";
// At most this long for an assignment (a scale-up may take a while); never
// longer than the step deadline.
constexpr int kAssignDeadlineMs = 15000;
// A Mapping Manager sends its directory at least once a second.
constexpr auto kManagerSilence = std::chrono::seconds(3);
constexpr size_t kMaxTerminations = 1000;  // sessions per Terminator request
constexpr char kSessionLost[] =
    "The AGate process that held this session ended - please log in again";
constexpr char kNoSession[] =
    "The session does not exist - please log in again";
constexpr char kAgateUnreachable[] =
    "The AGate process that holds this session cannot be reached right now - "
    "your session is kept, please try again";
constexpr char kAgateTimeout[] =
    "The AGate process did not answer in time - your session is kept, please "
    "try again";

// A page about a passing problem: the session stays, so does the cookie.
proto::AGateResponse Transient(int status, const std::string& title,
                               const std::string& text) {
  proto::AGateResponse a;
  a.set_http_status(status);
  a.set_body(MessagePage(title, text));
  a.set_note(text);
  return a;
}

proto::AGateResponse Failure(const std::string& title,
                             const std::string& text) {
  proto::AGateResponse a;
  a.set_http_status(400);
  a.set_body(MessagePage(title, text));
  a.set_clear_session(true);
  a.set_note(text);
  return a;
}

bool IsFormPost(const http::Request& req) {
  if (req.method != "POST") return false;
  auto ct = req.Header("content-type");
  return ct && ToLower(*ct).rfind("application/x-www-form-urlencoded", 0) == 0;
}

}  // namespace

std::string SessionCookie(const std::string& service,
                          const std::string& gusid) {
  std::string path = Cat(kPrefix, service, "/");
  if (gusid.empty()) {
    return Cat("~session=; Path=", path, "; Max-Age=0; HttpOnly; SameSite=Lax");
  }
  return Cat("~session=", UrlEncode(gusid), "; Path=", path,
             "; HttpOnly; SameSite=Lax");
}

// Reads one Mapping Manager's directory stream on the gRPC loop thread and
// hands every directory to the Asio thread; tells it when the stream ended.
class WGate::DirectoryReader final {
 public:
  DirectoryReader(WGate& wgate, size_t index, uint64_t watch,
                  proto::MappingManager::Stub* stub)
      : wgate_(wgate), index_(index), watch_(watch), stub_(stub) {}

  void Start() {  // loop thread
    GrpcLoop& loop = wgate_.grpc_.loop();
    if (loop.stopping()) return End();
    loop.AddClientCall(&context_);
    reader_ =
        stub_->PrepareAsyncWatchDirectory(&context_, proto::Empty(), loop.cq());
    ++ops_;
    reader_->StartCall(&start_tag_);
  }

 private:
  void OnStart(bool ok) {
    --ops_;
    ok ? Read() : Finish();
  }
  void OnRead(bool ok) {
    --ops_;
    if (!ok) return Finish();
    auto d = std::make_shared<proto::Directory>();
    d->Swap(&directory_);
    WGate* w = &wgate_;
    size_t i = index_;
    uint64_t watch = watch_;
    wgate_.grpc_.OnAsio([w, i, watch, d] { w->DirectoryUpdate(i, watch, *d); });
    Read();
  }
  void OnFinish(bool) {
    --ops_;
    End();
  }
  void Read() {
    if (wgate_.grpc_.loop().stopping()) return End();
    ++ops_;
    reader_->Read(&directory_, &read_tag_);
  }
  void Finish() {
    if (wgate_.grpc_.loop().stopping()) return End();
    ++ops_;
    reader_->Finish(&status_, &finish_tag_);
  }
  void End() {
    if (ops_ > 0) return;
    if (reader_) wgate_.grpc_.loop().RemoveClientCall(&context_);
    WGate* w = &wgate_;
    size_t i = index_;
    uint64_t watch = watch_;
    wgate_.grpc_.OnAsio([w, i, watch] { w->DirectoryEnded(i, watch); });
    delete this;
  }

  WGate& wgate_;
  size_t index_;
  uint64_t watch_;
  proto::MappingManager::Stub* stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncReader<proto::Directory>> reader_;
  proto::Directory directory_;
  grpc::Status status_;
  int ops_ = 0;
  GrpcLoop::MemberTag<DirectoryReader, &DirectoryReader::OnStart> start_tag_{
      this};
  GrpcLoop::MemberTag<DirectoryReader, &DirectoryReader::OnRead> read_tag_{
      this};
  GrpcLoop::MemberTag<DirectoryReader, &DirectoryReader::OnFinish> finish_tag_{
      this};
};

void WGate::DirectoryUpdate(size_t index, uint64_t watch, proto::Directory& d) {
  Instance& inst = instances_[index];
  if (inst.watch != watch) return;
  if (!inst.manager_ok) {
    spdlog::info("Mapping Manager of {} answers again", inst.config->name);
  }
  inst.last_directory = std::chrono::steady_clock::now();
  inst.manager_ok = true;
  inst.has_directory = true;
  inst.directory.Swap(&d);
  PruneAgates();
}

void WGate::CheckManagers() {
  auto now = std::chrono::steady_clock::now();
  for (Instance& inst : instances_) {
    if (inst.manager_ok && now - inst.last_directory > kManagerSilence) {
      inst.manager_ok = false;
      spdlog::warn(
          "Mapping Manager of {} silent for {} s: no new sessions go there; "
          "its AGate processes keep serving their sessions",
          inst.config->name, kManagerSilence.count());
    }
  }
  if (stopping_) return;
  manager_check_.expires_after(std::chrono::seconds(1));
  manager_check_.async_wait([this](const asio::error_code& ec) {
    if (!ec) CheckManagers();
  });
}

void WGate::DirectoryEnded(size_t index, uint64_t watch) {
  Instance& inst = instances_[index];
  if (inst.watch != watch) return;
  inst.watch = 0;
  // The manager is gone (crashed, restarting): new sessions go elsewhere,
  // but its agates keep serving their sessions with the directory we have.
  if (inst.manager_ok) {
    spdlog::warn(
        "Mapping Manager of {} unreachable: routing its sessions with the last "
        "directory",
        inst.config->name);
  }
  inst.manager_ok = false;
  if (stopping_) return;
  auto timer =
      std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(300));
  timer->async_wait([this, index, timer](const asio::error_code&) {
    if (!stopping_) Watch(index);
  });
}

WGate::WGate(const ClusterConfig& config, const ServiceCatalog& services,
             asio::io_context& io)
    : config_(config),
      services_(services),
      io_(io),
      grpc_(io, std::chrono::milliseconds(
                    static_cast<int64_t>(config.wgate_step_timeout_s * 1000))),
      r3_(proto::R3::NewStub(MakeChannel(config.r3_listen))),
      rng_(std::random_device{}()),
      manager_check_(io) {
  for (const auto& inst : config_.instances) {
    Instance i;
    i.config = &inst;
    i.stub = proto::MappingManager::NewStub(MakeChannel(inst.mapping_manager));
    i.directory.set_instance(inst.name);
    instances_.push_back(std::move(i));
  }
}

WGate::~WGate() = default;

void WGate::Start() {
  // A session started after its request's deadline would be reachable by
  // nobody: end it (and its R/3 session) at once.
  grpc_.set_late_hook([this](const std::string& address,
                             proto::AGateResponse& late) {
    if (late.set_session().empty()) return;
    spdlog::warn("a session started after its request's deadline; ending it");
    proto::AGateRequest term;
    term.set_kind(proto::AGateRequest::TERMINATE);
    term.set_session(late.set_session());
    auto* p = term.add_params();
    p->set_name("~command");
    p->set_value("logoff");
    CallAgate(address, std::move(term),
              [](const absl::Status&, proto::AGateResponse&) {});
  });
  grpc_.Start();
  for (size_t i = 0; i < instances_.size(); ++i) Watch(i);
  CheckManagers();
}

void WGate::Watch(size_t index) {
  uint64_t watch = next_watch_++;
  instances_[index].watch = watch;
  auto* reader =
      new DirectoryReader(*this, index, watch, instances_[index].stub.get());
  grpc_.OnLoop([reader] { reader->Start(); });
}

void WGate::Stop() {
  stopping_ = true;
  manager_check_.cancel();
  grpc_.Stop();  // cancels the directory streams and the agate streams
  agates_.clear();
}

bool WGate::Healthy(std::string* degraded) const {
  bool any = false;
  for (const auto& i : instances_) {
    const std::string& name = i.config->name;
    int up = 0;
    for (const auto& p : i.directory.processes()) {
      if (p.state() == proto::ProcessInfo::UP) {
        ++up;
      } else if (degraded) {
        *degraded +=
            Cat(name, "/", p.process(), ": AGate process ",
                ToLower(proto::ProcessInfo::State_Name(p.state())), "\n");
      }
    }
    if (!i.manager_ok) {
      if (degraded) {
        *degraded +=
            Cat(name, ": Mapping Manager unreachable (no new sessions; ",
                "its AGate processes keep serving)\n");
      }
    } else if (up == 0) {
      if (degraded) *degraded += Cat(name, ": no live AGate process\n");
    } else {
      any = true;
    }
  }
  return any;
}

void WGate::PruneAgates() {
  // Connections to processes that left every directory (ended, restarted on
  // a new port) go; their calls in flight fail and are answered.
  size_t most = 0;  // processes the cluster may run at once
  for (const auto& inst : instances_)
    most += static_cast<size_t>(inst.config->max_agates);
  if (agates_.size() <= most) return;  // nothing can be stale yet
  std::unordered_set<std::string> live;
  for (const auto& inst : instances_)
    for (const auto& p : inst.directory.processes()) live.insert(p.address());
  std::erase_if(agates_, [&](const std::string& a) { return !live.count(a); });
  grpc_.KeepAgates(std::move(live));
}

void WGate::CallAgate(const std::string& address, proto::AGateRequest req,
                      GrpcSide::AgateDone done) {
  agates_.insert(address);
  grpc_.CallAgate(address, std::move(req), std::move(done));
}

void WGate::Reply(Respond& respond, http::Response r) {
  ++metrics_.by_status[r.status];
  respond(std::move(r));
}

http::Response WGate::Page(int status, const std::string& title,
                           const std::string& message, const std::string& steps,
                           bool clear_cookie_for, const std::string& service) {
  http::Response r;
  r.status = status;
  r.body = MessagePage(title, message);
  if (!steps.empty()) r.AddHeader("X-ITS-Steps", steps);
  r.AddHeader("Cache-Control", "no-store");
  if (clear_cookie_for) r.AddHeader("Set-Cookie", SessionCookie(service, ""));
  return r;
}

void WGate::Handle(http::Request& req, Respond respond) {
  ++metrics_.requests;
  const std::string& path = req.path;
  if (path == "/healthz") {
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
  if (path == "/metrics") {
    http::Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = MetricsText();
    Reply(respond, std::move(r));
    return;
  }
  if (path == "/dsm/terminator") {
    Terminator(req, std::move(respond));
    return;
  }
  if (path == "/portal/" || path == "/portal") {
    Portal(req, std::move(respond));
    return;
  }
  if (path.rfind(kPrefix, 0) == 0) {
    std::string_view rest = std::string_view(path).substr(sizeof(kPrefix) - 1);
    size_t slash = rest.find('/');
    std::string service = ToLower(rest.substr(0, slash));
    std::string_view tail =
        slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    if (service == "admin" && tail == "!") {
      AdminPage(req, std::move(respond));
      return;
    }
    if (IsValidServiceName(service) && (tail.empty() || tail == "!")) {
      HandleService(req, service, tail == "!", std::move(respond));
      return;
    }
  }
  ++metrics_.not_found;
  Reply(respond,
        Page(404, "Not Found", "There is nothing at this address", ""));
}

void WGate::HandleService(http::Request& req, const std::string& service,
                          bool start, Respond respond) {
  const Params* service_params = services_.Find(service);
  if (service_params == nullptr) {
    ++metrics_.not_found;
    Reply(respond, Page(404, "Service not found",
                        Cat("Service ", service, " does not exist"), "1"));
    return;
  }
  Params url;
  absl::Status parsed = ParseQuery(req.query, &url, config_.http.max_params);
  if (parsed.ok() && IsFormPost(req))
    parsed = ParseQuery(req.body, &url, config_.http.max_params);
  if (!parsed.ok()) {
    ++metrics_.bad_request;
    Reply(respond,
          Page(400, "Bad Request",
               Cat("Bad request parameters: ", parsed.message()), "1"));
    return;
  }
  // The session ID: URL parameter (~cookies 0) or cookie.
  std::string session;
  if (auto v = url.Get("~session")) {
    session = std::string(*v);
    url.Erase("~session");
  } else if (auto cookie = req.Header("cookie")) {
    if (auto c = FindCookie(*cookie, "~session")) {
      auto decoded = UrlDecode(*c);
      if (decoded.ok()) session = std::move(*decoded);
    }
  }
  if (start) {
    StartSession(service, std::move(url), session, req.client_ip,
                 std::move(respond));
    return;
  }
  bool terminate = url.Has("~sapsessioncmd") || url.Has("sap-sessioncmd");
  if (terminate &&
      url.Has("~sessid")) {  // SISP: public ID + termination-only token
    session = url.GetOr("~sessid", "");
    url.Erase("~sessid");
  }
  if (session.empty()) {
    ++metrics_.bad_session;
    Reply(respond, Page(400, "No session",
                        "No session - please start the service again", "1"));
    return;
  }
  proto::AGateRequest areq;
  areq.set_kind(terminate ? proto::AGateRequest::TERMINATE
                          : proto::AGateRequest::STEP);
  areq.set_service(service);
  areq.set_session(std::move(session));
  areq.set_client_ip(req.client_ip);
  for (const auto& [n, v] : url.entries()) {
    auto* p = areq.add_params();
    p->set_name(n);
    p->set_value(v);
  }
  ++metrics_.dialog_steps;
  Route(std::move(areq),
        [this, service, respond = std::move(respond)](
            proto::AGateResponse& a, const std::string& instance) mutable {
          Reply(respond, ToHttp(a, instance, kStepsExisting, service));
        });
}

const proto::ProcessInfo* WGate::Owner(const Gusid& id) const {
  for (const auto& inst : instances_) {
    if (inst.config->name != id.instance) continue;
    for (const auto& p : inst.directory.processes()) {
      if (static_cast<uint32_t>(p.process()) == id.process) return &p;
    }
  }
  return nullptr;
}

const proto::ProcessInfo* WGate::AnyProcess() {
  std::vector<const proto::ProcessInfo*> up;
  for (const auto& inst : instances_) {
    for (const auto& p : inst.directory.processes()) {
      if (p.state() == proto::ProcessInfo::UP) up.push_back(&p);
    }
  }
  if (up.empty()) return nullptr;
  return up[std::uniform_int_distribution<size_t>(0, up.size() - 1)(rng_)];
}

void WGate::Route(proto::AGateRequest req, Routed done) {
  auto id = ParseGusid(req.session());
  if (!id.ok() && req.kind() == proto::AGateRequest::TERMINATE)
    id = ParsePublicId(req.session());
  if (!id.ok()) {
    ++metrics_.bad_session;
    auto a = Failure("Session not found", kNoSession);
    done(a, "");
    return;
  }
  const proto::ProcessInfo* target = Owner(*id);
  if (req.kind() == proto::AGateRequest::TERMINATE &&
      config_.routing == "naive") {
    // Training lab (seed 000): a balancer without session affinity sends the
    // termination to any process; only the owner could end the session.
    target = AnyProcess();
  }
  if (target == nullptr) {
    for (const auto& inst : instances_) {
      if (inst.config->name == id->instance && !inst.has_directory) {
        // Just (re)started: this instance's directory is on its way.
        ++metrics_.agate_unreachable;
        auto a = Transient(503, "Starting",
                           "The ITS is starting - your session is kept, please "
                           "try again in a moment");
        done(a, "");
        return;
      }
    }
    ++metrics_.bad_session;
    auto a = Failure("Session not found", kNoSession);
    done(a, "");
    return;
  }
  if (target->state() == proto::ProcessInfo::DOWN ||
      (config_.routing != "naive" &&
       target->incarnation() != id->incarnation())) {
    ++metrics_.bad_session;
    auto a = Failure("Session lost", kSessionLost);
    done(a, "");
    return;
  }
  if (target->address().empty()) {  // known, but not yet registered again
    ++metrics_.agate_unreachable;
    auto a = Transient(503, "AGate process not reachable", kAgateUnreachable);
    done(a, "");
    return;
  }
  std::string instance = target->instance();
  // What a verdict needs (no copy of the random part on the hot path).
  Gusid owner{id->instance, "", id->process, id->slot, ""};
  CallAgate(
      target->address(), std::move(req),
      [this, instance, owner, done = std::move(done)](
          const absl::Status& transport, proto::AGateResponse& a) mutable {
        if (transport.ok()) {
          done(a, instance);
          return;
        }
        if (absl::IsDeadlineExceeded(transport)) {  // hung, not gone
          ++metrics_.agate_timeouts;
          auto f = Transient(504, "No answer in time", kAgateTimeout);
          done(f, instance);
          return;
        }
        // The stream broke: a crash (its manager reports it within
        // milliseconds) or a cut link (the process lives on).
        AwaitVerdict(owner, std::move(done), 10);
      });
}

void WGate::AwaitVerdict(const Gusid& owner, Routed done, int checks_left) {
  auto timer =
      std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
  timer->async_wait([this, timer, owner, checks_left,
                     done = std::move(done)](const asio::error_code&) mutable {
    const proto::ProcessInfo* p = Owner(owner);
    if (p == nullptr || p->state() == proto::ProcessInfo::DOWN ||
        p->incarnation() != owner.incarnation()) {
      ++metrics_.bad_session;
      auto f = Failure("Session lost", kSessionLost);
      done(f, "");
      return;
    }
    if (checks_left > 1 && !stopping_) {
      AwaitVerdict(owner, std::move(done), checks_left - 1);
      return;
    }
    ++metrics_.agate_unreachable;
    auto f = Transient(503, "AGate process not reachable", kAgateUnreachable);
    done(f, "");
  });
}

http::Response WGate::ToHttp(proto::AGateResponse& a,
                             const std::string& instance,
                             const std::string& steps,
                             const std::string& service) {
  http::Response r;
  r.status = a.http_status();
  r.body = std::move(*a.mutable_body());
  r.AddHeader("X-ITS-Steps", steps);
  if (!instance.empty())
    r.AddHeader("X-ITS-AGate", Cat(instance, "/", a.process(), "/", a.pid()));
  r.AddHeader("Cache-Control", "no-store");
  r.AddHeader("Content-Security-Policy", "frame-ancestors 'self'");
  if (!a.set_session().empty()) {
    r.AddHeader("Set-Cookie", SessionCookie(service, a.set_session()));
  } else if (a.clear_session()) {
    r.AddHeader("Set-Cookie", SessionCookie(service, ""));
  }
  if (!a.location().empty() &&
      IsSafeRedirect(a.location(), config_.exit_url_hosts)) {
    r.AddHeader("Location", a.location());
  }
  if (r.status >= 400 && a.clear_session()) ++metrics_.bad_session;
  return r;
}

void WGate::Terminator(http::Request& req, Respond respond) {
  ++metrics_.dsm_requests;
  Params params;
  absl::Status parsed = ParseQuery(req.query, &params, config_.http.max_params);
  // GET, a form POST, or a sendBeacon body (text/plain or form-encoded).
  if (parsed.ok() && req.method == "POST") {
    parsed = ParseQuery(req.body, &params, config_.http.max_params);
  }
  std::vector<std::string> own = {config_.wgate_listen};
  if (auto host = req.Header("host")) own.emplace_back(*host);
  absl::StatusOr<TerminatorRequest> t =
      parsed.ok() ? ParseTerminatorRequest(params, own, kMaxTerminations)
                  : absl::StatusOr<TerminatorRequest>(parsed);
  if (!t.ok()) {
    Reply(respond, Page(400, "Bad Terminator request",
                        std::string(t.status().message()), ""));
    return;
  }
  metrics_.dsm_rejected += t->rejected;
  if (!t->reasons.empty()) {
    spdlog::warn("DSM Terminator rejected {} target(s), e.g. {}", t->rejected,
                 t->reasons[0]);
  }
  struct Tally {
    size_t pending = 0, terminated = 0, missed = 0, rejected = 0;
    Respond respond;
  };
  auto tally = std::make_shared<Tally>();
  tally->pending = t->targets.size();
  tally->rejected = t->rejected;
  tally->respond = std::move(respond);
  auto finish = [this](Tally& t) {
    http::Response r;
    r.content_type = "application/json";
    r.body = Cat("{\"terminated\":", t.terminated, ",\"missed\":", t.missed,
                 ",\"rejected\":", t.rejected, "}\n");
    r.AddHeader("Cache-Control", "no-store");
    Reply(t.respond, std::move(r));
  };
  if (tally->pending == 0) {
    finish(*tally);
    return;
  }
  for (TerminationTarget& target : t->targets) {  // all at once, in parallel
    proto::AGateRequest a;
    a.set_kind(proto::AGateRequest::TERMINATE);
    a.set_service(target.service);
    a.set_session(target.session);
    a.set_client_ip(req.client_ip);
    auto* cmd = a.add_params();
    cmd->set_name("~sapsessioncmd");
    cmd->set_value(target.command);
    auto* token = a.add_params();
    token->set_name("~termtoken");
    token->set_value(target.token);
    Route(std::move(a),
          [this, tally, finish](proto::AGateResponse& r, const std::string&) {
            if (r.http_status() == 200 && r.note() == "terminated") {
              ++tally->terminated;
              ++metrics_.dsm_terminated;
            } else {
              ++tally->missed;
              ++metrics_.dsm_missed;
            }
            if (--tally->pending == 0) finish(*tally);
          });
  }
}

void WGate::Portal(http::Request& req, Respond respond) {
  Params params;
  std::string launch;
  if (ParseQuery(req.query, &params, config_.http.max_params).ok()) {
    launch = params.GetOr("LAUNCH", "");
  }
  if (!IsValidLaunchUrl(launch)) {
    ++metrics_.portal_refused;
    Reply(respond, Page(400, "Launch URL refused",
                        "The portal only launches relative /scripts/wgate/ "
                        "URLs of this ITS",
                        ""));
    return;
  }
  http::Response r;
  r.body = PortalPage(launch);
  r.AddHeader("Cache-Control", "no-store");
  r.AddHeader("Content-Security-Policy",
              "frame-ancestors 'self'; frame-src 'self'");
  Reply(respond, std::move(r));
}

std::vector<size_t> WGate::InstanceOrder() {
  // Free capacity of each instance: free sessions of its live processes plus
  // what the processes it may still start would add.
  std::vector<double> free(instances_.size(), 0);
  double total = 0;
  for (size_t i = 0; i < instances_.size(); ++i) {
    const auto& inst = instances_[i];
    int in_use = 0;
    for (const auto& p : inst.directory.processes()) {
      ++in_use;
      if (p.state() == proto::ProcessInfo::UP) {
        free[i] += std::max(0, p.max_sessions() - p.sessions());
      }
    }
    free[i] +=
        static_cast<double>(std::max(0, inst.config->max_agates - in_use)) *
        inst.config->max_sessions;
    if (!inst.manager_ok) free[i] = 0;  // no one to assign a process there
    total += free[i];
  }
  std::vector<size_t> order;
  std::vector<bool> used(instances_.size(), false);
  // First: weighted random by free capacity; the rest by capacity, largest
  // first.
  if (total > 0) {
    double r = std::uniform_real_distribution<double>(0, total)(rng_);
    for (size_t i = 0; i < free.size(); ++i) {
      if (r < free[i] || i + 1 == free.size()) {
        if (free[i] > 0) {
          order.push_back(i);
          used[i] = true;
          break;
        }
      }
      r -= free[i];
    }
  }
  std::vector<size_t> rest;
  for (size_t i = 0; i < instances_.size(); ++i)
    if (!used[i] && instances_[i].manager_ok) rest.push_back(i);
  std::stable_sort(rest.begin(), rest.end(),
                   [&](size_t a, size_t b) { return free[a] > free[b]; });
  order.insert(order.end(), rest.begin(), rest.end());
  return order;
}

void WGate::StartSession(const std::string& service, Params url,
                         const std::string& old_session,
                         const std::string& client_ip, Respond respond) {
  const Params* service_params = services_.Find(service);
  Params merged = *service_params;
  merged.MergeFrom(url);
  bool has_logon = !merged.GetOr("~client", "").empty() &&
                   !merged.GetOr("~login", "").empty() &&
                   (!merged.GetOr("~password", "").empty() ||
                    !merged.GetOr("~passwd", "").empty());
  if (!has_logon) {  // no session, no process: just the logon page (step 1)
    ++metrics_.logon_pages;
    http::Response r;
    r.body = LogonPage(service, url, "", merged.GetOr("~client", ""),
                       merged.GetOr("~language", ""));
    r.AddHeader("X-ITS-Steps", "1");
    r.AddHeader("Cache-Control", "no-store");
    Reply(respond, std::move(r));
    return;
  }
  auto req = std::make_shared<proto::AGateRequest>();
  req->set_kind(proto::AGateRequest::START);
  req->set_service(service);
  req->set_client_ip(client_ip);
  for (const auto& [n, v] : url.entries()) {
    auto* p = req->add_params();
    p->set_name(n);
    p->set_value(v);
  }
  auto begin = [this, req, respond = std::move(respond)]() mutable {
    TryInstances(req, InstanceOrder(), 0, std::move(respond));
  };
  // A start never adopts the browser's old session: end it first.
  auto old = ParseGusid(old_session);
  const proto::ProcessInfo* owner = old.ok() ? Owner(*old) : nullptr;
  if (owner && owner->state() == proto::ProcessInfo::UP) {
    proto::AGateRequest term;
    term.set_kind(proto::AGateRequest::TERMINATE);
    term.set_service(service);
    term.set_session(old_session);
    auto* p = term.add_params();
    p->set_name("~command");
    p->set_value("logoff");
    auto* why = term.add_params();
    why->set_name("~its_replaced");  // for the access log
    why->set_value("1");
    CallAgate(
        owner->address(), std::move(term),
        [begin = std::move(begin)](const absl::Status&,
                                   proto::AGateResponse&) mutable { begin(); });
    return;
  }
  begin();
}

void WGate::TryInstances(std::shared_ptr<proto::AGateRequest> req,
                         std::vector<size_t> order, size_t next,
                         Respond respond) {
  if (next >= order.size()) {
    ++metrics_.no_capacity;
    Reply(respond, Page(503, "No free capacity",
                        "The ITS has no free capacity - please try again later",
                        kStepsNew));
    return;
  }
  size_t index = order[next];
  Instance& inst = instances_[index];
  ++metrics_.assign_calls;
  proto::AssignRequest areq;
  areq.set_service(req->service());
  grpc_.Unary<proto::AssignReply>(
      std::min(kAssignDeadlineMs,
               static_cast<int>(config_.wgate_step_timeout_s * 1000)),
      [stub = inst.stub.get(), areq](grpc::ClientContext* ctx,
                                     grpc::CompletionQueue* cq) {
        return stub->AsyncAssign(ctx, areq, cq);
      },
      [this, req, order = std::move(order), next, respond = std::move(respond)](
          const grpc::Status& status, proto::AssignReply& reply) mutable {
        if (!status.ok()) {
          if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) {
            spdlog::warn("Assign at instance {} failed: {}",
                         instances_[order[next]].config->name,
                         status.error_message());
          }
          TryInstances(req, std::move(order), next + 1, std::move(respond));
          return;
        }
        const proto::ProcessInfo& p = reply.process();
        ++metrics_.new_sessions;
        std::string instance = p.instance(), service = req->service();
        CallAgate(p.address(), std::move(*req),
                  [this, instance, service, respond = std::move(respond)](
                      const absl::Status& transport,
                      proto::AGateResponse& a) mutable {
                    if (absl::IsDeadlineExceeded(transport)) {
                      ++metrics_.agate_timeouts;
                      Reply(respond,
                            Page(504, "No answer in time",
                                 "The AGate process did not answer in time - "
                                 "please try again",
                                 kStepsNew));
                      return;
                    }
                    if (!transport.ok()) {
                      ++metrics_.agate_unreachable;
                      Reply(respond, Page(503, "No free capacity",
                                          "The assigned AGate process is not "
                                          "reachable - please try again",
                                          kStepsNew));
                      return;
                    }
                    Reply(respond, ToHttp(a, instance, kStepsNew, service));
                  });
      });
}

namespace {

// An HTML table; every cell is escaped.
std::string HtmlTable(const std::string& id,
                      const std::vector<std::string>& headers,
                      const std::vector<std::vector<std::string>>& rows) {
  std::string out = Cat("<table id=\"", id, "\"><tr>");
  for (const auto& h : headers) out += Cat("<th>", HtmlEscape(h), "</th>");
  out += "</tr>";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const auto& cell : row) out += Cat("<td>", HtmlEscape(cell), "</td>");
    out += "</tr>";
  }
  return out + "</table>";
}

}  // namespace

void WGate::AdminPage(const http::Request& req, Respond respond) {
  // Everything a trainer watches on one page: processes and load weights, the
  // ITS sessions each process holds, SM04, SM05, SM12. ?refresh=N reloads it.
  Params query;
  int refresh = 0;
  if (ParseQuery(req.query, &query, config_.http.max_params).ok()) {
    ParseInt(query.GetOr("REFRESH", "0"), &refresh);
    refresh = std::clamp(refresh, 0, 3600);
  }
  struct Lists {
    proto::Sm04Reply sm04;
    proto::Sm05Reply sm05;
    proto::Sm12Reply sm12;
    std::vector<std::vector<std::string>> sessions;
    size_t pending = 3;
    std::string error;
    Respond respond;
  };
  auto lists = std::make_shared<Lists>();
  lists->respond = std::move(respond);
  std::vector<proto::ProcessInfo> live;
  for (const auto& inst : instances_)
    for (const auto& p : inst.directory.processes())
      if (p.state() == proto::ProcessInfo::UP) live.push_back(p);
  lists->pending += live.size();
  auto finish = [this, lists, refresh] {
    if (--lists->pending > 0) return;
    std::vector<std::vector<std::string>> agates;
    for (const auto& inst : instances_) {
      for (const auto& p : inst.directory.processes()) {
        agates.push_back({p.instance(), Cat(p.process()), Cat(p.pid()),
                          proto::ProcessInfo::State_Name(p.state()),
                          Cat(p.sessions(), "/", p.max_sessions()),
                          Cat(p.busy_threads(), "/", p.max_threads()),
                          fmt::format("{:.3f}", p.weight()), p.address()});
      }
    }
    std::vector<std::vector<std::string>> sm04, sm05, sm12;
    for (const auto& r : lists->sm04.rows())
      sm04.push_back({r.client(), r.user(), r.terminal(), r.tcode(), r.type(),
                      r.last_step()});
    for (const auto& r : lists->sm05.rows())
      sm05.push_back({Cat(r.id()), r.client(), r.user(), Cat(r.sessions()),
                      r.created(), r.last_activity(),
                      fmt::format("{:.0f}", r.expires_in_s())});
    for (const auto& r : lists->sm12.rows())
      sm12.push_back(
          {r.client(), r.user(), r.time(), r.mode(), r.table(), r.argument()});
    std::string body = "<h1>ITS Administration</h1><h2>AGate processes</h2>";
    body += HtmlTable("agates",
                      {"Instance", "Process", "PID", "State", "Sessions",
                       "Busy threads", "Load weight w", "Address"},
                      agates);
    body += "<h2>ITS sessions</h2>";
    body += HtmlTable("sessions",
                      {"Instance", "Process", "Session (GUSID)", "Service",
                       "User", "Tcode", "State", "Idle s", "Expires in s"},
                      lists->sessions);
    body += "<h2>SM04 User List</h2>";
    body += HtmlTable(
        "sm04", {"Client", "User", "Terminal", "Tcode", "Type", "Last step"},
        sm04);
    body += "<h2>SM05 HTTP Security Sessions</h2>";
    body += HtmlTable("sm05",
                      {"ID", "Client", "User", "Sessions", "Created",
                       "Last activity", "Expires in s"},
                      sm05);
    body += "<h2>SM12 Lock Entries</h2>";
    body += HtmlTable(
        "sm12", {"Client", "User", "Time", "Mode", "Table", "Lock argument"},
        sm12);
    if (!lists->error.empty()) {
      body += Cat("<p class=\"msg msg-E\">Not reachable: ",
                  HtmlEscape(lists->error), "</p>");
    }
    http::Response r;
    r.body = HtmlPage(
        "ITS Administration", body,
        refresh > 0
            ? Cat("<meta http-equiv=\"refresh\" content=\"", refresh, "\">")
            : "");
    r.AddHeader("Cache-Control", "no-store");
    Reply(lists->respond, std::move(r));
  };
  // One listing from the R/3 stub into `into`; `begin` starts the RPC.
  auto list = [this, lists, finish](auto* into, auto begin) {
    using Reply = std::remove_pointer_t<decltype(into)>;
    grpc_.Unary<Reply>(
        2000, begin,
        [lists, finish, into](const grpc::Status& s, Reply& reply) {
          if (!s.ok()) lists->error = s.error_message();
          into->Swap(&reply);
          finish();
        });
  };
  auto* r3 = r3_.get();
  proto::Empty empty;
  list(&lists->sm04, [r3, empty](auto* ctx, auto* cq) {
    return r3->AsyncListUserSessions(ctx, empty, cq);
  });
  list(&lists->sm05, [r3, empty](auto* ctx, auto* cq) {
    return r3->AsyncListSecuritySessions(ctx, empty, cq);
  });
  list(&lists->sm12, [r3, empty](auto* ctx, auto* cq) {
    return r3->AsyncListLocks(ctx, empty, cq);
  });
  for (const auto& p : live) {
    auto stub = std::shared_ptr<proto::AGate::Stub>(
        proto::AGate::NewStub(MakeChannel(p.address())));
    grpc_.Unary<proto::SessionsReply>(
        2000,
        [stub, empty](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
          return stub->AsyncListSessions(ctx, empty, cq);
        },
        [lists, finish, p, stub](const grpc::Status& s,
                                 proto::SessionsReply& reply) {
          for (const auto& r : reply.rows()) {
            lists->sessions.push_back(
                {p.instance(), Cat(p.process()), r.session(), r.service(),
                 r.user(), r.tcode(), r.state(),
                 fmt::format("{:.0f}", r.idle_s()),
                 fmt::format("{:.0f}", r.expires_in_s())});
          }
          finish();
        });
  }
}

std::string WGate::MetricsText() const {
  std::string out;
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    out += Cat("# HELP ", name, " ", help, "\n# TYPE ", name, " counter\n",
               name, " ", v, "\n");
  };
  counter("its_wgate_requests_total", "HTTP requests received",
          metrics_.requests);
  counter("its_wgate_new_sessions_total",
          "New sessions sent to an AGate (steps 1-5)", metrics_.new_sessions);
  counter("its_wgate_dialog_steps_total",
          "Requests of existing sessions (steps 1,4,5)", metrics_.dialog_steps);
  counter("its_wgate_logon_pages_total", "Logon pages served without a session",
          metrics_.logon_pages);
  counter("its_wgate_assign_calls_total", "Assign calls to Mapping Managers",
          metrics_.assign_calls);
  counter("its_wgate_no_capacity_total",
          "New sessions refused: no free capacity (503)", metrics_.no_capacity);
  counter("its_wgate_bad_session_total",
          "Requests with an unusable session ID (400)", metrics_.bad_session);
  counter("its_wgate_bad_request_total",
          "Requests with malformed parameters (400)", metrics_.bad_request);
  counter("its_wgate_agate_unreachable_total",
          "Requests whose AGate process could not be reached (503)",
          metrics_.agate_unreachable);
  counter("its_wgate_agate_timeouts_total",
          "Requests whose AGate process did not answer within step_timeout_s "
          "(504)",
          metrics_.agate_timeouts);
  counter("its_dsm_requests_total", "DSM Terminator requests",
          metrics_.dsm_requests);
  counter("its_dsm_terminated_total", "Sessions the DSM Terminator ended",
          metrics_.dsm_terminated);
  counter("its_dsm_missed_total",
          "Terminator targets that ended nothing (not the owner, already "
          "ended, wrong token)",
          metrics_.dsm_missed);
  counter("its_dsm_rejected_total",
          "Terminator targets refused: not this cluster's session URLs",
          metrics_.dsm_rejected);
  counter("its_portal_refused_total", "Portal launch URLs refused",
          metrics_.portal_refused);
  out +=
      "# HELP its_wgate_responses_total HTTP responses by status\n"
      "# TYPE its_wgate_responses_total counter\n";
  for (const auto& [status, n] : metrics_.by_status) {
    out += Cat("its_wgate_responses_total{status=\"", status, "\"} ", n, "\n");
  }
  out +=
      "# HELP its_agate_sessions Sessions per AGate process\n# TYPE "
      "its_agate_sessions gauge\n";
  for (const auto& inst : instances_) {
    for (const auto& p : inst.directory.processes()) {
      out += Cat("its_agate_sessions{instance=\"", p.instance(),
                 "\",process=\"", p.process(), "\"} ", p.sessions(), "\n");
    }
  }
  out +=
      "# HELP its_agate_weight Load weight w per AGate process\n# TYPE "
      "its_agate_weight gauge\n";
  for (const auto& inst : instances_) {
    for (const auto& p : inst.directory.processes()) {
      out += Cat("its_agate_weight{instance=\"", p.instance(), "\",process=\"",
                 p.process(), "\"} ", p.weight(), "\n");
    }
  }
  return out;
}

}  // namespace its::wgate
