#pragma once

#include <functional>

#include "proto/its.grpc.pb.h"
#include "wgate/grpc_side.h"

namespace its::wgate {

// Asio thread. Subscribes to one Mapping Manager's directory stream: the
// reading runs on `grpc`'s loop thread; every directory and the stream's
// end are handed to the Asio thread (`on_directory`, then `on_end` once).
void WatchDirectory(GrpcSide& grpc, proto::MappingManager::Stub* stub,
                    std::function<void(proto::Directory&)> on_directory,
                    std::function<void()> on_end);

}  // namespace its::wgate
