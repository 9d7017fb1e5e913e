#include "agate/manager_link.h"

#include <unistd.h>

#include "common/grpc_util.h"
#include "common/log.h"

namespace its::agate {

ManagerLink::ManagerLink(GrpcLoop& loop, const std::string& address,
                         std::function<proto::LoadReport()> load,
                         int process_number, uint32_t incarnation,
                         std::string bound, std::chrono::seconds orphan_exit,
                         std::string metrics_address)
    : loop_(loop),
      stub_(proto::MappingManager::NewStub(MakeChannel(address))),
      load_(std::move(load)),
      timer_(loop),
      orphan_exit_(orphan_exit),
      last_contact_(std::chrono::steady_clock::now()) {
  request_.set_process(process_number);
  request_.set_pid(getpid());
  request_.set_address(std::move(bound));
  request_.set_incarnation(incarnation);
  request_.set_metrics_address(std::move(metrics_address));
}

void ManagerLink::Register() {
  CallUnary<proto::Empty>(
      loop_, 2000,
      [this](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return stub_->AsyncRegister(ctx, request_, cq);
      },
      [this](const grpc::Status& status, proto::Empty&) {
        if (!status.ok()) {
          if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
            Contact();  // there, but stopped or slow
          if (registered_once_ || ++failed_registrations_ % 25 == 1) {
            spdlog::warn("registration with the Mapping Manager failed: {}",
                         status.error_message());
          }
          if (!Orphaned()) After(200, [this] { Register(); });
          return;
        }
        Contact();
        spdlog::info("registered with the Mapping Manager");
        registered_once_ = true;
        if (registered_hook_) registered_hook_();
        last_ = proto::LoadReport();  // the next report goes at once
        Report();
      });
}

bool ManagerLink::Orphaned() {
  if (orphan_exit_.count() == 0) return false;
  if (std::chrono::steady_clock::now() - last_contact_ < orphan_exit_)
    return false;
  spdlog::error(
      "no Mapping Manager reachable for {} s: exiting, so that no orphaned "
      "AGate process stays behind",
      orphan_exit_.count());
  loop_.Shutdown();
  return true;
}

void ManagerLink::Report() {
  proto::LoadReport load = load_();
  bool changed = load.sessions() != last_.sessions() ||
                 load.busy_threads() != last_.busy_threads() ||
                 load.requests() != last_.requests() ||
                 load.starts() != last_.starts();
  if (!changed && ++quiet_ticks_ < 4) {
    After(250, [this] { Report(); });
    return;
  }
  quiet_ticks_ = 0;
  last_ = load;
  CallUnary<proto::LoadAck>(
      loop_, 2000,
      [this, &load](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return stub_->AsyncReportLoad(ctx, load, cq);
      },
      [this](const grpc::Status& status, proto::LoadAck& ack) {
        if (status.ok() && ack.draining() != draining_) {
          draining_ = ack.draining();
          spdlog::info(draining_ ? "drained by the Mapping Manager: no new "
                                   "sessions, health NOT_SERVING"
                                 : "no longer drained");
          if (draining_hook_) draining_hook_(draining_);
        }
        // A manager that is there but slow or stopped (a deadline, not a
        // refused connection) is no reason to give up on it.
        if (status.ok() ||
            status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
          Contact();
        }
        if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
          Contact();  // a manager answered: it restarted and forgot us
          After(50, [this] { Register(); });
          return;
        }
        if (!status.ok() && Orphaned()) return;
        // After a failure the next report goes at once (changed or not).
        if (!status.ok()) last_ = proto::LoadReport();
        After(250, [this] { Report(); });
      });
}

}  // namespace its::agate
