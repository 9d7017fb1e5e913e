#include "wgate/outcome.h"

#include <string>

#include "common/pages.h"

namespace its::wgate {

int HttpStatus(proto::Outcome outcome, bool has_location) {
  switch (outcome) {
    case proto::PAGE:
    case proto::SESSION_STARTED:
    case proto::SERVICE_RESTARTED:
    case proto::LOGON_PAGE:
    case proto::LOGON_FAILED:
    case proto::TERMINATED:
    case proto::ALREADY_ENDED:
      return 200;
    case proto::LOGGED_OFF:
      return has_location ? 302 : 200;
    case proto::LOGON_REFUSED:
    case proto::SESSION_ENDED:
    case proto::SESSION_NOT_FOUND:
    case proto::SESSION_LOST:
    case proto::BAD_COMMAND:
    case proto::BAD_TRANSACTION_CALL:
      return 400;
    case proto::SERVICE_NOT_FOUND:
      return 404;
    case proto::NO_CAPACITY:
    case proto::R3_UNREACHABLE:
    case proto::AGATE_UNREACHABLE:
    case proto::STARTING:
      return 503;
    case proto::R3_TIMEOUT:
    case proto::AGATE_TIMEOUT:
      return 504;
    default:  // OUTCOME_UNSPECIFIED: never reaches a browser
      return 502;
  }
}

std::string_view OutcomeLabel(proto::Outcome outcome) {
  // Enum names are static strings; the label is the name in lower case,
  // computed once per value.
  static const auto* labels = [] {
    auto* v = new std::string[proto::Outcome_ARRAYSIZE];
    for (int i = 0; i < proto::Outcome_ARRAYSIZE; ++i) {
      if (!proto::Outcome_IsValid(i)) continue;
      std::string name = proto::Outcome_Name(static_cast<proto::Outcome>(i));
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      v[i] = std::move(name);
    }
    return v;
  }();
  int i = static_cast<int>(outcome);
  if (i < 0 || i >= proto::Outcome_ARRAYSIZE) return "unknown";
  return labels[i];
}

const char* StartSteps(proto::Outcome outcome) {
  switch (outcome) {
    case proto::SESSION_STARTED:
    case proto::SERVICE_RESTARTED:
      return "1,2,3,4,5";
    default:  // no session ID (4), no R/3 user session (5)
      return "1,2,3";
  }
}

const char* ExistingSteps(const proto::AGateResponse& a) {
  if (a.pid() == 0) return "1";      // the wgate answered alone
  if (!a.r3_called()) return "1,4";  // the process answered without R/3
  return "1,4,5";
}

proto::AGateResponse WgateAnswer(proto::Outcome outcome) {
  const char* title = "Session not found";
  const char* text = "The session does not exist - please log in again";
  bool clear = true;  // the session is gone: so is its cookie
  switch (outcome) {
    case proto::SESSION_LOST:
      title = "Session lost";
      text =
          "The AGate process that held this session ended - please log in "
          "again";
      break;
    case proto::STARTING:
      title = "Starting";
      text =
          "The ITS is starting - your session is kept, please try again in a "
          "moment";
      clear = false;
      break;
    case proto::AGATE_UNREACHABLE:
      title = "AGate process not reachable";
      text =
          "The AGate process that holds this session cannot be reached right "
          "now - your session is kept, please try again";
      clear = false;
      break;
    case proto::AGATE_TIMEOUT:
      title = "No answer in time";
      text =
          "The AGate process did not answer in time - your session is kept, "
          "please try again";
      clear = false;
      break;
    default:
      outcome = proto::SESSION_NOT_FOUND;
      break;
  }
  proto::AGateResponse a;
  a.set_outcome(outcome);
  a.set_body(MessagePage(title, text));
  a.set_clear_session(clear);
  return a;
}

}  // namespace its::wgate
