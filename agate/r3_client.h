#pragma once

#include "common/dialog_client.h"
#include "proto/its.grpc.pb.h"

namespace its::agate {

// The agate's batched dialog stream to the R/3 stub. A broken stream fails
// the calls in flight with code REFUSED.
using R3Client = DialogClient<proto::R3, proto::R3Up, proto::R3Down>;

inline proto::R3Response R3Failure(const std::string& why) {
  proto::R3Response r;
  r.set_code(proto::R3Response::REFUSED);
  r.set_error(why);
  return r;
}

}  // namespace its::agate
