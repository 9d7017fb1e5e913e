#include "common/transaction_call.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/strings.h"

namespace its {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::string ErrorOf(std::string_view text) {
  auto call = ParseTransactionCall(text);
  EXPECT_FALSE(call.ok()) << text;
  return call.ok() ? "" : std::string(call.status().message());
}

TEST(TransactionCallTest, PlainTransactionCode) {
  auto call = ParseTransactionCall("FB03");
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->tcode, "FB03");
  EXPECT_FALSE(call->execute);
  EXPECT_TRUE(call->fields.empty());
  EXPECT_EQ(call->okcode, "");
}

TEST(TransactionCallTest, FieldsFillTheFirstScreenInOrder) {
  auto call = ParseTransactionCall(
      "*FB03 RF05L-BELNR=4711;RF05L-BUKRS=1000;RF05L-GJAHR=2024");
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->tcode, "FB03");
  EXPECT_TRUE(call->execute);
  EXPECT_THAT(call->fields, ElementsAre(Pair("RF05L-BELNR", "4711"),
                                        Pair("RF05L-BUKRS", "1000"),
                                        Pair("RF05L-GJAHR", "2024")));
}

TEST(TransactionCallTest, LowerCaseCodesAndNamesAreUpperCasedValuesKept) {
  auto call = ParseTransactionCall("  fb03   rf05l-belnr = ab 12 ; ");
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->tcode, "FB03");
  EXPECT_FALSE(call->execute);
  EXPECT_THAT(call->fields, ElementsAre(Pair("RF05L-BELNR", "ab 12")));
}

TEST(TransactionCallTest, CommandFieldFormOfExecute) {
  auto call = ParseTransactionCall("/*pa30 RP50G-PERNR=1234");
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->tcode, "PA30");
  EXPECT_TRUE(call->execute);
  EXPECT_EQ(ParseTransactionCall("* FB03")->tcode, "FB03");
}

TEST(TransactionCallTest, DynpOkcodeIsTheFunctionCodeNotAField) {
  auto call =
      ParseTransactionCall("*SU01 USR02-BNAME=ANZEIGER;DYNP_OKCODE=SHOW");
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_THAT(call->fields, ElementsAre(Pair("USR02-BNAME", "ANZEIGER")));
  EXPECT_EQ(call->okcode, "SHOW");
  EXPECT_THAT(ErrorOf("FB03 DYNP_OKCODE=A;dynp_okcode=B"),
              HasSubstr("DYNP_OKCODE is given twice"));
  EXPECT_THAT(ErrorOf("FB03 DYNP_OKCODE="), HasSubstr("DYNP_OKCODE is empty"));
}

TEST(TransactionCallTest, StartOkcodeUrlThenDynpOkcodeThenEnter) {
  TransactionCall plain = *ParseTransactionCall("FB03 RF05L-BELNR=1");
  EXPECT_EQ(StartOkcode(plain, ""), "");  // first screen shown, filled
  EXPECT_EQ(StartOkcode(plain, "/00"), "/00");
  TransactionCall star = *ParseTransactionCall("*FB03 RF05L-BELNR=1");
  EXPECT_EQ(StartOkcode(star, ""), "/00");
  EXPECT_EQ(StartOkcode(star, " "), "/00");
  EXPECT_EQ(StartOkcode(star, "UPD"), "UPD");
  TransactionCall coded = *ParseTransactionCall("FB03 DYNP_OKCODE=SHOW");
  EXPECT_EQ(StartOkcode(coded, ""), "SHOW");
  EXPECT_EQ(StartOkcode(coded, "/00"), "/00");
}

TEST(TransactionCallTest, SemicolonsAndBackslashesInValues) {
  auto call = ParseTransactionCall(
      R"(ZT A-TEXT=a\;b;A-PATH=C:\temp;A-BS=x\\;A-EQ=k=v)");
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_THAT(call->fields,
              ElementsAre(Pair("A-TEXT", "a;b"), Pair("A-PATH", R"(C:\temp)"),
                          Pair("A-BS", R"(x\)"), Pair("A-EQ", "k=v")));
  // An escaped semicolon does not end the piece, a doubled backslash does
  // not escape the semicolon after it.
  auto two = ParseTransactionCall(R"(ZT A=\\;B=1)");
  ASSERT_TRUE(two.ok());
  EXPECT_THAT(two->fields, ElementsAre(Pair("A", R"(\)"), Pair("B", "1")));
}

