#include "clients/load_engine.h"

#include <llhttp.h>
#include <sys/resource.h>

#include <iostream>
#include <random>
#include <utility>

#include "common/params.h"
#include "common/strings.h"

namespace its::load {
namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double Ms(int64_t us) { return static_cast<double>(us) / 1000.0; }

nlohmann::json LatencyJson(const Histogram& h) {
  return {{"p50", Ms(h.Percentile(50))}, {"p90", Ms(h.Percentile(90))},
          {"p99", Ms(h.Percentile(99))}, {"p999", Ms(h.Percentile(99.9))},
          {"max", Ms(h.max())},          {"mean", h.mean() / 1000.0}};
}

}  // namespace

// One keep-alive HTTP/1.1 connection of a virtual user. One request at a time.
class LoadEngine::Connection : public std::enable_shared_from_this<Connection> {
 public:
  struct Response {
    int status = 0;  // 0: transport error
    std::string agate;
    std::string cookie;  // new ~session value, "" if none
    bool cookie_cleared = false;
    std::string body;
    bool keep_alive = true;
    std::string error;
  };
  using Done = std::function<void(Response&)>;

  Connection(asio::io_context& io, asio::ip::tcp::endpoint ep)
      : socket_(io), endpoint_(ep) {
    llhttp_settings_init(&settings_);
    settings_.on_header_field = [](llhttp_t* p, const char* at, size_t n) {
      auto* c = static_cast<Connection*>(p->data);
      if (c->in_value_) c->field_.clear(), c->in_value_ = false;
      c->field_.append(at, n);
      return 0;
    };
    settings_.on_header_value = [](llhttp_t* p, const char* at, size_t n) {
      auto* c = static_cast<Connection*>(p->data);
      if (!c->in_value_) {
        c->in_value_ = true;
        c->value_.clear();
      }
      c->value_.append(at, n);
      return 0;
    };
    settings_.on_header_value_complete = [](llhttp_t* p) {
      auto* c = static_cast<Connection*>(p->data);
      c->Header();
      c->in_value_ = false;
      c->field_.clear();
      return 0;
    };
    settings_.on_body = [](llhttp_t* p, const char* at, size_t n) {
      static_cast<Connection*>(p->data)->response_.body.append(at, n);
      return 0;
    };
    settings_.on_message_complete = [](llhttp_t* p) {
      auto* c = static_cast<Connection*>(p->data);
      c->response_.status = p->status_code;
      c->response_.keep_alive = llhttp_should_keep_alive(p);
      c->complete_ = true;
      return static_cast<int>(HPE_PAUSED);
    };
  }

  void Request(std::string text, Done done) {
    request_ = std::move(text);
    done_ = std::move(done);
    response_ = Response();
    complete_ = false;
    field_.clear();
    in_value_ = false;
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
    if (!socket_.is_open()) {
      socket_.async_connect(
          endpoint_, [self = shared_from_this()](const asio::error_code& ec) {
            if (ec) return self->Fail("connect: " + ec.message());
            asio::error_code ignored;
            self->socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
            self->Write();
          });
    } else {
      Write();
    }
  }

  void Close() {
    asio::error_code ec;
    socket_.close(ec);
  }

 private:
  void Header() {
    std::string name = ToLower(field_);
    if (name == "x-its-agate") {
      response_.agate = value_;
    } else if (name == "set-cookie") {
      if (auto v = FindCookie(value_, "~session")) {
        if (value_.find("Max-Age=0") != std::string::npos) {
          response_.cookie_cleared = true;
        } else {
          response_.cookie = std::string(*v);
        }
      }
    }
  }

  void Write() {
    asio::async_write(
        socket_, asio::buffer(request_),
        [self = shared_from_this()](const asio::error_code& ec, size_t) {
          if (ec) return self->Fail("write: " + ec.message());
          self->Read();
        });
  }

