#include "clients/scenario.h"

#include <toml++/toml.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "absl/status/status.h"
#include "clients/page_check.h"
#include "clients/thresholds.h"
#include "common/duration.h"
#include "common/service_file.h"
#include "common/strings.h"
#include "common/toml_parse.h"

namespace its::load {
namespace {

#define RETURN_IF_ERROR(x)                          \
  do {                                              \
    if (absl::Status _s = (x); !_s.ok()) return _s; \
  } while (0)

// A status's message as a std::string_view (Debian's absl::string_view is a
// type of its own).
std::string_view Message(const absl::Status& s) {
  return std::string_view(s.message().data(), s.message().size());
}

// Reads one table's keys; refuses unknown ones. Errors: file:line: key: why.
class Keys {
 public:
  Keys(const std::string& file, const toml::table& t, std::string path)
      : file_(file), t_(t), path_(std::move(path)) {}

  absl::Status Error(const toml::node& n, std::string_view key,
                     std::string_view why) const {
    return absl::InvalidArgumentError(
        Cat(file_, ":", n.source().begin.line, ": ", path_, key, ": ", why));
  }
  const toml::node* Get(std::string_view key) {
    known_.insert(std::string(key));
    return t_.get(key);
  }
  absl::Status Str(std::string_view key, std::string* out) {
    if (const toml::node* n = Get(key)) {
      auto v = n->value<std::string>();
      if (!v) return Error(*n, key, "expected a string");
      *out = *v;
    }
    return absl::OkStatus();
  }
  absl::Status Num(std::string_view key, double* out, double min, double max) {
    if (const toml::node* n = Get(key)) {
      auto v = n->value<double>();
      if (!v) return Error(*n, key, "expected a number");
      if (*v < min || *v > max)
        return Error(*n, key, Cat("must be between ", min, " and ", max));
      *out = *v;
    }
    return absl::OkStatus();
  }
  absl::Status Int(std::string_view key, int* out, int min, int max) {
    if (const toml::node* n = Get(key)) {
      if (!n->is_integer()) return Error(*n, key, "expected a whole number");
      int64_t v = *n->value<int64_t>();
      if (v < min || v > max)
        return Error(*n, key, Cat("must be between ", min, " and ", max));
      *out = static_cast<int>(v);
    }
    return absl::OkStatus();
  }
  // A string with ${column} placeholders of `data` (may be null).
  absl::Status Tmpl(std::string_view key, const DataFile* data, Template* out) {
    if (const toml::node* n = Get(key)) {
      auto v = n->value<std::string>();
      if (!v) return Error(*n, key, "expected a string");
      return TmplAt(*n, key, *v, data, out);
    }
    return absl::OkStatus();
  }
  absl::Status TmplAt(const toml::node& n, std::string_view key,
                      std::string_view text, const DataFile* data,
                      Template* out) const {
    auto t = Template::Parse(text, data);
    if (!t.ok()) return Error(n, key, Message(t.status()));
    *out = std::move(*t);
    return absl::OkStatus();
  }
  // A string or an array of strings, each with placeholders of `data`.
  absl::Status Texts(std::string_view key, const DataFile* data,
                     std::vector<Template>* out) {
    if (const toml::node* n = Get(key)) {
      if (auto v = n->value<std::string>()) {
        RETURN_IF_ERROR(TmplAt(*n, key, *v, data, &out->emplace_back()));
      } else if (const toml::array* a = n->as_array()) {
        for (const toml::node& e : *a) {
          auto s = e.value<std::string>();
          if (!s || s->empty())
            return Error(e, key, "expected non-empty strings");
          RETURN_IF_ERROR(TmplAt(e, key, *s, data, &out->emplace_back()));
        }
      } else {
        return Error(*n, key, "expected a string or an array of strings");
      }
    }
    return absl::OkStatus();
  }
  absl::Status Done() const {
    for (const auto& [k, v] : t_) {
      if (!known_.count(std::string(k.str())))
        return Error(v, k.str(), "unknown key");
    }
    return absl::OkStatus();
  }
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }

