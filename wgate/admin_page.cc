// The admin page a trainer watches: AGate processes and load weights, the
// ITS sessions each process holds, SM04, SM05 and SM12 (read from the R/3
// stub), on one page that can reload itself.
#include <algorithm>

#include "common/pages.h"
#include "common/strings.h"
#include "wgate/wgate.h"

namespace its::wgate {
namespace {

// An HTML table; every cell is escaped.
std::string HtmlTable(const std::string& id,
                      const std::vector<std::string>& headers,
                      const std::vector<std::vector<std::string>>& rows) {
  std::string out = Cat("<table id=\"", id, "\"><tr>");
  for (const auto& h : headers) out += Cat("<th>", HtmlEscape(h), "</th>");
  out += "</tr>";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const auto& cell : row) out += Cat("<td>", HtmlEscape(cell), "</td>");
    out += "</tr>";
  }
  return out + "</table>";
}

}  // namespace

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
    std::vector<std::vector<std::string>> sessions;
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
    std::vector<std::vector<std::string>> agates;
    for (const auto& inst : directory_.instances()) {
      for (const auto& p : inst.directory.processes()) {
        agates.push_back({p.instance(), Cat(p.process()), Cat(p.pid()),
                          proto::ProcessInfo::State_Name(p.state()),
                          Cat(p.sessions(), "/", p.max_sessions()),
                          Cat(p.busy_threads(), "/", p.max_threads()),
                          fmt::format("{:.3f}", p.weight()), p.address()});
      }
    }
    std::vector<std::vector<std::string>> sm04, sm05, sm12;
    for (const auto& r : lists->sm04.rows())
      sm04.push_back({r.client(), r.user(), r.terminal(), r.tcode(), r.type(),
                      r.last_step()});
    for (const auto& r : lists->sm05.rows())
      sm05.push_back({Cat(r.id()), r.client(), r.user(), Cat(r.sessions()),
                      r.created(), r.last_activity(),
                      fmt::format("{:.0f}", r.expires_in_s())});
    for (const auto& r : lists->sm12.rows())
      sm12.push_back(
          {r.client(), r.user(), r.time(), r.mode(), r.table(), r.argument()});
    std::string body = "<h1>ITS Administration</h1><h2>AGate processes</h2>";
    body += HtmlTable("agates",
                      {"Instance", "Process", "PID", "State", "Sessions",
                       "Busy threads", "Load weight w", "Address"},
                      agates);
    body += "<h2>ITS sessions</h2>";
    body += HtmlTable("sessions",
                      {"Instance", "Process", "Session (GUSID)", "Service",
                       "User", "Tcode", "State", "Idle s", "Expires in s"},
                      lists->sessions);
    body += "<h2>SM04 User List</h2>";
    body += HtmlTable(
        "sm04", {"Client", "User", "Terminal", "Tcode", "Type", "Last step"},
        sm04);
    body += "<h2>SM05 HTTP Security Sessions</h2>";
    body += HtmlTable("sm05",
                      {"ID", "Client", "User", "Sessions", "Created",
                       "Last activity", "Expires in s"},
                      sm05);
    body += "<h2>SM12 Lock Entries</h2>";
    body += HtmlTable(
        "sm12", {"Client", "User", "Time", "Mode", "Table", "Lock argument"},
        sm12);
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
          for (const auto& r : reply.rows()) {
            lists->sessions.push_back(
                {p.instance(), Cat(p.process()), r.session(), r.service(),
                 r.user(), r.tcode(), r.state(),
                 fmt::format("{:.0f}", r.idle_s()),
                 fmt::format("{:.0f}", r.expires_in_s())});
          }
          finish();
        });
  }
}

}  // namespace its::wgate
