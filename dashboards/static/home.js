// The home page: place today's marks on the 24-hour strip, and set away / in hospital.
"use strict";
const day = document.getElementById("day");
const midnight = new Date(day.dataset.now); midnight.setHours(0, 0, 0, 0);
day.querySelectorAll(".mark").forEach(mark => {
  const share = (new Date(mark.dataset.at) - midnight) / 86400000;
  if (share < 0 || share > 1) { mark.remove(); return; }
  mark.style.left = `${(share * 100).toFixed(2)}%`;
});
for (let hour = 0; hour <= 24; hour += 6) {
  const tick = document.createElement("span");
  tick.className = "hours"; tick.style.left = `${hour / 24 * 100}%`; tick.textContent = `${hour}:00`;
  day.append(tick);
}

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
