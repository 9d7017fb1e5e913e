#pragma once

// The ITS protocol vocabulary in one place: the URL prefix, the ~session
// cookie, session commands, logon data and secret parameters. The wgate,
// the agate, the pages and itsload all speak it through this header, so a
// rule changes in one spot (docs/architecture.md §3, §4).

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/params.h"
#include "proto/its.pb.h"

namespace its {

// Every service lives under this path: /scripts/wgate/<service>/ (dialog),
// /scripts/wgate/<service>/! (start).
inline constexpr std::string_view kWgatePrefix = "/scripts/wgate/";
inline constexpr std::string_view kSessionCookieName = "~session";

// "/scripts/wgate/<service>/".
std::string ServiceUrl(std::string_view service);

// Set-Cookie value that sets ~session to `gusid` (URL-encoded), scoped to the
// service's path; with an empty `gusid` it expires the cookie.
std::string SessionCookie(std::string_view service, std::string_view gusid);

// The session ID a request names: the ~session URL parameter (~cookies 0,
// removed from `url`) or else the ~session cookie of `cookie_header`. ""
// when there is none or its escaping is broken.
std::string TakeSessionId(Params& url,
                          std::optional<std::string_view> cookie_header);

// A SISP or DSM termination: the request carries ~SAPSessionCmd (or
// sap-sessioncmd).
bool IsTermination(const Params& params);

// What the parameters ask of the session: ~SAPSessionCmd first (USR_ABORT
// with ~command=logoff is USR_LOGOFF), then ~command=logoff|endofsession,
// then ~okcode=/NEX.
proto::SessionCommand ParseSessionCommand(const Params& params);
// "USR_ABORT", "logoff", "/nex" ...: how the ITS logs a command.
std::string_view SessionCommandName(proto::SessionCommand command);
// USR_ABORT or USR_LOGOFF as the DSM Terminator names them.
proto::SessionCommand SessionCommandFromName(std::string_view upper_name);

// Ends the session without a new page: a logoff or a session command.
inline bool EndsSession(proto::SessionCommand c) {
  return c != proto::NO_COMMAND && c != proto::UNKNOWN_COMMAND;
}
// Ends the session as a logoff (USR_ABORT: as a closed browser window).
inline bool IsLogoff(proto::SessionCommand c) {
  return c == proto::USR_LOGOFF || c == proto::LOGOFF;
}

// The logon data of a request: ~client, ~login, ~password (or ~passwd),
// ~language, looked up by `param` (URL, then service file, ...).
struct LogonData {
  std::string client, user, password, language;
  // Enough to log on; else the ITS shows the logon page.
  bool complete() const {
    return !client.empty() && !user.empty() && !password.empty();
  }
};
template <typename Lookup>  // std::string(std::string_view name)
LogonData ReadLogonData(Lookup param) {
  LogonData d{param("~client"), param("~login"), param("~password"),
              param("~language")};
  if (d.password.empty()) d.password = param("~passwd");
  return d;
}

// ~agate_routing=<instance>[:<process>] on a start URL: the new session
// goes to that AGate instance (no weighing by capacity) and, with a process
// number, to that process (no assignment rule) — or is refused, never sent
// elsewhere (docs/architecture.md §4.2). The real ITS names a host; here every
// process runs on one host, so the instance stands in for it.
struct AgateRouting {
  std::string instance;        // upper case, [A-Z0-9]{1,8}
  std::optional<int> process;  // 0..255 (MaxAGates is at most 256)
};
// Errors are InvalidArgument sentences starting with "~agate_routing".
absl::StatusOr<AgateRouting> ParseAgateRouting(std::string_view value);

// Parameters that must never be echoed into a page, a log or a context.
bool IsSecretParam(std::string_view normalized_name);
void EraseSecrets(Params& params);

}  // namespace its
