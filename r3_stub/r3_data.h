#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace its::r3 {

struct FieldDef {
  std::string name;
  std::string label;
  bool input = false;
  std::string value;  // template
};

struct LockDef {
  std::string table;
  std::string argument;  // template
  std::string mode = "E";
  std::string message;  // template, shown when someone else holds the lock
};

struct SaveDef {
  std::string table;
  std::string key;  // template
  std::vector<std::string> fields;
};

struct ActionDef {
  std::string okcode;
  std::vector<std::string> require;
  std::optional<LockDef> lock;
  std::string unlock;  // table
  std::optional<SaveDef> save;
  int goto_screen = 0;  // 0 = stay
  std::string message;
};

struct ScreenDef {
  int number = 0;
  std::string title;
  std::vector<FieldDef> fields;
  std::vector<std::pair<std::string, std::string>> buttons;  // okcode, label
  std::optional<SaveDef> load;  // table + key; fields unused
  std::vector<ActionDef> actions;
};

struct TransactionDef {
  std::string code;
  std::string title;
  // "", "sm04", "sm12" (list screens filled by the stub), "menu" (SAP Easy
  // Access: a button per transaction; where "/n" alone leads)
  std::string builtin;
  int start = 0;
  int step_ms = 0;  // simulated processing time per dialog step
  std::map<int, ScreenDef> screens;
};

struct UserDef {
  std::string client;
  std::string name;
  std::string password;
  std::string language;
};

struct UserRange {
  std::string client;
  std::string prefix;
  int digits = 5;
  int first = 1;
  int last = 0;
  std::string password;
  std::string language;
};

// The stub's master data: users and transactions (deploy/config/r3/).
class MasterData {
 public:
  // Loads DIR/users.toml and DIR/transactions.toml. Errors name file, line,
  // key.
  static absl::StatusOr<MasterData> Load(const std::string& dir);
  // Same from text; the file names are for error messages.
  static absl::StatusOr<MasterData> Parse(const std::string& users_toml,
                                          const std::string& users_file,
                                          const std::string& transactions_toml,
                                          const std::string& transactions_file);

  std::optional<UserDef> FindUser(std::string_view client,
                                  std::string_view name) const;
  const TransactionDef* FindTransaction(std::string_view code) const;
  // The transaction with builtin "menu" (SESSION_MANAGER), or nullptr.
  const TransactionDef* Menu() const {
    return menu_code_.empty() ? nullptr : FindTransaction(menu_code_);
  }
  // Every transaction, by code.
  const std::map<std::string, TransactionDef>& transactions() const {
    return transactions_;
  }

 private:
  std::map<std::pair<std::string, std::string>, UserDef> users_;
  std::vector<UserRange> ranges_;
  std::map<std::string, TransactionDef> transactions_;
  std::string menu_code_;
};

}  // namespace its::r3
