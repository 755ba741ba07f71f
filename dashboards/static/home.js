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

// Staff withdraw every family link sent to one relative so far (a lost phone, a falling-out).
for (const button of document.querySelectorAll(".revoke-family")) {
  button.addEventListener("click", async () => {
    if (!confirm(button.dataset.confirm)) return;
    const home = encodeURIComponent(button.dataset.homeId);
    const contact = encodeURIComponent(button.dataset.contact);
    try {
      await callApi("POST", `/api/homes/${home}/contacts/${contact}/revoke-family-links`);
      button.disabled = true;
      button.textContent = button.dataset.done;
    } catch (error) { showError(error); }
  });
}
