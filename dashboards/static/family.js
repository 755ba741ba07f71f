// The family page: acknowledge from the phone, and look again every minute.
"use strict";
const list = document.getElementById("family-alerts");
list.querySelectorAll("button.ack").forEach(b => {
  b.onclick = async () => {
    const id = encodeURIComponent(b.closest("[data-alert-id]").dataset.alertId);
    try { await callApi("POST", `${list.dataset.ackBase}/${id}/ack`, {}); location.reload(); }
    catch (error) { showError(error); }
  };
});
// Family members keep the page open: look again every minute.
setTimeout(() => location.reload(), 60000);
