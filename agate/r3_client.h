#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <asio.hpp>

#include "common/batch_stream.h"
#include "proto/its.grpc.pb.h"

namespace its::agate {

// The agate's connection to the R/3 stub: one long-lived batched bidi stream,
// requests matched to responses by ID. Call() and every callback run on the
// logic thread (`io`). If the stream breaks, the calls in flight fail with
// code REFUSED and the next Call() reconnects.
class R3Client {
 public:
  using Callback = std::function<void(proto::R3Response&)>;
  // Called for sessions the R/3 side ended on its own (pushed, never polled).
  using EndedCallback = std::function<void(uint64_t r3_session, const std::string& reason)>;

  R3Client(asio::io_context& io, const std::string& address);
  ~R3Client();

  void set_on_ended(EndedCallback cb) { on_ended_ = std::move(cb); }
  void Call(proto::R3Request request, Callback done);
  size_t in_flight() const { return pending_.size(); }

 private:
  using Stream = BatchClientStream<proto::R3Up, proto::R3Down>;
  struct Pending {
    uint64_t generation;
    Callback done;
  };
  void Connect();
  void OnBatch(proto::R3Down& down);
  void OnClosed(uint64_t generation, const grpc::Status& status);
  void Fail(uint64_t id, Callback done, const std::string& why);

  asio::io_context& io_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<proto::R3::Stub> stub_;
  std::shared_ptr<Stream> stream_;
  uint64_t generation_ = 0;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Pending> pending_;
  EndedCallback on_ended_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace its::agate
