// The small text formats that arrive from outside and are written back out:
// URL encoding, HTML escaping, redirect targets, cookies, GUSIDs, trace IDs,
// ~agate_routing, ~transaction (deep links). Each is checked against its own
// contract: what is decoded encodes back, what is escaped is inert in HTML,
// what is accepted is the canonical form the cluster itself writes.
//
// Input: one byte choosing the function, then its argument.
#include <set>
#include <string>

#include "common/gusid.h"
#include "common/its_protocol.h"
#include "common/params.h"
#include "common/trace.h"
#include "common/transaction_call.h"
#include "tests/fuzz/fuzz.h"

namespace its::fuzz {
namespace {

bool IsHex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

void UrlCoding(std::string_view s) {
  const std::string encoded = UrlEncode(s);
  for (unsigned char c : encoded) FUZZ_CHECK(c > 0x20 && c < 0x7f);
  auto decoded = UrlDecode(encoded);
  FUZZ_CHECK(decoded.ok() && *decoded == s);
  if (auto d = UrlDecode(s); d.ok()) {
    FUZZ_CHECK(d->size() <= s.size());
  } else {
    FUZZ_CHECK(s.find('%') != std::string_view::npos);
  }
}

void Escaping(std::string_view s) {
  const std::string e = HtmlEscape(s);
  FUZZ_CHECK(e.find_first_of("<>\"'") == std::string::npos);
  for (size_t i = e.find('&'); i != std::string::npos; i = e.find('&', i + 1)) {
    const std::string_view at = std::string_view(e).substr(i);
    FUZZ_CHECK(at.starts_with("&amp;") || at.starts_with("&lt;") ||
               at.starts_with("&gt;") || at.starts_with("&quot;") ||
               at.starts_with("&#39;"));
  }
  std::string appended = "x";
  AppendHtmlEscaped(&appended, s);
  FUZZ_CHECK(appended == "x" + e);
}

void Redirect(std::string_view s) {
  if (!IsSafeRedirect(s, {"portal.example:8443", "Intranet"})) return;
  // Nothing that could end a header line or leave for another host.
  for (unsigned char c : s) FUZZ_CHECK(c > 0x20 && c != 0x7f && c != '\\');
  if (s[0] == '/') {
    FUZZ_CHECK(!s.starts_with("//"));
    return;
  }
  std::string lower;
  for (char c : s) lower += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  std::string_view rest = lower;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    FUZZ_CHECK_SAW(rest.starts_with("https://"), s);
    rest.remove_prefix(8);
  }
  const std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  FUZZ_CHECK_SAW(host == "portal.example:8443" || host == "intranet", s);
}

void Cookie(std::string_view s) {
  const size_t cut = s.find('\0');
  const std::string_view name =
      cut == std::string_view::npos ? "~session" : s.substr(0, cut);
  const std::string_view header =
      cut == std::string_view::npos ? s : s.substr(cut + 1);
  if (auto v = FindCookie(header, name)) {
    // The value is a part of the header, never made up.
    FUZZ_CHECK(v->data() >= header.data() &&
               v->data() + v->size() <= header.data() + header.size());
  }
  Params url;
  std::string session = TakeSessionId(url, header);
  if (auto id = ParseGusid(session); id.ok()) {
    FUZZ_CHECK(id->ToString() == session);
  }
}

void Gusid(std::string_view s) {
  if (auto id = ParseGusid(s); id.ok()) {
    FUZZ_CHECK_SAW(id->ToString() == s, s);
    FUZZ_CHECK(s.size() <= kGusidMaxLength);
    FUZZ_CHECK(id->random.size() == kGusidRandomHex && IsHex(id->random));
    FUZZ_CHECK(IsValidUtf8(s));
    // The public ID is the GUSID without its random part, and parses.
    const std::string pub = id->PublicId();
    FUZZ_CHECK(s.starts_with(pub + "."));
    auto p = ParsePublicId(pub);
    FUZZ_CHECK(p.ok() && p->instance == id->instance && p->host == id->host &&
               p->process == id->process && p->slot == id->slot &&
               p->random.empty());
  }
  if (auto p = ParsePublicId(s); p.ok()) {
    FUZZ_CHECK_SAW(p->PublicId() == s, s);
    FUZZ_CHECK(!ParseGusid(s).ok());
  }
}

void Trace(std::string_view s) {
  if (auto ctx = ParseTraceparent(s)) {
    FUZZ_CHECK_SAW(FormatTraceparent(ctx->trace, ctx->parent, ctx->flags) == s,
                   s);
    FUZZ_CHECK(ctx->parent != 0);
  }
  if (auto t = ParseTraceHex(s)) FUZZ_CHECK_SAW(TraceHex(*t) == s, s);
}

void Routing(std::string_view s) {
  auto r = ParseAgateRouting(s);
  if (!r.ok()) {
    FUZZ_CHECK(std::string(r.status().message()).starts_with("~agate_routing"));
    return;
  }
  FUZZ_CHECK(!r->instance.empty() && r->instance.size() <= 8);
  FUZZ_CHECK(r->instance.find_first_not_of(
                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == std::string::npos);
  if (r->process) FUZZ_CHECK(*r->process >= 0 && *r->process <= 255);
}

// ~transaction as this cluster would write a parsed call: escaped so that
// it parses back to the same call.
std::string WriteCall(const TransactionCall& call) {
  std::string out = call.execute ? "*" : "";
  out += call.tcode;
  auto piece = [&out, first = true](std::string_view name,
                                    std::string_view v) mutable {
    out += first ? ' ' : ';';
    first = false;
    out += name;
    out += '=';
    for (size_t i = 0; i < v.size(); ++i) {
      // A backslash is an escape only before ';', '\\' or the value's end;
      // elsewhere it stands for itself (C:\temp).
      const bool escape =
          v[i] == ';' ||
          (v[i] == '\\' &&
           (i + 1 == v.size() || v[i + 1] == ';' || v[i + 1] == '\\'));
      if (escape) out += '\\';
      out += v[i];
    }
  };
  for (const auto& field : call.fields) piece(field.first, field.second);
  if (!call.okcode.empty()) piece("DYNP_OKCODE", call.okcode);
  return out;
}

void Transaction(std::string_view s) {
  auto call = ParseTransactionCall(s);
  if (!call.ok()) {
    FUZZ_CHECK_SAW(
        std::string(call.status().message()).starts_with("~transaction"),
        call.status().message());
    return;
  }
  FUZZ_CHECK(!call->tcode.empty() && call->tcode.size() <= kMaxTcodeLength);
  FUZZ_CHECK(call->fields.size() <= kMaxCallFields);
  std::set<std::string> names;
  for (const auto& [name, value] : call->fields) {
    FUZZ_CHECK(!name.empty() && name.size() <= kMaxCallFieldName);
    for (char c : name) FUZZ_CHECK(!(c >= 'a' && c <= 'z'));
    FUZZ_CHECK(value.size() <= kMaxCallFieldValue);
    for (unsigned char c : value) FUZZ_CHECK(c >= 0x20 && c != 0x7f);
    FUZZ_CHECK_SAW(names.insert(name).second, name);
  }
  // Written back, it parses to the same call (if the escapes it needs
  // still fit the limit).
  const std::string written = WriteCall(*call);
  if (written.size() > kMaxTransactionCallLength) return;
  auto again = ParseTransactionCall(written);
  FUZZ_CHECK_SAW(again.ok(), written + " | " + again.status().ToString());
  FUZZ_CHECK_SAW(
      again->tcode == call->tcode && again->execute == call->execute &&
          again->fields == call->fields && again->okcode == call->okcode,
      written);
}

}  // namespace
}  // namespace its::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace its::fuzz;
  Bytes in(data, size);
  const size_t which = in.Below(8);
  const std::string_view s = in.Rest();
  switch (which) {
    case 0:
      UrlCoding(s);
      break;
    case 1:
      Escaping(s);
      break;
    case 2:
      Redirect(s);
      break;
    case 3:
      Cookie(s);
      break;
    case 4:
      Gusid(s);
      break;
    case 5:
      Trace(s);
      break;
    case 6:
      Routing(s);
      break;
    case 7:
      Transaction(s);
      break;
  }
  return 0;
}
