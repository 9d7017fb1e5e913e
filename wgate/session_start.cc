// Steps 1-5 of session establishment: the logon page without a session, the
// instance choice by free capacity (1) or by ~agate_routing, the Mapping
// Manager's assignment (2, 3), the start at the assigned AGate process
// (4, 5).
#include <algorithm>

#include "common/its_protocol.h"
#include "common/log.h"
#include "common/pages.h"
#include "common/strings.h"
#include "common/trace_wire.h"
#include "common/transaction_call.h"
#include "wgate/outcome.h"
#include "wgate/wgate.h"

namespace its::wgate {
namespace {

// Steps done when no process took the session: the instance was chosen
// (1) and asked (2), the assignment (3) failed.
constexpr char kStepsAsked[] = "1,2";
// At most this long for an assignment (a scale-up may take a while); never
// longer than the step deadline.
constexpr int kAssignDeadlineMs = 15000;

}  // namespace

void WGate::StartSession(const std::string& service, Params url,
                         const std::string& old_session,
                         const std::string& client_ip, const TraceRef& trace,
                         Respond respond) {
  Params merged = *services_.Find(service);
  merged.MergeFrom(url);
  auto param = [&](std::string_view name) { return merged.GetOr(name, ""); };
  LogonData logon = ReadLogonData(param);
  // A malformed deep link or routing wish gets no process and leaves the
  // browser's old session alone (step 1 only) - before the logon page, so
  // that nobody types a password for a call that cannot be made.
  if (auto call = ParseTransactionCall(param("~transaction")); !call.ok()) {
    ++metrics_.bad_request;
    Reply(respond, Page(400, "Transaction call not possible",
                        std::string(call.status().message()), "1"));
    return;
  }
  StartPlan plan;
  if (std::string routing = param("~agate_routing"); !Trim(routing).empty()) {
    absl::StatusOr<AgateRouting> wish = ParseAgateRouting(routing);
    absl::StatusOr<size_t> index = wish.ok()
                                       ? directory_.RoutedInstance(*wish)
                                       : absl::StatusOr<size_t>(wish.status());
    // Whether the instance can take a session now is for after the logon;
    // a wish no configuration can meet is refused at once.
    if (!index.ok() &&
        !(absl::IsUnavailable(index.status()) && !logon.complete())) {
      ++metrics_.routing_refused;
      Reply(respond, Page(absl::IsUnavailable(index.status()) ? 503 : 400,
                          "AGate routing refused",
                          std::string(index.status().message()), "1"));
      return;
    }
    if (index.ok()) {
      plan.order = {*index};
      plan.routed = true;
      plan.process = wish->process;
    }
  }
  if (!logon.complete()) {  // no session, no process: the logon page (step 1)
    ++metrics_.logon_pages;
    http::Response r;
    r.body = LogonPage(service, url, "", logon.client, logon.language);
    r.AddHeader("X-ITS-Steps", "1");
    r.AddHeader("Cache-Control", "no-store");
    Reply(respond, std::move(r));
    return;
  }
  auto req = std::make_shared<proto::AGateRequest>();
  req->set_kind(proto::AGateRequest::START);
  req->set_service(service);
  req->set_client_ip(client_ip);
  SetTrace(req.get(), trace.trace, trace.root);
  for (const auto& [n, v] : url.entries()) {
    auto* p = req->add_params();
    p->set_name(n);
    p->set_value(v);
  }
  auto begin = [this, req, plan = std::move(plan),
                respond = std::move(respond)]() mutable {
    if (!plan.routed) plan.order = directory_.InstanceOrder(rng_);
    RecordChoice(*req, plan);
    TryInstances(req, std::move(plan), 0, std::move(respond));
  };
  // A start never adopts the browser's old session: end it first.
  auto old = ParseGusid(old_session);
  if (!old.ok()) {
    begin();
    return;
  }
  const proto::ProcessInfo* owner = directory_.Owner(*old);
  proto::AGateRequest term;
  term.set_kind(proto::AGateRequest::TERMINATE);
  term.set_service(service);
  term.set_session(old_session);
  term.set_command(proto::LOGOFF);
  term.set_replaced(true);
  if (owner && owner->state() == proto::ProcessInfo::UP &&
      !owner->address().empty()) {
    CallAgate(
        owner->address(), std::move(term),
        [begin = std::move(begin)](const absl::Status&,
                                   proto::AGateResponse&) mutable { begin(); });
    return;
  }
  // Its owner cannot be asked now (hung, not registered again, its
  // instance's directory not here yet) or has ended: the new session does
  // not wait, and the old one's end goes by Route, which keeps it until the
  // owner can be reached and drops it if the owner ended.
  Route(std::move(term), nullptr);
  begin();
}

void WGate::TryInstances(std::shared_ptr<proto::AGateRequest> req,
                         StartPlan plan, size_t next, Respond respond) {
  if (next >= plan.order.size()) {
    ++metrics_.no_capacity;
    Reply(respond, Page(503, "No free capacity",
                        "The ITS has no free capacity - please try again later",
                        next == 0 ? "1" : kStepsAsked));
    return;
  }
  ++metrics_.assign_calls;
  const size_t index = plan.order[next];
  proto::AssignRequest areq;
  areq.set_service(req->service());
  if (plan.process) areq.set_process(*plan.process);
  // Step 2's span; the Mapping Manager's step 3 is its child.
  const SpanRef span = BeginAssign(*req, index);
  if (span.id) areq.set_traceparent(FormatTraceparent(TraceOf(*req), span.id));
  grpc_.CallAssign(
      config_.instances[index].mapping_manager, std::move(areq),
      std::chrono::milliseconds(
          std::clamp(static_cast<int>(config_.wgate_step_timeout_s * 1000), 1,
                     kAssignDeadlineMs)),
      [this, req, plan = std::move(plan), next, span,
       respond = std::move(respond)](proto::AssignResult& reply) mutable {
        const grpc::Status status(static_cast<grpc::StatusCode>(reply.code()),
                                  reply.message());
        EndAssign(span, status, reply);
        if (!status.ok() && plan.routed) {
          // ~agate_routing: the named instance (and process) or nothing.
          ++metrics_.routing_refused;
          const std::string& name =
              directory_.instance(plan.order[next]).config->name;
          std::string why =
              status.error_code() == grpc::StatusCode::FAILED_PRECONDITION
                  ? status.error_message()
              : status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED
                  ? Cat("AGate instance ", name, " has no free capacity")
                  : Cat("The Mapping Manager of AGate instance ", name,
                        " did not assign a process: ", status.error_message());
          Reply(respond, Page(503, "AGate routing refused",
                              Cat(why,
                                  " - the session was not sent elsewhere "
                                  "(~agate_routing)"),
                              kStepsAsked));
          return;
        }
        if (!status.ok()) {
          if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) {
            spdlog::warn("Assign at instance {} failed: {}",
                         directory_.instance(plan.order[next]).config->name,
                         status.error_message());
          }
          TryInstances(req, std::move(plan), next + 1, std::move(respond));
          return;
        }
        const proto::ProcessInfo& p = reply.process();
        ++metrics_.new_sessions;
        std::string instance = p.instance(), service = req->service();
        CallAgate(
            p.address(), std::move(*req),
            [this, instance, service, address = p.address(),
             respond = std::move(respond)](const absl::Status& transport,
                                           proto::AGateResponse& a) mutable {
              if (absl::IsDeadlineExceeded(transport)) {
                ++metrics_.start_timeouts;
                Reply(respond,
                      Page(504, "No answer in time",
                           "The AGate process did not answer in time - "
                           "please try again",
                           StartSteps(proto::AGATE_TIMEOUT)));
              } else if (!transport.ok()) {
                ++metrics_.start_unreachable;
                Reply(respond, Page(503, "No free capacity",
                                    "The assigned AGate process is not "
                                    "reachable - please try again",
                                    StartSteps(proto::AGATE_UNREACHABLE)));
              } else {
                Reply(respond, ToHttp(a, instance, address,
                                      StartSteps(a.outcome()), service));
              }
            });
      });
}

}  // namespace its::wgate