 private:
  const std::string& file_;
  const toml::table& t_;
  std::string path_;
  std::set<std::string> known_;
};

absl::Status ReadThink(Keys& k, std::string_view key, Think* out) {
  const toml::node* n = k.Get(key);
  if (!n) return absl::OkStatus();
  const toml::table* t = n->as_table();
  if (!t)
    return k.Error(
        *n, key,
        "expected { dist = \"constant\"|\"uniform\"|\"exponential\", ... }");
  Keys tk(k.file(), *t, Cat(k.path(), key, "."));
  std::string dist = "constant";
  RETURN_IF_ERROR(tk.Str("dist", &dist));
  if (dist == "constant") {
    out->kind = Think::kConstant;
    RETURN_IF_ERROR(tk.Num("ms", &out->a, 0, 3.6e6));
  } else if (dist == "uniform") {
    out->kind = Think::kUniform;
    RETURN_IF_ERROR(tk.Num("min_ms", &out->a, 0, 3.6e6));
    RETURN_IF_ERROR(tk.Num("max_ms", &out->b, 0, 3.6e6));
    if (out->b < out->a) return tk.Error(*n, "max_ms", "must be >= min_ms");
  } else if (dist == "exponential") {
    out->kind = Think::kExponential;
    RETURN_IF_ERROR(tk.Num("mean_ms", &out->a, 0, 3.6e6));
  } else {
    return tk.Error(*t->get("dist"), "dist",
                    "must be constant, uniform or exponential");
  }
  return tk.Done();
}

// A duration: "30s", "500ms", "2m" (a plain number: seconds).
absl::Status ReadDuration(Keys& k, std::string_view key, double* out) {
  const toml::node* n = k.Get(key);
  if (!n) return absl::OkStatus();
  std::optional<double> v;
  if (auto text = n->value<std::string>()) {
    v = ParseDuration(*text);
  } else if (auto num = n->value<double>(); num && *num >= 0) {
    v = *num;
  }
  if (!v) return k.Error(*n, key, "expected a duration such as \"30s\"");
  *out = *v;
  return absl::OkStatus();
}

// The top level's load shape: model, [[stage]], thresholds, graceful_stop.
absl::Status ReadLoadShape(Keys& top, Scenario* s) {
  if (const toml::node* n = top.Get("model")) {
    auto v = n->value<std::string>();
    if (!v || (*v != "closed" && *v != "open"))
      return top.Error(*n, "model", "must be \"closed\" or \"open\"");
    s->open_model = *v == "open";
  }
  RETURN_IF_ERROR(ReadDuration(top, "graceful_stop", &s->graceful_stop_s));
  if (const toml::node* n = top.Get("stage")) {
    if (!n->is_array_of_tables())
      return top.Error(*n, "stage", "expected [[stage]] tables");
    int i = 0;
    for (const toml::node& sn : *n->as_array()) {
      Keys sk(top.file(), *sn.as_table(), Cat("stage[", i++, "]."));
      Stage st;
      st.duration_s = -1;
      RETURN_IF_ERROR(ReadDuration(sk, "duration", &st.duration_s));
      RETURN_IF_ERROR(sk.Num("target", &st.target, 0, 1e7));
      if (st.duration_s < 0 || !sn.as_table()->contains("target"))
        return sk.Error(sn, "", "a stage needs duration and target");
      RETURN_IF_ERROR(sk.Done());
      s->stages.push_back(st);
    }
  }
  if (const toml::node* n = top.Get("thresholds")) {
    const toml::array* a = n->as_array();
    if (!a) return top.Error(*n, "thresholds", "expected an array");
    for (const toml::node& e : *a) {
      ThresholdSpec spec;
      if (auto text = e.value<std::string>()) {
        spec.expr = *text;
      } else if (const toml::table* t = e.as_table()) {
        Keys tk(top.file(), *t, "thresholds.");
        RETURN_IF_ERROR(tk.Str("expr", &spec.expr));
        if (const toml::node* ab = tk.Get("abort")) {
          auto v = ab->value<bool>();
          if (!v) return tk.Error(*ab, "abort", "expected true or false");
          spec.abort = *v;
        }
        RETURN_IF_ERROR(ReadDuration(tk, "abort_after", &spec.abort_after_s));
        RETURN_IF_ERROR(tk.Done());
      } else {
        return top.Error(e, "thresholds",
                         "expected \"p99<50ms\" or { expr = \"...\", abort "
                         "= true }");
      }
      if (auto t = ParseThreshold(spec.expr); !t.ok())
        return top.Error(e, "thresholds", std::string(t.status().message()));
      s->thresholds.push_back(std::move(spec));
    }
  }
  return absl::OkStatus();
}

// The journey's test data: `data` (a CSV file, relative to the scenario's
// directory), `data_order`, `data_per`. A file named by several journeys is
// read once, into `files`.
absl::Status ReadData(
    Keys& k, std::map<std::string, std::shared_ptr<const DataFile>>& files,
    JourneyDef* j) {
  std::string order = "sequential", per = "iteration";
  RETURN_IF_ERROR(k.Str("data_order", &order));
  RETURN_IF_ERROR(k.Str("data_per", &per));
  const toml::node* n = k.Get("data");
  if (!n) {
    for (const char* key : {"data_order", "data_per"}) {
      if (const toml::node* o = k.Get(key))
        return k.Error(*o, key, "needs data = \"FILE.csv\"");
    }
    return absl::OkStatus();
  }
  auto name = n->value<std::string>();
  if (!name || name->empty())
    return k.Error(*n, "data", "expected the name of a CSV file");
  std::filesystem::path path(*name);
  if (path.is_relative())
    path = std::filesystem::path(k.file()).parent_path() / path;
  auto& data = files[path.string()];
  if (!data) {
    auto loaded = DataFile::Load(path.string());
    if (!loaded.ok()) return k.Error(*n, "data", Message(loaded.status()));
    data = std::make_shared<const DataFile>(std::move(*loaded));
  }
  j->data = data;
  j->user_column = data->Column("user");
  if (order == "sequential") {
    j->data_order = JourneyDef::kSequential;
  } else if (order == "random") {
    j->data_order = JourneyDef::kRandom;
  } else {
    return k.Error(*k.Get("data_order"), "data_order",
                   "must be sequential or random");
  }
  if (per == "iteration") {
    j->data_per = JourneyDef::kPerIteration;
  } else if (per == "user") {
    j->data_per = JourneyDef::kPerUser;
  } else {
    return k.Error(*k.Get("data_per"), "data_per", "must be iteration or user");
  }
  return absl::OkStatus();
}

}  // namespace

