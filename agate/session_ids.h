#pragma once

// The session IDs one AGate process hands out (docs/architecture.md §3): its
// instance, host and process number, plus a session's slot (and random part).
// The one place the agate builds a Gusid.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/gusid.h"
#include "common/strings.h"

namespace its::agate {

class SessionIds {
 public:
  SessionIds(std::string instance, std::string host, int process)
      : instance_(std::move(instance)),
        host_(std::move(host)),
        process_(static_cast<uint32_t>(process)) {}

  // The full GUSID, as it travels in the cookie.
  std::string Full(uint32_t slot, std::string_view random) const {
    return Cat(Public(slot), ".", random);
  }
  // Without the random part: for logs, admin tables and SessInfo.
  std::string Public(uint32_t slot) const {
    return Gusid{instance_, host_, process_, slot, ""}.PublicId();
  }
  // Whether `id` names this process (instance and process number).
  bool Owns(const Gusid& id) const {
    return id.instance == instance_ && id.process == process_;
  }
  const std::string& host() const { return host_; }

 private:
  std::string instance_;
  std::string host_;
  uint32_t process_;
};

}  // namespace its::agate
