// The login form: a refused password is shown here, a throttled login says how long to wait.
"use strict";
document.getElementById("login").addEventListener("submit", async event => {
  event.preventDefault();
  const form = event.target;
  try {
    await callApi("POST", "/api/session", {username: form.username.value, password: form.password.value});
    location.href = form.dataset.next;
  } catch (error) {
    const shown = document.getElementById("login-error");
    shown.textContent = error.status === 429
      ? label("login.throttled").replace("{minutes}", Math.ceil(error.retryAfter / 60))
      : label("login.failed");
    shown.hidden = false;
  }
});
