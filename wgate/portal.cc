// The portal main page of SISP: content in an IFrame, the Distributed
// Session Manager (DSM) as script, and a DSM monitor panel.
#include "common/its_protocol.h"
#include "common/pages.h"
#include "common/params.h"
#include "common/strings.h"
#include "wgate/terminator.h"

namespace its::wgate {
namespace {

// The DSM. It keeps the SessInfo objects the content pages hand over
// (SAPWP_receiveSessInfo, or postMessage from this origin), drops them on
// SRV_CLOSE/SRV_ERROR and follows a same-origin redirectURL. On pagehide
// (close, reload, Back, navigating away) it sends one ABORT for every
// registered session to the Terminator with navigator.sendBeacon (fallback:
// fetch with keepalive); the Log Off button sends LOGOFF, which wins.
constexpr std::string_view kDsmScript = R"JS(
(function () {
  'use strict';
  var sessions = new Map();
  var body = document.getElementById('dsm-sessions');
  var logEl = document.getElementById('dsm-log');
  function log(text) {
    var li = document.createElement('li');
    li.textContent = new Date().toLocaleTimeString() + ' ' + text;
    logEl.insertBefore(li, logEl.firstChild);
  }
  function render() {
    body.textContent = '';
    sessions.forEach(function (s) {
      var tr = document.createElement('tr');
      [s.label, s.GUSID, s.lastSessCmd, String(s.dTimeout) + ' s'].forEach(function (v) {
        var td = document.createElement('td');
        td.textContent = v;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    document.getElementById('dsm-count').textContent = String(sessions.size);
    document.getElementById('dsm-noun').textContent =
        sessions.size === 1 ? 'session' : 'sessions';
  }
  function samePath(url) {
    try {
      var u = new URL(url, location.href);
      return u.origin === location.origin ? u.pathname + u.search + u.hash : null;
    } catch (e) { return null; }
  }
  function receive(info) {
    if (!info || info.protocolVersion !== '1.0' || typeof info.GUSID !== 'string' ||
        typeof info.sessUrl !== 'string') return;
    if (info.lastSessCmd === 'SRV_CLOSE' || info.lastSessCmd === 'SRV_ERROR') {
      if (sessions.delete(info.GUSID)) log(info.lastSessCmd + ' ' + info.GUSID);
      render();
      var target = info.redirectURL ? samePath(info.redirectURL) : null;
      if (target) location.href = target;
      return;
    }
    if (!sessions.has(info.GUSID)) log('registered ' + info.GUSID + ' (' + info.label + ')');
    sessions.set(info.GUSID, info);
    render();
  }
  window.SAPWP_receiveSessInfo = receive;
  window.addEventListener('message', function (e) {
    if (e.origin !== location.origin) return;
    if (e.data && e.data.type === 'SAPWP_SessInfo') receive(e.data.sessInfo);
  });
  function terminate(command) {
    if (sessions.size === 0) return false;
    var keys = [];
    sessions.forEach(function (s) { keys.push(encodeURIComponent(s.sessUrl)); });
    var form = new URLSearchParams();
    form.set('Command', command);
    form.set('SerKeyString', keys.join('&'));
    var queued = false;
    try { queued = navigator.sendBeacon('/dsm/terminator', form); } catch (e) { queued = false; }
    if (!queued) {
      try {
        fetch('/dsm/terminator', {method: 'POST', body: form, keepalive: true,
                                  credentials: 'same-origin'});
      } catch (e) { /* nothing more can be done while the page goes */ }
    }
    log(command + ' sent for ' + sessions.size +
        (sessions.size === 1 ? ' session' : ' sessions'));
    sessions.clear();
    render();
    return true;
  }
  window.addEventListener('pagehide', function () { terminate('ABORT'); });
  document.getElementById('dsm-logoff').addEventListener('click', function () {
    terminate('LOGOFF');
    document.getElementById('content').src = 'about:blank';
    document.getElementById('portal-state').textContent = 'Logged off';
  });
  window.DSM = {sessions: sessions, terminate: terminate};
})();
)JS";

constexpr std::string_view kPortalStyle =
    "<style>#layout{display:flex;gap:12px}#content{flex:1;height:560px;border:"
    "1px solid #99a;"
    "background:#fff}#dsm-monitor{width:380px;font-size:12px}#dsm-monitor "
    "table{width:100%}"
    "#dsm-log{padding-left:16px;color:#444;max-height:200px;overflow:auto}</"
    "style>";

}  // namespace

std::string PortalPage(std::string_view launch_url) {
  std::string src(launch_url);
  if (src.find("sapwp_active=") == std::string::npos) {
    src += src.find('?') == std::string::npos ? "?" : "&";
    src += "sapwp_active=1";
  }
  std::string body = Cat(
      "<h1>ITS Portal <span id=\"portal-state\"></span> "
      "<button id=\"dsm-logoff\" type=\"button\">Log Off</button></h1>"
      "<div id=\"layout\"><iframe id=\"content\" name=\"content\" "
      "title=\"content\" src=\"",
      HtmlEscape(src),
      "\"></iframe><aside id=\"dsm-monitor\"><h2>DSM Monitor (<span "
      "id=\"dsm-count\">0</span> <span id=\"dsm-noun\">"
      "sessions</span>)</h2><table><thead><tr><th>Label</th><th>GUSID</"
      "th><th>Last "
      "command</th>"
      "<th>Timeout</th></tr></thead><tbody id=\"dsm-sessions\"></tbody></table>"
      "<ul id=\"dsm-log\"></ul></aside></div><script>",
      kDsmScript, "</script>");
  return HtmlPage("ITS Portal", body, kPortalStyle);
}

std::string PortalLaunchForm(const std::vector<std::string>& services) {
  std::string body =
      "<h1>ITS Portal</h1><p>Choose what the portal launches in its IFrame. "
      "Sessions started there end when this window closes (SISP, the "
      "DSM).</p><ul id=\"portal-services\">";
  for (const std::string& service : services) {
    std::string launch = Cat(ServiceUrl(service), "!");
    body += Cat("<li><a href=\"/portal/?launch=", HtmlEscape(UrlEncode(launch)),
                "\">", HtmlEscape(service), "</a> <code>", HtmlEscape(launch),
                "</code></li>");
  }
  body += Cat(
      "</ul><form method=\"get\" action=\"/portal/\" id=\"portal-launch\">"
      "<label for=\"launch\">Launch URL</label><input id=\"launch\" "
      "name=\"launch\" size=\"60\" placeholder=\"",
      kWgatePrefix,
      "webgui/!?~transaction=FB03\"> <button type=\"submit\">Launch</button>"
      "</form><p>Only relative ",
      kWgatePrefix, " URLs of this ITS are launched.</p>");
  return HtmlPage("ITS Portal", body);
}

}  // namespace its::wgate
