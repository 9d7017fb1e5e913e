// The wgate's side of a hostile HTTP client: the bytes of a connection
// through the request parser (llhttp) and what the wgate takes from each
// request before any other process sees it — the endpoint of the path, the
// URL parameters, the session cookie and its GUSID, a traceparent, and what
// the DSM Terminator takes from the parameters.
//
// Input: one byte that says how the bytes arrive (in pieces of 1..255 bytes,
// or all at once for 0), then the bytes of the connection.
//
// Properties: the parser consumes no more than it is given and ends in a
// request or an error with a status and a reason; requests parse the same
// whichever way the bytes were cut; nothing it hands over breaks the limits
// it was given; parameters are UTF-8 (they go into Protobuf strings); a
// response head built with a header from the request cannot be split.
#include <algorithm>
#include <vector>

#include "common/gusid.h"
#include "common/its_protocol.h"
#include "common/params.h"
#include "common/service_file.h"
#include "common/trace.h"
#include "tests/fuzz/fuzz.h"
#include "wgate/http.h"
#include "wgate/router.h"
#include "wgate/terminator.h"

namespace its::fuzz {
namespace {

struct Parsed {
  std::vector<http::Request> requests;
  int error_status = 0;
  std::string error_message;
};

Parsed ParseConnection(std::string_view bytes, size_t piece,
                       const HttpLimits& limits) {
  Parsed out;
  http::Parser parser(limits);
  size_t pos = 0;
  while (pos < bytes.size() && !parser.failed()) {
    const size_t n = std::min(piece, bytes.size() - pos);
    const size_t used = parser.Feed(bytes.data() + pos, n);
    FUZZ_CHECK(used <= n);
    pos += used;
    if (parser.has_request()) {
      out.requests.push_back(parser.TakeRequest());
    } else if (!parser.failed()) {
      // Without a request or an error, the parser takes all it is given.
      FUZZ_CHECK(used == n);
    }
  }
  if (parser.failed()) {
    out.error_status = parser.error_status();
    out.error_message = parser.error_message();
  }
  return out;
}

void CheckRequest(const http::Request& r, const HttpLimits& limits) {
  FUZZ_CHECK(!r.method.empty());
  FUZZ_CHECK(r.target.size() <= limits.max_request_line);
  FUZZ_CHECK(r.headers.size() <= limits.max_headers);
  FUZZ_CHECK(r.body.size() <= limits.max_body);
  FUZZ_CHECK(r.path + (r.target.find('?') == std::string::npos ? "" : "?") +
                 r.query ==
             r.target);
  for (const auto& [name, value] : r.headers) {
    FUZZ_CHECK(!name.empty());
    for (char c : name) FUZZ_CHECK_SAW(!(c >= 'A' && c <= 'Z'), name);
  }

  wgate::Endpoint e = wgate::RoutePath(r.path);
  if (e.kind == wgate::Endpoint::kService) {
    FUZZ_CHECK_SAW(!e.service.empty() && e.service.size() <= kMaxServiceName,
                   e.service);
    for (char c : e.service) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  }
  FUZZ_CHECK(e.trace.size() <= 64);

  Params url;
  absl::Status parsed = ParseQuery(r.query, &url, limits.max_params);
  if (parsed.ok()) {
    FUZZ_CHECK(url.size() <= limits.max_params);
    for (const auto& [n, v] : url.entries()) {
      FUZZ_CHECK_SAW(IsValidUtf8(n), n);
      FUZZ_CHECK_SAW(IsValidUtf8(v), v);
      FUZZ_CHECK(Params::NormalizeName(n) == n);
    }
    std::string session = TakeSessionId(url, r.Header("cookie"));
    FUZZ_CHECK(!url.Has(kSessionCookieName));
    if (auto id = ParseGusid(session); id.ok()) {
      // A GUSID that parses is one the agates could have issued.
      FUZZ_CHECK_SAW(id->ToString() == session, session);
      FUZZ_CHECK(session.size() <= kGusidMaxLength);
      auto pub = ParsePublicId(id->PublicId());
      FUZZ_CHECK(pub.ok() && pub->PublicId() == id->PublicId());
    }
    (void)ParseSessionCommand(url);
    // The portal's DSM Terminator: only this cluster's sessions, never more
    // than asked for, each a valid service and public ID with its token.
    Params form;
    if (ParseQuery(r.body, &form, limits.max_params).ok()) {
      url.MergeFrom(form);
      auto term = wgate::ParseTerminatorRequest(url, {"localhost:8080"}, 4);
      if (term.ok()) {
        FUZZ_CHECK(term->targets.size() <= 4);
        for (const wgate::TerminationTarget& t : term->targets) {
          FUZZ_CHECK_SAW(IsValidServiceName(t.service), t.service);
          FUZZ_CHECK_SAW(ParsePublicId(t.session).ok(), t.session);
          FUZZ_CHECK(!t.token.empty());
          FUZZ_CHECK(t.command == proto::USR_ABORT ||
                     t.command == proto::USR_LOGOFF);
        }
      }
    }
  } else {
    FUZZ_CHECK(!parsed.message().empty());
  }
  if (auto tp = r.Header("traceparent")) {
    if (auto ctx = ParseTraceparent(*tp)) {
      FUZZ_CHECK_SAW(
          FormatTraceparent(ctx->trace, ctx->parent, ctx->flags) == *tp, *tp);
    }
  }

  // A response that echoes what the client sent in a header must still be
  // one status line and whole header lines.
  http::Response resp;
  for (const auto& [name, value] : r.headers) resp.AddHeader(name, value);
  const std::string head = http::SerializeHead(resp, r.keep_alive);
  FUZZ_CHECK(head.ends_with("\r\n\r\n"));
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\n') FUZZ_CHECK(i > 0 && head[i - 1] == '\r');
    if (head[i] == '\r') FUZZ_CHECK(i + 1 < head.size() && head[i + 1] == '\n');
  }
  FUZZ_CHECK(head.find("\r\n\r\n") == head.size() - 4);
}

}  // namespace
}  // namespace its::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace its;
  fuzz::Bytes in(data, size);
  const size_t piece = in.Byte();
  const std::string_view bytes = in.Rest();
  // Small limits, so that inputs of a few kilobytes reach all of them.
  HttpLimits limits;
  limits.max_request_line = 512;
  limits.max_header_bytes = 1024;
  limits.max_headers = 8;
  limits.max_body = 2048;
  limits.max_params = 16;

  const fuzz::Parsed whole = fuzz::ParseConnection(bytes, bytes.size(), limits);
  const fuzz::Parsed cut =
      fuzz::ParseConnection(bytes, piece == 0 ? bytes.size() : piece, limits);
  if (whole.error_status != 0) {
    FUZZ_CHECK(whole.error_status == 400 || whole.error_status == 413 ||
               whole.error_status == 414 || whole.error_status == 431 ||
               whole.error_status == 505);
    FUZZ_CHECK(!whole.error_message.empty());
  }
  // The same requests and the same end, however the bytes arrived. (Which
  // error ends it may differ when the bytes hold two: a URL too long whose
  // whole holds a bad character is found too long first when it arrives
  // in pieces.)
  FUZZ_CHECK_SAW((whole.error_status == 0) == (cut.error_status == 0),
                 whole.error_message + " | " + cut.error_message);
  FUZZ_CHECK(whole.requests.size() == cut.requests.size());
  for (size_t i = 0; i < whole.requests.size(); ++i) {
    const http::Request& a = whole.requests[i];
    const http::Request& b = cut.requests[i];
    FUZZ_CHECK(a.method == b.method && a.target == b.target &&
               a.headers == b.headers && a.body == b.body &&
               a.keep_alive == b.keep_alive);
    fuzz::CheckRequest(a, limits);
  }
  return 0;
}
