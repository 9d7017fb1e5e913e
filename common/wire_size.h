#pragma once

// About how many bytes a dialog item adds to a stream batch: what
// StreamEnd::Send's cap counts (common/async_stream.h). Only the parts that
// can grow with what a client sent are summed; a few fixed bytes are left
// out. Cheap: no serialization pass.

#include <cstddef>

#include "proto/its.pb.h"

namespace its {

inline size_t WireSizeHint(const proto::AGateRequest& r) {
  size_t n = r.session().size() + r.service().size();
  for (const auto& p : r.params()) n += p.name().size() + p.value().size();
  return n;
}

inline size_t WireSizeHint(const proto::AGateResponse& r) {
  return r.body().size() + r.location().size();
}

inline size_t WireSizeHint(const proto::R3Request& r) {
  size_t n = 0;
  if (r.has_step()) {
    for (const auto& [name, value] : r.step().fields())
      n += name.size() + value.size();
  } else if (r.has_logon()) {
    n += r.logon().ByteSizeLong();
  }
  return n;
}

inline size_t WireSizeHint(const proto::R3Response& r) {
  const proto::Screen& s = r.screen();
  size_t n = s.message().size() + r.error().size();
  for (const auto& f : s.fields()) n += f.value().size();
  // Tables (SM04, SM12) grow with the sessions, not with one request.
  n += static_cast<size_t>(s.table().rows_size()) *
       static_cast<size_t>(s.table().columns_size() + 1) * 16;
  return n;
}

// Anything else (assignments, ends): small and fixed.
template <typename T>
size_t WireSizeHint(const T&) {
  return 0;
}

}  // namespace its
