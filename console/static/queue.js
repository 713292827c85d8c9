// Live queue: the server pushes "something changed" over SSE; the page fetches
// the rows partial and swaps it in. Clocks tick locally against the server's
// time (sent with each partial), so a wrong desk PC clock does not skew S3.
// The indicator says only what the page knows: "live" needs an open stream heard
// from recently AND a last refresh that worked (docs/LIVE_QUEUE.md).
(function () {
  "use strict";
  const rows = document.getElementById("queue-rows");
  const status = document.getElementById("live-status");
  const feedback = document.getElementById("queue-feedback");
  let offsetMs = 0; // serverNow - browserNow

  // --- the live indicator ------------------------------------------------------
  const keepaliveMs = Math.max(1, Number(status.dataset.keepalive) || 15) * 1000;
  const STALE_AFTER_MS = 2 * keepaliveMs + 5000; // two keep-alives missed, with slack
  const FAIL_AFTER = 3; // consecutive failures before "failed"
  const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
  const health = {
    opened: false, // the stream is open now
    everOpened: false,
    lastHeard: Date.now(), // the last event or keep-alive
    streamFailures: 0, // errors since the stream was last open
    refreshFailures: 0, // failed /queue/rows fetches in a row
    lastGood: null, // when the rows last arrived
  };
  const WORDS = {
    connecting: "连接中 · Connecting…",
    live: "实时更新中 · Live",
    reconnecting: "连接中断，正在重连 · Connection lost, reconnecting…",
    stale: "队列可能不是最新，正在重试 · The queue may be out of date — retrying",
    failed: "队列已停止更新 · The queue is NOT updating",
  };

  function silent() {
    return Date.now() - health.lastHeard > STALE_AFTER_MS;
  }

  function state() {
    if (health.refreshFailures >= FAIL_AFTER || health.streamFailures > FAIL_AFTER) return "failed";
    if (health.refreshFailures > 0 || (health.everOpened && silent())) return "stale";
    if (!health.opened) return health.everOpened ? "reconnecting" : "connecting";
    return "live";
  }

  function since() {
    if (!health.lastGood) return "";
    const time = new Date(health.lastGood).toLocaleTimeString("zh-CN", { hour12: false });
    return "（最后更新 " + time + "） · (last updated " + time + ")";
  }

  function showState() {
    const now = state();
    const text = WORDS[now] + (now === "stale" || now === "failed" ? " " + since() : "");
    if (status.dataset.state === now && status.dataset.text === text) return;
    status.dataset.state = now;
    status.dataset.text = text;
    status.replaceChildren();
    const dot = document.createElement("span");
    dot.className = "dot";
    dot.setAttribute("aria-hidden", "true");
    const words = document.createElement("span");
    words.className = "text";
    words.textContent = text;
    status.append(dot, words);
    if (now === "failed") {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.textContent = "立即重试 · Retry now";
      retry.addEventListener("click", function () { reconnect(); refresh(true); });
      status.append(retry);
    }
  }

  // --- the rows and their clocks ---------------------------------------------------
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

  // Every swap carries typed text, focus and caret into the new rows (matched by
  // the row's id and the field's name): a forced refresh after one action, or an
  // update that landed while she started typing, must not wipe a denial reason.
  function typedFields() {
    const kept = [];
    rows.querySelectorAll("tr[id] input:not([type=hidden])").forEach(function (input) {
      const focused = input === document.activeElement;
      if (!focused && input.value === "") return;
      kept.push({
        row: input.closest("tr[id]").id, name: input.name, value: input.value, focused: focused,
        start: input.selectionStart, end: input.selectionEnd,
      });
    });
    return kept;
  }

  function swapRows(html) {
    const kept = typedFields();
    rows.innerHTML = html;
    kept.forEach(function (field) {
      const row = document.getElementById(field.row);
      const input = row && rows.contains(row) && row.querySelector('input[name="' + field.name + '"]');
      if (!input) return; // the row was handled elsewhere: nothing left to type into
      input.value = field.value;
      if (!field.focused) return;
      input.focus();
      if (field.start !== null) input.setSelectionRange(field.start, field.end);
    });
  }

  let retryTimer = null;
  function retryLater(failures) {
    clearTimeout(retryTimer);
    const delay = BACKOFF_MS[Math.min(failures - 1, BACKOFF_MS.length - 1)];
    retryTimer = setTimeout(function () { refresh(true); }, delay);
  }

  async function fetchRows() {
    try {
      const response = await fetch(rows.dataset.rowsUrl, { headers: { "X-Requested-With": "fetch" } });
      if (response.status === 401) { window.location.reload(); return null; }
      return response.ok ? await response.text() : null;
    } catch (error) {
      return null; // the network: the same as a refusal to the indicator
    }
  }

  async function refresh(force) {
    if (!force && busyTyping()) { deferred = true; return; }
    deferred = false;
    const html = await fetchRows();
    if (html === null) {
      health.refreshFailures += 1;
      showState();
      retryLater(health.refreshFailures);
      return;
    }
    health.refreshFailures = 0;
    health.lastGood = Date.now();
    clearTimeout(retryTimer);
    showState();
    // She may have started typing while the rows were on their way: keep her words.
    if (!force && busyTyping()) { deferred = true; return; }
    swapRows(html);
    dropEndedBanner();
    readServerClock();
    tick();
  }

  // The page banner was drawn when the page loaded; once the rows say no broadcast
  // is on, it is out of date and goes (the broadcast shows once: banner or row).
  function dropEndedBanner() {
    const banner = document.getElementById("emergency-banner");
    if (banner && !rows.querySelector("tr.emergency-row")) banner.remove();
  }

  // --- what an action did, in words, with its undo ---------------------------------
  function say(message, kind, undo) {
    const line = document.createElement("div");
    line.className = "feedback-line" + (kind === "error" ? " error" : "");
    const text = document.createElement("span");
    text.className = "feedback-text";
    text.textContent = message;
    line.append(text);
    if (undo) {
      const form = document.createElement("form");
      form.method = "post";
      form.action = undo.url;
      form.className = "undo-form";
      const token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrf_token";
      token.value = rows.querySelector("input[name=csrf_token]")?.value || csrfFromFeedback();
      const button = document.createElement("button");
      button.type = "submit";
      button.className = "undo";
      button.textContent = "撤销 · Undo";
      form.append(token, button);
      line.append(form);
      line.dataset.until = undo.until;
    }
    // The newest line first; one older line stays if it still offers an undo.
    Array.from(feedback.children).forEach(function (old, index) {
      if (index > 0 || !old.querySelector("form")) old.remove();
    });
    feedback.prepend(line);
    expireUndo(line, undo ? undo.seconds * 1000 : 0);
  }

  function csrfFromFeedback() {
    const input = feedback.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  // The undo goes when its window ends, by the server's clock.
  function expireUndo(line, fallbackMs) {
    if (!line.dataset.until) return;
    const left = Date.parse(line.dataset.until) - (Date.now() + offsetMs);
    const wait = Math.max(0, Math.min(isNaN(left) ? fallbackMs : left, fallbackMs || left));
    setTimeout(function () {
      const form = line.querySelector("form.undo-form");
      if (form) form.remove();
    }, wait);
  }

  async function submit(event) {
    const form = event.target;
    event.preventDefault();
    const body = new FormData(form);
    if (event.submitter && event.submitter.name) body.append(event.submitter.name, event.submitter.value);
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    let answer = null;
    let response = null;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: body,
        headers: { "X-CSRF-Token": body.get("csrf_token"), "X-Requested-With": "fetch" },
      });
      answer = await response.json().catch(function () { return null; });
    } catch (error) {
      response = null;
    }
    if (response && response.ok) {
      say((answer && answer.message) || form.dataset.done || "已完成 · Done.", "ok", answer && answer.undo);
      if (form.classList.contains("undo-form")) form.closest(".feedback-line")?.querySelector("form")?.remove();
    } else {
      const problem = answer && answer.error && answer.error.message;
      say(problem || "操作失败，请重试 · The action failed; please try again.", "error");
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    }
    await refresh(true);
  }
  rows.addEventListener("submit", submit);
  feedback.addEventListener("submit", submit);

  // --- the stream --------------------------------------------------------------------
  let source = null;
  let reconnectTimer = null;

  function heard() {
    health.lastHeard = Date.now();
    showState();
  }

  function connect() {
    source = new EventSource(rows.dataset.streamUrl);
    source.addEventListener("open", function () {
      health.opened = health.everOpened = true;
      health.streamFailures = 0;
      heard();
      refresh(false); // whatever changed while the stream was down
    });
    source.addEventListener("queue", function () { heard(); refresh(false); });
    source.addEventListener("keepalive", heard);
    source.addEventListener("error", function () {
      health.opened = false;
      health.streamFailures += 1;
      showState();
      // The browser retries a dropped stream by itself; one the server refused
      // (CLOSED) it gives up on, so the page tries again, backing off.
      if (source.readyState === EventSource.CLOSED) scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    clearTimeout(reconnectTimer);
    const delay = BACKOFF_MS[Math.min(health.streamFailures, BACKOFF_MS.length) - 1] || 1000;
    reconnectTimer = setTimeout(reconnect, delay);
  }

  function reconnect() {
    clearTimeout(reconnectTimer);
    if (source) source.close();
    health.opened = false;
    connect();
  }

  // A stream can go silent without an error (a sleeping laptop, a half-open
  // connection): past the stale limit the page says so and opens a new one.
  function watchdog() {
    if (health.opened && silent()) {
      health.streamFailures += 1;
      reconnect();
      refresh(false);
    }
    showState(); // "stale" comes with time alone
  }

  readServerClock();
  tick();
  feedback.querySelectorAll(".feedback-line[data-until]").forEach(function (line) {
    expireUndo(line, 10000);
  });
  setInterval(tick, 250);
  setInterval(watchdog, 1000);
  connect();
})();
