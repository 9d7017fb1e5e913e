#include "common/toml_parse.h"

#include <gtest/gtest.h>

namespace its {
namespace {

TEST(TomlKeyAt, NamesTheSettingOfALine) {
  constexpr char kText[] =
      "# comment\n"                    // 1
      "time_scale = 60\n"              // 2
      "[wgate]\n"                      // 3
      "max_body = 1MB\n"               // 4
      "  \"quoted.key\" . part = 1\n"  // 5
      "[[agate_instance]]\n"           // 6
      "name = \"IT1\"\n"               // 7
      "[[agate_instance]]\n"           // 8
      "hosts = [\n"                    // 9
      "  \"a = b\", # not a key\n"     // 10
      "  \"c\" # ] not the end\n"      // 11
      "]\n"                            // 12
      "motd = \"\"\"\n"                // 13
      "x = not a key\n"                // 14
      "\"\"\"\n"                       // 15
      "max_sessions\n"                 // 16
      "\n";                            // 17
  EXPECT_EQ(TomlKeyAt(kText, 1), "");  // a comment
  EXPECT_EQ(TomlKeyAt(kText, 2), "time_scale");
  EXPECT_EQ(TomlKeyAt(kText, 3), "");  // a table header
  EXPECT_EQ(TomlKeyAt(kText, 4), "wgate.max_body");
  EXPECT_EQ(TomlKeyAt(kText, 5), "wgate.quoted.key.part");
  EXPECT_EQ(TomlKeyAt(kText, 7), "agate_instance[0].name");
  EXPECT_EQ(TomlKeyAt(kText, 9), "agate_instance[1].hosts");
  EXPECT_EQ(TomlKeyAt(kText, 10), "agate_instance[1].hosts");
  EXPECT_EQ(TomlKeyAt(kText, 11), "agate_instance[1].hosts");
  EXPECT_EQ(TomlKeyAt(kText, 12), "agate_instance[1].hosts");
  EXPECT_EQ(TomlKeyAt(kText, 14), "agate_instance[1].motd");
  EXPECT_EQ(TomlKeyAt(kText, 16), "agate_instance[1].max_sessions");
  EXPECT_EQ(TomlKeyAt(kText, 17), "");
  EXPECT_EQ(TomlKeyAt(kText, 0), "");
  EXPECT_EQ(TomlKeyAt(kText, 99), "");
}

// Nested arrays of tables, as r3/transactions.toml and itsload scenarios
// have them: named as their readers name them.
TEST(TomlKeyAt, NestedArraysOfTablesCountPerParent) {
  constexpr char kText[] =
      "[[transaction]]\n"                 // 1
      "code = \"FB03\"\n"                 // 2
      "[[transaction.screen]]\n"          // 3
      "title = \"a\"\n"                   // 4
      "[[transaction]]\n"                 // 5
      "code = \"PA30\"\n"                 // 6
      "[[transaction.screen]]\n"          // 7
      "title = \"b\"\n"                   // 8
      "[[transaction.screen]]\n"          // 9
      "title = \"c\"\n"                   // 10
      "[[transaction.screen.on]]\n"       // 11
      "okcode = \"UPD\"\n"                // 12
      "[transaction.extra]\n"             // 13
      "x = 1\n"                           // 14
      "\"a\\\"b\" = \"\"\"x\\\"\"\"\"\n"  // 15: "a\"b" = """x\""""
      "y = 2\n";                          // 16
  ASSERT_TRUE(ParseToml(kText, "t.toml").ok()) << "the text is valid TOML";
  EXPECT_EQ(TomlKeyAt(kText, 2), "transaction[0].code");
  EXPECT_EQ(TomlKeyAt(kText, 4), "transaction[0].screen[0].title");
  EXPECT_EQ(TomlKeyAt(kText, 6), "transaction[1].code");
  EXPECT_EQ(TomlKeyAt(kText, 8), "transaction[1].screen[0].title");
  EXPECT_EQ(TomlKeyAt(kText, 10), "transaction[1].screen[1].title");
  EXPECT_EQ(TomlKeyAt(kText, 12), "transaction[1].screen[1].on[0].okcode");
  EXPECT_EQ(TomlKeyAt(kText, 14), "transaction[1].extra.x");
  EXPECT_EQ(TomlKeyAt(kText, 15), "transaction[1].extra.a\"b");
  EXPECT_EQ(TomlKeyAt(kText, 16), "transaction[1].extra.y");
}

TEST(ParseToml, ASyntaxErrorNamesFileLineAndKey) {
  auto bad = ParseToml("a = 1\n[wgate]\nlisten = 127.0.0.1:80\n", "/c/x.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("/c/x.toml:3: wgate.listen: ", 0), 0u)
      << bad.status();

  auto missing_equals = ParseToml("[wgate]\nmax_body\n", "x.toml");
  ASSERT_FALSE(missing_equals.ok());
  EXPECT_EQ(
      missing_equals.status().message().rfind("x.toml:2: wgate.max_body: ", 0),
      0u)
      << missing_equals.status();

  auto header = ParseToml("[wgate\n", "x.toml");
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().message().rfind("x.toml:1: ", 0), 0u);
  EXPECT_EQ(header.status().message().find("wgate:"), std::string::npos)
      << header.status();

  auto good = ParseToml("a = [1,\n 2]\n", "x.toml");
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ((*good)["a"].as_array()->size(), 2u);
}

}  // namespace
}  // namespace its
