// The visiting list: record a visit or call; the list is ranked again on reload.
"use strict";
for (const form of document.querySelectorAll("form.record-visit")) {
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const home = encodeURIComponent(form.dataset.homeId);
    try {
      await callApi("POST", `/api/homes/${home}/visits`,
        {mode: form.mode.value, outcome: form.outcome.value, note: form.note.value});
      location.reload();
    } catch (error) { showError(error); }
  });
}
