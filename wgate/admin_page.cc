// The admin page a trainer watches: AGate processes and load weights, the
// ITS sessions each process holds, SM04, SM05 and SM12 (read from the R/3
// stub), on one page that can reload itself.
#include <algorithm>

#include "common/admin_table.h"
#include "common/its_protocol.h"
#include "common/pages.h"
#include "common/strings.h"
#include "wgate/wgate.h"

namespace its::wgate {
namespace {

// An HTML table of `t`; every cell is escaped.
std::string HtmlTable(const std::string& id, const admin_table::Table& t) {
  std::string out = Cat("<table id=\"", id, "\"><tr>");
  for (const auto& h : admin_table::Titles(t))
    out += Cat("<th>", HtmlEscape(h), "</th>");
  out += "</tr>";
  for (const auto& row : admin_table::TextRows(t)) {
    out += "<tr>";
    for (const auto& cell : row) out += Cat("<td>", HtmlEscape(cell), "</td>");
    out += "</tr>";
  }
  return out + "</table>";
}

}  // namespace

void WGate::AdminRedirect(const http::Request& req, Respond respond) {
  // The admin page lives at .../admin/! like every ITS start URL; only
  // ?refresh=N is carried over (nothing of the request is echoed raw).
  Params query;
  int refresh = 0;
  std::string location = Cat(kWgatePrefix, "admin/!");
  if (ParseQuery(req.query, &query, config_.http.max_params).ok() &&
      ParseInt(query.GetOr("REFRESH", ""), &refresh) && refresh > 0) {
    location += Cat("?refresh=", std::min(refresh, 3600));
  }
  http::Response r;
  r.status = 302;
  r.body =
      MessagePage("ITS Administration", Cat("The admin page is at ", location),
                  location, "ITS Administration");
  r.AddHeader("Location", location);
  r.AddHeader("Cache-Control", "no-store");
  Reply(respond, std::move(r));
}

void WGate::AdminPage(const http::Request& req, Respond respond) {
  // Everything a trainer watches on one page: processes and load weights, the
  // ITS sessions each process holds, SM04, SM05, SM12. ?refresh=N reloads it.
  Params query;
  int refresh = 0;
  if (ParseQuery(req.query, &query, config_.http.max_params).ok()) {
    ParseInt(query.GetOr("REFRESH", "0"), &refresh);
    refresh = std::clamp(refresh, 0, 3600);
  }
  struct Lists {
    proto::Sm04Reply sm04;
    proto::Sm05Reply sm05;
    proto::Sm12Reply sm12;
    admin_table::Table sessions = admin_table::SessionTable();
    size_t pending = 3;
    std::string error;
    Respond respond;
  };
  auto lists = std::make_shared<Lists>();
  lists->respond = std::move(respond);
  std::vector<proto::ProcessInfo> live;
  for (const auto& inst : directory_.instances())
    for (const auto& p : inst.directory.processes())
      if (p.state() == proto::ProcessInfo::UP) live.push_back(p);
  // One channel per process, kept while the process is in a directory.
  std::erase_if(admin_stubs_, [live = directory_.Addresses()](const auto& kv) {
    return !live.count(kv.first);
  });
  lists->pending += live.size();
  auto finish = [this, lists, refresh] {
    if (--lists->pending > 0) return;
    admin_table::Table agates = admin_table::AgateTable();
    for (const auto& inst : directory_.instances())
      for (const auto& p : inst.directory.processes())
        admin_table::AddAgateRow(p, &agates);
    std::string body =
        Cat("<h1>ITS Administration</h1><p id=\"its-clock\">Simulated time ",
            HtmlEscape(ClockText(clock_.Now(), clock_.time_scale())), "</p>");
    // Each list under a heading that counts its rows.
    auto section = [&body](std::string_view id, std::string_view title,
                           const admin_table::Table& t, std::string_view one,
                           std::string_view many) {
      body += Cat("<h2>", title, " (<span id=\"", id, "-count\">",
                  Counted(t.rows.size(), one, many), "</span>)</h2>");
      body += HtmlTable(std::string(id), t);
    };
    section("agates", "AGate processes", agates, "process", "processes");
    section("sessions", "ITS sessions", lists->sessions, "session", "sessions");
    section("sm04", "SM04 User List", admin_table::Sm04Table(lists->sm04),
            "user session", "user sessions");
    section("sm05", "SM05 HTTP Security Sessions",
            admin_table::Sm05Table(lists->sm05), "security session",
            "security sessions");
    section("sm12", "SM12 Lock Entries", admin_table::Sm12Table(lists->sm12),
            "lock entry", "lock entries");
    if (!lists->error.empty()) {
      body += Cat("<p class=\"msg msg-E\">Not reachable: ",
                  HtmlEscape(lists->error), "</p>");
    }
    http::Response r;
    r.body = HtmlPage(
        "ITS Administration", body,
        refresh > 0
            ? Cat("<meta http-equiv=\"refresh\" content=\"", refresh, "\">")
            : "");
    r.AddHeader("Cache-Control", "no-store");
    Reply(lists->respond, std::move(r));
  };
  // One listing from the R/3 stub into `into`; `begin` starts the RPC.
  auto list = [this, lists, finish](auto* into, auto begin) {
    using Reply = std::remove_pointer_t<decltype(into)>;
    grpc_.Unary<Reply>(
        2000, begin,
        [lists, finish, into](const grpc::Status& s, Reply& reply) {
          if (!s.ok()) lists->error = s.error_message();
          into->Swap(&reply);
          finish();
        });
  };
  auto* r3 = r3_.get();
  proto::Empty empty;
  list(&lists->sm04, [r3, empty](auto* ctx, auto* cq) {
    return r3->AsyncListUserSessions(ctx, empty, cq);
  });
  list(&lists->sm05, [r3, empty](auto* ctx, auto* cq) {
    return r3->AsyncListSecuritySessions(ctx, empty, cq);
  });
  list(&lists->sm12, [r3, empty](auto* ctx, auto* cq) {
    return r3->AsyncListLocks(ctx, empty, cq);
  });
  for (const auto& p : live) {
    auto& stub = admin_stubs_[p.address()];
    if (!stub) stub = proto::AGate::NewStub(MakeChannel(p.address()));
    grpc_.Unary<proto::SessionsReply>(
        2000,
        [stub, empty](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
          return stub->AsyncListSessions(ctx, empty, cq);
        },
        [lists, finish, p, stub](const grpc::Status& s,
                                 proto::SessionsReply& reply) {
          admin_table::AddSessionRows(p, reply, &lists->sessions);
          finish();
        });
  }
}

}  // namespace its::wgate
