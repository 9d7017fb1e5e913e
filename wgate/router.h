#pragma once

#include <string>
#include <string_view>

namespace its::wgate {

// What a request path asks for. Pure: the wgate dispatches on it.
struct Endpoint {
  enum Kind {
    kNotFound,
    kTopology,       // / (the topology page)
    kTopologyJson,   // /topology.json
    kHealth,         // /healthz
    kMetrics,        // /metrics (Prometheus text)
    kTerminator,     // /dsm/terminator (the portal's DSM)
    kPortal,         // /portal/
    kAdmin,          // /scripts/wgate/admin/!
    kAdminRedirect,  // /scripts/wgate/admin/ and .../admin: to .../admin/!
    kService,        // /scripts/wgate/<service>/ and .../!
    kTraceList,      // /trace/ (recent traces)
    kTrace,          // /trace/<id> (the sequence diagram)
    kTraceJson,      // /trace/<id>.json
  };
  Kind kind = kNotFound;
  std::string service;  // kService: lower case
  bool start = false;   // kService: the `!` URL (a new session)
  std::string trace;    // kTrace, kTraceJson: the ID as given (unchecked)
};

Endpoint RoutePath(std::string_view path);

// The methods an endpoint serves, as an Allow header says them: "GET, HEAD,
// POST" for service URLs and the DSM Terminator (forms post), "GET, HEAD" for
// every page; nullptr for kNotFound (404 whatever the method).
const char* AllowedMethods(Endpoint::Kind kind);
// Whether `method` (as sent: methods are case-sensitive) is one of those.
bool MethodAllowed(std::string_view method, Endpoint::Kind kind);

}  // namespace its::wgate
