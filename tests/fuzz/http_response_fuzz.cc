// itsload's side of a server that answers anything: the bytes of a
// connection, in pieces of 1..255 bytes, through its response parser
// (llhttp), and each response's page through the step checks a scenario can
// ask for (clients/page_check.h).
//
// Input: one byte that says how the bytes arrive (0: all at once), one that
// chooses the step's checks, then the bytes of the connection.
//
// Properties: the parser uses no more than it is given; the same responses
// and the same end however the bytes were cut; statuses are three digits,
// header names lower case; an error kind is UTF-8 and short (kinds go into
// the JSON report and the workers' Protobuf, and name checks, not data).
#include <algorithm>
#include <string>
#include <vector>

#include "clients/page_check.h"
#include "clients/scenario.h"
#include "common/http_response_parser.h"
#include "common/params.h"
#include "tests/fuzz/fuzz.h"

namespace its::fuzz {
namespace {

struct Response {
  int status = 0;
  bool keep_alive = false;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool operator==(const Response&) const = default;
};

struct Connection {
  std::vector<Response> responses;
  bool failed = false;
};

Connection Read(std::string_view bytes, size_t piece) {
  Connection out;
  HttpResponseParser parser;
  auto take = [&] {
    Response r;
    r.status = parser.status();
    r.keep_alive = parser.keep_alive();
    for (size_t i = 0; i < parser.header_count(); ++i) {
      r.headers.emplace_back(parser.header_name(i), parser.header_value(i));
    }
    r.body = parser.body();
    out.responses.push_back(std::move(r));
    parser.Reset();
  };
  size_t pos = 0;
  while (pos < bytes.size() && !parser.failed()) {
    const size_t n = std::min(piece, bytes.size() - pos);
    const size_t used = parser.Feed(bytes.data() + pos, n);
    FUZZ_CHECK(used <= n);
    pos += used;
    if (parser.complete()) {
      take();
    } else if (!parser.failed()) {
      FUZZ_CHECK(used == n);  // without an end, it takes all it is given
    }
  }
  if (!parser.failed() && parser.FinishAtEof()) take();
  out.failed = parser.failed();
  return out;
}

load::StepDef Step(uint8_t which) {
  load::StepDef step;
  switch (which % 4) {
    case 1:
      step.expect_screen = "PA30/2000";
      step.screen_marker = *load::ScreenMarker(step.expect_screen);
      step.expect_field.push_back(
          load::MakeFieldCheck("rp50g-pernr", load::Template("1001")));
      break;
    case 2:
      step.expect_text = {
          load::Template(std::string(58, 'x') + "M\xc3\xbcller")};
      step.reject_text = {load::Template("is locked by user")};
      break;
    case 3:
      step.expect_status = 302;
      break;
  }
  return step;
}

}  // namespace
}  // namespace its::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace its;
  fuzz::Bytes in(data, size);
  const size_t piece = in.Byte();
  const load::StepDef step = fuzz::Step(in.Byte());
  const std::string_view bytes = in.Rest();

  const fuzz::Connection whole = fuzz::Read(bytes, bytes.size());
  const fuzz::Connection cut =
      fuzz::Read(bytes, piece == 0 ? bytes.size() : piece);
  FUZZ_CHECK(whole.failed == cut.failed);
  FUZZ_CHECK(whole.responses == cut.responses);
  for (const fuzz::Response& r : whole.responses) {
    FUZZ_CHECK(r.status >= 100 && r.status <= 999);
    for (const auto& [name, value] : r.headers) {
      for (char c : name) FUZZ_CHECK_SAW(!(c >= 'A' && c <= 'Z'), name);
    }
    const std::string kind =
        load::CheckPage(step, r.status, r.body, "LOAD00001");
    FUZZ_CHECK_SAW(IsValidUtf8(kind), kind);
    FUZZ_CHECK_SAW(kind.size() <= 200, kind);
  }
  return 0;
}
