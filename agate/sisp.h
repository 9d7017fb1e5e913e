#pragma once

// SISP (docs/sisp-and-dsm.md): the SessInfo script an AGate puts on the pages
// of a session started with sapwp_active=1, and the URL the portal's DSM
// sends that session's termination command to.

#include <string>
#include <string_view>

#include "agate/session_ids.h"
#include "agate/session_table.h"

namespace its::agate {

// The service URL with the session's public ID and termination-only token:
// "/scripts/wgate/<service>/?~sessid=<public id>&~termtoken=<token>". Never
// the session's random part.
std::string SispSessionUrl(std::string_view service, std::string_view public_id,
                           std::string_view term_token);

// The SessInfo <script> for a page of `s` reporting `command` (USR_OPEN,
// SRV_CLOSE, SRV_ERROR; with SRV_CLOSE `redirect` is the ~exitURL); "" for a
// session that is not a SISP session.
std::string SispScriptFor(const SessionContext& s, const SessionIds& ids,
                          const char* command,
                          const std::string& redirect = "");

}  // namespace its::agate