double Think::Sample(std::mt19937_64& rng) const {
  switch (kind) {
    case kConstant:
      return a;
    case kUniform:
      return std::uniform_real_distribution<double>(a, b)(rng);
    case kExponential:
      return a <= 0 ? 0 : std::exponential_distribution<double>(1.0 / a)(rng);
  }
  return 0;
}

const char* EndName(JourneyDef::End e) {
  switch (e) {
    case JourneyDef::kLogoff:
      return "logoff";
    case JourneyDef::kAbandon:
      return "abandon";
    case JourneyDef::kCloseTab:
      return "close_tab";
  }
  return "?";
}

absl::StatusOr<Scenario> Scenario::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

absl::StatusOr<Scenario> Scenario::Parse(const std::string& text,
                                         const std::string& file) {
  auto parsed = ParseToml(text, file);
  if (!parsed.ok()) return parsed.status();
  const toml::table& root = *parsed;
  Scenario s;
  Keys top(file, root, "");
  RETURN_IF_ERROR(top.Str("name", &s.name));
  RETURN_IF_ERROR(ReadLoadShape(top, &s));
  const toml::node* list = top.Get("journey");
  RETURN_IF_ERROR(top.Done());
  if (!list || !list->is_array_of_tables()) {
    return absl::InvalidArgumentError(
        Cat(file, ":1: journey: at least one [[journey]] is required"));
  }
  std::map<std::string, std::shared_ptr<const DataFile>> data_files;
  int ji = 0;
  for (const toml::node& jn : *list->as_array()) {
    const toml::table& jt = *jn.as_table();
    Keys k(file, jt, Cat("journey[", ji++, "]."));
    JourneyDef j;
    RETURN_IF_ERROR(ReadData(k, data_files, &j));
    const DataFile* data = j.data.get();
    RETURN_IF_ERROR(k.Str("name", &j.name));
    if (j.name.empty()) j.name = Cat("journey", ji);
    RETURN_IF_ERROR(k.Num("weight", &j.weight, 0, 1e9));
    RETURN_IF_ERROR(k.Str("service", &j.service));
    if (!IsValidServiceName(j.service)) {
      return k.Error(*jt.get("service"), "service", "not a valid service name");
    }
    RETURN_IF_ERROR(k.Str("transaction", &j.transaction));
    RETURN_IF_ERROR(k.Str("client", &j.client));
    RETURN_IF_ERROR(k.Str("language", &j.language));
    RETURN_IF_ERROR(k.Tmpl("password", data, &j.password));
    if (const toml::node* u = k.Get("users")) {
      const toml::table* ut = u->as_table();
      if (!ut)
        return k.Error(*u, "users", "expected { prefix, digits, first, last }");
      Keys uk(file, *ut, k.path() + "users.");
      RETURN_IF_ERROR(uk.Str("prefix", &j.user_prefix));
      RETURN_IF_ERROR(uk.Int("digits", &j.user_digits, 0, 9));
      RETURN_IF_ERROR(uk.Int("first", &j.user_first, 0, 999999999));
      RETURN_IF_ERROR(uk.Int("last", &j.user_last, 0, 999999999));
      RETURN_IF_ERROR(uk.Done());
      if (j.user_last < j.user_first)
        return uk.Error(*u, "last", "must be >= first");
    }
    RETURN_IF_ERROR(ReadThink(k, "think", &j.think));
    std::string end = "logoff";
    RETURN_IF_ERROR(k.Str("end", &end));
    if (end == "logoff")
      j.end = JourneyDef::kLogoff;
    else if (end == "abandon")
      j.end = JourneyDef::kAbandon;
    else if (end == "close_tab")
      j.end = JourneyDef::kCloseTab;
    else
      return k.Error(*jt.get("end"), "end",
                     "must be logoff, abandon or close_tab");
    if (const toml::node* steps = k.Get("step")) {
      if (!steps->is_array_of_tables())
        return k.Error(*steps, "step", "expected [[journey.step]] tables");
      int si = 0;
      for (const toml::node& sn : *steps->as_array()) {
        Keys sk(file, *sn.as_table(), Cat(k.path(), "step[", si++, "]."));
        StepDef st;
        st.think = j.think;
        RETURN_IF_ERROR(sk.Str("name", &st.name));
        if (st.name.empty()) st.name = Cat("step", si);
        RETURN_IF_ERROR(sk.Tmpl("okcode", data, &st.okcode));
        RETURN_IF_ERROR(sk.Int("repeat", &st.repeat, 1, 1000000));
        RETURN_IF_ERROR(ReadThink(sk, "think", &st.think));
        RETURN_IF_ERROR(sk.Texts("expect_text", data, &st.expect_text));
        RETURN_IF_ERROR(sk.Texts("reject_text", data, &st.reject_text));
        RETURN_IF_ERROR(sk.Int("expect_status", &st.expect_status, 100, 599));
        if (const toml::node* n = sk.Get("expect_screen")) {
          auto v = n->value<std::string>();
          if (!v) return sk.Error(*n, "expect_screen", "expected a string");
          auto marker = ScreenMarker(*v);
          if (!marker.ok())
            return sk.Error(*n, "expect_screen", Message(marker.status()));
          st.expect_screen = *v;
          st.screen_marker = std::move(*marker);
        }
        for (const char* key : {"fields", "expect_field"}) {
          const toml::node* f = sk.Get(key);
          if (!f) continue;
          const toml::table* ft = f->as_table();
          if (!ft) {
            return sk.Error(*f, key,
                            "expected a table of \"FIELD-NAME\" = \"value\"");
          }
          for (const auto& [name, value] : *ft) {
            std::string field_key = Cat(key, ".", name.str());
            auto v = value.value<std::string>();
            if (!v) return sk.Error(value, field_key, "expected a string");
            Template t;
            RETURN_IF_ERROR(sk.TmplAt(value, field_key, *v, data, &t));
            if (std::string_view(key) == "fields")
              st.fields.emplace_back(std::string(name.str()), std::move(t));
            else
              st.expect_field.push_back(
                  MakeFieldCheck(name.str(), std::move(t)));
          }
        }
        RETURN_IF_ERROR(sk.Done());
        j.steps.push_back(std::move(st));
      }
    }
    RETURN_IF_ERROR(k.Done());
    s.journeys.push_back(std::move(j));
  }
  double total = 0;
  for (const auto& j : s.journeys) total += j.weight;
  if (total <= 0)
    return absl::InvalidArgumentError(
        Cat(file, ":1: journey.weight: all weights are 0"));
  return s;
}

}  // namespace its::load
