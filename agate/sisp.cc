#include "agate/sisp.h"

#include "agate/render.h"
#include "common/its_protocol.h"
#include "common/strings.h"

namespace its::agate {

std::string SispSessionUrl(std::string_view service, std::string_view public_id,
                           std::string_view term_token) {
  return Cat(ServiceUrl(service), "?~sessid=", UrlEncode(public_id),
             "&~termtoken=", term_token);
}

std::string SispScriptFor(const SessionContext& s, const SessionIds& ids,
                          const char* command, const std::string& redirect) {
  if (!s.sisp) return "";
  SessInfo info;
  info.gusid = ids.Public(s.slot);
  info.sess_url = SispSessionUrl(s.service(), info.gusid, s.term_token());
  info.last_cmd = command;
  info.redirect_url = redirect;
  info.timeout_s = s.timeout / kSimSecond;
  info.label = Cat(s.service(), " ", s.tcode());
  return SispScript(info);
}

}  // namespace its::agate