  void Read() {
    socket_.async_read_some(
        asio::buffer(buf_),
        [self = shared_from_this()](const asio::error_code& ec, size_t n) {
          if (ec)
            return self->Fail(ec == asio::error::eof ? "closed by server"
                                                     : ec.message());
          llhttp_errno_t err =
              llhttp_execute(&self->parser_, self->buf_.data(), n);
          if (self->complete_) {
            Done done = std::move(self->done_);
            if (!self->response_.keep_alive) self->Close();
            done(self->response_);
            return;
          }
          if (err != HPE_OK)
            return self->Fail(Cat("bad response: ", llhttp_errno_name(err)));
          self->Read();
        });
  }

  void Fail(const std::string& why) {
    Close();
    response_ = Response();
    response_.error = why;
    if (done_) {
      Done done = std::move(done_);
      done(response_);
    }
  }

  asio::ip::tcp::socket socket_;
  asio::ip::tcp::endpoint endpoint_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  std::string request_;
  Done done_;
  Response response_;
  std::array<char, 32768> buf_;
  std::string field_, value_;
  bool in_value_ = false;
  bool complete_ = false;
};

struct LoadEngine::VirtualUser {
  std::shared_ptr<Connection> conn;
  std::unique_ptr<asio::steady_timer> timer;
  const JourneyDef* journey = nullptr;
  std::string cookie;    // URL-encoded ~session value
  std::string sess_url;  // SISP termination URL (close_tab)
  size_t step = 0;
  int repeat_left = 0;
  bool open_model = false;
  Backoff backoff;        // closed model: transport failures in a row
  double backoff_ms = 0;  // to wait before the next journey, set by a failure
  Clock::time_point intended;
};

LoadEngine::LoadEngine(asio::io_context& io, const Scenario& scenario,
                       const LoadOptions& options)
    : io_(io),
      scenario_(scenario),
      options_(options),
      rng_(options.seed),
      tick_(io),
      arrivals_(io),
      drain_(io) {}

LoadEngine::~LoadEngine() = default;

double LoadEngine::ThinkMs(const Think& t) {
  return options_.think_ms >= 0 ? options_.think_ms : t.Sample(rng_);
}

const JourneyDef& LoadEngine::PickJourney() {
  double total = 0;
  for (const auto& j : scenario_.journeys) total += j.weight;
  double r = std::uniform_real_distribution<double>(0, total)(rng_);
  for (const auto& j : scenario_.journeys) {
    if (r < j.weight) return j;
    r -= j.weight;
  }
  return scenario_.journeys.back();
}

std::string LoadEngine::NextUser(const JourneyDef& j) {
  int& n = next_user_.try_emplace(&j, j.user_first).first->second;
  int id = n;
  n = n >= j.user_last ? j.user_first : n + 1;
  return j.user_digits > 0
             ? fmt::format("{}{:0{}d}", j.user_prefix, id, j.user_digits)
             : Cat(j.user_prefix, id);
}

void LoadEngine::After(const std::shared_ptr<VirtualUser>& vu, double ms,
                       std::function<void()> fn) {
  vu->intended =
      Clock::now() + std::chrono::microseconds(static_cast<int64_t>(ms * 1000));
  if (ms <= 0) {
    fn();
    return;
  }
  vu->timer->expires_at(vu->intended);
  vu->timer->async_wait([fn = std::move(fn)](const asio::error_code& ec) {
    if (!ec) fn();
  });
}

