#include "r3_stub/r3_data.h"

#include <toml++/toml.h>

#include <limits>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "common/service_file.h"
#include "common/strings.h"
#include "common/toml_parse.h"

namespace its::r3 {
namespace {

// Error at `node` in `file`, naming the key path.
absl::Status At(const std::string& file, const toml::node& node,
                const std::string& key, std::string_view why) {
  return absl::InvalidArgumentError(
      Cat(file, ":", node.source().begin.line, ": ", key, ": ", why));
}

// Typed access to a TOML table that names the file and key on error.
struct Reader {
  Reader(const std::string& file, const toml::table& t, std::string path)
      : file(file), t(t), path(std::move(path)) {}

  const std::string& file;
  const toml::table& t;
  std::string path;
  mutable std::set<std::string, std::less<>> known;  // keys read so far

  // After reading: a key nobody read is a typo (`passwort`), not ignored.
  absl::Status Done() const {
    for (const auto& [key, node] : t) {
      if (!known.count(key.str()))
        return At(file, node, path + std::string(key.str()), "unknown key");
    }
    return absl::OkStatus();
  }

  absl::Status Str(std::string_view key, std::string* out,
                   bool required) const {
    known.emplace(key);
    const toml::node* n = t.get(key);
    if (!n)
      return required ? At(file, t, path + std::string(key), "missing")
                      : absl::OkStatus();
    auto v = n->value<std::string>();
    if (!v) return At(file, *n, path + std::string(key), "expected a string");
    *out = *v;
    return absl::OkStatus();
  }
  absl::Status Int(std::string_view key, int* out, bool required) const {
    known.emplace(key);
    const toml::node* n = t.get(key);
    if (!n)
      return required ? At(file, t, path + std::string(key), "missing")
                      : absl::OkStatus();
    if (!n->is_integer())
      return At(file, *n, path + std::string(key), "expected a whole number");
    const int64_t v = *n->value<int64_t>();
    if (v < 0 || v > std::numeric_limits<int>::max())
      return At(file, *n, path + std::string(key),
                Cat("must be >= 0 and <= ", std::numeric_limits<int>::max()));
    *out = static_cast<int>(v);
    return absl::OkStatus();
  }
  absl::Status Bool(std::string_view key, bool* out) const {
    known.emplace(key);
    const toml::node* n = t.get(key);
    if (!n) return absl::OkStatus();
    if (!n->is_boolean())
      return At(file, *n, path + std::string(key), "expected true or false");
    *out = *n->value<bool>();
    return absl::OkStatus();
  }
  absl::Status Strings(std::string_view key,
                       std::vector<std::string>* out) const {
    known.emplace(key);
    const toml::node* n = t.get(key);
    if (!n) return absl::OkStatus();
    const toml::array* a = n->as_array();
    if (!a)
      return At(file, *n, path + std::string(key),
                "expected a list of strings");
    for (const auto& e : *a) {
      auto v = e.value<std::string>();
      if (!v)
        return At(file, e, path + std::string(key),
                  "expected a list of strings");
      out->push_back(*v);
    }
    return absl::OkStatus();
  }
  // Sub-table `key` or nullptr; error if present but not a table.
  absl::StatusOr<const toml::table*> Table(std::string_view key) const {
    known.emplace(key);
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (!n->is_table())
      return At(file, *n, path + std::string(key), "expected a table");
    return n->as_table();
  }
  // Array of tables `key` (may be absent).
  absl::StatusOr<std::vector<const toml::table*>> Tables(
      std::string_view key) const {
    std::vector<const toml::table*> out;
    known.emplace(key);
    const toml::node* n = t.get(key);
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a)
      return At(file, *n, path + std::string(key), "expected a list of tables");
    for (const auto& e : *a) {
      if (!e.is_table())
        return At(file, e, path + std::string(key), "expected a table");
      out.push_back(e.as_table());
    }
    return out;
  }
};

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    if (absl::Status _s = (expr); !_s.ok()) return _s; \
  } while (0)

absl::Status ReadSave(const Reader& r, const toml::table* t,
                      const std::string& path, SaveDef* out) {
  Reader s{r.file, *t, path + "."};
  RETURN_IF_ERROR(s.Str("table", &out->table, true));
  RETURN_IF_ERROR(s.Str("key", &out->key, true));
  RETURN_IF_ERROR(s.Strings("fields", &out->fields));
  return s.Done();
}

