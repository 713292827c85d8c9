// Parcel intake for a keyboard-wedge scanner: the scanner types the tracking
// number and Enter; Enter moves tracking → unit → shelf, and Enter on the shelf
// saves with fetch and starts the next parcel. No mouse needed. Without this
// file the form still works as a plain POST (required fields guide the focus).
(function () {
  "use strict";
  const form = document.getElementById("intake");
  if (!form) return;
  const tracking = form.querySelector("#tracking");
  const unit = form.querySelector("#unit");
  const shelf = form.querySelector("#shelf");
  const carrier = form.querySelector("#carrier");
  const options = form.querySelector("#unit-options");
  const info = form.querySelector("#tracking-info");
  const message = form.querySelector("#intake-message");
  const confirmRow = form.querySelector("#confirm-row");
  const confirmBox = form.querySelector("#confirm-duplicate");
  const recent = document.getElementById("recent");
  const csrf = form.querySelector("input[name=csrf_token]").value;
  let suggestions = [];      // [{unit, label}] for the text now in the unit field
  let active = -1;           // highlighted suggestion
  let carrierTouched = false; // staff chose a carrier by hand: do not overwrite it
  let confirmPending = false; // a duplicate was reported: the next Enter confirms
  let saving = false;
  let lookup = 0;             // ignore answers to older autocomplete requests

  function say(text, kind) {
    message.hidden = !text;
    message.textContent = text || "";
    message.className = "flash" + (kind ? " " + kind : "");
  }

  function clearSuggestions() {
    suggestions = [];
    active = -1;
    options.replaceChildren();
    options.hidden = true;
    unit.setAttribute("aria-expanded", "false");
    unit.removeAttribute("aria-activedescendant");
  }

  function showSuggestions(list) {
    suggestions = list;
    active = list.length === 1 ? 0 : -1;
    options.replaceChildren();
    list.forEach(function (item, index) {
      const li = document.createElement("li");
      li.id = "unit-option-" + index;
      li.setAttribute("role", "option");
      li.textContent = item.label;
      li.addEventListener("mousedown", function (event) {
        event.preventDefault();
        pick(index);
      });
      options.appendChild(li);
    });
    options.hidden = list.length === 0;
    unit.setAttribute("aria-expanded", String(list.length > 0));
    highlight();
  }

  function highlight() {
    Array.from(options.children).forEach(function (li, index) {
      li.setAttribute("aria-selected", String(index === active));
    });
    if (active >= 0) unit.setAttribute("aria-activedescendant", "unit-option-" + active);
    else unit.removeAttribute("aria-activedescendant");
  }

  function pick(index) {
    unit.value = suggestions[index].unit;
    clearSuggestions();
    shelf.focus();
    shelf.select();
  }

  async function checkTracking(value) {
    const response = await fetch(form.dataset.checkUrl + "?tracking=" + encodeURIComponent(value), {
      headers: { "X-Requested-With": "fetch" },
    });
    const answer = await response.json().catch(function () { return null; });
    if (!answer) return;
    if (!response.ok) {
      info.className = "tracking-info warn";
      info.textContent = answer.error ? answer.error.message : "";
      return;
    }
    if (tracking.value.replace(/\s+/g, "").toUpperCase() !== answer.tracking) return; // stale
    if (!carrierTouched) carrier.value = answer.carrier || "";
    let text = answer.carrier_label ? "识别为 · Detected: " + answer.carrier_label : "未识别快递公司 · Carrier not recognised";
    info.className = "tracking-info";
    if (answer.earlier.length) {
      const first = answer.earlier[0];
      text += " — ⚠ 该单号已登记 · already logged: " + first.unit + " " + first.received;
      info.className = "tracking-info warn";
    }
    info.textContent = text;
  }

  async function suggestUnits() {
    const text = unit.value.trim();
    clearSuggestions();
    if (!text) return;
    const mine = ++lookup;
    const response = await fetch(form.dataset.unitsUrl + "?q=" + encodeURIComponent(text), {
      headers: { "X-Requested-With": "fetch" },
    });
    if (!response.ok || mine !== lookup || unit.value.trim() !== text) return;
    const answer = await response.json();
    // An exact unit number needs no list; anything else offers its matches.
    const exact = answer.units.length === 1 && answer.units[0].unit.toLowerCase() === text.toLowerCase();
    if (!exact && document.activeElement === unit) showSuggestions(answer.units);
  }

  async function save() {
    if (saving) return;
    if (confirmPending) confirmBox.checked = true;
    saving = true;
    const body = new FormData(form);
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: body,
        headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" },
      });
      if (response.status === 401) { window.location.reload(); return; }
      const answer = await response.json().catch(function () { return null; });
      if (response.ok && answer && answer.ok) {
        recent.innerHTML = answer.recent_html;
        const row = recent.querySelector('tr[data-parcel-id="' + answer.parcel.id + '"]');
        if (row) row.classList.add("just-saved");
        say(answer.summary, "ok");
        resetForNext();
        return;
      }
      const problem = (answer && answer.error) || { code: "error", message: "保存失败，请重试 · Could not save; try again." };
      say(problem.message, "error");
      // The scan check may already say this under the field: say it once, here.
      if (info.textContent === problem.message) info.textContent = "";
      if (problem.code === "duplicate_tracking") {
        confirmPending = true;
        confirmRow.hidden = false;
        shelf.focus();
        shelf.select();
      } else if (problem.code === "unknown_unit" || problem.code === "unit_ambiguous") {
        unit.focus();
        unit.select();
        suggestUnits();
      } else if (problem.code === "invalid_shelf") {
        shelf.focus();
      } else {
        tracking.focus();
        tracking.select();
      }
    } finally {
      saving = false;
    }
  }

  function resetForNext() {
    tracking.value = "";
    unit.value = "";
    carrier.value = "";
    carrierTouched = false;
    confirmPending = false;
    confirmBox.checked = false;
    confirmRow.hidden = true;
    info.textContent = "";
    clearSuggestions();
    tracking.focus(); // the shelf stays: the next parcel usually goes to the same one
  }

  tracking.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const value = tracking.value.trim();
    if (!value) return;
    // Move on at once (a person types the unit next); the check answers meanwhile.
    unit.focus();
    unit.select();
    checkTracking(value);
  });

  tracking.addEventListener("input", function () {
    confirmPending = false;
    confirmBox.checked = false;
    confirmRow.hidden = true;
  });

  unit.addEventListener("input", function () { suggestUnits(); });
  unit.addEventListener("blur", function () { setTimeout(clearSuggestions, 150); });

  unit.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && suggestions.length) {
      event.preventDefault();
      active = (active + 1) % suggestions.length;
      highlight();
    } else if (event.key === "ArrowUp" && suggestions.length) {
      event.preventDefault();
      active = (active - 1 + suggestions.length) % suggestions.length;
      highlight();
    } else if (event.key === "Escape") {
      clearSuggestions();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (active >= 0 && suggestions.length) { pick(active); return; }
      if (!unit.value.trim()) return;
      clearSuggestions();
      shelf.focus();
      shelf.select();
    }
  });

  shelf.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    if (!shelf.value.trim()) return;
    if (!tracking.value.trim()) { tracking.focus(); return; }
    if (!unit.value.trim()) { unit.focus(); return; }
    save();
  });

  carrier.addEventListener("change", function () { carrierTouched = true; });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    save();
  });

  form.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target !== unit) {
      say("", null);
      resetForNext();
    }
  });

  if (!form.querySelector("[autofocus]")) tracking.focus();
})();