void LoadEngine::Send(const std::shared_ptr<VirtualUser>& vu,
                      const std::string& step, std::string request,
                      Clock::time_point intended,
                      std::function<void(int, const std::string&)> then) {
  ++in_flight_;
  vu->conn->Request(std::move(request), [this, vu, step, intended,
                                         then = std::move(then)](
                                            Connection::Response& r) {
    --in_flight_;
    auto now = Clock::now();
    int64_t us =
        std::chrono::duration_cast<std::chrono::microseconds>(now - intended)
            .count();
    bool ok = r.status >= 200 && r.status < 400;
    size_t second = static_cast<size_t>(
        std::chrono::duration_cast<std::chrono::seconds>(now - start_).count());
    if (now <= end_) {  // only what completes inside the measured window counts
      ++requests_;
      latency_.Record(us);
      StepStats& s = steps_[step];
      ++s.requests;
      s.latency.Record(us);
      if (second < timeline_.size()) {
        ++timeline_[second].requests;
        timeline_[second].latency.Record(us);
      }
      if (!ok) {
        ++errors_;
        ++s.errors;
        if (second < timeline_.size()) ++timeline_[second].errors;
        ++error_kinds_[r.status ? Cat("HTTP ", r.status) : r.error];
      }
      if (r.status == 0) ++transport_errors_;
      if (!r.agate.empty()) ++agates_[r.agate];
    }
    if (r.status == 0) {
      // No response at all: the journey ends (every step treats this as a
      // failure) and the user waits before the next one; see EndJourney.
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

void LoadEngine::StartJourney(const std::shared_ptr<VirtualUser>& vu,
                              Clock::time_point intended) {
  if (stopping_) return;
  const JourneyDef& j = PickJourney();
  vu->journey = &j;
  vu->cookie.clear();
  vu->sess_url.clear();
  vu->step = 0;
  vu->repeat_left = j.steps.empty() ? 0 : j.steps[0].repeat;
  ++started_;
  ++active_;
  // The logon posts the form, as the logon page does: no password in a URL.
  std::string form =
      Cat("~client=", UrlEncode(j.client), "&~login=", UrlEncode(NextUser(j)),
          "&~password=", UrlEncode(j.password),
          "&~language=", UrlEncode(j.language));
  if (!j.transaction.empty())
    form += "&~transaction=" + UrlEncode(j.transaction);
  if (j.end == JourneyDef::kCloseTab) form += "&sapwp_active=1";
  std::string req = Cat(
      "POST /scripts/wgate/", j.service, "/! HTTP/1.1\r\nHost: ", options_.host,
      "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ",
      form.size(), "\r\n\r\n", form);
  Send(
      vu, "logon", std::move(req), intended,
      [this, vu](int status, const std::string& body) {
        if (status != 200 || vu->cookie.empty()) {
          if (status == 200)
            ++error_kinds_["logon page instead of a session (wrong password?)"];
          EndJourney(vu, false);
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

void LoadEngine::NextStep(const std::shared_ptr<VirtualUser>& vu) {
  const JourneyDef& j = *vu->journey;
  while (vu->step < j.steps.size() && vu->repeat_left <= 0) {
    if (++vu->step < j.steps.size()) vu->repeat_left = j.steps[vu->step].repeat;
  }
  if (stopping_) {
    EndJourney(vu, true);
    return;
  }
  if (vu->step >= j.steps.size()) {  // the journey's end
    switch (j.end) {
      case JourneyDef::kAbandon:
        vu->conn->Close();  // the browser just goes away; ~timeout ends it
        EndJourney(vu, true);
        return;
      case JourneyDef::kLogoff: {
        std::string req =
            Cat("GET /scripts/wgate/", j.service,
                "/?~okcode=%2Fnex HTTP/1.1\r\nHost: ", options_.host,
                "\r\nCookie: ~session=", vu->cookie, "\r\n\r\n");
        Send(vu, "logoff", std::move(req), Clock::now(),
             [this, vu](int status, const std::string&) {
               EndJourney(vu, status == 200 || status == 302);
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
        Send(vu, "close_tab", std::move(req), Clock::now(),
             [this, vu](int status, const std::string& body) {
               bool ended = status == 200 &&
                            body.find("\"terminated\":1") != std::string::npos;
               if (!ended) ++error_kinds_["close_tab ended no session"];
               EndJourney(vu, ended);
             });
        return;
      }
    }
  }
  const StepDef& st = j.steps[vu->step];
  --vu->repeat_left;
  After(vu, ThinkMs(st.think), [this, vu, &st, &j] {
    if (stopping_) {
      EndJourney(vu, true);
      return;
    }
    std::string q = Cat("~okcode=", UrlEncode(st.okcode));
    for (const auto& [name, value] : st.fields)
      q += Cat("&", UrlEncode(name), "=", UrlEncode(value));
    std::string req = Cat("GET /scripts/wgate/", j.service, "/?", q,
                          " HTTP/1.1\r\nHost: ", options_.host,
                          "\r\nCookie: ~session=", vu->cookie, "\r\n\r\n");
    Send(vu, st.name, std::move(req), vu->intended,
         [this, vu](int status, const std::string&) {
           if (status != 200) {
             EndJourney(vu, false);
             return;
           }
           NextStep(vu);
         });
  });
}

void LoadEngine::EndJourney(const std::shared_ptr<VirtualUser>& vu, bool ok) {
  --active_;
  if (ok)
    ++completed_;
  else
    ++failed_;
  if (stopping_) return;
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
  if (wait_ms > 0) {
    ++backoffs_;
    backoff_wait_s_ += wait_ms / 1000;
  }
  After(vu, wait_ms, [this, vu] { StartJourney(vu, vu->intended); });
}

void LoadEngine::ScheduleArrival() {
  double gap_s = std::exponential_distribution<double>(options_.rate)(rng_);
  next_arrival_ += std::chrono::microseconds(static_cast<int64_t>(gap_s * 1e6));
  arrivals_.expires_at(next_arrival_);
  arrivals_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopping_) return;
    Clock::time_point intended =
        next_arrival_;  // the arrival, even if we are late
    if (active_ >= options_.max_active) {
      ++dropped_;
    } else {
      auto vu = std::make_shared<VirtualUser>();
      vu->open_model = true;
      vu->conn = std::make_shared<Connection>(
          io_, asio::ip::tcp::endpoint(asio::ip::make_address(options_.host),
                                       static_cast<uint16_t>(options_.port)));
      vu->timer = std::make_unique<asio::steady_timer>(io_);
      StartJourney(vu, intended);
    }
    ScheduleArrival();
  });
}

void LoadEngine::Tick() {
  ++ticks_;
  tick_.expires_at(start_ + std::chrono::seconds(ticks_));
  tick_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    Second& s = timeline_[std::min(timeline_.size() - 1,
                                   static_cast<size_t>(ticks_ - 1))];
    s.active = active_;
    if (options_.progress) {
      std::cerr << fmt::format(
          "t={:>3}s rps={:>7} errors={:<5} active={:<6} p50={:.2f}ms "
          "p99={:.2f}ms\n",
          ticks_, s.requests, s.errors, active_, Ms(s.latency.Percentile(50)),
          Ms(s.latency.Percentile(99)));
    }
    if (Clock::now() >= end_) {
      Finish();
      return;
    }
    Tick();
  });
}

void LoadEngine::Finish() {
  stopping_ = true;
  arrivals_.cancel();
  for (auto& vu : users_) vu->timer->cancel();
  drain_deadline_ =
      Clock::now() + std::chrono::seconds(5);  // for requests in flight
  Drain();
}

void LoadEngine::Drain() {
  if (in_flight_ == 0 || Clock::now() > drain_deadline_) {
    for (auto& vu : users_) vu->conn->Close();
    io_.stop();
    return;
  }
  drain_.expires_after(std::chrono::milliseconds(10));
  drain_.async_wait([this](const asio::error_code&) { Drain(); });
}

void LoadEngine::Run() {
  start_ = Clock::now();
  end_ = start_ + std::chrono::microseconds(
                      static_cast<int64_t>(options_.duration_s * 1e6));
  timeline_.resize(static_cast<size_t>(std::ceil(options_.duration_s)));
  double cpu0 = CpuSeconds();
  asio::ip::tcp::endpoint ep(asio::ip::make_address(options_.host),
                             static_cast<uint16_t>(options_.port));
  if (options_.rate > 0) {
    next_arrival_ = start_;
    ScheduleArrival();
  } else {
    for (int i = 0; i < options_.users; ++i) {
      auto vu = std::make_shared<VirtualUser>();
      vu->conn = std::make_shared<Connection>(io_, ep);
      vu->timer = std::make_unique<asio::steady_timer>(io_);
      vu->backoff = Backoff(options_.backoff);
      users_.push_back(vu);
      double delay_ms = options_.users > 1
                            ? options_.ramp_up_s * 1000.0 * i / options_.users
                            : 0;
      After(vu, delay_ms, [this, vu] { StartJourney(vu, vu->intended); });
    }
  }
  Tick();
  io_.run();
  wall_s_ = std::chrono::duration<double>(Clock::now() - start_).count();
  cpu_s_ = CpuSeconds() - cpu0;
}

nlohmann::json LoadEngine::Report() const {
  nlohmann::json steps = nlohmann::json::object();
  for (const auto& [name, s] : steps_) {
    steps[name] = {{"requests", s.requests},
                   {"errors", s.errors},
                   {"latency_ms", LatencyJson(s.latency)}};
  }
  nlohmann::json timeline = nlohmann::json::array();
  for (size_t i = 0; i < timeline_.size(); ++i) {
    const Second& s = timeline_[i];
    timeline.push_back({{"t", i + 1},
                        {"requests", s.requests},
                        {"errors", s.errors},
                        {"p50_ms", Ms(s.latency.Percentile(50))},
                        {"p99_ms", Ms(s.latency.Percentile(99))},
                        {"active", s.active}});
  }
  return {
      {"scenario", scenario_.name},
      {"model", options_.rate > 0 ? "open" : "closed"},
      {"users", options_.users},
      {"rate", options_.rate},
      {"duration_s", options_.duration_s},
      {"requests", requests_},
      {"errors", errors_},
      {"transport_errors", transport_errors_},
      {"backoffs", backoffs_},
      {"backoff_wait_s", backoff_wait_s_},
      {"throughput_rps", static_cast<double>(requests_) / options_.duration_s},
      {"latency_ms", LatencyJson(latency_)},
      {"journeys",
       {{"started", started_},
        {"completed", completed_},
        {"failed", failed_},
        {"dropped", dropped_}}},
      {"steps", steps},
      {"agates", agates_},
      {"errors_by_kind", error_kinds_},
      {"itsload_cpu_percent", wall_s_ > 0 ? 100.0 * cpu_s_ / wall_s_ : 0.0},
      {"timeline", timeline},
  };
}

std::string HtmlReport(const nlohmann::json& r) {
  auto esc = [](const std::string& s) { return HtmlEscape(s); };
  // A line chart of one or two series over the timeline.
  auto chart =
      [&](const std::string& title,
          const std::vector<std::pair<std::string, std::string>>& series,
          const std::string& unit) {
        const int w = 640, h = 220, pad = 40;
        double maxv = 0;
        size_t n = r["timeline"].size();
        for (const auto& p : r["timeline"])
          for (const auto& [key, color] : series)
            maxv = std::max(maxv, p[key].get<double>());
        if (maxv <= 0) maxv = 1;
        std::string svg =
            Cat("<h2>", esc(title), "</h2><svg width=\"", w, "\" height=\"", h,
                "\" style=\"background:#fff;border:1px solid #ccc\">");
        svg += Cat("<text x=\"4\" y=\"14\" font-size=\"11\">",
                   fmt::format("{:.4g}", maxv), " ", esc(unit), "</text>");
        for (const auto& [key, color] : series) {
          std::string pts;
          size_t i = 0;
          for (const auto& p : r["timeline"]) {
            double x = pad + (n > 1 ? static_cast<double>(i) * (w - 2 * pad) /
                                          static_cast<double>(n - 1)
                                    : 0);
            double y =
                h - pad + 10 - p[key].get<double>() / maxv * (h - pad - 10);
            pts += fmt::format("{:.1f},{:.1f} ", x, y);
            ++i;
          }
          svg += Cat("<polyline fill=\"none\" stroke=\"", color,
                     "\" stroke-width=\"2\" points=\"", pts, "\"/>");
        }
        int lx = pad;
        for (const auto& [key, color] : series) {
          svg += Cat("<text x=\"", lx, "\" y=\"", h - 8,
                     "\" font-size=\"12\" fill=\"", color, "\">", esc(key),
                     "</text>");
          lx += 120;
        }
        svg += "</svg>";
        return svg;
      };
  std::string body = Cat(
      "<h1>itsload: ", esc(r["scenario"].get<std::string>()), "</h1><p>",
      esc(r["model"].get<std::string>()), " model, ",
      r["duration_s"].get<double>(), " s: ", r["requests"].get<uint64_t>(),
      " requests, ", r["errors"].get<uint64_t>(), " errors, ",
      fmt::format("{:.1f}", r["throughput_rps"].get<double>()),
      " requests/s, p50 ", r["latency_ms"]["p50"].get<double>(), " ms, p99 ",
      r["latency_ms"]["p99"].get<double>(), " ms, itsload CPU ",
      fmt::format("{:.0f}", r["itsload_cpu_percent"].get<double>()), " %</p>");
  body += chart("Throughput", {{"requests", "#1f6fb4"}, {"errors", "#c0392b"}},
                "requests/s");
  body +=
      chart("Latency", {{"p50_ms", "#27ae60"}, {"p99_ms", "#e67e22"}}, "ms");
  body += "<h2>Requests per AGate process</h2><svg width=\"640\" height=\"" +
          std::to_string(24 * std::max<size_t>(1, r["agates"].size()) + 10) +
          "\" style=\"background:#fff;border:1px solid #ccc\">";
  uint64_t most = 1;
  for (const auto& [k, v] : r["agates"].items())
    most = std::max<uint64_t>(most, v.get<uint64_t>());
  int y = 6;
  for (const auto& [k, v] : r["agates"].items()) {
    double len = 420.0 * static_cast<double>(v.get<uint64_t>()) /
                 static_cast<double>(most);
    body += Cat("<text x=\"4\" y=\"", y + 14, "\" font-size=\"12\">", esc(k),
                "</text><rect x=\"150\" y=\"", y, "\" width=\"",
                fmt::format("{:.1f}", len),
                "\" height=\"18\" fill=\"#1f6fb4\"/><text x=\"",
                fmt::format("{:.0f}", 156 + len), "\" y=\"", y + 14,
                "\" font-size=\"12\">", v.get<uint64_t>(), "</text>");
    y += 24;
  }
  body +=
      "</svg><h2>Steps</h2><table><tr><th>Step</th><th>Requests</"
      "th><th>Errors</th><th>p50 ms</th>"
      "<th>p99 ms</th><th>max ms</th></tr>";
  for (const auto& [k, v] : r["steps"].items()) {
    body += Cat("<tr><td>", esc(k), "</td><td>", v["requests"].get<uint64_t>(),
                "</td><td>", v["errors"].get<uint64_t>(), "</td><td>",
                v["latency_ms"]["p50"].get<double>(), "</td><td>",
                v["latency_ms"]["p99"].get<double>(), "</td><td>",
                v["latency_ms"]["max"].get<double>(), "</td></tr>");
  }
  body += "</table>";
  return Cat(
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>itsload "
      "report</title><style>"
      "body{font-family:Arial,sans-serif;margin:16px}td,th{border:1px solid "
      "#bbb;padding:2px 6px}"
      "table{border-collapse:collapse}</style></head><body>",
      body, "</body></html>\n");
}

}  // namespace its::load
