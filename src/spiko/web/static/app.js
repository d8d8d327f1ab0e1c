// A page that answers a form post (e.g. the one showing a new API key's secret) becomes a plain
// GET entry in the history, so reloading it fetches the page again instead of re-posting the
// form: no second key is created and the secret is not shown again.
if (document.querySelector("[data-replace-history]") && window.history.replaceState) {
  window.history.replaceState(null, "", window.location.pathname);
}

// Copy buttons: each names the element whose text it copies (data-copy); hidden until this
// script runs, so a page without scripts shows no button that does nothing.
for (const button of document.querySelectorAll("button[data-copy]")) {
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) continue;
  button.hidden = false;
  const label = button.textContent;
  button.addEventListener("click", () => {
    navigator.clipboard.writeText(source.textContent.trim()).then(() => {
      button.textContent = button.dataset.done || label;
      setTimeout(() => { button.textContent = label; }, 2000);
    });
  });
}

// A form whose button says data-once is sent once: a double click does not post it twice (the
// idempotency key it carries would make a second post harmless anyway).
for (const button of document.querySelectorAll("button[data-once]")) {
  const form = button.form;
  if (!form) continue;
  form.addEventListener("submit", (event) => {
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "yes";
  });
}

// The dashboard's period menu shows its choice at once.
const period = document.querySelector("form.period select");
if (period) {
  period.addEventListener("change", () => period.form.submit());
}