TEST(TransactionCallTest, EmptyPiecesAreIgnored) {
  auto call = ParseTransactionCall("FB03 ;;RF05L-BELNR=1;; ;");
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_THAT(call->fields, ElementsAre(Pair("RF05L-BELNR", "1")));
  auto empty_value = ParseTransactionCall("FB03 RF05L-BELNR=");
  ASSERT_TRUE(empty_value.ok());
  EXPECT_THAT(empty_value->fields, ElementsAre(Pair("RF05L-BELNR", "")));
}

TEST(TransactionCallTest, HostileInputGetsAClearError) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("no transaction code"));
  EXPECT_THAT(ErrorOf("   "), HasSubstr("no transaction code"));
  EXPECT_THAT(ErrorOf("*"), HasSubstr("no transaction code"));
  EXPECT_THAT(ErrorOf("FB03;RF05L-BELNR=1"),
              HasSubstr("is not a transaction code"));
  EXPECT_THAT(ErrorOf("<script>"), HasSubstr("is not a transaction code"));
  EXPECT_THAT(ErrorOf(std::string(21, 'A')),
              HasSubstr("is not a transaction code"));
  EXPECT_THAT(ErrorOf("FB03 RF05L-BELNR"), HasSubstr("is not FIELD=value"));
  EXPECT_THAT(ErrorOf("FB03 =4711"), HasSubstr("has no field name"));
  EXPECT_THAT(ErrorOf("FB03 A B=1"), HasSubstr("is not a field name"));
  EXPECT_THAT(ErrorOf("FB03 <B>=1"), HasSubstr("is not a field name"));
  EXPECT_THAT(ErrorOf("FB03 RF05L-BELNR=1;rf05l-belnr=2"),
              HasSubstr("field RF05L-BELNR is given twice"));
  EXPECT_THAT(ErrorOf("FB03 A=x\ny"),
              HasSubstr("the value of A contains a control character"));
  EXPECT_THAT(ErrorOf(Cat("FB03 A=x", '\0')), HasSubstr("control character"));
  // Every message says where the problem is.
  EXPECT_THAT(ErrorOf("FB03 A"), HasSubstr("~transaction"));
}

TEST(TransactionCallTest, InputIsBounded) {
  std::string longest = Cat("FB03 A=", std::string(kMaxCallFieldValue, 'x'));
  EXPECT_TRUE(ParseTransactionCall(longest).ok());
  EXPECT_THAT(ErrorOf(Cat(longest, "x")),
              HasSubstr("the value of A is longer than 255 characters"));
  EXPECT_THAT(
      ErrorOf(Cat("FB03 ", std::string(kMaxCallFieldName + 1, 'N'), "=1")),
      HasSubstr("is not a field name"));
  EXPECT_THAT(ErrorOf(std::string(kMaxTransactionCallLength + 1, 'A')),
              HasSubstr("longer than 2048 characters"));
  std::string many = "FB03 ";
  for (size_t i = 0; i < kMaxCallFields; ++i) Append(&many, "F", i, "=1;");
  EXPECT_TRUE(ParseTransactionCall(many).ok());
  EXPECT_THAT(ErrorOf(Cat(many, "LAST=1")), HasSubstr("more than 64 fields"));
  // A quoted piece in a message is cut short.
  std::string bad = Cat("FB03 ", std::string(1000, 'Q'));
  EXPECT_LT(ErrorOf(bad).size(), 100u);
}

TEST(TransactionCallTest, NamespacesAndTableLines) {
  auto call =
      ParseTransactionCall("/SAPAPO/RES01 /BIC/FIELD=1;RSEG-BUZEI(01)=2");
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->tcode, "/SAPAPO/RES01");
  EXPECT_THAT(call->fields, ElementsAre(Pair("/BIC/FIELD", "1"),
                                        Pair("RSEG-BUZEI(01)", "2")));
}

}  // namespace
}  // namespace its
