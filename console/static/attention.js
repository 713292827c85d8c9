// The attention badge on every staff page: how many wait at the desk and the oldest
// wait, in the header and the tab title. The live queue's event stream says "something
// changed"; the page then fetches /attention. Clocks tick locally against the server's
// time (as queue.js does), so a wrong desk PC clock does not skew the 60-second standard.
// A number is shown as live only while both the stream and the last fetch are good.
(function () {
  "use strict";
  const root = document.getElementById("attention");
  if (!root) return;
  const badge = document.getElementById("attention-badge");
  const part = function (name) { return badge.querySelector(".attention-" + name); };
  const queueUrl = root.dataset.queueUrl;
  const baseTitle = document.title;
  const store = "lobbydesk.attention." + root.dataset.staffId + ".";
  const queueRows = document.getElementById("queue-rows"); // on the queue page itself
  let summary = null;
  let offsetMs = 0; // serverNow - browserNow
  let streamUp = false;
  let fetchedOk = false;
  let wentOffline = false; // once down, "?" is shown rather than "connecting"

  // --- per-person choices (this browser), keyed by the staff id ---------------------
  function stored(name) {
    try { return window.localStorage.getItem(store + name); } catch (e) { return null; }
  }
  function keep(name, value) {
    try { window.localStorage.setItem(store + name, value); } catch (e) { /* private mode */ }
  }
  const chosen = function (name) { return stored(name) === "on"; };

  // --- drawing -------------------------------------------------------------------------
  function waitedSeconds(item, now) {
    return Math.max(0, Math.floor((now - Date.parse(item.received_at)) / 1000));
  }

  function oldest(items) {
    return items.reduce(function (best, item) {
      return !best || item.received_at < best.received_at ? item : best;
    }, null);
  }

  function clockState(seconds) {
    if (seconds > summary.standard_seconds) return "overdue";
    return seconds >= summary.warning_seconds ? "warning" : "ok";
  }

  function drawOffline(connecting) {
    badge.dataset.state = connecting ? "connecting" : "offline";
    badge.classList.remove("ok", "warning", "overdue", "clear", "emergency");
    part("count").textContent = connecting ? "…" : "?";
    part("wait").textContent = "";
    part("emergency").hidden = true;
    part("status").textContent = connecting ? "连接中 · connecting"
      : signedOut ? "已退出，请重新登录 · signed out" : "连接中断 · offline";
    document.title = connecting ? baseTitle : "(?) " + baseTitle;
  }

  function draw() {
    if (!summary || !streamUp || !fetchedOk) { drawOffline(!wentOffline); return; }
    const now = Date.now() + offsetMs;
    const first = oldest(summary.items);
    const seconds = first ? waitedSeconds(first, now) : 0;
    const state = summary.count ? clockState(seconds) : "clear";
    badge.dataset.state = "live";
    ["ok", "warning", "overdue", "clear"].forEach(function (name) {
      badge.classList.toggle(name, name === state);
    });
    part("count").textContent = String(summary.count);
    part("wait").textContent = first ? seconds + " s" : "";
    part("emergency").hidden = !summary.emergencies;
    badge.classList.toggle("emergency", summary.emergencies > 0);
    part("status").textContent = summary.count ? "等待中 · waiting" : "无人等待 · none waiting";
    const target = summary.items[0]; // emergencies first, then the longest wait
    badge.href = queueUrl + (target ? "#" + target.anchor : "");
    // the badge's own word for it (the catalogue's, shared/terms.py), not a copy here
    const urgent = summary.emergencies ? part("emergency").textContent + " · " : "";
    document.title = summary.count
      ? "(" + summary.count + ") " + urgent + (first ? seconds + " s · " : "") + baseTitle
      : baseTitle;
    announce(now);
  }

  // --- chime and desktop notification: once per item, shared by the person's tabs ---
  function announcedItems() {
    try { return JSON.parse(stored("announced")) || {}; } catch (e) { return {}; }
  }

  function announce(now) {
    const seen = announcedItems();
    const current = {};
    const fresh = [];
    const late = [];
    summary.items.forEach(function (item) {
      const marks = seen[item.key] || {};
      if (!marks.w && waitedSeconds(item, now) >= summary.warning_seconds) {
        marks.w = 1;
        marks.n = 1; // one alert for an item first seen already late
        late.push(item);
      }
      if (!marks.n) { marks.n = 1; fresh.push(item); }
      current[item.key] = marks;
    });
    if (!fresh.length && !late.length) return;
    keep("announced", JSON.stringify(current)); // forget items no longer waiting
    if (chosen("chime")) chime(late.length > 0 || fresh.some(function (i) { return i.emergency; }));
    if (late.length) notify(late, now, true);
    if (fresh.length) notify(fresh, now, false);
  }

  function notify(items, now, late) {
    if (!chosen("notify") || !("Notification" in window)) return;
    if (Notification.permission !== "granted") return;
    const item = items.find(function (i) { return i.emergency; }) || items[0];
    const more = items.length > 1 ? " (+" + (items.length - 1) + ")" : "";
    const title = (late ? "已等待 " + summary.warning_seconds + " 秒以上 · Waiting over " +
      summary.warning_seconds + " s: " : "新请求 · New request: ") + item.label + more;
    const body = (item.where ? item.where + " — " : "") + "等待 · waiting " +
      waitedSeconds(item, now) + " s";
    const note = new Notification(title, {
      body: body, tag: "lobbydesk-" + item.key, renotify: late, lang: "zh-CN",
    });
    note.addEventListener("click", function () {
      window.focus();
      window.location.href = queueUrl + "#" + item.anchor;
      note.close();
    });
  }

  let audio = null;
  function chime(urgent) {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    // Before her first click or key on this page the browser would not play it anyway.
    if (!audio && navigator.userActivation && !navigator.userActivation.hasBeenActive) return;
    audio = audio || new Context();
    if (audio.state === "suspended") audio.resume();
    const start = audio.currentTime + 0.01;
    const notes = urgent ? [988, 784, 988] : [784, 1047];
    notes.forEach(function (frequency, index) {
      const at = start + index * 0.18;
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.type = "sine";
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.16);
      tone.connect(gain).connect(audio.destination);
      tone.start(at);
      tone.stop(at + 0.17);
    });
  }

  // Browsers start sound only after a click or key on the page: the first one unlocks it.
  function unlockSound() {
    if (audio && audio.state === "suspended") audio.resume();
    else if (!audio && chosen("chime") && (window.AudioContext || window.webkitAudioContext)) {
      audio = new (window.AudioContext || window.webkitAudioContext)();
    }
  }
  document.addEventListener("pointerdown", unlockSound, { once: true });
  document.addEventListener("keydown", unlockSound, { once: true });

  function setUpChoices() {
    const note = root.querySelector(".attention-note");
    root.querySelectorAll("input[data-pref]").forEach(function (box) {
      const name = box.dataset.pref;
      box.checked = chosen(name) && (name !== "notify" || permitted());
      box.addEventListener("change", async function () {
        keep(name, box.checked ? "on" : "off");
        note.hidden = true;
        if (!box.checked) return;
        if (name === "chime") { chime(false); return; } // she hears what it sounds like
        const answer = "Notification" in window ? await Notification.requestPermission() : "denied";
        if (answer !== "granted") { box.checked = false; keep(name, "off"); note.hidden = false; }
      });
    });
  }
  function permitted() { return "Notification" in window && Notification.permission === "granted"; }

  // --- fetching and the stream -----------------------------------------------------------
  let fetching = false;
  let fetchAgain = false;
  let retryTimer = null;
  let signedOut = false;

  async function refresh() {
    if (fetching) { fetchAgain = true; return; }
    fetching = true;
    clearTimeout(retryTimer);
    try {
      const response = await fetch(root.dataset.summaryUrl, {
        headers: { "X-Requested-With": "fetch" }, cache: "no-store", credentials: "same-origin",
      });
      signedOut = response.status === 401 || response.status === 403;
      if (!response.ok) throw new Error("HTTP " + response.status);
      const data = await response.json();
      offsetMs = Date.parse(data.server_now) - Date.now();
      summary = data;
      fetchedOk = true;
      root.querySelectorAll(".attention-warning-seconds").forEach(function (el) {
        el.textContent = String(data.warning_seconds);
      });
    } catch (error) {
      if (!queueRows && fetchedOk && streamUp) lostTouch();
      fetchedOk = false;
      wentOffline = true;
      // Recover by itself; signed out elsewhere, only the next sign-in will help.
      retryTimer = setTimeout(refresh, signedOut ? 30000 : 3000);
    } finally {
      fetching = false;
      draw();
      if (fetchAgain) { fetchAgain = false; refresh(); }
    }
  }

  function streamState(up) {
    streamUp = up;
    if (!up) wentOffline = true;
    if (up) refresh(); else draw();
  }

  let source = null;
  let reconnectTimer = null;
  function connect() {
    clearTimeout(reconnectTimer);
    if (source) source.close();
    const own = new EventSource(root.dataset.streamUrl);
    source = own;
    own.addEventListener("open", function () { if (own === source) streamState(true); });
    own.addEventListener("queue", function () { if (own === source) refresh(); });
    own.addEventListener("error", function () {
      if (own !== source) return;
      streamState(false);
      // A refused answer (not signed in, server gone) closes it for good: start again.
      if (own.readyState === EventSource.CLOSED) reconnectSoon();
    });
  }
  function reconnectSoon() {
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, signedOut ? 30000 : 3000);
  }

  // A stream can die without a word (a cable pulled, a sleeping PC): a failed check or
  // the browser going offline shows "offline" and starts the stream again.
  function lostTouch() {
    streamState(false);
    if (!queueRows) reconnectSoon(); // on the queue page, queue.js reconnects its own
  }
  function backOnline() {
    if (queueRows) streamState(document.getElementById("live-status").dataset.state === "live");
    else connect();
  }

  // The queue page already holds a stream: follow its rows and its status instead of
  // opening a second one (a browser allows only a few connections per console).
  function followQueuePage() {
    const status = document.getElementById("live-status");
    new MutationObserver(function () { refresh(); highlight(); })
      .observe(queueRows, { childList: true });
    const follow = function () { streamState(status.dataset.state === "live"); };
    new MutationObserver(follow).observe(status, { attributes: true, attributeFilter: ["data-state"] });
    if (status.dataset.state === "live") follow();
  }

  // --- landing on an item: the queue page's row with the id in the address ---------------
  let scrolledTo = "";
  function highlight() {
    const id = decodeURIComponent(window.location.hash.slice(1));
    document.querySelectorAll(".attention-target").forEach(function (el) {
      if (el.id !== id) el.classList.remove("attention-target");
    });
    if (!id.startsWith("item-")) return;
    const row = document.getElementById(id);
    if (!row) return;
    row.classList.add("attention-target");
    if (scrolledTo !== id) { scrolledTo = id; row.scrollIntoView({ block: "center" }); }
  }

  setUpChoices();
  if (queueRows) {
    followQueuePage();
    highlight();
    window.addEventListener("hashchange", function () { scrolledTo = ""; highlight(); });
  } else {
    connect();
  }
  window.addEventListener("offline", lostTouch);
  window.addEventListener("online", backOnline);
  refresh();
  setInterval(draw, 500);
  const checkSeconds = Number(root.dataset.checkSeconds) || 15;
  setInterval(function () { if (streamUp) refresh(); }, checkSeconds * 1000);
})();
