#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include "common/dialog_client.h"
#include "proto/its.grpc.pb.h"

namespace its::agate {

// What the agate's logic needs of R/3: one call, answered exactly once (on
// the logic thread, never inside Call). Unit tests give a fake.
class R3Link {
 public:
  using Done = std::function<void(proto::R3Response&)>;
  virtual ~R3Link() = default;
  virtual void Call(proto::R3Request request, Done done) = 0;
};

// The agate's batched dialog stream to the R/3 stub. A broken stream fails
// the calls in flight with CONNECTION_LOST, a call unanswered within the R/3
// deadline with TIMEOUT.
using R3Client = DialogClient<proto::R3, proto::R3Up, proto::R3Down>;

// R3Link over the batched dialog stream, with an optional delay before each
// call (fault injection: a slow link to R/3).
class StreamR3Link final : public R3Link {
 public:
  explicit StreamR3Link(
      DialogClient<proto::R3, proto::R3Up, proto::R3Down>& client)
      : client_(client) {}
  void Call(proto::R3Request request, Done done) override {
    if (delay_.count() == 0) {
      client_.Call(std::move(request), std::move(done));
    } else {
      client_.CallDelayed(delay_, std::move(request), std::move(done));
    }
  }
  void set_delay(std::chrono::microseconds delay) { delay_ = delay; }

 private:
  DialogClient<proto::R3, proto::R3Up, proto::R3Down>& client_;
  std::chrono::microseconds delay_{0};
};

inline proto::R3Response R3Failure(R3Client::Failure kind) {
  proto::R3Response r;
  if (kind == R3Client::Failure::kDeadline) {
    r.set_code(proto::R3Response::TIMEOUT);
    r.set_error("Timeout during communication with the R/3 system");
  } else {
    r.set_code(proto::R3Response::CONNECTION_LOST);
    r.set_error("Connection to the R/3 system broken");
  }
  return r;
}

}  // namespace its::agate
