#include "clients/journey.h"

#include <utility>

#include "clients/load_engine.h"
#include "clients/page_check.h"
#include "common/its_protocol.h"
#include "common/params.h"
#include "common/strings.h"

namespace its::load {

Journeys::Journeys(const Scenario& scenario, const LoadOptions& options,
                   std::mt19937_64& rng, LoadStats& stats)
    : scenario_(scenario), options_(options), rng_(rng), stats_(stats) {}

double Journeys::ThinkMs(const Think& t) {
  return options_.think_ms >= 0 ? options_.think_ms : t.Sample(rng_);
}

size_t Journeys::Pick() {
  double total = 0;
  for (const auto& j : scenario_.journeys) total += j.weight;
  double r = std::uniform_real_distribution<double>(0, total)(rng_);
  for (size_t i = 0; i < scenario_.journeys.size(); ++i) {
    const double w = scenario_.journeys[i].weight;
    if (r < w) return i;
    r -= w;
  }
  return scenario_.journeys.size() - 1;
}

std::string Journeys::NextUser(const JourneyDef& j) {
  int& n = next_user_.try_emplace(&j, j.user_first).first->second;
  int id = n;
  n = n >= j.user_last ? j.user_first : n + 1;
  return j.user_digits > 0
             ? fmt::format("{}{:0{}d}", j.user_prefix, id, j.user_digits)
             : Cat(j.user_prefix, id);
}

DataRow Journeys::NextRow(VirtualUser& vu, const JourneyDef& j) {
  const DataFile* data = j.data.get();
  if (data == nullptr) return {};
  if (j.data_per == JourneyDef::kPerUser) {
    for (const auto& [file, i] : vu.kept_rows) {
      if (file == data) return data->row(i);
    }
  }
  size_t i;
  if (j.data_order == JourneyDef::kRandom) {
    i = std::uniform_int_distribution<size_t>(0, data->rows() - 1)(rng_);
  } else {
    size_t& next = next_row_[data];
    i = next;
    next = (next + 1) % data->rows();
  }
  if (j.data_per == JourneyDef::kPerUser) vu.kept_rows.emplace_back(data, i);
  return data->row(i);
}

void Journeys::After(const std::shared_ptr<VirtualUser>& vu, double ms,
                     std::function<void()> fn) {
  vu->intended =
      Clock::now() + std::chrono::microseconds(static_cast<int64_t>(ms * 1000));
  if (ms <= 0) {
    fn();
    return;
  }
  vu->timer->expires_at(vu->intended);
  vu->timer->async_wait([vu, fn = std::move(fn)](const asio::error_code& ec) {
    // A wait the run's end cut short (Interrupt) continues no more.
    if (!ec && !vu->interrupted) fn();
  });
}

void Journeys::Send(const std::shared_ptr<VirtualUser>& vu, int slot,
                    std::string request, Clock::time_point intended, Then then,
                    const StepDef* checks) {
  ++in_flight_;
  vu->in_flight = true;
  vu->pending = VirtualUser::Pending::kStep;
  vu->pending_slot = slot;
  vu->pending_intended = intended;
  vu->conn->Request(std::move(request), [this, vu, slot, intended, checks,
                                         then = std::move(then)](
                                            LoadConnection::Response& r) {
    --in_flight_;
    vu->in_flight = false;
    std::string failed =
        checks != nullptr
            ? CheckPage(*checks, r.status, r.body, vu->user, vu->row)
            : "";
    stats_.Request({vu->journey_index, slot}, r.status,
                   r.status == 0 ? r.error : failed, r.agate, intended,
                   Clock::now());
    if (!failed.empty()) vu->had_error = true;
    if (r.status == 0 || r.status >= 500) {
      // No response at all, or the server cannot serve now (503, 504): the
      // journey ends (every step treats this as a failure) and the user
      // waits before the next one; see End. Without it a refusing cluster
      // gets a logon loop as fast as the CPU allows.
      // Open-model users are never retried, so they need no back-off.
      if (!vu->open_model) {
        vu->backoff_ms = vu->backoff.Failed(
            std::uniform_real_distribution<double>(0, 1)(rng_));
      }
    } else {
      vu->backoff.Succeeded();
    }
    if (!r.cookie.empty()) vu->cookie = r.cookie;
    if (r.cookie_cleared) vu->cookie.clear();
    then(r.status, r.body);
  });
}

void Journeys::Start(const std::shared_ptr<VirtualUser>& vu,
                     Clock::time_point intended) {
  if (phase_ != kRunning || vu->retire) {
    vu->looping = false;  // the plan has no place for this user now
    vu->conn->Close();
    return;
  }
  vu->journey_index = static_cast<int>(Pick());
  const JourneyDef& j = scenario_.journeys[vu->journey_index];
  vu->journey = &j;
  vu->cookie.clear();
  vu->sess_url.clear();
  vu->row = NextRow(*vu, j);
  vu->user = j.user_column >= 0 ? ToUpper(vu->row[j.user_column])
                                : ToUpper(NextUser(j));
  vu->step = 0;
  vu->repeat_left = j.steps.empty() ? 0 : j.steps[0].repeat;
  stats_.JourneyStarted(vu->journey_index);
  ++active_;
  vu->in_journey = true;
  vu->interrupted = false;
  vu->had_error = false;
  vu->active_it = running_.insert(running_.end(), vu);
  // The logon posts the form, as the logon page does: no password in a URL.
  std::string buf;  // for a password from the data
  std::string form =
      Cat("~client=", UrlEncode(j.client), "&~login=", UrlEncode(vu->user),
          "&~password=", UrlEncode(j.password.View(vu->row, &buf)),
          "&~language=", UrlEncode(j.language));
  if (!j.transaction.empty())
    form += "&~transaction=" + UrlEncode(j.transaction);
  if (j.end == JourneyDef::kCloseTab) form += "&sapwp_active=1";
  std::string req = Cat(
      "POST ", ServiceUrl(j.service), "! HTTP/1.1\r\nHost: ", options_.host,
      "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ",
      form.size(), "\r\n\r\n", form);
  Send(vu, stats_.Slots(vu->journey_index).logon, std::move(req), intended,
       [this, vu](int status, std::string_view body) {
         if (status != 200 || vu->cookie.empty()) {
           if (status == 200)
             stats_.Error("logon page instead of a session (wrong password?)");
           Fail(vu);
           return;
         }
         if (vu->journey->end == JourneyDef::kCloseTab) {
           size_t p = body.find("\"sessUrl\":\"");
           if (p != std::string::npos) {
             size_t e = body.find('"', p + 11);
             // The SessInfo JSON escapes '&' as \u0026.
             vu->sess_url =
                 ReplaceAll(std::string_view(body).substr(p + 11, e - p - 11),
                            "\\u0026", "&");
           }
         }
         NextStep(vu);
       });
}

void Journeys::NextStep(const std::shared_ptr<VirtualUser>& vu) {
  const JourneyDef& j = *vu->journey;
  while (vu->step < j.steps.size() && vu->repeat_left <= 0) {
    if (++vu->step < j.steps.size()) vu->repeat_left = j.steps[vu->step].repeat;
  }
  if (phase_ == kInterrupting) {
    Cut(vu);
    return;
  }
  if (vu->step >= j.steps.size()) {  // the journey's end
    switch (j.end) {
      case JourneyDef::kAbandon:
        vu->conn->Close();  // the browser just goes away; ~timeout ends it
        End(vu, true);
        return;
      case JourneyDef::kLogoff: {
        std::string req = Cat(
            "GET ", ServiceUrl(j.service),
            "?~okcode=%2Fnex HTTP/1.1\r\nHost: ", options_.host,
            "\r\nCookie: ", kSessionCookieName, "=", vu->cookie, "\r\n\r\n");
        Send(vu, stats_.Slots(vu->journey_index).end, std::move(req),
             Clock::now(), [this, vu](int status, std::string_view) {
               End(vu, status == 200 || status == 302);
             });
        return;
      }
      case JourneyDef::kCloseTab: {
        // What the portal's DSM sends on pagehide: one ABORT via the
        // Terminator.
        std::string form = Cat("Command=ABORT&SerKeyString=",
                               UrlEncode(UrlEncode(vu->sess_url)));
        std::string req = Cat(
            "POST /dsm/terminator HTTP/1.1\r\nHost: ", options_.host,
            "\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ",
            form.size(), "\r\n\r\n", form);
        Send(vu, stats_.Slots(vu->journey_index).end, std::move(req),
             Clock::now(), [this, vu](int status, std::string_view body) {
               bool ended = status == 200 &&
                            body.find("\"terminated\":1") != std::string::npos;
               if (!ended) stats_.Error("close_tab ended no session");
               End(vu, ended);
             });
        return;
      }
    }
  }
  const StepDef& st = j.steps[vu->step];
  const int slot = stats_.Slots(vu->journey_index).steps[vu->step];
  --vu->repeat_left;
  After(vu, ThinkMs(st.think), [this, vu, &st, &j, slot] {
    // Values from the data are expanded into `buf`; literal ones are used
    // as they are.
    std::string buf;
    std::string q = Cat("~okcode=", UrlEncode(st.okcode.View(vu->row, &buf)));
    for (const auto& [name, value] : st.fields)
      q += Cat("&", UrlEncode(name), "=", UrlEncode(value.View(vu->row, &buf)));
    std::string req =
        Cat("GET ", ServiceUrl(j.service), "?", q,
            " HTTP/1.1\r\nHost: ", options_.host,
            "\r\nCookie: ", kSessionCookieName, "=", vu->cookie, "\r\n\r\n");
    Send(
        vu, slot, std::move(req), vu->intended,
        [this, vu](int status, std::string_view) {
          if (status != 200) {
            Fail(vu);
            return;
          }
          NextStep(vu);
        },
        &st);
  });
}

void Journeys::Interrupt() {
  phase_ = kInterrupting;
  // Cut ends journeys, so not over the list itself.
  std::vector<std::shared_ptr<VirtualUser>> waiting;
  for (const auto& vu : running_) {
    // In flight: cut when the response is in (NextStep) or ended by it.
    if (!vu->in_flight) waiting.push_back(vu);
  }
  for (const auto& vu : waiting) {
    vu->timer->cancel();  // its think time; After's wait ends silently
    Cut(vu);
  }
}

void Journeys::Fail(const std::shared_ptr<VirtualUser>& vu) {
  if (vu->cookie.empty() || vu->journey->end == JourneyDef::kAbandon) {
    End(vu, false);
    return;
  }
  LogOffApart(vu, VirtualUser::Pending::kFailureLogoff, [this, vu](bool ok) {
    stats_.LoggedOffAfterFailure(ok);
    vu->cookie.clear();
    End(vu, false);
  });
}

void Journeys::LogOffApart(const std::shared_ptr<VirtualUser>& vu,
                           VirtualUser::Pending why,
                           std::function<void(bool ok)> then) {
  // Not a step of the load: counted apart, so the figures stay the load's.
  ++in_flight_;
  vu->in_flight = true;
  vu->pending = why;  // not a load request
  SendLogoff(vu, std::move(then), kLogoffTries);
}

void Journeys::SendLogoff(const std::shared_ptr<VirtualUser>& vu,
                          std::function<void(bool ok)> then, int tries_left) {
  std::string req =
      Cat("GET ", ServiceUrl(vu->journey->service),
          "?~okcode=%2Fnex HTTP/1.1\r\nHost: ", options_.host,
          "\r\nCookie: ", kSessionCookieName, "=", vu->cookie, "\r\n\r\n");
  vu->conn->Request(std::move(req), [this, vu, then = std::move(then),
                                     tries_left](LoadConnection::Response& r) {
    // No wgate answered, or one that is (re)starting (503 until it has the
    // directories; the session is kept): again.
    if ((r.status == 0 || r.status == 503) && tries_left > 1) {
      // Still in flight meanwhile: the run's end counts it if it never
      // gets through (AbandonInFlight).
      vu->timer->expires_after(std::chrono::milliseconds(250));
      vu->timer->async_wait(
          [this, vu, then, tries_left](const asio::error_code& ec) {
            if (!ec) SendLogoff(vu, then, tries_left - 1);
          });
      return;
    }
    --in_flight_;
    vu->in_flight = false;
    then(r.status == 200 || r.status == 302);
  });
}

void Journeys::AbandonInFlight() {
  const auto now = Clock::now();
  std::vector<std::shared_ptr<VirtualUser>> stuck;
  for (const auto& vu : running_)
    if (vu->in_flight) stuck.push_back(vu);
  for (const auto& vu : stuck) {
    --in_flight_;
    vu->in_flight = false;
    // Each counted as its own answer would have been; its session (if it
    // has one) stays until ~timeout.
    switch (vu->pending) {
      case VirtualUser::Pending::kStep:
        stats_.Request({vu->journey_index, vu->pending_slot}, 0,
                       "no answer before the run ended", "",
                       vu->pending_intended, now);
        if (!vu->cookie.empty() && vu->journey->end != JourneyDef::kAbandon)
          stats_.LoggedOffAtEnd(false);
        End(vu, vu->had_error ? LoadStats::Ending::kFailed
                              : LoadStats::Ending::kInterrupted);
        break;
      case VirtualUser::Pending::kEndLogoff:
        stats_.LoggedOffAtEnd(false);
        End(vu, LoadStats::Ending::kInterrupted);
        break;
      case VirtualUser::Pending::kFailureLogoff:
        stats_.LoggedOffAfterFailure(false);
        End(vu, LoadStats::Ending::kFailed);
        break;
    }
  }
}

void Journeys::Cut(const std::shared_ptr<VirtualUser>& vu) {
  vu->interrupted = true;
  const JourneyDef& j = *vu->journey;
  if (j.end == JourneyDef::kAbandon || vu->cookie.empty()) {
    End(vu, LoadStats::Ending::kInterrupted);
    return;
  }
  LogOffApart(vu, VirtualUser::Pending::kEndLogoff, [this, vu](bool ok) {
    stats_.LoggedOffAtEnd(ok);
    End(vu, LoadStats::Ending::kInterrupted);
  });
}

void Journeys::End(const std::shared_ptr<VirtualUser>& vu,
                   LoadStats::Ending how) {
  --active_;
  vu->in_journey = false;
  running_.erase(vu->active_it);
  stats_.JourneyEnded(vu->journey_index, how);
  if (phase_ != kRunning) {
    vu->looping = false;
    vu->conn->Close();
    return;
  }
  if (vu->open_model) {
    vu->conn->Close();
    return;
  }
  // Closed model: the same user goes on with a new journey, after a back-off
  // if its last request got no response. Without it a refusing or vanished
  // wgate turns every user into a connect loop as fast as the CPU allows.
  // The journey's latency counts from the end of the wait, which is the
  // user's own choice, not the server's delay.
  double wait_ms = std::exchange(vu->backoff_ms, 0);
  if (wait_ms > 0) stats_.BackedOff(wait_ms);
  StartAfter(vu, wait_ms);
}

void Journeys::StartAfter(const std::shared_ptr<VirtualUser>& vu, double ms) {
  After(vu, ms, [this, vu] { Start(vu, vu->intended); });
}

}  // namespace its::load
