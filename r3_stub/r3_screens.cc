// The transactions' screens: field templates, screen flow, function codes
// and rendering of a user session's dialog steps. Sessions, locks and
// lifetime are in r3_system.cc.
#include <algorithm>

#include "common/strings.h"
#include "r3_stub/r3_system.h"

namespace its::r3 {
namespace {

constexpr char kNotPossible[] =
    "Function code {} is not possible on this screen";

std::string NormalizeOkcode(std::string_view ok) {
  std::string s = ToUpper(Trim(ok));
  return s.empty() ? "/00" : s;
}

}  // namespace

std::string R3System::Expand(const std::string& tmpl, const Session& s,
                             const std::string& lock_owner) const {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find('{', i);
    size_t close =
        open == std::string::npos ? std::string::npos : tmpl.find('}', open);
    if (close == std::string::npos) {
      out.append(tmpl, i, std::string::npos);
      break;
    }
    out.append(tmpl, i, open - i);
    std::string name = tmpl.substr(open + 1, close - open - 1);
    if (name == "CLIENT") {
      out += s.client();
    } else if (name == "USER") {
      out += s.user();
    } else if (name == "LOCK_OWNER") {
      out += lock_owner;
    } else if (const std::string* v = s.vars.find(name)) {
      out += *v;
    }
    i = close + 1;
  }
  return out;
}

void R3System::EnterScreen(Session& s, int screen) {
  s.screen = screen;
  auto it = s.tx->screens.find(screen);
  if (it == s.tx->screens.end()) return;
  const ScreenDef& sc = it->second;
  const std::map<std::string, std::string>* record = nullptr;
  s.vars.reserve(sc.fields.size());  // one block, sized for this screen
  if (sc.load) {
    auto rec = records_.find({sc.load->table, Expand(sc.load->key, s)});
    if (rec != records_.end()) record = &rec->second;
  }
  for (const FieldDef& f : sc.fields) {
    if (!f.input) continue;
    if (record) {
      if (auto v = record->find(f.name); v != record->end()) {
        s.vars.at(f.name) = v->second;
        continue;
      }
    }
    if (sc.load || !s.vars.contains(f.name))
      s.vars.at(f.name) = Expand(f.value, s);
  }
}

void R3System::StartTransaction(Session& s, const TransactionDef* tx) {
  s.tx = tx;
  s.vars.clear();
  if (tx->builtin.empty())
    EnterScreen(s, tx->start);
  else
    s.screen = tx->start;
}

void R3System::ReleaseLocks(uint64_t session, const std::string& table) {
  // Only this session's own locks: never a scan of the whole lock table.
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  auto& mine = it->second.locks;
  if (!mine) return;
  std::erase_if(*mine, [&](const LockKey& key) {
    if (!table.empty() && key.first != table) return false;
    locks_.erase(key);
    return true;
  });
  if (mine->empty()) mine.reset();
}

void R3System::Render(const Session& s, const std::string& message,
                      const std::string& type, proto::Screen* out) const {
  out->set_tcode(s.tx->code);
  out->set_dynpro(s.screen);
  out->set_message(message);
  out->set_message_type(message.empty() ? "" : type);
  if (s.tx->builtin == "menu") {
    out->set_title(s.tx->title);
    for (const auto& [code, tx] : data_.transactions()) {
      if (&tx == s.tx) continue;
      proto::Button* b = out->add_buttons();
      b->set_okcode(Cat("/n", code));
      b->set_label(Cat(code, " ", tx.title));
    }
    return;
  }
  if (s.tx->builtin == "sm04" || s.tx->builtin == "sm12") {
    out->set_title(s.tx->title);
    proto::Table* t = out->mutable_table();
    if (s.tx->builtin == "sm04") {
      for (const char* c :
           {"Client", "User", "Terminal", "Tcode", "Type", "Last step"})
        t->add_columns(c);
      const proto::Sm04Reply list = UserSessions();
      for (const auto& r : list.rows()) {
        auto* row = t->add_rows();
        for (const std::string* v : {&r.client(), &r.user(), &r.terminal(),
                                     &r.tcode(), &r.type(), &r.last_step()})
          row->add_cells(*v);
      }
    } else {
      for (const char* c :
           {"Client", "User", "Time", "Mode", "Table", "Lock argument"})
        t->add_columns(c);
      const proto::Sm12Reply list = Locks();
      for (const auto& r : list.rows()) {
        auto* row = t->add_rows();
        for (const std::string* v : {&r.client(), &r.user(), &r.time(),
                                     &r.mode(), &r.table(), &r.argument()})
          row->add_cells(*v);
      }
    }
    out->add_buttons()->set_okcode("/00");
    out->mutable_buttons(0)->set_label("Refresh");
    return;
  }
  const ScreenDef& sc = s.tx->screens.at(s.screen);
  out->set_title(sc.title);
  for (const FieldDef& f : sc.fields) {
    proto::Field* pf = out->add_fields();
    pf->set_name(f.name);
    pf->set_label(f.label);
    pf->set_input(f.input);
    if (f.input) {
      pf->set_value(s.vars.get(f.name));
    } else {
      pf->set_value(Expand(f.value, s));
    }
  }
  for (const auto& [ok, label] : sc.buttons) {
    proto::Button* b = out->add_buttons();
    b->set_okcode(ok);
    b->set_label(label);
  }
}

