// A page that answers a form post (e.g. the one showing a new API key's secret) becomes a plain
// GET entry in the history, so reloading it fetches the page again instead of re-posting the
// form: no second key is created and the secret is not shown again.
if (document.querySelector("[data-replace-history]") && window.history.replaceState) {
  window.history.replaceState(null, "", window.location.pathname);
}

// Copy buttons: <button type="button" data-copy="ID">Copy</button> copies the text of the element
// whose id is ID, and says so in the button's status (data-copied-text, read by screen readers).
function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text);
  }
  return new Promise(function (resolve, reject) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr";
    document.body.appendChild(area);
    area.select();
    var done = document.execCommand("copy");
    document.body.removeChild(area);
    if (done) { resolve(); } else { reject(new Error("copy refused")); }
  });
}

document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
  if (!button) { return; }
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source) { return; }
  var status = button.parentNode.querySelector("[data-copy-status]");
  copyText(source.textContent.trim()).then(function () {
    button.setAttribute("data-copied", "");
    if (status) { status.textContent = button.getAttribute("data-copied-text") || "Copied"; }
  }, function () {
    if (status) { status.textContent = button.getAttribute("data-failed-text") || ""; }
  });
});

// A table wider than the screen scrolls inside its own box (never the page); it takes the
// keyboard focus then, so it can be scrolled with the arrow keys.
function markScrollingTables() {
  document.querySelectorAll("table").forEach(function (table) {
    if (table.scrollWidth > table.clientWidth + 1) {
      table.setAttribute("tabindex", "0");
    } else if (table.getAttribute("tabindex") === "0") {
      table.removeAttribute("tabindex");
    }
  });
}
window.addEventListener("DOMContentLoaded", markScrollingTables);
window.addEventListener("resize", markScrollingTables);

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
