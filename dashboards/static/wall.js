// The station alert wall: open alerts live over SSE, most urgent and oldest first.
"use strict";
const alerts = new Map();
const rank = {critical: 3, high: 2, medium: 1, low: 0};
const closed = new Set(["resolved", "expired"]);
let loaded = false;

function handlerText(a) {
  const parts = [];
  if (a.acknowledged_by) parts.push(`${label("acknowledged_by")}: ${esc(a.acknowledged_by)} ${timeOf(a.acknowledged_at)}`);
  if (a.response) parts.push(`<span class="response">${esc(a.response.actor)} ${label("response." + a.response.state)} ${timeOf(a.response.at)}</span>`);
  return parts.join("<br>");
}

function button(text, className, onclick) {
  const b = document.createElement("button");
  b.textContent = text; b.className = className; b.onclick = onclick;
  return b;
}

function actionsFor(a) {
  const box = document.createElement("div");
  box.className = "actions";
  if (a.status !== "acknowledged") {
    box.append(button(label("acknowledge"), "primary ack", () => act(a.alert_id, "ack", {})));
  }
  box.append(button(label("on_the_way"), "on-the-way", () => act(a.alert_id, "response", {state: "on_the_way"})));
  box.append(button(label("on_site"), "on-site", () => act(a.alert_id, "response", {state: "on_site"})));
  const form = document.getElementById("resolve-form").content.firstElementChild.cloneNode(true);
  form.onsubmit = event => {
    event.preventDefault();
    act(a.alert_id, "resolve", {outcome: form.outcome.value, note: form.note.value || null});
  };
  box.append(form);
  const link = document.createElement("a");
  link.href = `/alerts/${encodeURIComponent(a.alert_id)}`; link.textContent = label("details");
  box.append(link);
  return box;
}

// Rows are kept and updated in place, so a note being typed into one row's resolve form
// survives frames for other alerts; a row's actions are rebuilt only when its status changes.
function cellsOf(a) {
  return [
    `<span class="badge ${a.severity}">${label("severity." + a.severity, a.severity)}</span>`,
    `<a href="/homes/${encodeURIComponent(a.home)}">${esc(a.home)}</a>`,
    esc(a.explanation[LANG] || label("kind." + a.kind, a.kind)),
    timeOf(a.raised_at),
    `<span class="elapsed" data-since="${esc(a.raised_at)}">${elapsed(a.raised_at)}</span>`,
    `<span class="status">${label("status." + a.status, a.status)}</span>`,
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
      for (let i = 0; i < 8; i++) tr.append(document.createElement("td"));
    }
    tr.className = `${a.severity} ${a.status}${flashing.has(a.alert_id) ? " fresh" : ""}`;
    cellsOf(a).forEach((html, i) => { if (tr.children[i].innerHTML !== html) tr.children[i].innerHTML = html; });
    if (tr.dataset.status !== a.status) {
      tr.dataset.status = a.status;
      tr.children[7].replaceChildren(actionsFor(a));
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
  banner.textContent = `${label("new_critical")} ${a.home} · ${a.explanation[LANG] || label("kind." + a.kind)}`;
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
