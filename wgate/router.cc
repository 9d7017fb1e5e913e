#include "wgate/router.h"

#include "common/its_protocol.h"
#include "common/service_file.h"
#include "common/strings.h"

namespace its::wgate {

Endpoint RoutePath(std::string_view path) {
  Endpoint e;
  if (path == "/" || path == "/index.html") {
    e.kind = Endpoint::kTopology;
  } else if (path == "/topology.json") {
    e.kind = Endpoint::kTopologyJson;
  } else if (path == "/healthz") {
    e.kind = Endpoint::kHealth;
  } else if (path == "/metrics") {
    e.kind = Endpoint::kMetrics;
  } else if (path == "/dsm/terminator") {
    e.kind = Endpoint::kTerminator;
  } else if (path == "/portal/" || path == "/portal") {
    e.kind = Endpoint::kPortal;
  } else if (path == "/trace/" || path == "/trace") {
    e.kind = Endpoint::kTraceList;
  } else if (path.substr(0, 7) == "/trace/") {
    std::string_view id = path.substr(7);
    e.kind = Endpoint::kTrace;
    if (id.size() > 5 && id.substr(id.size() - 5) == ".json") {
      e.kind = Endpoint::kTraceJson;
      id.remove_suffix(5);
    }
    e.trace = std::string(id.substr(0, 64));
  } else if (path.substr(0, kWgatePrefix.size()) == kWgatePrefix) {
    std::string_view rest = path.substr(kWgatePrefix.size());
    size_t slash = rest.find('/');
    std::string service = ToLower(rest.substr(0, slash));
    std::string_view tail =
        slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    if (service == "admin" && tail == "!") {
      e.kind = Endpoint::kAdmin;
    } else if (service == "admin" && tail.empty()) {
      e.kind = Endpoint::kAdminRedirect;
    } else if (IsValidServiceName(service) && (tail.empty() || tail == "!")) {
      e.kind = Endpoint::kService;
      e.service = std::move(service);
      e.start = tail == "!";
    }
  }
  return e;
}

namespace {

// Forms post to these; every address takes GET and HEAD.
bool TakesPost(Endpoint::Kind kind) {
  return kind == Endpoint::kService || kind == Endpoint::kTerminator;
}

}  // namespace

const char* AllowedMethods(Endpoint::Kind kind) {
  if (kind == Endpoint::kNotFound) return nullptr;
  return TakesPost(kind) ? "GET, HEAD, POST" : "GET, HEAD";
}

bool MethodAllowed(std::string_view method, Endpoint::Kind kind) {
  return method == "GET" || method == "HEAD" ||
         (method == "POST" && TakesPost(kind));
}

}  // namespace its::wgate
