#include "common/transaction_call.h"

#include <algorithm>

#include "common/strings.h"

namespace its {
namespace {

constexpr std::string_view kOkcodeField = "DYNP_OKCODE";
// How much of a bad piece an error message quotes.
constexpr size_t kQuote = 40;

std::string Quote(std::string_view s) {
  if (s.size() <= kQuote) return Cat("'", s, "'");
  return Cat("'", s.substr(0, kQuote), "...'");
}

bool IsTcodeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '/';
}

// SAP screen field names: TABLE-FIELD, namespaces (/BIC/...), table
// control lines (FIELD(01)).
bool IsFieldNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '/' || c == '(' || c == ')';
}

bool HasControlChar(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(Cat("~transaction: ", what));
}

// Splits the field part on unescaped `;`, resolving `\;` and `\\`.
std::vector<std::string> SplitPieces(std::string_view s) {
  std::vector<std::string> pieces(1);
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() &&
        (s[i + 1] == ';' || s[i + 1] == '\\')) {
      pieces.back().push_back(s[++i]);
    } else if (c == ';') {
      pieces.emplace_back();
    } else {
      pieces.back().push_back(c);
    }
  }
  return pieces;
}

}  // namespace

absl::StatusOr<TransactionCall> ParseTransactionCall(std::string_view text) {
  if (text.size() > kMaxTransactionCallLength) {
    return Bad(Cat("longer than ", kMaxTransactionCallLength, " characters"));
  }
  std::string_view s = Trim(text);
  TransactionCall call;
  if (s.substr(0, 1) == "*") {
    call.execute = true;
    s.remove_prefix(1);
  } else if (s.size() >= 2 && s[0] == '/' && s[1] == '*') {
    call.execute = true;
    s.remove_prefix(2);
  }
  s = Trim(s);
  size_t space = s.find_first_of(" \t");
  std::string_view code = s.substr(0, space);
  std::string_view rest =
      space == std::string_view::npos ? "" : Trim(s.substr(space));
  if (code.empty()) return Bad("no transaction code given");
  call.tcode = ToUpper(code);
  if (call.tcode.size() > kMaxTcodeLength ||
      !std::all_of(call.tcode.begin(), call.tcode.end(), IsTcodeChar)) {
    return Bad(Cat(Quote(code), " is not a transaction code (at most ",
                   kMaxTcodeLength, " of A-Z, 0-9, _ and /)"));
  }
  for (std::string& piece : SplitPieces(rest)) {
    std::string_view p = Trim(piece);
    if (p.empty()) continue;  // ";;", a trailing ";"
    size_t eq = p.find('=');
    if (eq == std::string_view::npos) {
      return Bad(Cat(Quote(p), " is not FIELD=value"));
    }
    std::string name = ToUpper(Trim(p.substr(0, eq)));
    std::string_view value = Trim(p.substr(eq + 1));
    if (name.empty()) return Bad(Cat(Quote(p), " has no field name"));
    if (name.size() > kMaxCallFieldName ||
        !std::all_of(name.begin(), name.end(), IsFieldNameChar)) {
      return Bad(Cat(Quote(name), " is not a field name (at most ",
                     kMaxCallFieldName, " of A-Z, 0-9, _, -, / and ())"));
    }
    if (value.size() > kMaxCallFieldValue) {
      return Bad(Cat("the value of ", name, " is longer than ",
                     kMaxCallFieldValue, " characters"));
    }
    if (HasControlChar(value)) {
      return Bad(Cat("the value of ", name, " contains a control character"));
    }
    if (name == kOkcodeField) {
      if (!call.okcode.empty()) return Bad(Cat(name, " is given twice"));
      if (value.empty()) return Bad(Cat(name, " is empty"));
      call.okcode = std::string(value);
      continue;
    }
    for (const auto& [n, v] : call.fields) {
      if (n == name) return Bad(Cat("field ", name, " is given twice"));
    }
    if (call.fields.size() >= kMaxCallFields) {
      return Bad(Cat("more than ", kMaxCallFields, " fields"));
    }
    call.fields.emplace_back(std::move(name), std::string(value));
  }
  return call;
}

std::string StartOkcode(const TransactionCall& call,
                        std::string_view url_okcode) {
  std::string_view ok = Trim(url_okcode);
  if (!ok.empty()) return std::string(ok);
  if (!call.okcode.empty()) return call.okcode;
  return call.execute ? "/00" : "";
}

}  // namespace its