absl::Status ReadTransaction(const std::string& file, const toml::table& t,
                             size_t index, TransactionDef* tx) {
  Reader r{file, t, Cat("transaction[", index, "].")};
  RETURN_IF_ERROR(r.Str("code", &tx->code, true));
  tx->code = ToUpper(tx->code);
  RETURN_IF_ERROR(r.Str("title", &tx->title, true));
  RETURN_IF_ERROR(r.Str("builtin", &tx->builtin, false));
  RETURN_IF_ERROR(r.Int("start", &tx->start, true));
  RETURN_IF_ERROR(r.Int("step_ms", &tx->step_ms, false));
  if (!tx->builtin.empty() && tx->builtin != "sm04" && tx->builtin != "sm12" &&
      tx->builtin != "menu") {
    return At(file, *t.get("builtin"), r.path + "builtin",
              "must be \"sm04\", \"sm12\" or \"menu\"");
  }
  auto screens = r.Tables("screen");
  if (!screens.ok()) return screens.status();
  size_t si = 0;
  for (const toml::table* st : *screens) {
    Reader sr{file, *st, Cat(r.path, "screen[", si++, "].")};
    ScreenDef sc;
    RETURN_IF_ERROR(sr.Int("number", &sc.number, true));
    RETURN_IF_ERROR(sr.Str("title", &sc.title, true));
    auto fields = sr.Tables("fields");
    if (!fields.ok()) return fields.status();
    for (const toml::table* ft : *fields) {
      Reader fr{file, *ft, sr.path + "fields."};
      FieldDef f;
      RETURN_IF_ERROR(fr.Str("name", &f.name, true));
      f.name = ToUpper(f.name);
      RETURN_IF_ERROR(fr.Str("label", &f.label, false));
      RETURN_IF_ERROR(fr.Bool("input", &f.input));
      RETURN_IF_ERROR(fr.Str("value", &f.value, false));
      RETURN_IF_ERROR(fr.Done());
      sc.fields.push_back(std::move(f));
    }
    auto buttons = sr.Tables("buttons");
    if (!buttons.ok()) return buttons.status();
    for (const toml::table* bt : *buttons) {
      Reader br{file, *bt, sr.path + "buttons."};
      std::string ok, label;
      RETURN_IF_ERROR(br.Str("okcode", &ok, true));
      RETURN_IF_ERROR(br.Str("label", &label, true));
      RETURN_IF_ERROR(br.Done());
      sc.buttons.emplace_back(ToUpper(ok), label);
    }
    auto load = sr.Table("load");
    if (!load.ok()) return load.status();
    if (*load) {
      sc.load.emplace();
      RETURN_IF_ERROR(ReadSave(sr, *load, sr.path + "load", &*sc.load));
    }
    auto actions = sr.Tables("on");
    if (!actions.ok()) return actions.status();
    size_t ai = 0;
    for (const toml::table* at : *actions) {
      Reader ar{file, *at, Cat(sr.path, "on[", ai++, "].")};
      ActionDef a;
      RETURN_IF_ERROR(ar.Str("okcode", &a.okcode, true));
      a.okcode = ToUpper(a.okcode);
      RETURN_IF_ERROR(ar.Strings("require", &a.require));
      for (auto& f : a.require) f = ToUpper(f);
      RETURN_IF_ERROR(ar.Str("unlock", &a.unlock, false));
      RETURN_IF_ERROR(ar.Int("goto", &a.goto_screen, false));
      RETURN_IF_ERROR(ar.Str("message", &a.message, false));
      auto lock = ar.Table("lock");
      if (!lock.ok()) return lock.status();
      if (*lock) {
        Reader lr{file, **lock, ar.path + "lock."};
        LockDef l;
        RETURN_IF_ERROR(lr.Str("table", &l.table, true));
        RETURN_IF_ERROR(lr.Str("argument", &l.argument, true));
        RETURN_IF_ERROR(lr.Str("mode", &l.mode, false));
        RETURN_IF_ERROR(lr.Str("message", &l.message, false));
        RETURN_IF_ERROR(lr.Done());
        a.lock = std::move(l);
      }
      auto save = ar.Table("save");
      if (!save.ok()) return save.status();
      if (*save) {
        a.save.emplace();
        RETURN_IF_ERROR(ReadSave(ar, *save, ar.path + "save", &*a.save));
      }
      RETURN_IF_ERROR(ar.Done());
      sc.actions.push_back(std::move(a));
    }
    RETURN_IF_ERROR(sr.Done());
    if (!tx->screens.emplace(sc.number, std::move(sc)).second) {
      return At(file, *st, sr.path + "number", "duplicate screen number");
    }
  }
  RETURN_IF_ERROR(r.Done());
  if (tx->builtin.empty()) {
    if (!tx->screens.count(tx->start)) {
      return At(file, *t.get("start"), r.path + "start",
                "no screen with this number");
    }
    for (const auto& [n, sc] : tx->screens) {
      for (const auto& a : sc.actions) {
        if (a.goto_screen != 0 && !tx->screens.count(a.goto_screen)) {
          return At(
              file, t, r.path + "screen.on.goto",
              Cat("screen ", n, " goes to unknown screen ", a.goto_screen));
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MasterData> MasterData::Load(const std::string& dir) {
  const std::string uf = dir + "/users.toml", tf = dir + "/transactions.toml";
  auto users = ReadFile(uf);
  if (!users.ok()) return users.status();
  auto txs = ReadFile(tf);
  if (!txs.ok()) return txs.status();
  return Parse(*users, uf, *txs, tf);
}

absl::StatusOr<MasterData> MasterData::Parse(const std::string& users,
                                             const std::string& uf,
                                             const std::string& txs,
                                             const std::string& tf) {
  MasterData d;
  {
    auto ut = ParseToml(users, uf);
    if (!ut.ok()) return ut.status();
    Reader ur{uf, *ut, ""};
    auto list = ur.Tables("user");
    if (!list.ok()) return list.status();
    size_t i = 0;
    for (const toml::table* t : *list) {
      Reader r{uf, *t, Cat("user[", i++, "].")};
      UserDef u;
      RETURN_IF_ERROR(r.Str("client", &u.client, true));
      RETURN_IF_ERROR(r.Str("name", &u.name, true));
      RETURN_IF_ERROR(r.Str("password", &u.password, true));
      RETURN_IF_ERROR(r.Str("language", &u.language, false));
      RETURN_IF_ERROR(r.Done());
      u.name = ToUpper(u.name);
      if (!d.users_.emplace(std::pair{u.client, u.name}, u).second) {
        return At(
            uf, *t, r.path + "name",
            Cat("user ", u.name, " of client ", u.client, " is defined twice"));
      }
    }
    auto ranges = ur.Tables("range");
    if (!ranges.ok()) return ranges.status();
    i = 0;
    for (const toml::table* t : *ranges) {
      Reader r{uf, *t, Cat("range[", i++, "].")};
      UserRange g;
      RETURN_IF_ERROR(r.Str("client", &g.client, true));
      RETURN_IF_ERROR(r.Str("prefix", &g.prefix, true));
      RETURN_IF_ERROR(r.Int("digits", &g.digits, false));
      RETURN_IF_ERROR(r.Int("first", &g.first, true));
      RETURN_IF_ERROR(r.Int("last", &g.last, true));
      RETURN_IF_ERROR(r.Str("password", &g.password, true));
      RETURN_IF_ERROR(r.Str("language", &g.language, false));
      RETURN_IF_ERROR(r.Done());
      g.prefix = ToUpper(g.prefix);
      if (g.digits < 1 || g.digits > 9 || g.first > g.last) {
        return At(uf, *t, r.path + "first",
                  "need 1 <= digits <= 9 and first <= last");
      }
      d.ranges_.push_back(g);
    }
    RETURN_IF_ERROR(ur.Done());
    auto tt = ParseToml(txs, tf);
    if (!tt.ok()) return tt.status();
    Reader tr{tf, *tt, ""};
    auto tlist = tr.Tables("transaction");
    if (!tlist.ok()) return tlist.status();
    i = 0;
    RETURN_IF_ERROR(tr.Done());
    for (const toml::table* t : *tlist) {
      TransactionDef tx;
      const size_t index = i++;
      RETURN_IF_ERROR(ReadTransaction(tf, *t, index, &tx));
      std::string code = tx.code;
      if (tx.builtin == "menu") {
        if (!d.menu_code_.empty()) {
          return At(tf, *t->get("builtin"),
                    Cat("transaction[", index, "].builtin"),
                    Cat("only one transaction can be the menu; ", d.menu_code_,
                        " is already"));
        }
        d.menu_code_ = code;
      }
      if (!d.transactions_.emplace(code, std::move(tx)).second) {
        return At(tf, *t, Cat("transaction[", index, "].code"),
                  Cat("transaction ", code, " is defined twice"));
      }
    }
  }
  return d;
}

std::optional<UserDef> MasterData::FindUser(std::string_view client,
                                            std::string_view name) const {
  std::string upper = ToUpper(name);
  auto it = users_.find({std::string(client), upper});
  if (it != users_.end()) return it->second;
  for (const auto& g : ranges_) {
    if (g.client != client || upper.size() != g.prefix.size() + g.digits ||
        upper.compare(0, g.prefix.size(), g.prefix) != 0) {
      continue;
    }
    int n;
    std::string_view digits = std::string_view(upper).substr(g.prefix.size());
    if (digits.find_first_not_of("0123456789") != std::string_view::npos)
      continue;
    if (ParseInt(digits, &n) && n >= g.first && n <= g.last) {
      return UserDef{g.client, upper, g.password, g.language};
    }
  }
  return std::nullopt;
}

const TransactionDef* MasterData::FindTransaction(std::string_view code) const {
  auto it = transactions_.find(ToUpper(code));
  return it == transactions_.end() ? nullptr : &it->second;
}

}  // namespace its::r3
