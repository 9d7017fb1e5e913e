// Steps 1-5 of session establishment: the logon page without a session, the
// instance choice by free capacity (1), the Mapping Manager's assignment
// (2, 3), the start at the assigned AGate process (4, 5).
#include <algorithm>

#include "common/its_protocol.h"
#include "common/log.h"
#include "common/pages.h"
#include "common/strings.h"
#include "wgate/wgate.h"

namespace its::wgate {
namespace {

constexpr char kStepsNew[] = "1,2,3,4,5";
// At most this long for an assignment (a scale-up may take a while); never
// longer than the step deadline.
constexpr int kAssignDeadlineMs = 15000;

}  // namespace

void WGate::StartSession(const std::string& service, Params url,
                         const std::string& old_session,
                         const std::string& client_ip, Respond respond) {
  Params merged = *services_.Find(service);
  merged.MergeFrom(url);
  auto param = [&](std::string_view name) { return merged.GetOr(name, ""); };
  LogonData logon = ReadLogonData(param);
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
  for (const auto& [n, v] : url.entries()) {
    auto* p = req->add_params();
    p->set_name(n);
    p->set_value(v);
  }
  auto begin = [this, req, respond = std::move(respond)]() mutable {
    TryInstances(req, directory_.InstanceOrder(rng_), 0, std::move(respond));
  };
  // A start never adopts the browser's old session: end it first.
  auto old = ParseGusid(old_session);
  const proto::ProcessInfo* owner = old.ok() ? directory_.Owner(*old) : nullptr;
  if (owner && owner->state() == proto::ProcessInfo::UP) {
    proto::AGateRequest term;
    term.set_kind(proto::AGateRequest::TERMINATE);
    term.set_service(service);
    term.set_session(old_session);
    term.set_command(proto::LOGOFF);
    term.set_replaced(true);
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
  ++metrics_.assign_calls;
  // Before `order` moves into the callback (argument order is unspecified).
  proto::MappingManager::Stub* manager = managers_[order[next]].get();
  proto::AssignRequest areq;
  areq.set_service(req->service());
  grpc_.Unary<proto::AssignReply>(
      std::min(kAssignDeadlineMs,
               static_cast<int>(config_.wgate_step_timeout_s * 1000)),
      [manager, areq](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return manager->AsyncAssign(ctx, areq, cq);
      },
      [this, req, order = std::move(order), next, respond = std::move(respond)](
          const grpc::Status& status, proto::AssignReply& reply) mutable {
        if (!status.ok()) {
          if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) {
            spdlog::warn("Assign at instance {} failed: {}",
                         directory_.instance(order[next]).config->name,
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
                      ++metrics_.start_timeouts;
                      Reply(respond,
                            Page(504, "No answer in time",
                                 "The AGate process did not answer in time - "
                                 "please try again",
                                 kStepsNew));
                    } else if (!transport.ok()) {
                      ++metrics_.start_unreachable;
                      Reply(respond, Page(503, "No free capacity",
                                          "The assigned AGate process is not "
                                          "reachable - please try again",
                                          kStepsNew));
                    } else {
                      Reply(respond, ToHttp(a, instance, kStepsNew, service));
                    }
                  });
      });
}

}  // namespace its::wgate
