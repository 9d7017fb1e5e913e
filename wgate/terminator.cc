#include "wgate/terminator.h"

#include <map>

#include "common/gusid.h"
#include "common/its_protocol.h"
#include "common/service_file.h"
#include "common/strings.h"

namespace its::wgate {
namespace {

constexpr size_t kMaxReasons = 5;

void Reject(TerminatorRequest* out, std::string why) {
  ++out->rejected;
  if (out->reasons.size() < kMaxReasons) out->reasons.push_back(std::move(why));
}

// Parses one session URL into `t`; returns why it is refused, or "".
std::string ParseTarget(std::string_view url,
                        const std::vector<std::string>& own_hosts,
                        TerminationTarget* t) {
  if (url.find_first_of("\r\n\\") != std::string_view::npos)
    return "control characters";
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.substr(0, scheme.size()) == scheme) {
      std::string_view rest = url.substr(scheme.size());
      size_t slash = rest.find('/');
      std::string_view host = rest.substr(0, slash);
      bool own = false;
      for (const auto& h : own_hosts) own |= h == host;
      if (!own) return Cat("foreign host ", host.substr(0, 64));
      url = slash == std::string_view::npos ? "/" : rest.substr(slash);
      break;
    }
  }
  if (url.substr(0, kWgatePrefix.size()) != kWgatePrefix)
    return "not a session URL of this cluster";
  std::string_view rest = url.substr(kWgatePrefix.size());
  size_t q = rest.find('?');
  if (q == std::string_view::npos || q == 0 || rest[q - 1] != '/')
    return "no session parameters";
  std::string service = ToLower(rest.substr(0, q - 1));
  if (!IsValidServiceName(service)) return "bad service name";
  Params p;
  if (!ParseQuery(rest.substr(q + 1), &p, 50).ok()) return "broken escaping";
  auto id = p.Get("~sessid");
  auto token = p.Get("~termtoken");
  // An empty token can match no session's: rejected here rather than sent
  // to an agate to refuse (found by tests/fuzz/http_request_fuzz.cc).
  if (!id || !token || token->empty() || !ParsePublicId(*id).ok())
    return "no session ID or token";
  t->service = service;
  t->session = std::string(*id);
  t->token = std::string(*token);
  // Without a ~SAPSessionCmd the DSM means USR_ABORT.
  t->command = IsTermination(p) ? ParseSessionCommand(p) : proto::USR_ABORT;
  if (t->command != proto::USR_ABORT && t->command != proto::USR_LOGOFF)
    return "unknown session command";
  return "";
}

}  // namespace

absl::StatusOr<TerminatorRequest> ParseTerminatorRequest(
    const Params& params, const std::vector<std::string>& own_hosts,
    size_t max_targets) {
  std::string list;
  // The command for every target (Command form), if given.
  proto::SessionCommand forced = proto::NO_COMMAND;
  if (auto term = params.Get("TERMSTRING")) {
    list = std::string(*term);
  } else if (auto keys = params.Get("SERKEYSTRING")) {
    list = std::string(*keys);
    std::string command = ToUpper(params.GetOr("COMMAND", ""));
    if (command == "ABORT")
      forced = proto::USR_ABORT;
    else if (command == "LOGOFF")
      forced = proto::USR_LOGOFF;
    else
      return absl::InvalidArgumentError("Command must be ABORT or LOGOFF");
  } else {
    return absl::InvalidArgumentError(
        "TermString or Command and SerKeyString required");
  }
  TerminatorRequest out;
  std::map<std::string, size_t> by_session;  // session -> index in targets
  for (std::string_view piece : Split(list, '&', /*skip_empty=*/true)) {
    auto url = UrlDecode(piece);
    if (!url.ok()) {
      Reject(&out, "broken escaping");
      continue;
    }
    TerminationTarget t;
    std::string why = ParseTarget(*url, own_hosts, &t);
    if (!why.empty()) {
      Reject(&out, why);
      continue;
    }
    if (forced != proto::NO_COMMAND) t.command = forced;
    auto seen = by_session.find(t.session);
    if (seen != by_session.end()) {  // LOGOFF wins over ABORT
      if (t.command == proto::USR_LOGOFF)
        out.targets[seen->second].command = t.command;
      continue;
    }
    if (out.targets.size() >= max_targets) {
      Reject(&out, "too many sessions in one request");
      continue;
    }
    by_session.emplace(t.session, out.targets.size());
    out.targets.push_back(std::move(t));
  }
  return out;
}

bool IsValidLaunchUrl(std::string_view url) {
  return url.substr(0, kWgatePrefix.size()) == kWgatePrefix &&
         url.find_first_of("\r\n\\\"'<> ") == std::string_view::npos &&
         url.find("//", 1) == std::string_view::npos && url.size() <= 2048;
}

}  // namespace its::wgate
