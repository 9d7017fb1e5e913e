#include "agate/r3_client.h"

#include "common/grpc_util.h"
#include "common/log.h"

namespace its::agate {

R3Client::R3Client(asio::io_context& io, const std::string& address)
    : io_(io), channel_(MakeChannel(address)), stub_(proto::R3::NewStub(channel_)) {}

R3Client::~R3Client() {
  *alive_ = false;
  if (stream_) stream_->Cancel();
}

void R3Client::Connect() {
  uint64_t gen = ++generation_;
  std::weak_ptr<bool> alive = alive_;
  stream_ = std::make_shared<Stream>(
      [this, alive](proto::R3Down& down) {
        auto batch = std::make_shared<proto::R3Down>();
        batch->Swap(&down);
        asio::post(io_, [this, alive, batch] {
          if (alive.lock()) OnBatch(*batch);
        });
      },
      [this, alive, gen](const grpc::Status& status) {
        asio::post(io_, [this, alive, gen, status] {
          if (alive.lock()) OnClosed(gen, status);
        });
      });
  stream_->Start([this](grpc::ClientContext* ctx, Stream* reactor) {
    ctx->set_wait_for_ready(true);
    stub_->async()->Dialog(ctx, reactor);
  });
}

void R3Client::Call(proto::R3Request request, Callback done) {
  if (!stream_) Connect();
  uint64_t id = next_id_++;
  request.set_id(id);
  pending_.emplace(id, Pending{generation_, std::move(done)});
  bool sent = stream_->Send([&](proto::R3Up& up) { up.add_requests()->Swap(&request); });
  if (!sent) {
    auto it = pending_.find(id);
    Callback cb = std::move(it->second.done);
    pending_.erase(it);
    Fail(id, std::move(cb), "connection to R/3 lost");
  }
}

void R3Client::Fail(uint64_t id, Callback done, const std::string& why) {
  asio::post(io_, [id, done = std::move(done), why] {
    proto::R3Response resp;
    resp.set_id(id);
    resp.set_code(proto::R3Response::REFUSED);
    resp.set_error(why);
    done(resp);
  });
}

void R3Client::OnBatch(proto::R3Down& down) {
  for (proto::R3Response& resp : *down.mutable_responses()) {
    auto it = pending_.find(resp.id());
    if (it == pending_.end()) continue;
    Callback cb = std::move(it->second.done);
    pending_.erase(it);
    cb(resp);
  }
  for (const auto& ended : down.ended()) {
    if (on_ended_) on_ended_(ended.session(), ended.reason());
  }
}

void R3Client::OnClosed(uint64_t generation, const grpc::Status& status) {
  spdlog::warn("R/3 stream closed: {}", status.error_message());
  if (generation == generation_) stream_.reset();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.generation == generation) {
      Fail(it->first, std::move(it->second.done), "connection to R/3 lost");
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace its::agate
