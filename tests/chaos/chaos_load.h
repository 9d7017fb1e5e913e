#pragma once

// The chaos suite's load: virtual users in threads that check every page
// they get, and the outcome of each request (tests/chaos/chaos_test.cc).

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/gusid.h"
#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace chaos {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// What one request ended as.
enum class Outcome {
  kOk,
  kWrongUser,     // a page with another user's data: never allowed
  kUnexpected,    // the user's own page, not the one expected (a step that
                  // timed out at R/3 ran after all)
  kUnanswered,    // no response within the client's patience: never allowed
  kRefused,       // no connection (the wgate restarting)
  kSessionEnded,  // 400: the session ended (lost with its process, R/3 gone)
  kTransient,     // 503/504: the session is kept, try again
  kOtherHttp,
};

const char* Name(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kWrongUser:
      return "wrong user";
    case Outcome::kUnexpected:
      return "unexpected page";
    case Outcome::kUnanswered:
      return "unanswered";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kSessionEnded:
      return "session ended";
    case Outcome::kTransient:
      return "503/504";
    case Outcome::kOtherHttp:
      return "other";
  }
  return "?";
}

// Virtual users in threads: FB03 (odd) and PA30 (even) journeys, each with
// its own user, document or personnel number, checked on every page.
class Load {
 public:
  Load(std::string url, int users) : url_(std::move(url)) {
    for (int k = 1; k <= users; ++k)
      threads_.emplace_back([this, k] { User(k); });
  }
  ~Load() { Stop(); }

