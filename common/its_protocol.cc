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
    // An abort that also says ~command=logoff logs off: the logon data kept
    // for ~userTimeout goes too.
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
