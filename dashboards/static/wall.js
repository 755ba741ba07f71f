// The station alert wall: open alerts live over SSE, most urgent and oldest first.
"use strict";
const alerts = new Map();
const rank = {critical: 3, high: 2, medium: 1, low: 0};
const closed = new Set(["resolved", "expired"]);
let loaded = false;

function handlerText(a) {
  const status = `<span class="status">${label("status." + a.status, a.status)}</span>`;
  const parts = [a.acknowledged_by ? `${status} ${esc(who(a.acknowledged_by))} ${clockOf(a.acknowledged_at)}` : status];
  if (a.response) parts.push(`<span class="response">${esc(who(a.response.actor))} ${label("response." + a.response.state)} ${clockOf(a.response.at)}</span>`);
  return parts.join(" · ");
}

function button(text, className, onclick, title) {
  const b = document.createElement("button");
  b.textContent = text; b.className = className; b.onclick = onclick;
  if (title) b.title = title;
  return b;
}

// The resolve form is one dialog for the whole wall, opened from a row: a row stays one
// line, and a note being typed is not touched by frames for other alerts.
const dialog = document.getElementById("resolve-dialog");
let resolving = null;
dialog.querySelector("form").onsubmit = event => {
  const form = event.target;
  if (event.submitter && event.submitter.value === "resolve" && resolving) {
    act(resolving, "resolve", {outcome: form.outcome.value, note: form.note.value || null});
  }
  form.note.value = "";
  resolving = null;
};

function openResolve(a) {
  resolving = a.alert_id;
  document.getElementById("resolve-what").textContent = `${householdName(a)} · ${label("kind." + a.kind, a.kind)}`;
  dialog.showModal();
}

function actionsFor(a) {
  const box = document.createElement("div");
  box.className = "actions";
  if (a.status !== "acknowledged") {
    box.append(button(label("acknowledge"), "primary ack", () => act(a.alert_id, "ack", {})));
  }
  box.append(button(label("wall.going"), "on-the-way", () => act(a.alert_id, "response", {state: "on_the_way"}), label("on_the_way")));
  box.append(button(label("wall.on_site"), "on-site", () => act(a.alert_id, "response", {state: "on_site"}), label("on_site")));
  box.append(button(label("wall.resolve"), "resolve", () => openResolve(a)));
  return box;
}

function householdName(a) {
  const h = a.household;
  return h && h.residents.length ? h.residents.map(r => r.name).join("、") : (h ? h.name : a.home);
}

const age = born => born ? label("age").replace("{n}", new Date().getFullYear() - born) : "";

// Who and where on one line; what to know about them (care notes, whom to call) on hover,
// or a click on the line on a touch screen.
function whoCell(a) {
  const h = a.household;
  const home = `<a href="/homes/${encodeURIComponent(a.home)}">${esc(h ? h.name : a.home)}</a>`;
  if (!h) return home;
  const people = h.residents.map(r => `<strong>${esc(r.name)}</strong> ${age(r.birth_year)}`).join("、") || `<strong>${esc(h.name)}</strong>`;
  const notes = h.residents.filter(r => r.care_notes || r.phone).map(r => [`${r.name}:`, r.phone, r.care_notes].filter(Boolean).join(" "));
  const c = h.contact;
  const relative = c ? [`${label("relative")}: ${c.name}`, c.relation && `(${c.relation_text[LANG] || c.relation})`, c.phone].filter(Boolean).join(" ") : "";
  const more = [...notes, relative].filter(Boolean);
  return `<details class="who"><summary title="${esc(more.join("\n"))}">${people} <span class="muted">${esc(h.address)}</span></summary>` +
    `${more.map(line => `<div>${esc(line)}</div>`).join("")}<div>${home}</div></details>`;
}

// Rows are kept and updated in place (a cell only when what it shows changed, so an opened
// row stays open); a row's actions are rebuilt only when its status changes.
function cellsOf(a) {
  const what = a.explanation[LANG] || label("kind." + a.kind, a.kind);
  return [
    `<span class="badge ${a.severity}">${label("severity." + a.severity, a.severity)}</span>`,
    whoCell(a),
    `<a href="/alerts/${encodeURIComponent(a.alert_id)}" title="${esc(what)}">${esc(what)}</a>`,
    `${clockOf(a.raised_at)} <span class="ago" data-ago="${esc(a.raised_at)}">${ago(a.raised_at)}</span>`,
    `<span class="handler">${handlerText(a)}</span>`,
  ];
}

