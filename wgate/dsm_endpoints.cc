// The portal side of session termination: the DSM Terminator endpoint, which
// ends every session a closed portal window named, and the portal page.
#include "common/its_protocol.h"
#include "common/log.h"
#include "common/strings.h"
#include "wgate/terminator.h"
#include "wgate/wgate.h"

namespace its::wgate {
namespace {

constexpr size_t kMaxTerminations = 1000;  // sessions per Terminator request

}  // namespace

void WGate::Terminator(http::Request& req, Respond respond) {
  ++metrics_.dsm_requests;
  Params params;
  absl::Status parsed = ParseQuery(req.query, &params, config_.http.max_params);
  // GET, a form POST, or a sendBeacon body (text/plain or form-encoded).
  if (parsed.ok() && req.method == "POST") {
    parsed = ParseQuery(req.body, &params, config_.http.max_params);
  }
  std::vector<std::string> own = {config_.wgate_listen};
  if (!config_.wgate_advertise.empty()) own.push_back(config_.wgate_advertise);
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
    // unanswered: the part of missed whose owner did not answer (hung or
    // unreachable): it may still end the session when it runs again.
    size_t pending = 0, terminated = 0, missed = 0, rejected = 0,
           unanswered = 0;
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
                 ",\"rejected\":", t.rejected, ",\"unanswered\":", t.unanswered,
                 "}\n");
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
    a.set_command(target.command);
    a.set_term_token(target.token);
    Route(std::move(a),
          [this, tally, finish](proto::AGateResponse& r, const std::string&,
                                const std::string&) {
            // The wgate's own refusals (pid 0: no AGate answered) count as
            // for any request; an agate's answers count as terminated or
            // missed only.
            if (r.pid() == 0) metrics_.Count(r.outcome());
            if (r.outcome() == proto::TERMINATED) {
              ++tally->terminated;
              ++metrics_.dsm_terminated;
            } else {
              ++tally->missed;
              ++metrics_.dsm_missed;
              if (r.outcome() == proto::AGATE_TIMEOUT ||
                  r.outcome() == proto::AGATE_UNREACHABLE ||
                  r.outcome() == proto::STARTING) {
                ++tally->unanswered;
                ++metrics_.dsm_unanswered;
              }
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
  if (Trim(launch).empty()) {  // nothing to launch yet: the launch form
    std::vector<std::string> services;
    for (const auto& [name, params] : services_.services()) {
      if (name != "global") services.push_back(name);
    }
    http::Response r;
    r.body = PortalLaunchForm(services);
    r.AddHeader("Cache-Control", "no-store");
    Reply(respond, std::move(r));
    return;
  }
  if (!IsValidLaunchUrl(launch)) {
    ++metrics_.portal_refused;
    Reply(respond, Page(400, "Launch URL refused",
                        Cat("The portal only launches relative ", kWgatePrefix,
                            " URLs of this ITS"),
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

}  // namespace its::wgate
