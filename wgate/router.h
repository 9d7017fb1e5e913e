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

}  // namespace its::wgate
