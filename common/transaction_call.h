#pragma once

// The SAP GUI transaction-call syntax of ~transaction, as deep links from
// other systems use it (docs/architecture.md §4.1):
//
//   TCODE                               start TCODE
//   TCODE FIELD=value;FIELD=value       ... with the first screen's fields
//                                       filled
//   *TCODE FIELD=value;...              ... and the first screen executed at
//                                       once (as if Enter were pressed)
//   ...;DYNP_OKCODE=CODE                execute it with function code CODE
//
// `/*TCODE` (what users type into the command field) is the same as
// `*TCODE`. Transaction codes and field names are case-insensitive
// (upper-cased here); values are kept as given, without surrounding blanks.
//
// Escaping (SAP documents none for this syntax: there a value cannot hold
// a `;`): `\;` is a `;` inside a value and `\\` a backslash; a backslash
// before anything else stays a backslash (C:\temp needs no escaping). Empty
// pieces (`;;`, a trailing `;`) are ignored. A field given twice, a piece
// without `=`, a bad name, a control character in a value and anything
// beyond the limits below are errors that say what is wrong. Pure: no I/O.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace its {

struct TransactionCall {
  std::string tcode;     // upper case
  bool execute = false;  // `*`: process the first screen at once
  // Field values for the first screen, upper-case names, in the given order.
  std::vector<std::pair<std::string, std::string>> fields;
  std::string okcode;  // DYNP_OKCODE (implies execution), "" if not given
};

// Limits: the whole text, the number of fields, one field name, one value.
inline constexpr size_t kMaxTransactionCallLength = 2048;
inline constexpr size_t kMaxCallFields = 64;
inline constexpr size_t kMaxCallFieldName = 64;
inline constexpr size_t kMaxCallFieldValue = 255;
inline constexpr size_t kMaxTcodeLength = 20;

// Parses `text` (a ~transaction value). Errors are InvalidArgument with a
// sentence for the user, starting with "~transaction".
absl::StatusOr<TransactionCall> ParseTransactionCall(std::string_view text);

// The function code the filled first screen gets at the start: the start
// URL's ~okcode if given, else DYNP_OKCODE, else "/00" for `*`, else ""
// (the first screen is shown, nothing executed).
std::string StartOkcode(const TransactionCall& call,
                        std::string_view url_okcode);

}  // namespace its
