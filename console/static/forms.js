// A page that answers a refused form (status 422) was reached by a POST; turning its
// history entry into a plain GET of the same URL lets the browser's Back return to it
// (re-fetched as a fresh form) instead of ending in "confirm form resubmission".
if (document.querySelector("[data-answers-post]") && window.history.replaceState) {
  window.history.replaceState(null, "", window.location.href);
}
