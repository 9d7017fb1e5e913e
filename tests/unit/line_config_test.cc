#include "common/line_config.h"

#include <gtest/gtest.h>

namespace its {
namespace {

TEST(LineConfig, EqualsLinesWithCommentsAndBlankLines) {
  auto lines = ReadConfigLines(
      "# profile\r\n\n rdisp/a = 6 # six\r\nlogin/b=x y\n  c =\n", "P.PFL",
      ConfigSeparator::kEquals);
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ((*lines)[0].number, 3);
  EXPECT_EQ((*lines)[0].key, "rdisp/a");
  EXPECT_EQ((*lines)[0].value, "6");
  EXPECT_EQ((*lines)[1].key, "login/b");
  EXPECT_EQ((*lines)[1].value, "x y");
  EXPECT_EQ((*lines)[2].key, "c");
  EXPECT_EQ((*lines)[2].value, "");
}

TEST(LineConfig, EqualsErrorsNameFileAndLine) {
  auto no_eq = ReadConfigLines("a = 1\nno equals sign\n", "DEFAULT.PFL",
                               ConfigSeparator::kEquals);
  ASSERT_FALSE(no_eq.ok());
  EXPECT_EQ(no_eq.status().message(), "DEFAULT.PFL:2: expected 'name = value'");
  auto no_name = ReadConfigLines("\n = 1\n", "P", ConfigSeparator::kEquals);
  ASSERT_FALSE(no_name.ok());
  EXPECT_EQ(no_name.status().message(), "P:2: parameter name missing");
}

TEST(LineConfig, WhitespaceLines) {
  auto lines = ReadConfigLines("~transaction\tPA30\n~exitURL  /a b \n~flag\n",
                               "x.srvc", ConfigSeparator::kWhitespace);
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ((*lines)[0].value, "PA30");
  EXPECT_EQ((*lines)[1].key, "~exitURL");
  EXPECT_EQ((*lines)[1].value, "/a b");
  EXPECT_EQ((*lines)[2].key, "~flag");
  EXPECT_EQ((*lines)[2].value, "");
}

TEST(LineConfig, ErrorText) {
  EXPECT_EQ(ConfigLineError("f", 4, "~timeout", "why").message(),
            "f:4: ~timeout: why");
  EXPECT_EQ(ConfigLineError("f", 1, "", "why").message(), "f:1: why");
}

}  // namespace
}  // namespace its