  // Holds every user before its next request and returns once all wait:
  // nothing in flight, sessions left as they are (for counting orphans).
  void Pause() {
    paused_ = true;
    while (waiting_ < static_cast<int>(threads_.size())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  void Resume() { paused_ = false; }

  void Stop() {
    paused_ = false;
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  // Outcomes (other than ok) recorded from `since` on.
  std::map<Outcome, int> Since(Clock::time_point since) const {
    std::lock_guard<std::mutex> l(mu_);
    std::map<Outcome, int> out;
    for (const auto& [t, o] : events_)
      if (t >= since) ++out[o];
    return out;
  }
  int Count(Outcome o) const {
    std::lock_guard<std::mutex> l(mu_);
    int n = 0;
    for (const auto& e : events_) n += e.second == o;
    return n;
  }
  uint64_t requests() const { return requests_; }
  // The public IDs of every session whose cookie a user received.
  std::set<std::string> received() const {
    std::lock_guard<std::mutex> l(mu_);
    return received_;
  }
  std::vector<std::string> wrong_pages() const {
    std::lock_guard<std::mutex> l(mu_);
    return wrong_;
  }

 private:
  void Record(Outcome o, const std::string& page = "") {
    ++requests_;
    if (o == Outcome::kOk) return;
    std::lock_guard<std::mutex> l(mu_);
    events_.emplace_back(Clock::now(), o);
    if (o == Outcome::kWrongUser && wrong_.size() < 3)
      wrong_.push_back(page.substr(0, 2000));
  }

  // True if `page` shows a user other than `user`, or a document or
  // personnel number other than `mine` (the ones this user works with).
  static bool ForeignData(const std::string& page, const std::string& user,
                          const std::string& mine) {
    auto footer = page.find("<footer>User ");
    if (footer != std::string::npos &&
        page.compare(footer + 13, user.size() + 1, user + " ") != 0)
      return true;
    for (const char* field : {"RF05L-BELNR", "RP50G-PERNR"}) {
      for (const char* tag : {"<output id=\"", "<input id=\""}) {
        std::string open = Cat(tag, field, "\"");
        auto at = page.find(open);
        if (at == std::string::npos) continue;
        auto value =
            page.find(tag[1] == 'o' ? ">" : "value=\"", at + open.size());
        if (value == std::string::npos) continue;
        value += tag[1] == 'o' ? 1 : 7;
        auto end = page.find_first_of("<\"", value);
        std::string v = page.substr(value, end - value);
        if (!v.empty() && v != mine) return true;
      }
    }
    return false;
  }

  // Sends one request and classifies the answer. `expect` must appear on a
  // 200 page; `mine` is the user's own document or personnel number.
  Outcome Send(HttpClient& http, std::string* cookie, const std::string& target,
               const std::string& user, const std::string& mine,
               const std::string& expect) {
    WhilePaused();
    std::vector<std::pair<std::string, std::string>> h;
    if (!cookie->empty()) h.emplace_back("Cookie", "~session=" + *cookie);
    auto begin = Clock::now();
    auto r = http.Send("GET", target, h);
    if (!r.ok()) {
      http.Close();
      // The client waits 8 s, well beyond the cluster's 2 s step deadline.
      bool hung = Clock::now() - begin >= std::chrono::milliseconds(7900);
      Outcome o = hung ? Outcome::kUnanswered : Outcome::kRefused;
      Record(o);
      return o;
    }
    for (const std::string& sc : r->Headers("set-cookie")) {
      auto v = FindCookie(sc, "~session");
      if (!v) continue;
      *cookie =
          sc.find("Max-Age=0") != std::string::npos ? "" : std::string(*v);
      if (auto id = UrlDecode(*cookie); id.ok()) {
        if (auto g = ParseGusid(*id); g.ok()) {
          std::lock_guard<std::mutex> l(mu_);
          received_.insert(g->PublicId());
        }
      }
    }
    Outcome o;
    if (r->status == 200) {
      if (ForeignData(r->body, user, mine)) {
        o = Outcome::kWrongUser;
      } else {
        o = expect.empty() || r->body.find(expect) != std::string::npos
                ? Outcome::kOk
                : Outcome::kUnexpected;
      }
    } else if (r->status == 400) {
      o = Outcome::kSessionEnded;
    } else if (r->status == 503 || r->status == 504) {
      o = Outcome::kTransient;
    } else {
      o = Outcome::kOtherHttp;
    }
    Record(o, r->body);
    return o;
  }

  void User(int k) {
    std::string user = fmt::format("LOAD{:05d}", k);
    bool pa30 = k % 2 == 0;
    std::string service = pa30 ? "ess" : "webgui";
    HttpClient http(url_, 8000);
    for (int journey = 0; !stop_; ++journey) {
      std::string cookie;
      // FB03 keeps showing the document the journey opened first.
      std::string mine = pa30 ? std::to_string(50000 + k)
                              : std::to_string(k * 1000 + journey % 1000);
      Outcome o =
          Send(http, &cookie,
               Cat("/scripts/wgate/", service, "/!?~client=100&~login=", user,
                   "&~password=welcome&~language=EN",
                   pa30 ? "" : "&~transaction=FB03"),
               user, mine, "");
      if (o != Outcome::kOk || cookie.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      for (int i = 0; i < 6 && !stop_; ++i) {
        std::string target, expect;
        if (pa30) {
          const std::string& pernr = mine;
          if (i % 2 == 0) {  // open the record: locks it
            target = Cat("/scripts/wgate/ess/?~okcode=/00&RP50G-PERNR=", pernr);
            expect = Cat("<output id=\"RP50G-PERNR\">", pernr, "</output>");
          } else {  // save: releases the lock
            target =
                Cat("/scripts/wgate/ess/?~okcode=UPD&P0006-STRAS=Street+", k);
            expect = "Record saved";
          }
        } else {
          const std::string& doc = mine;
          target = Cat("/scripts/wgate/webgui/?~okcode=/00&RF05L-BELNR=", doc);
          expect = Cat("<output id=\"RF05L-BELNR\">", doc, "</output>");
        }
        o = Send(http, &cookie, target, user, mine, expect);
        if (o == Outcome::kSessionEnded || cookie.empty()) break;
        if (o != Outcome::kOk) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          // A PA30 step that failed may or may not have run: start the pair
          // again from opening the record.
          if (pa30) i -= i % 2 == 1 ? 2 : 1;
        }
      }
      if (!cookie.empty()) {
        Send(http, &cookie, Cat("/scripts/wgate/", service, "/?~okcode=/nex"),
             user, mine, "");
      }
    }
  }

  void WhilePaused() {
    if (!paused_) return;
    ++waiting_;
    while (paused_ && !stop_)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    --waiting_;
  }

  std::string url_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> paused_{false};
  std::atomic<int> waiting_{0};
  std::atomic<uint64_t> requests_{0};
  mutable std::mutex mu_;
  std::vector<std::pair<Clock::time_point, Outcome>> events_;
  std::vector<std::string> wrong_;
  std::set<std::string> received_;
  std::vector<std::thread> threads_;
};

}  // namespace chaos
}  // namespace its::testing
