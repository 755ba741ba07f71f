// The home page: set away / in hospital (until a time, or until changed).
"use strict";
document.getElementById("mode-form").addEventListener("submit", async event => {
  event.preventDefault();
  const form = event.target;
  const until = form.until.value ? new Date(form.until.value).toISOString() : null;
  try {
    await callApi("PUT", `/api/homes/${encodeURIComponent(form.dataset.homeId)}/mode`,
      {mode: form.mode.value, until, note: form.note.value});
    location.reload();
  } catch (error) { showError(error); }
});
