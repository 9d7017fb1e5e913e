#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "proto/its.pb.h"

// The admin listings as neutral tables: pure functions from the proto rows
// to column names and cells, in one column order for itsadm (text and
// --json) and the wgate's admin page. The order is itsadm's documented one
// (README): identity first, the address where itsadm has always shown it.
namespace its::admin_table {

// Text, or a number that keeps its type (itsadm --json prints numbers), or a
// list of IDs (a JSON array; as text joined by commas).
using Cell = std::variant<std::string, int64_t, uint64_t, double, bool,
                          std::vector<uint64_t>>;

struct Column {
  std::string key;    // snake_case: itsadm's JSON key and text header
  std::string title;  // for a page: "Busy threads"
};

struct Table {
  std::vector<Column> columns;
  std::vector<std::vector<Cell>> rows;  // one cell per column
};

// AGate processes of the Mapping Managers' directories: the empty table,
// then one row per process. `incarnation` (how often the slot was started,
// mod 256, as in the GUSID) came last, after the documented columns.
Table AgateTable();
void AddAgateRow(const proto::ProcessInfo& p, Table* t);
// The same processes as the load statistics see them (loadstat.log).
Table LoadstatTable();
void AddLoadstatRow(const proto::ProcessInfo& p, Table* t);
// ITS sessions: one row per session `p` reported.
Table SessionTable();
void AddSessionRows(const proto::ProcessInfo& p,
                    const proto::SessionsReply& reply, Table* t);
// What the cluster launcher supervises.
Table ProcessTable(const proto::ClusterProcesses& reply);
// The R/3 stub's transactions.
Table Sm04Table(const proto::Sm04Reply& reply);  // user sessions
Table Sm05Table(const proto::Sm05Reply& reply);  // HTTP security sessions
Table Sm12Table(const proto::Sm12Reply& reply);  // lock entries

// "starting", "up", "unresponsive", "down".
std::string StateName(proto::ProcessInfo::State s);

// A cell as text: numbers in decimal, reals with three decimals, lists
// joined by commas.
std::string Text(const Cell& cell);
// The column titles, and every row as text: what an HTML table needs.
std::vector<std::string> Titles(const Table& t);
std::vector<std::vector<std::string>> TextRows(const Table& t);

}  // namespace its::admin_table
