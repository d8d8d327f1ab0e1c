// A page that answers a form post (e.g. the one showing a new API key's secret) becomes a plain
// GET entry in the history, so reloading it fetches the page again instead of re-posting the
// form: no second key is created and the secret is not shown again.
if (document.querySelector("[data-replace-history]") && window.history.replaceState) {
  window.history.replaceState(null, "", window.location.pathname);
}
