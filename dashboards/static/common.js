// Shared by every page: the message catalogue, escaping, times, and JSON calls to the API.
"use strict";
const T = JSON.parse(document.getElementById("catalogue").textContent);
const LANG = document.documentElement.lang.startsWith("en") ? "en" : "zh-CN";
const label = (key, fallback) => T[key] || fallback || key;
const esc = text => String(text ?? "").replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
// Times in the homes' timezone, like the server-rendered pages, whatever the screen's own.
const TIMEZONE = document.documentElement.dataset.timezone;
const timeOf = iso => iso ? new Date(iso).toLocaleTimeString(LANG, {hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: TIMEZONE}) : "";

const clockOf = iso => iso ? new Date(iso).toLocaleTimeString(LANG, {hour: "2-digit", minute: "2-digit", hour12: false, timeZone: TIMEZONE}) : "";
// Who did something, as the server-rendered pages say it (dashboards/timeline.py actor_text):
// a service by its name in the reader's language, a relative marked as one.
const FAMILY_SUFFIX = " (family)";
const who = name => !name ? "" : name.endsWith(FAMILY_SUFFIX)
  ? name.slice(0, -FAMILY_SUFFIX.length) + label("actor.family") : label("actor." + name, name);

// "12 min ago" (and its Chinese), in the units of dashboards/timeline.py duration().
function ago(since) {
  const s = Math.max(0, Math.floor((Date.now() - new Date(since)) / 1000));
  const [key, n] = s < 60 ? ["duration.s", s] : s < 7200 ? ["duration.min", Math.round(s / 60)] : ["duration.h", Math.round(s / 3600)];
  return label("ago").replace("{d}", label(key).replace("{n}", n));
}

function elapsed(since) {
  const s = Math.max(0, Math.floor((Date.now() - new Date(since)) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
}

async function callApi(method, path, body) {
  const response = await fetch(path, {
    method, credentials: "same-origin",
    headers: body === undefined ? {} : {"Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // An expired session sends the screen to the login page; on the login page itself (and on
  // a family link, which has no login) a 401 is the answer to show, not a reason to leave.
  const ownLogin = location.pathname === "/login" || location.pathname.startsWith("/family/");
  if (response.status === 401 && !ownLogin) {
    location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
  }
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) {
    const error = new Error(data && data.detail || label("error"));
    error.status = response.status;
    error.retryAfter = Number(response.headers.get("Retry-After")) || 0;
    throw error;
  }
  return data;
}

function showError(error) { window.alert(`${label("error")}: ${error.message}`); }

// Alerts resolved before the outcome was stored on the alert kept it in the note as a
// leading "[key]"; show that in the reader's language too.
function noteText(note) {
  const match = /^\[([a-z_]+)\]\s*(.*)$/.exec(note || "");
  return match ? `${label("outcome." + match[1], match[1])} ${match[2]}`.trim() : (note || "");
}

const logout = document.getElementById("logout");
if (logout) logout.onclick = async () => { await callApi("DELETE", "/api/session").catch(() => null); location.href = "/login"; };
setInterval(() => {
  document.querySelectorAll(".elapsed[data-since]").forEach(el => { el.textContent = elapsed(el.dataset.since); });
  document.querySelectorAll("[data-ago]").forEach(el => { el.textContent = ago(el.dataset.ago); });
}, 1000);
document.querySelectorAll("[data-note]").forEach(el => { el.textContent = noteText(el.dataset.note); });
