#include "clients/data_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "clients/scenario.h"
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
  // A comma at the very end, no line end after it: an empty last value
  // (the file's bytes end there; found by tests/fuzz/lines_fuzz.cc).
  std::string text = "a,b\n1,";
  auto exact = std::make_unique<char[]>(text.size());
  std::copy(text.begin(), text.end(), exact.get());
  auto comma =
      DataFile::Parse(std::string_view(exact.get(), text.size()), "c.csv");
  ASSERT_TRUE(comma.ok()) << comma.status();
  EXPECT_THAT(Row(*comma, 0), ElementsAre("1", ""));
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

// Scenarios that use data: written to a directory of their own.
class ScenarioDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = Cat(::testing::TempDir(), "/scenario_data_test_", getpid());
    std::filesystem::create_directories(dir_);
    Write("people.csv",
          "user,pernr,street,password\nLOAD00007,3001,Rue 1,welcome\n"
          "LOAD00008,3002,Rue 2,welcome\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, std::string_view text) {
    std::ofstream(Cat(dir_, "/", name)) << text;
  }
  absl::StatusOr<Scenario> Load(std::string_view toml) {
    Write("s.toml", toml);
    return Scenario::Load(Cat(dir_, "/s.toml"));
  }
  std::string Error(std::string_view toml) {
    auto s = Load(toml);
    return s.ok() ? std::string("ok")
                  : ReplaceAll(Message(s.status()), dir_ + "/", "");
  }

  std::string dir_;
};

TEST_F(ScenarioDataTest, DataFileAndPlaceholders) {
  auto s = Load(R"(
[[journey]]
service = "ess"
data = "people.csv"
data_per = "user"
password = "${password}"
  [[journey.step]]
  okcode = "/00"
  fields = { "RP50G-PERNR" = "${pernr}", "P0006-ORT01" = "Walldorf" }
  expect_text = ["${street}", "Change"]
  expect_screen = "pa30/2000"
  expect_field = { "rp50g-pernr" = "${pernr}" }
[[journey]]
data = "people.csv"
data_order = "random"
)");
  ASSERT_TRUE(s.ok()) << s.status();
  const JourneyDef& j = s->journeys[0];
  ASSERT_NE(j.data, nullptr);
  EXPECT_EQ(j.data->rows(), 2u);
  EXPECT_EQ(j.data, s->journeys[1].data) << "one file, read once";
  EXPECT_EQ(j.user_column, 0);
  EXPECT_EQ(j.data_per, JourneyDef::kPerUser);
  EXPECT_EQ(j.data_order, JourneyDef::kSequential);
  EXPECT_EQ(s->journeys[1].data_per, JourneyDef::kPerIteration);
  EXPECT_EQ(s->journeys[1].data_order, JourneyDef::kRandom);
  DataRow row = j.data->row(1);
  EXPECT_EQ(j.password.Expand(row), "welcome");
  const StepDef& st = j.steps[0];
  ASSERT_EQ(st.fields.size(), 2u);  // in toml++'s order: by name
  EXPECT_EQ(st.fields[0].first, "P0006-ORT01");
  EXPECT_TRUE(st.fields[0].second.literal());
  EXPECT_EQ(st.fields[1].first, "RP50G-PERNR");
  EXPECT_EQ(st.fields[1].second.Expand(row), "3002");
  EXPECT_EQ(st.expect_text[0].Expand(row), "Rue 2");
  EXPECT_EQ(st.expect_screen, "pa30/2000");
  EXPECT_EQ(st.screen_marker, "data-tcode=\"PA30\" data-dynpro=\"2000\"");
  ASSERT_EQ(st.expect_field.size(), 1u);
  EXPECT_EQ(st.expect_field[0].name, "RP50G-PERNR");
  EXPECT_EQ(st.expect_field[0].value.Expand(row), "3002");
}

TEST_F(ScenarioDataTest, AbsolutePathAndNoData) {
  auto s = Load(Cat("[[journey]]\ndata = \"", dir_, "/people.csv\"\n"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->journeys[0].data->file(), dir_ + "/people.csv");
  s = Load("[[journey]]\n[[journey.step]]\nokcode = \"/00\"\n");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->journeys[0].data, nullptr);
  EXPECT_EQ(s->journeys[0].user_column, -1);
  EXPECT_TRUE(s->journeys[0].steps[0].okcode.literal());
  EXPECT_EQ(s->journeys[0].password.Expand({}), "welcome");
}