void R3System::Dispatch(
    Session& s, const std::string& okcode,
    const google::protobuf::Map<std::string, std::string>& fields,
    std::string* message, const char** type) {
  std::string ok = NormalizeOkcode(okcode);
  *type = "S";  // message type: S success, E error
  // /n<TCODE>: end this transaction, start another; "/n" alone ends it and
  // goes to the menu (SAP Easy Access: SESSION_MANAGER in SM04), or starts
  // it anew where the master data has no menu. In the menu, a transaction
  // code alone starts it, as in SAP's command field.
  const bool in_menu = s.tx->builtin == "menu";
  if (ok.rfind("/N", 0) == 0 || (in_menu && !ok.empty() && ok[0] != '/')) {
    std::string code = ok[0] == '/' ? ok.substr(2) : ok;
    const TransactionDef* tx = data_.FindTransaction(code);
    if (code.empty()) tx = data_.Menu() ? data_.Menu() : s.tx;
    if (!tx) {
      *message = Cat("Transaction ", code, " does not exist");
      *type = "E";
    } else {
      ReleaseLocks(s.id);
      StartTransaction(s, tx);
    }
    return;
  }
  if (!s.tx->builtin.empty()) return;  // list transactions only refresh
  const ScreenDef& sc = s.tx->screens.at(s.screen);
  for (const FieldDef& f : sc.fields) {
    if (!f.input) continue;
    for (const auto& [k, v] : fields) {
      if (ToUpper(k) == f.name) s.vars.at(f.name) = v;
    }
  }
  const ActionDef* action = nullptr;
  for (const ActionDef& a : sc.actions)
    if (a.okcode == ok) action = &a;
  if (!action) {
    *message = fmt::format(kNotPossible, ok);
    *type = "E";
    return;
  }
  for (const std::string& f : action->require) {
    if (Trim(s.vars.get(f)).empty()) {
      *message = "Fill in all required entry fields";
      *type = "E";
    }
  }
  if (message->empty() && action->lock) {
    LockKey key{action->lock->table, Expand(action->lock->argument, s)};
    auto held = locks_.find(key);
    if (held != locks_.end() && held->second.session != s.id) {
      *message = Expand(action->lock->message, s, held->second.user);
      if (message->empty())
        *message = Cat("Entry is locked by user ", held->second.user);
      *type = "E";
    } else if (held == locks_.end()) {
      locks_.emplace(key, Lock{s.id, s.client(), s.user(), action->lock->mode,
                               clock_.Now()});
      if (!s.locks) s.locks = std::make_unique<std::vector<LockKey>>();
      s.locks->push_back(key);
    }
  }
  if (message->empty()) {
    if (action->save) {
      auto& rec = records_[{action->save->table, Expand(action->save->key, s)}];
      for (const std::string& f : action->save->fields)
        rec[ToUpper(f)] = s.vars.get(ToUpper(f));
    }
    if (!action->unlock.empty()) ReleaseLocks(s.id, action->unlock);
    if (action->goto_screen != 0) EnterScreen(s, action->goto_screen);
    *message = Expand(action->message, s);
  }
}

std::string R3System::CheckCallFields(
    const TransactionDef& tx,
    const google::protobuf::Map<std::string, std::string>& fields) const {
  if (fields.empty()) return "";
  // The first offending name in name order: the same message every time.
  std::vector<std::string> names;
  for (const auto& [k, v] : fields) names.push_back(ToUpper(k));
  std::sort(names.begin(), names.end());
  auto screen = tx.screens.find(tx.start);
  for (const std::string& name : names) {
    const FieldDef* def = nullptr;
    if (tx.builtin.empty() && screen != tx.screens.end()) {
      for (const FieldDef& f : screen->second.fields)
        if (f.name == name) def = &f;
    }
    if (def == nullptr) {
      return Cat("Field ", name, " does not exist on the first screen of ",
                 tx.code, " (screen ", tx.start, ")");
    }
    if (!def->input) {
      return Cat("Field ", name, " on the first screen of ", tx.code,
                 " (screen ", tx.start, ") is not an input field");
    }
  }
  return "";
}

proto::R3Response R3System::Step(const proto::R3Step& req, int* step_ms) {
  *step_ms = 0;
  auto it = sessions_.find(req.session());
  if (it == sessions_.end()) return SessionGone(req.session());
  proto::R3Response resp;
  resp.set_session(req.session());
  Session& s = it->second;
  Touch(s);
  std::string message;
  const char* type = "S";
  Dispatch(s, req.okcode(), req.fields(), &message, &type);
  *step_ms = s.tx->step_ms;
  Render(s, message, type, resp.mutable_screen());
  return resp;
}

}  // namespace its::r3
