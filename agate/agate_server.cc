#include "agate/agate_server.h"

#include "common/async_stream.h"
#include "common/grpc_util.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/wire_size.h"

namespace its::agate {

void AGateServer::Start() {
  using Stream = AsyncServerStream<proto::AGateUp, proto::AGateDown>;
  ServeStreams<proto::AGateUp, proto::AGateDown>::Start(
      loop_,
      [this](grpc::ServerContext* ctx, auto* stream, void* tag) {
        service_.RequestDialog(ctx, stream, loop_.cq(), loop_.server_cq(), tag);
      },
      [this](const Stream::Ptr& stream, proto::AGateUp& up) {
        if (up.deliveries_size() > 0) {
          UnclaimedSessions& held = unclaimed_[stream.get()];
          for (const proto::Delivery& d : up.deliveries()) {
            const auto word = held.Confirmed(d.session_public(), d.delivered());
            if (word == UnclaimedSessions::Word::kEnd) {
              process_.EndUnclaimed(d.session_public(),
                                    AGateProcess::Unclaimed::kNotDelivered);
            } else if (word == UnclaimedSessions::Word::kNotHeld &&
                       d.delivered()) {
              // Its browser has it, whichever stream says so (the one that
              // carried the answer may have broken meanwhile).
              process_.Claim(d.session_public());
            }
          }
        }
        for (proto::AGateRequest& req : *up.mutable_requests()) {
          uint64_t id = req.id();
          AGateProcess::SpanRef span = process_.BeginSpan(req);
          process_.Handle(
              req, [this, stream, id, span](proto::AGateResponse&& resp) {
                resp.set_id(id);
                if (span.id != 0) process_.EndSpan(span, resp);
                const size_t bytes = WireSizeHint(resp);
                const bool started = resp.outcome() == proto::SESSION_STARTED ||
                                     resp.outcome() == proto::SERVICE_RESTARTED;
                // Swap() empties resp: keep what the ledger needs.
                std::string session_public =
                    started ? resp.session_public() : std::string();
                if (stream->Send(
                        [&](proto::AGateDown& down) {
                          down.add_responses()->Swap(&resp);
                        },
                        bytes)) {
                  if (started &&
                      !unclaimed_[stream.get()].Answered(session_public)) {
                    // A wgate that does not confirm: its sessions wait for
                    // ~timeout if it crashes, as before Delivery existed.
                    if (!cap_warned_)
                      spdlog::warn(
                          "a wgate stream holds {} unconfirmed new sessions: "
                          "new ones are not tracked (does the wgate send "
                          "Delivery words?)",
                          UnclaimedSessions::kMaxHeld);
                    cap_warned_ = true;
                  }
                  return;
                }
                if (started) {
                  process_.EndUnclaimed(session_public,
                                        AGateProcess::Unclaimed::kNoStream);
                }
              });
        }
      },
      [this](const Stream::Ptr& stream) {
        // The wgate went (or its stream broke) before it said whether these
        // new sessions reached their browsers: each ends unless a request
        // comes with it within the grace (it may have crashed just after
        // writing the answer).
        auto it = unclaimed_.find(stream.get());
        if (it == unclaimed_.end()) return;
        std::vector<std::string> lost = it->second.TakeAll();
        unclaimed_.erase(it);
        if (loop_.stopping()) return;  // the process logs every session off
        for (const std::string& session_public : lost) {
          process_.EndUnclaimed(session_public,
                                AGateProcess::Unclaimed::kStreamClosed);
        }
      });
  ServeUnary(loop_, service_, &proto::AGate::AsyncService::RequestListSessions,
             [this](const proto::Empty&, proto::SessionsReply* reply) {
               *reply = process_.ListSessions();
               return grpc::Status::OK;
             });
  ServeUnary(loop_, service_, &proto::AGate::AsyncService::RequestGetTrace,
             [this](const proto::TraceQuery& query, proto::TraceReply* reply) {
               *reply = process_.Trace(query);
               return grpc::Status::OK;
             });
  ServeUnary(loop_, service_, &proto::AGate::AsyncService::RequestSetLinkDelay,
             [this](const proto::LinkDelay& req, proto::Empty*) {
               if (!(req.r3_seconds() >= 0 &&
                     req.r3_seconds() <= kMaxLinkDelaySeconds)) {
                 return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     Cat("the delay must be 0 to ",
                                         kMaxLinkDelaySeconds, " seconds"));
               }
               if (link_delay_) link_delay_(req.r3_seconds(), req.generation());
               return grpc::Status::OK;
             });
}

}  // namespace its::agate
