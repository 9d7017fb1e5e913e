#include "wgate/topology.h"

#include "common/admin_table.h"
#include "mapping_manager/assignment.h"

namespace its::wgate {
namespace {

const char* KindName(mm::Assignment::Kind k) {
  switch (k) {
    case mm::Assignment::kAssign:
      return "assign";
    case mm::Assignment::kScaleUp:
      return "scale_up";
    case mm::Assignment::kWait:
      return "wait";
    case mm::Assignment::kFull:
      return "full";
  }
  return "?";
}

}  // namespace

nlohmann::json TopologyJson(const ClusterConfig& config,
                            const ProcessDirectory& directory,
                            const std::vector<std::string>& services,
                            ProcessDirectory::Clock::time_point now) {
  double total_free = 0;
  for (size_t i = 0; i < directory.instances().size(); ++i)
    total_free += directory.FreeCapacity(i);
  nlohmann::json instances = nlohmann::json::array();
  int sessions = 0, processes = 0;
  for (size_t i = 0; i < directory.instances().size(); ++i) {
    const ProcessDirectory::Instance& inst = directory.instance(i);
    const AgateInstanceConfig& c = *inst.config;
    nlohmann::json list = nlohmann::json::array();
    std::vector<mm::ProcessView> views;
    for (const proto::ProcessInfo& p : inst.directory.processes()) {
      list.push_back({{"process", p.process()},
                      {"pid", p.pid()},
                      {"incarnation", p.incarnation()},
                      {"state", admin_table::StateName(p.state())},
                      {"address", p.address()},
                      {"weight", p.weight()},
                      {"sessions", p.sessions()},
                      {"max_sessions", p.max_sessions()},
                      {"busy_threads", p.busy_threads()},
                      {"max_threads", p.max_threads()},
                      {"turnaround_s", p.turnaround_s()},
                      {"requests", p.requests()},
                      {"draining", p.draining()}});
      views.push_back(mm::ProcessView{
          p.process(), p.pid(), p.state() == proto::ProcessInfo::UP,
          p.state() == proto::ProcessInfo::STARTING, p.weight(), p.sessions(),
          std::max(1, p.max_sessions()), p.draining(),
          p.state() == proto::ProcessInfo::UNRESPONSIVE});
      sessions += p.sessions();
      ++processes;
    }
    // Step 3 as the Mapping Manager would decide it now.
    nlohmann::json next;
    if (!inst.manager_ok) {
      next = {{"kind", "unreachable"},
              {"why", "its Mapping Manager is not speaking: no new sessions"}};
    } else if (inst.directory.draining()) {
      next = {{"kind", "draining"},
              {"why", "the instance is draining: no new sessions"}};
    } else {
      std::string why;
      mm::Assignment a =
          mm::ExplainAssignment(views, c.overload_weight, c.max_agates, &why);
      next = {{"kind", KindName(a.kind)}, {"why", why}};
      if (a.kind == mm::Assignment::kAssign) next["process"] = a.process;
    }
    const double free = directory.FreeCapacity(i);
    nlohmann::json manager = {{"address", c.mapping_manager},
                              {"reachable", inst.manager_ok}};
    if (inst.has_directory) {
      manager["directory_age_s"] =
          std::chrono::duration<double>(now - inst.last_directory).count();
    }
    instances.push_back({{"name", c.name},
                         {"manager", manager},
                         {"min_agates", c.min_agates},
                         {"max_agates", c.max_agates},
                         {"inc_agates", c.inc_agates},
                         {"max_sessions", c.max_sessions},
                         {"work_threads", c.work_threads},
                         {"overload_weight", c.overload_weight},
                         {"free_capacity", free},
                         // Step 1 draws the instance weighted by this.
                         {"chance", total_free > 0 ? free / total_free : 0.0},
                         {"processes", list},
                         {"next", next}});
  }
  return {{"time_scale", config.time_scale},
          {"routing", config.routing},
          {"r3", {{"address", config.r3_advertise}}},
          {"services", services},
          {"sessions", sessions},
          {"processes", processes},
          {"instances", instances}};
}

const std::string& TopologyPage() {
  static const std::string page = R"PAGE(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ITS topology</title>
<style>
body{font-family:Arial,sans-serif;margin:16px;color:#222}
h1{font-size:20px;margin:0 0 4px}
.bar{color:#555;margin-bottom:12px}
.row{display:flex;align-items:flex-start;gap:14px}
.box{border:1px solid #888;border-radius:6px;padding:8px;background:#f7f9fc}
.arrow{align-self:center;font-size:22px;color:#666}
.inst{margin-bottom:10px}
.inst.down{background:#fbeaea}
table{border-collapse:collapse;font-size:13px;margin-top:6px}
td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}
th{background:#e8edf3}
tr.next td{background:#e3f6e3;font-weight:bold}
tr.st-down td,tr.st-unresponsive td{color:#a00}
.next{margin-top:6px;font-size:13px}
.links a{margin-right:12px}
.small{font-size:12px;color:#555}
</style></head><body>
<h1>ITS session broker: topology</h1>
<div class="bar" id="settings">loading…</div>
<div class="links">
<a href="/scripts/wgate/admin/!">Admin page</a>
<a href="/portal/">Portal</a>
<span id="services"></span>
<a href="/metrics">/metrics</a>
<a href="/healthz">/healthz</a>
<a href="/topology.json">/topology.json</a>
</div>
<p class="small">A new session: step 1 the wgate draws an instance weighted by its free
capacity; steps 2&ndash;3 that instance's Mapping Manager assigns the AGate process with
the highest PID unless it is overloaded (w &lt; overload_weight); step 4 that process
creates the session context and issues its ID (the wgate puts it in the cookie); step 5 the
agate logs on to R/3. Later requests go straight to the
owning process. The green row is where the next new session would go.</p>
<div class="row">
<div class="box" id="wgate"><b>wgate</b></div>
<div class="arrow">&rarr;</div>
<div id="instances"></div>
<div class="arrow">&rarr;</div>
<div class="box" id="r3"><b>R/3 (r3_stub)</b></div>
</div>
<p class="small" id="updated"></p>
<script>
"use strict";
const el = (tag, attrs, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};
let last = null, lastAt = 0;
function hits(inst, p, now) {
  if (!last) return "";
  const li = last.instances.find((i) => i.name === inst.name);
  const lp = li && li.processes.find((q) => q.process === p.process && q.pid === p.pid);
  if (!lp) return "";
  return ((p.requests - lp.requests) / ((now - lastAt) / 1000)).toFixed(1);
}
function draw(t) {
  const now = Date.now();
  document.getElementById("settings").textContent =
    `time scale ${t.time_scale}× (one real second = ${t.time_scale} ITS second${t.time_scale === 1 ? "" : "s"}) · ` +
    `routing ${t.routing} · ` +
    `${t.sessions} session${t.sessions === 1 ? "" : "s"} in ${t.processes} AGate process${t.processes === 1 ? "" : "es"}`;
  const sv = document.getElementById("services");
  sv.replaceChildren(...t.services.map((s) => el("a", { href: `/scripts/wgate/${s}/!` }, s)));
  document.getElementById("wgate").replaceChildren(el("b", {}, "wgate"), el("br"),
    el("span", { class: "small" }, location.host));
  document.getElementById("r3").replaceChildren(el("b", {}, "R/3 (r3_stub)"), el("br"),
    el("span", { class: "small" }, t.r3.address));
  const box = document.getElementById("instances");
  box.replaceChildren(...t.instances.map((i) => {
    const d = el("div", { class: "box inst" + (i.manager.reachable ? "" : " down"), "data-instance": i.name });
    d.append(el("b", {}, `Instance ${i.name}`), " ",
      el("span", { class: "small" },
        `Mapping Manager ${i.manager.address} ${i.manager.reachable ? "" : "(not speaking)"} · ` +
        `Min/Max/IncAGates ${i.min_agates}/${i.max_agates}/${i.inc_agates} · ` +
        `MaxSessions ${i.max_sessions} · threads ${i.work_threads} · overload_weight ${i.overload_weight} · ` +
        `step 1 chance ${(i.chance * 100).toFixed(0)} % (free capacity ${i.free_capacity})`));
    const tb = el("table", {}, el("tr", {}, ...["process", "PID", "incarnation", "state", "w",
      "sessions", "threads busy/max", "hits/s", "turnaround ms"].map((h) => el("th", {}, h))));
    for (const p of i.processes) {
      const next = i.next.kind === "assign" && i.next.process === p.process;
      tb.append(el("tr", { class: (next ? "next " : "") + "st-" + p.state, "data-process": p.process },
        ...[p.process, p.pid, p.incarnation, p.state + (p.draining ? ", draining" : ""), p.weight.toFixed(2),
          `${p.sessions}/${p.max_sessions}`, `${p.busy_threads}/${p.max_threads}`,
          hits(i, p, now), (p.turnaround_s * 1000).toFixed(1)].map((v) => el("td", {}, String(v)))));
    }
    d.append(tb, el("div", { class: "next" }, `Next new session here: ${i.next.why}`));
    return d;
  }));
  document.getElementById("updated").textContent = "updated " + new Date(now).toLocaleTimeString();
  last = t; lastAt = now;
}
async function poll() {
  try {
    const r = await fetch("/topology.json", { cache: "no-store" });
    if (r.ok) draw(await r.json());
    else document.getElementById("updated").textContent = `the wgate answered ${r.status}`;
  } catch (e) {
    document.getElementById("updated").textContent = "the wgate does not answer: " + e;
  }
  setTimeout(poll, 1000);
}
poll();
</script></body></html>
)PAGE";
  return page;
}

}  // namespace its::wgate
