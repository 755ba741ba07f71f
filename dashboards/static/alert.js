// One alert's page: acknowledge, say who is going, resolve with an outcome; then reload.
"use strict";
const box = document.getElementById("alert-actions");
if (box) {
  const id = encodeURIComponent(box.dataset.alertId);
  const run = async (action, body) => {
    try { await callApi("POST", `/api/alerts/${id}/${action}`, body); location.reload(); }
    catch (error) { showError(error); }
  };
  box.querySelectorAll("button[data-action]").forEach(b => {
    b.onclick = () => run(b.dataset.action, b.dataset.state ? {state: b.dataset.state} : {});
  });
  document.getElementById("resolve").onsubmit = event => {
    event.preventDefault();
    const form = event.target;
    run("resolve", {outcome: form.outcome.value, note: form.note.value || null});
  };
}
