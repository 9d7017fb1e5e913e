#include "common/its_protocol.h"

#include "common/strings.h"

namespace its {

std::string ServiceUrl(std::string_view service) {
  return Cat(kWgatePrefix, service, "/");
}

std::string SessionCookie(std::string_view service, std::string_view gusid) {
  if (gusid.empty()) {
    return Cat(kSessionCookieName, "=; Path=", ServiceUrl(service),
               "; Max-Age=0; HttpOnly; SameSite=Lax");
  }
  return Cat(kSessionCookieName, "=", UrlEncode(gusid),
             "; Path=", ServiceUrl(service), "; HttpOnly; SameSite=Lax");
}

std::string TakeSessionId(Params& url,
                          std::optional<std::string_view> cookie_header) {
  if (auto v = url.Get(kSessionCookieName)) {
    std::string session(*v);
    url.Erase(kSessionCookieName);
    return session;
  }
  if (!cookie_header) return "";
  auto c = FindCookie(*cookie_header, kSessionCookieName);
  if (!c) return "";
  auto decoded = UrlDecode(*c);
  return decoded.ok() ? std::move(*decoded) : std::string();
}

bool IsTermination(const Params& params) {
  return params.Has("~sapsessioncmd") || params.Has("sap-sessioncmd");
}

proto::SessionCommand SessionCommandFromName(std::string_view upper_name) {
  if (upper_name == "USR_ABORT") return proto::USR_ABORT;
  if (upper_name == "USR_LOGOFF") return proto::USR_LOGOFF;
  return proto::UNKNOWN_COMMAND;
}

proto::SessionCommand ParseSessionCommand(const Params& params) {
  std::string cmd = ToUpper(
      params.GetOr("~sapsessioncmd", params.GetOr("sap-sessioncmd", "")));
  std::string command = ToLower(params.GetOr("~command", ""));
  if (!cmd.empty()) {
    proto::SessionCommand c = SessionCommandFromName(cmd);
    // An abort that also says ~command=logoff logs off (the "Logged off"
    // end page, counted as a logoff).
    return c == proto::USR_ABORT && command == "logoff" ? proto::USR_LOGOFF : c;
  }
  if (command == "logoff") return proto::LOGOFF;
  if (command == "endofsession") return proto::END_OF_SESSION;
  if (ToUpper(Trim(params.GetOr("~okcode", ""))) == "/NEX") return proto::NEX;
  return proto::NO_COMMAND;
}

std::string_view SessionCommandName(proto::SessionCommand command) {
  switch (command) {
    case proto::USR_ABORT:
      return "USR_ABORT";
    case proto::USR_LOGOFF:
      return "USR_LOGOFF";
    case proto::LOGOFF:
      return "logoff";
    case proto::END_OF_SESSION:
      return "endofsession";
    case proto::NEX:
      return "/nex";
    case proto::UNKNOWN_COMMAND:
      return "unknown session command";
    default:
      return "";
  }
}

absl::StatusOr<AgateRouting> ParseAgateRouting(std::string_view value) {
  std::string_view v = Trim(value);
  auto bad = [&] {
    return absl::InvalidArgumentError(
        Cat("~agate_routing: '", v.substr(0, 40),
            "' is not <instance>[:<process>] (e.g. IT2 or IT2:1)"));
  };
  size_t colon = v.find(':');
  AgateRouting r;
  r.instance = ToUpper(v.substr(0, colon));
  if (r.instance.empty() || r.instance.size() > 8 ||
      r.instance.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") !=
          std::string::npos) {
    return bad();
  }
  if (colon != std::string_view::npos) {
    std::string_view digits = v.substr(colon + 1);
    int process = -1;
    if (digits.empty() || digits.size() > 3 ||
        digits.find_first_not_of("0123456789") != std::string_view::npos ||
        !ParseInt(digits, &process) || process > 255) {
      return bad();
    }
    r.process = process;
  }
  return r;
}

bool IsSecretParam(std::string_view normalized_name) {
  return normalized_name == "~password" || normalized_name == "~passwd" ||
         normalized_name == "SAP-PASSWORD";
}

void EraseSecrets(Params& params) {
  params.Erase("~password");
  params.Erase("~passwd");
  params.Erase("SAP-PASSWORD");
}

}  // namespace its
