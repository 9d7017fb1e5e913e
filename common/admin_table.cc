#include "common/admin_table.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "common/strings.h"

namespace its::admin_table {
namespace {

Table WithColumns(std::vector<Column> columns) {
  Table t;
  t.columns = std::move(columns);
  return t;
}

}  // namespace

std::string StateName(proto::ProcessInfo::State s) {
  switch (s) {
    case proto::ProcessInfo::STARTING:
      return "starting";
    case proto::ProcessInfo::UP:
      return "up";
    case proto::ProcessInfo::UNRESPONSIVE:
      return "unresponsive";
    default:
      return "down";
  }
}

Table AgateTable() {
  return WithColumns({{"instance", "Instance"},
                      {"process", "Process"},
                      {"pid", "PID"},
                      {"address", "Address"},
                      {"sessions", "Sessions"},
                      {"max_sessions", "Max sessions"},
                      {"busy_threads", "Busy threads"},
                      {"max_threads", "Max threads"},
                      {"weight", "Load weight w"},
                      {"state", "State"},
                      {"incarnation", "Incarnation"},
                      {"draining", "Draining"}});
}

void AddAgateRow(const proto::ProcessInfo& p, Table* t) {
  t->rows.push_back({p.instance(), int64_t{p.process()}, int64_t{p.pid()},
                     p.address(), int64_t{p.sessions()},
                     int64_t{p.max_sessions()}, int64_t{p.busy_threads()},
                     int64_t{p.max_threads()}, p.weight(), StateName(p.state()),
                     int64_t{p.incarnation()}, p.draining()});
}

Table LoadstatTable() {
  return WithColumns({{"instance", "Instance"},
                      {"process", "Process"},
                      {"weight", "Load weight w"},
                      {"free_sessions", "Free sessions"},
                      {"max_sessions", "Max sessions"},
                      {"free_threads", "Free threads"},
                      {"max_threads", "Max threads"},
                      {"turnaround_s", "Turnaround s"},
                      {"requests", "Requests"}});
}

void AddLoadstatRow(const proto::ProcessInfo& p, Table* t) {
  t->rows.push_back({p.instance(), int64_t{p.process()}, p.weight(),
                     int64_t{std::max(0, p.max_sessions() - p.sessions())},
                     int64_t{p.max_sessions()},
                     int64_t{std::max(0, p.max_threads() - p.busy_threads())},
                     int64_t{p.max_threads()}, p.turnaround_s(),
                     uint64_t{p.requests()}});
}

Table SessionTable() {
  return WithColumns({{"instance", "Instance"},
                      {"process", "Process"},
                      {"session", "Session (GUSID)"},
                      {"service", "Service"},
                      {"client", "Client"},
                      {"user", "User"},
                      {"tcode", "Tcode"},
                      {"state", "State"},
                      {"idle_s", "Idle s"},
                      {"expires_in_s", "Expires in s"},
                      {"r3_session", "R/3 session"}});
}

void AddSessionRows(const proto::ProcessInfo& p,
                    const proto::SessionsReply& reply, Table* t) {
  for (const auto& r : reply.rows()) {
    t->rows.push_back({p.instance(), int64_t{p.process()}, r.session(),
                       r.service(), r.client(), r.user(), r.tcode(), r.state(),
                       r.idle_s(), r.expires_in_s(), uint64_t{r.r3_session()}});
  }
}

Table ProcessTable(const proto::ClusterProcesses& reply) {
  Table t = WithColumns({{"name", "Name"},
                         {"pid", "PID"},
                         {"address", "Address"},
                         {"restarts", "Restarts"},
                         {"state", "State"}});
  for (const auto& p : reply.processes()) {
    t.rows.push_back({p.name(), int64_t{p.pid()}, p.address(),
                      int64_t{p.restarts()}, p.state()});
  }
  return t;
}

Table Sm04Table(const proto::Sm04Reply& reply) {
  Table t = WithColumns({{"client", "Client"},
                         {"user", "User"},
                         {"terminal", "Terminal"},
                         {"tcode", "Tcode"},
                         {"type", "Type"},
                         {"last_step", "Last step"},
                         {"session", "Session"}});
  for (const auto& r : reply.rows()) {
    t.rows.push_back({r.client(), r.user(), r.terminal(), r.tcode(), r.type(),
                      r.last_step(), uint64_t{r.session()}});
  }
  return t;
}

Table Sm05Table(const proto::Sm05Reply& reply) {
  Table t = WithColumns({{"id", "ID"},
                         {"client", "Client"},
                         {"user", "User"},
                         {"sessions", "Sessions"},
                         {"created", "Created"},
                         {"last_activity", "Last activity"},
                         {"expires_in_s", "Expires in s"},
                         {"session_ids", "Session IDs"}});
  for (const auto& r : reply.rows()) {
    t.rows.push_back({uint64_t{r.id()}, r.client(), r.user(),
                      int64_t{r.sessions()}, r.created(), r.last_activity(),
                      r.expires_in_s(),
                      std::vector<uint64_t>(r.session_ids().begin(),
                                            r.session_ids().end())});
  }
  return t;
}

Table Sm12Table(const proto::Sm12Reply& reply) {
  Table t = WithColumns({{"client", "Client"},
                         {"user", "User"},
                         {"mode", "Mode"},
                         {"table", "Table"},
                         {"argument", "Lock argument"},
                         {"time", "Time"},
                         {"session", "Session"}});
  for (const auto& r : reply.rows()) {
    t.rows.push_back({r.client(), r.user(), r.mode(), r.table(), r.argument(),
                      r.time(), uint64_t{r.session()}});
  }
  return t;
}

std::string Text(const Cell& cell) {
  struct {
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(int64_t v) const { return Cat(v); }
    std::string operator()(uint64_t v) const { return Cat(v); }
    std::string operator()(double v) const { return fmt::format("{:.3f}", v); }
    std::string operator()(bool v) const { return v ? "yes" : "no"; }
    std::string operator()(const std::vector<uint64_t>& ids) const {
      return absl::StrJoin(ids, ",");
    }
  } text;
  return std::visit(text, cell);
}

std::vector<std::string> Titles(const Table& t) {
  std::vector<std::string> out;
  out.reserve(t.columns.size());
  for (const auto& c : t.columns) out.push_back(c.title);
  return out;
}

std::vector<std::vector<std::string>> TextRows(const Table& t) {
  std::vector<std::vector<std::string>> out;
  out.reserve(t.rows.size());
  for (const auto& row : t.rows) {
    std::vector<std::string>& cells = out.emplace_back();
    cells.reserve(row.size());
    for (const auto& c : row) cells.push_back(Text(c));
  }
  return out;
}

}  // namespace its::admin_table
