#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>

#include "common/async_stream.h"
#include "common/grpc_loop.h"
#include "common/grpc_util.h"
#include "common/log.h"
#include "common/strings.h"

namespace its {

// Client of a peer's batched `Dialog` stream (ARCHITECTURE.md §2) on a
// GrpcLoop: one long-lived bidi stream, requests tagged with IDs and matched
// to responses. Call() and every callback run on the loop thread. If the
// stream breaks, the calls in flight fail with `make_failure(why)` and the
// next Call() reconnects. Callbacks never run inside Call().
//
// `Service` is a generated service (proto::R3, proto::AGate); `Up`/`Down`
// its batch messages with `repeated requests` / `repeated responses`.
template <typename Service, typename Up, typename Down>
class DialogClient {
 public:
  using Request =
      std::remove_pointer_t<decltype(std::declval<Up&>().add_requests())>;
  using Response =
      std::remove_cvref_t<decltype(std::declval<const Down&>().responses(0))>;
  using Callback = std::function<void(Response&)>;
  using MakeFailure = std::function<Response(const std::string& why)>;
  // Sees every received batch after its responses were dispatched.
  using BatchHook = std::function<void(Down&)>;

  DialogClient(GrpcLoop& loop, const std::string& address,
               MakeFailure make_failure)
      : loop_(loop),
        address_(address),
        stub_(Service::NewStub(MakeChannel(address))),
        make_failure_(std::move(make_failure)) {}

  // Calls still in flight are answered with make_failure (deferred).
  ~DialogClient() {
    *alive_ = false;
    if (stream_) stream_->Cancel();
    for (auto& [id, p] : pending_) {
      Fail(id, std::move(p.done), Cat("connection to ", address_, " closed"));
    }
  }
  DialogClient(const DialogClient&) = delete;
  DialogClient& operator=(const DialogClient&) = delete;

  void set_batch_hook(BatchHook hook) { hook_ = std::move(hook); }

  void Call(Request request, Callback done) {
    if (!stream_) Connect();
    uint64_t id = next_id_++;
    request.set_id(id);
    bool sent =
        stream_->Send([&](Up& up) { up.add_requests()->Swap(&request); });
    if (!sent) {
      Fail(id, std::move(done), "connection lost");
      return;
    }
    pending_.emplace(id, Pending{generation_, std::move(done)});
  }

 private:
  using Stream = AsyncClientStream<Up, Down>;
  struct Pending {
    uint64_t generation;
    Callback done;
  };

  void Connect() {
    uint64_t gen = ++generation_;
    std::weak_ptr<bool> alive = alive_;
    stream_ = std::make_shared<Stream>(
        loop_,
        [this, alive](Down& down) {
          if (alive.lock()) OnBatch(down);
        },
        [this, alive, gen](const grpc::Status& status) {
          if (alive.lock()) OnClosed(gen, status);
        });
    stream_->Start([this](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
      return stub_->PrepareAsyncDialog(ctx, cq);
    });
  }

  void Fail(uint64_t id, Callback done, const std::string& why) {
    Response resp = make_failure_(why);
    resp.set_id(id);
    loop_.Defer([done = std::move(done), resp = std::move(resp)]() mutable {
      done(resp);
    });
  }

  void OnBatch(Down& down) {
    for (Response& resp : *down.mutable_responses()) {
      auto it = pending_.find(resp.id());
      if (it == pending_.end()) continue;
      Callback cb = std::move(it->second.done);
      pending_.erase(it);
      cb(resp);
    }
    if (hook_) hook_(down);
  }

  void OnClosed(uint64_t generation, const grpc::Status& status) {
    if (!status.ok() && !loop_.stopping()) {
      spdlog::warn("stream to {} closed: {}", address_, status.error_message());
    }
    if (generation == generation_) stream_.reset();
    std::string why = Cat("connection to ", address_, " lost");
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.generation == generation) {
        Fail(it->first, std::move(it->second.done), why);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }

  GrpcLoop& loop_;
  std::string address_;
  std::unique_ptr<typename Service::Stub> stub_;
  MakeFailure make_failure_;
  std::shared_ptr<Stream> stream_;
  uint64_t generation_ = 0;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Pending> pending_;
  BatchHook hook_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace its
