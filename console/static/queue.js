// Live queue: the server pushes "something changed" over SSE; the page fetches
// the rows partial and swaps it in. Clocks tick locally against the server's
// time (sent with each partial), so a wrong desk PC clock does not skew S3.
(function () {
  "use strict";
  const rows = document.getElementById("queue-rows");
  const status = document.getElementById("live-status");
  let offsetMs = 0; // serverNow - browserNow

  function readServerClock() {
    const marker = rows.querySelector(".server-clock");
    if (marker) offsetMs = Date.parse(marker.dataset.serverNow) - Date.now();
    return marker;
  }

  function tick() {
    if (deferred && !busyTyping()) refresh(false);
    const marker = rows.querySelector(".server-clock");
    if (!marker) return;
    const standard = Number(marker.dataset.standard);
    const warning = Number(marker.dataset.warning);
    const now = Date.now() + offsetMs;
    rows.querySelectorAll(".waited").forEach(function (el) {
      const start = Date.parse(el.dataset.receivedAt);
      const end = el.dataset.acknowledgedAt ? Date.parse(el.dataset.acknowledgedAt) : now;
      const seconds = Math.max(0, Math.floor((end - start) / 1000));
      el.textContent = seconds + " s";
      const row = el.closest("tr");
      row.classList.toggle("overdue", seconds > standard);
      row.classList.toggle("warning", seconds >= warning && seconds <= standard);
      row.classList.toggle("ok", seconds < warning);
    });
  }

  // A live update must not wipe what a receptionist is typing (a denial reason):
  // while a field in the queue has focus or text, updates wait, then catch up.
  let deferred = false;
  function busyTyping() {
    return Array.from(rows.querySelectorAll("input:not([type=hidden])")).some(function (input) {
      return input === document.activeElement || input.value !== "";
    });
  }

  async function refresh(force) {
    if (!force && busyTyping()) { deferred = true; return; }
    deferred = false;
    const response = await fetch(rows.dataset.rowsUrl, { headers: { "X-Requested-With": "fetch" } });
    if (response.status === 401) { window.location.reload(); return; }
    if (!response.ok) return;
    const html = await response.text();
    // She may have started typing while the rows were on their way: keep her words.
    if (!force && busyTyping()) { deferred = true; return; }
    rows.innerHTML = html;
    readServerClock();
    tick();
  }

  rows.addEventListener("submit", async function (event) {
    const form = event.target;
    event.preventDefault();
    const body = new FormData(form);
    if (event.submitter && event.submitter.name) body.append(event.submitter.name, event.submitter.value);
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    const response = await fetch(form.action, {
      method: "POST",
      body: body,
      headers: { "X-CSRF-Token": body.get("csrf_token"), "X-Requested-With": "fetch" },
    });
    if (!response.ok && response.status !== 409) {
      const problem = await response.json().catch(function () { return null; });
      window.alert((problem && problem.error && problem.error.message) || "操作失败，请重试 · The action failed; please try again.");
    }
    await refresh(true);
  });

  function connect() {
    const source = new EventSource(rows.dataset.streamUrl);
    source.addEventListener("open", function () {
      status.dataset.state = "live";
      status.textContent = "实时更新中 · Live";
      refresh(false);
    });
    source.addEventListener("queue", function () { refresh(false); });
    source.addEventListener("error", function () {
      status.dataset.state = "reconnecting";
      status.textContent = "连接中断，正在重连 · Connection lost, reconnecting…";
    });
  }

  readServerClock();
  tick();
  setInterval(tick, 250);
  connect();
})();
