#include "clients/data_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/strings.h"

namespace its::load {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

std::vector<std::string> Row(const DataFile& d, size_t i) {
  DataRow r = d.row(i);
  return {r.begin(), r.end()};
}

TEST(DataFileTest, HeaderAndRows) {
  auto d = DataFile::Parse("user,pernr\nLOAD00001,3001\nLOAD00002,3002",
                           "people.csv");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->file(), "people.csv");
  EXPECT_THAT(d->columns(), ElementsAre("user", "pernr"));
  EXPECT_EQ(d->Column("pernr"), 1);
  EXPECT_EQ(d->Column("PERNR"), -1) << "names are exact";
  ASSERT_EQ(d->rows(), 2u);
  EXPECT_THAT(Row(*d, 0), ElementsAre("LOAD00001", "3001"));
  EXPECT_THAT(Row(*d, 1), ElementsAre("LOAD00002", "3002"));
}

TEST(DataFileTest, QuotingAsInRfc4180) {
  auto d = DataFile::Parse(
      "a,b,c\n"
      "\"x, y\",\"say \"\"hi\"\"\",\n"  // comma, quotes, empty last value
      "\"two\nlines\",\"\", plain \n"   // line break, empty, spaces kept
      "1,2,3\n",
      "q.csv");
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->rows(), 3u);
  EXPECT_THAT(Row(*d, 0), ElementsAre("x, y", "say \"hi\"", ""));
  EXPECT_THAT(Row(*d, 1), ElementsAre("two\nlines", "", " plain "));
  EXPECT_THAT(Row(*d, 2), ElementsAre("1", "2", "3"));
}

TEST(DataFileTest, CrlfBomBlankLinesAndNoFinalNewline) {
  for (std::string_view text :
       {"\xEF\xBB\xBFname,city\r\nA,\"Walldorf\"\r\n\r\nB,Berlin\r\n",
        "name,city\nA,Walldorf\n\nB,Berlin",
        "name,city\nA,Walldorf\nB,Berlin\n\n\n"}) {
    auto d = DataFile::Parse(text, "c.csv");
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_THAT(d->columns(), ElementsAre("name", "city"));
    ASSERT_EQ(d->rows(), 2u) << text;
    EXPECT_THAT(Row(*d, 0), ElementsAre("A", "Walldorf"));
    EXPECT_THAT(Row(*d, 1), ElementsAre("B", "Berlin"));
  }
  // A quoted value keeps its CRLF.
  auto d = DataFile::Parse("a\r\n\"1\r\n2\"\r\n", "c.csv");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(Row(*d, 0), ElementsAre("1\r\n2"));
}

TEST(DataFileTest, RefusedWithFileAndLine) {
  auto error = [](std::string_view text) {
    auto d = DataFile::Parse(text, "p.csv");
    return d.ok() ? std::string("ok") : Message(d.status());
  };
  EXPECT_EQ(error(""),
            "p.csv:1: empty file: expected a header of column names");
  EXPECT_EQ(error("\xEF\xBB\xBF\r\n\n"),
            "p.csv:1: empty file: expected a header of column names");
  EXPECT_EQ(error("a,b\n"), "p.csv:2: no data rows after the header");
  EXPECT_EQ(error("a,b\n1,2\n\"x\ny\",2\n3\n"),
            "p.csv:5: 1 values where the header has 2 columns");
  EXPECT_EQ(error("a,b\n1,2,3\n"),
            "p.csv:2: 3 values where the header has 2 columns");
  EXPECT_EQ(error("a,b\n1,2\n\"open,2\n3,4\n"),
            "p.csv:3: quoted value without a closing quote");
  EXPECT_THAT(error("a,b\n\"x\"y,2\n"),
              HasSubstr("p.csv:2: text after a closing quote"));
  EXPECT_THAT(error("a,b\n1,x\"y\n"),
              HasSubstr("p.csv:2: quote inside an unquoted value"));
  EXPECT_EQ(error("a,,b\n1,2,3\n"), "p.csv:1: empty column name in the header");
  EXPECT_EQ(error("a,b,a\n1,2,3\n"), "p.csv:1: column \"a\" twice");
}

TEST(DataFileTest, LoadNamesAMissingFile) {
  auto d = DataFile::Load("/nonexistent/people.csv");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(Message(d.status()), "/nonexistent/people.csv: cannot open");
}

DataFile People() {
  return *DataFile::Parse("user,pernr,street\nLOAD1,3001,Rue 1\nLOAD2,,x",
                          "people.csv");
}

TEST(DataFileTemplateTest, LiteralTextsStayAsTheyAre) {
  DataFile d = People();
  auto t = Template::Parse("Walldorf $5", &d);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->literal());
  std::string buf;
  EXPECT_EQ(t->View(d.row(0), &buf), "Walldorf $5");
  EXPECT_TRUE(buf.empty()) << "a literal is not copied";
  // Without data: the same, and "$${" is a literal "${".
  t = Template::Parse("price $${x}", nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->literal());
  EXPECT_EQ(t->Expand({}), "price ${x}");
  EXPECT_EQ(t->source(), "price $${x}");
  EXPECT_EQ(Template("/00").Expand({}), "/00");
}

TEST(DataFileTemplateTest, PlaceholdersTakeTheRowsValues) {
  DataFile d = People();
  auto t = Template::Parse("${pernr}: ${street}, ${user}!", &d);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->literal());
  EXPECT_EQ(t->source(), "${pernr}: ${street}, ${user}!");
  EXPECT_EQ(t->Expand(d.row(0)), "3001: Rue 1, LOAD1!");
  EXPECT_EQ(t->Expand(d.row(1)), ": x, LOAD2!");
  std::string buf = "old";
  EXPECT_EQ(t->View(d.row(0), &buf), "3001: Rue 1, LOAD1!");
  auto only = Template::Parse("${pernr}", &d);
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->Expand(d.row(0)), "3001");
  EXPECT_EQ(only->Expand(d.row(1)), "");
}

TEST(DataFileTemplateTest, FoundInWithoutExpanding) {
  DataFile d = People();
  auto t = *Template::Parse("No. ${pernr} at ${street}", &d);
  EXPECT_TRUE(t.FoundIn("<p>No. 3001 at Rue 1</p>", d.row(0)));
  EXPECT_FALSE(t.FoundIn("<p>No. 3001 at Rue 2</p>", d.row(0)));
  // The first candidate fails, a later one matches.
  EXPECT_TRUE(t.FoundIn("No. 3001 at X; No. 3001 at Rue 1", d.row(0)));
  EXPECT_TRUE(t.FoundIn("No.  at x", d.row(1))) << "empty pernr";
  EXPECT_FALSE(t.FoundIn("No. 3001 at Rue", d.row(0))) << "cut off";
  auto empty = *Template::Parse("${pernr}", &d);
  EXPECT_TRUE(empty.FoundIn("anything", d.row(1)));
  EXPECT_TRUE(Template("a").FoundIn("bab", {}));
}

TEST(DataFileTemplateTest, Errors) {
  DataFile d = People();
  auto error = [&](std::string_view text, const DataFile* data) {
    auto t = Template::Parse(text, data);
    return t.ok() ? std::string("ok") : Message(t.status());
  };
  EXPECT_EQ(error("${city}", &d), "${city}: no column \"city\" in people.csv");
  EXPECT_EQ(error("x ${pernr}", nullptr),
            "${pernr} but the journey has no data file");
  EXPECT_THAT(error("${pernr", &d), HasSubstr("without a closing"));
  EXPECT_EQ(error("${}", &d), "empty ${}");
}

}  // namespace
}  // namespace its::load