const flashing = new Set();  // rows of new alerts flash for a few seconds

function render() {
  const body = document.getElementById("alerts");
  const rows = [...alerts.values()].filter(a => !closed.has(a.status))
    .sort((a, b) => rank[b.severity] - rank[a.severity] || new Date(a.raised_at) - new Date(b.raised_at));
  document.getElementById("empty").hidden = rows.length > 0;
  const existing = new Map([...body.children].map(tr => [tr.dataset.alertId, tr]));
  const wanted = rows.map(a => {
    let tr = existing.get(a.alert_id);
    if (!tr) {
      tr = document.createElement("tr");
      tr.dataset.alertId = a.alert_id;
      for (let i = 0; i < 6; i++) tr.append(document.createElement("td"));
    }
    tr.className = `${a.severity} ${a.status}${flashing.has(a.alert_id) ? " fresh" : ""}`;
    cellsOf(a).forEach((html, i) => {
      const td = tr.children[i];
      if (td.dataset.html !== html) { td.innerHTML = html; td.dataset.html = html; }
    });
    if (tr.dataset.status !== a.status) {
      tr.dataset.status = a.status;
      tr.children[5].replaceChildren(actionsFor(a));
    }
    return tr;
  });
  for (const [id, tr] of existing) if (!wanted.includes(tr)) tr.remove();
  const order = [...body.children];
  if (wanted.length !== order.length || wanted.some((tr, i) => tr !== order[i])) body.replaceChildren(...wanted);
}

// A new critical alert: red banner, flashing row, a tone (once the page has had a click,
// as browsers require), and the tab title, so a screen across the room is noticed.
let audio = null;
document.addEventListener("click", () => { audio = audio || new AudioContext(); }, {once: true});
function cue(a) {
  const banner = document.getElementById("banner");
  banner.textContent = `${label("new_critical")} ${householdName(a)} · ${a.explanation[LANG] || label("kind." + a.kind)}`;
  banner.classList.add("show");
  document.title = `(!) ${document.title.replace(/^\(!\) /, "")}`;
  setTimeout(() => { banner.classList.remove("show"); document.title = document.title.replace(/^\(!\) /, ""); }, 15000);
  if (!audio) return;
  for (const [at, freq] of [[0, 880], [0.35, 660], [0.7, 880]]) {
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.frequency.value = freq; gain.gain.value = 0.2;
    osc.connect(gain).connect(audio.destination);
    osc.start(audio.currentTime + at); osc.stop(audio.currentTime + at + 0.25);
  }
}

async function act(id, action, body) {
  try { await callApi("POST", `/api/alerts/${encodeURIComponent(id)}/${action}`, body); }
  catch (error) { showError(error); }
}

// The list is the truth as of its request; a frame that arrived while it was on the way
// is newer, so it wins (otherwise a new alert could vanish from the wall until its next step).
const receivedAt = new Map();
async function reload() {
  const started = performance.now();
  const page = await callApi("GET", "/api/alerts?limit=500");
  const fresh = new Map(page.items.map(a => [a.alert_id, a]));
  for (const [id, a] of alerts) {
    const listed = fresh.get(id);
    if ((receivedAt.get(id) ?? -1) >= started && (!listed || new Date(listed.updated_at) <= new Date(a.updated_at))) fresh.set(id, a);
  }
  alerts.clear();
  for (const [id, a] of fresh) alerts.set(id, a);
  loaded = true;
  render();
}

function connect() {
  const source = new EventSource("/api/alerts/stream");
  const conn = document.getElementById("conn");
  source.onopen = () => { conn.textContent = label("connected"); conn.className = ""; reload(); };
  source.onerror = () => { conn.textContent = label("disconnected"); conn.className = "error"; };
  const onFrame = e => {
    const {alert} = JSON.parse(e.data);
    const isNew = !alerts.has(alert.alert_id);
    alerts.set(alert.alert_id, alert);
    receivedAt.set(alert.alert_id, performance.now());
    if (isNew) {
      flashing.add(alert.alert_id);
      setTimeout(() => { flashing.delete(alert.alert_id); render(); }, 4000);
    }
    render();
    if (isNew && loaded && alert.severity === "critical" && !closed.has(alert.status)) cue(alert);
  };
  source.addEventListener("alert", onFrame);
  source.addEventListener("response", onFrame);
}

connect();
