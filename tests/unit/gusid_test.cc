#include "common/gusid.h"

#include <gtest/gtest.h>

#include <set>

namespace its {
namespace {

TEST(Gusid, RoundTrip) {
  Gusid g{"IT1", "localhost", 3, 0x01000042, NewSessionRandom()};
  std::string text = g.ToString();
  EXPECT_EQ(text.substr(0, 30), "IT1-A:localhost:0003.01000042.");
  auto parsed = ParseGusid(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->instance, "IT1");
  EXPECT_EQ(parsed->host, "localhost");
  EXPECT_EQ(parsed->process, 3u);
  EXPECT_EQ(parsed->slot, 0x01000042u);
  EXPECT_EQ(parsed->incarnation(), 1u);
  EXPECT_EQ(parsed->random, g.random);
  EXPECT_EQ(parsed->PublicId(), "IT1-A:localhost:0003.01000042");
}

TEST(Gusid, RandomIs128BitsOfHexAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string r = NewSessionRandom();
    ASSERT_EQ(r.size(), 32u);
    ASSERT_EQ(r.find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(r);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Gusid, RejectsForgedAndTruncated) {
  const std::string good =
      "IT1-A:host:0001.00000002.0123456789abcdef0123456789abcdef";
  ASSERT_TRUE(ParseGusid(good).ok());
  for (std::string bad : {
           std::string(""),
           good.substr(0, good.size() - 1),  // truncated
           good + "0",                       // too long random
           std::string("it1-A:host:0001.00000002."
                       "0123456789abcdef0123456789abcdef"),  // lower instance
           std::string(
               "IT1-A:ho st:0001.00000002.0123456789abcdef0123456789abcdef"),
           std::string(
               "IT1-A:host:001.00000002.0123456789abcdef0123456789abcdef"),
           std::string(
               "IT1-A:host:0001.0000002.0123456789abcdef0123456789abcdef"),
           std::string(
               "IT1-A:host:0001.00000002.0123456789ABCDEF0123456789abcdef"),
           std::string(
               "IT1-A:host:0001.00000002.0123456789abcdef0123456789abcdeg"),
           // upper-case hex: another spelling of the same ID (the fuzzer's
           // find; tests/fuzz/text_fuzz.cc)
           std::string(
               "IT1-A:host:000A.00000002.0123456789abcdef0123456789abcdef"),
           std::string(
               "IT1-A:host:0001.0000000B.0123456789abcdef0123456789abcdef"),
           std::string("IT1-A:host:extra:0001.00000002."
                       "0123456789abcdef0123456789abcdef"),
           std::string(
               "IT1:host:0001.00000002.0123456789abcdef0123456789abcdef"),
           std::string(500, 'A'),
       }) {
    EXPECT_FALSE(ParseGusid(bad).ok()) << bad;
  }
}

TEST(Gusid, PublicIdParsesWithoutTheRandomPart) {
  Gusid g{"IT2", "h", 1, 0x02000009, NewSessionRandom()};
  auto p = ParsePublicId(g.PublicId());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->slot, g.slot);
  EXPECT_TRUE(p->random.empty());
  EXPECT_FALSE(
      ParsePublicId(g.ToString()).ok());  // a full ID is not a public one
  EXPECT_FALSE(ParseGusid(g.PublicId()).ok());
}

TEST(Gusid, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace its