TEST_F(ScenarioDataTest, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(Error("[[journey]]\ndata = \"people.csv\"\n[[journey.step]]\n"
                  "fields = { \"RP50G-PERNR\" = \"${persno}\" }\n"),
            "s.toml:4: journey[0].step[0].fields.RP50G-PERNR: ${persno}: no "
            "column \"persno\" in people.csv");
  EXPECT_EQ(Error("[[journey]]\npassword = \"${password}\"\n"),
            "s.toml:2: journey[0].password: ${password} but the journey has "
            "no data file");
  EXPECT_EQ(Error("[[journey]]\ndata = \"people.csv\"\n[[journey.step]]\n"
                  "expect_text = [\"ok\", \"${x}\"]\n"),
            "s.toml:4: journey[0].step[0].expect_text: ${x}: no column \"x\" "
            "in people.csv");
  EXPECT_EQ(Error("[[journey]]\ndata = \"people.csv\"\n[[journey.step]]\n"
                  "expect_field = { \"A\" = \"${x}\" }\n"),
            "s.toml:4: journey[0].step[0].expect_field.A: ${x}: no column "
            "\"x\" in people.csv");
  EXPECT_EQ(Error("[[journey]]\n[[journey.step]]\nokcode = \"${ok}\"\n"),
            "s.toml:3: journey[0].step[0].okcode: ${ok} but the journey has "
            "no data file");
  EXPECT_EQ(Error("[[journey]]\ndata = \"nobody.csv\"\n"),
            "s.toml:2: journey[0].data: nobody.csv: cannot open");
  Write("ragged.csv", "a,b\n1,2\n3\n");
  EXPECT_EQ(Error("[[journey]]\ndata = \"ragged.csv\"\n"),
            "s.toml:2: journey[0].data: ragged.csv:3: 1 values where the "
            "header has 2 columns");
  EXPECT_EQ(Error("[[journey]]\ndata = \"people.csv\"\ndata_per = \"run\"\n"),
            "s.toml:3: journey[0].data_per: must be iteration or user");
  EXPECT_EQ(
      Error("[[journey]]\ndata = \"people.csv\"\ndata_order = \"shuffled\"\n"),
      "s.toml:3: journey[0].data_order: must be sequential or random");
  EXPECT_EQ(Error("[[journey]]\ndata_per = \"user\"\n"),
            "s.toml:2: journey[0].data_per: needs data = \"FILE.csv\"");
  EXPECT_THAT(
      Error("[[journey]]\n[[journey.step]]\nexpect_screen = \"PA30/\"\n"),
      HasSubstr("s.toml:3: journey[0].step[0].expect_screen: expected "
                "\"TCODE/SCREEN\""));
  EXPECT_THAT(Error("[[journey]]\n[[journey.step]]\nexpect_field = \"x\"\n"),
              HasSubstr("s.toml:3: journey[0].step[0].expect_field: expected a "
                        "table"));
}

TEST(ScenarioDataExampleTest, EssDataLoads) {
  auto s =
      Scenario::Load(Cat(ITS_SOURCE_DIR, "/deploy/scenarios/ess-data.toml"));
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->journeys.size(), 1u);
  const JourneyDef& j = s->journeys[0];
  ASSERT_NE(j.data, nullptr);
  EXPECT_GE(j.data->rows(), 50u);
  EXPECT_GE(j.user_column, 0);
  EXPECT_EQ(j.data_per, JourneyDef::kPerUser);
  // Every row its own personnel number and user: no two users share a lock.
  std::set<std::string> pernrs, users;
  int pernr = j.data->Column("pernr");
  ASSERT_GE(pernr, 0);
  for (size_t i = 0; i < j.data->rows(); ++i) {
    EXPECT_TRUE(pernrs.insert(j.data->row(i)[pernr]).second);
    EXPECT_TRUE(users.insert(j.data->row(i)[j.user_column]).second);
  }
}

}  // namespace
}  // namespace its::load
