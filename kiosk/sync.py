"""SyncWorker: moves the outbox to the console and the console's feed to the kiosk.

Two daemon threads, each with its own SQLite connection and HTTP session:

- the sender drains the outbox one item at a time, oldest first. A transient
  failure (no answer, a timeout, a 5xx, 429) stops the drain until the item's
  backoff has passed, so order is kept, and never uses up the item: it is sent
  for as long as it takes. Only the console's permanent refusal ends an item
  (dead, kept, reported). `wake()` (called after an enqueue) makes it send at
  once. When there is nothing to send it pings now and then, reporting the
  outbox depth.
- the feeder long-polls GET /feed. It runs apart from the sender so a 25 s
  long poll never delays a send, and it hands each event on the moment the
  console returns it (S3: staff's "on my way" reaches the screen in < 2 s).
  While the console cannot be reached it probes about once a second (a refused
  connection costs nothing), so when the console is back both threads know
  within about a second: the sender is woken and retries its head at once.

Callbacks run on the worker's threads; the Kivy app moves them onto the main
thread with Clock.schedule_once. No widget is touched here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from kiosk import pass_keys
from kiosk import store as keys
from kiosk.backoff import Backoff, feed_retry_delay
from kiosk.client import PERMANENT, UNAUTHORISED, ConsoleClient, Result, batch_answers
from kiosk.outbox import Outbox
from kiosk.refusals import Refusal, report_of
from kiosk.store import KioskStore
from shared.clock import SystemClock
from shared.db import write_transaction
from shared.protocol import LONG_POLL_MAX_SECONDS

log = logging.getLogger(__name__)

PING_INTERVAL = 30.0
RATE_LIMITED = "rate_limited"  # the console's per-kiosk write limit (429 + Retry-After)
UNAUTHORISED_RECHECK = 30.0
SEND_BACKOFF_CAP = 60.0  # the longest an item waits between tries
PROBE_INTERVAL = 1.0  # how often the feeder knocks while the console is unreachable
BATCHES_OFF_SECONDS = 600.0  # after a console refused a batch: send items alone a while
MIN_IDLE_WAIT = 0.05  # the shortest the sender waits when nothing could be sent
PASS_KEY_INTERVAL = 600.0  # how often the pass key and revocations are fetched again


class SyncWorker:
    def __init__(
        self,
        store: KioskStore,
        client: ConsoleClient,
        *,
        clock=None,
        backoff: Backoff | None = None,
        probe_interval: float = PROBE_INTERVAL,
        ping_interval: float = PING_INTERVAL,
        feed_wait: float = LONG_POLL_MAX_SECONDS,
        unauthorised_recheck: float = UNAUTHORISED_RECHECK,
        sleep: Callable[[float], None] | None = None,
        on_online: Callable[[bool], None] | None = None,
        on_event: Callable[[dict], None] | None = None,
        on_acked: Callable[[int, str, dict | None], None] | None = None,
        on_unauthorised: Callable[[], None] | None = None,
        on_dead: Callable[[int, str, Refusal], None] | None = None,
        on_update_needed: Callable[[bool], None] | None = None,
        pass_key_interval: float = PASS_KEY_INTERVAL,
    ):
        self.store = store
        self.client = client
        self.clock = clock or SystemClock()
        self.backoff = backoff or Backoff(cap=SEND_BACKOFF_CAP)
        self.probe_interval = probe_interval
        self.ping_interval = ping_interval
        self.feed_wait = min(feed_wait, LONG_POLL_MAX_SECONDS)
        self.unauthorised_recheck = unauthorised_recheck
        self._sleep = sleep
        self.on_online = on_online
        self.on_event = on_event
        self.on_acked = on_acked
        self.on_unauthorised = on_unauthorised
        self.on_dead = on_dead
        self.on_update_needed = on_update_needed
        self.pass_key_interval = pass_key_interval
        self._pass_key_at: float | None = None  # monotonic time of the last fetch that worked
        self._update_needed = False

        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._online: bool | None = None
        self._unauthorised = False
        self._retry_now = False
        self._last_contact = None
        self._threads: list[threading.Thread] = []
        self._feed_client: ConsoleClient | None = None
        self._batches_off_until = 0.0
        self._recovered = False

    # -- life cycle ------------------------------------------------------
    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        self._feed_client = self.client.copy()
        self._threads = [
            threading.Thread(target=self._sender_loop, name="kiosk-sender", daemon=True),
            threading.Thread(target=self._feeder_loop, name="kiosk-feed", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask both threads to end. A long poll in progress ends by itself (daemon)."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def wake(self) -> None:
        """Something was queued: send it now rather than at the next timer."""
        self._wake.set()

    @property
    def online(self) -> bool | None:
        return self._online

    @property
    def unauthorised(self) -> bool:
        return self._unauthorised

    # -- one step each (the threads loop over these; tests call them) -----
    def drain_once(self, outbox: Outbox | None = None, client: ConsoleClient | None = None):
        """Send what is due, live items first, the backlog in batches, until nothing is
        due or a send fails.

        Returns the seconds until the next item is due, or None when nothing
        is left to send.
        """
        outbox = outbox or Outbox(self.store)
        client = client or self.client
        force = self._take_retry_now()  # the console is back: every head goes now
        while not self._stop.is_set():
            if self._unauthorised:
                return self.unauthorised_recheck
            now, cap = self.clock.now(), self.backoff.cap
            force = force or self._take_retry_now()
            live = outbox.next_live(now, cap, force)
            items = [live] if live is not None else outbox.next_batch(now, cap, force)
            if not items:
                wait = outbox.seconds_until_next(now, cap)
                # never 0 when nothing went: that would spin the sender
                return None if wait is None else max(wait, MIN_IDLE_WAIT)
            if len(items) > 1 and self._batches_allowed():
                wait = self._send_batch(outbox, client, items, now)
            else:
                wait = self._send_one(outbox, client, items[0], now)
            if wait is not None:
                return wait
        return None

    def _send_one(self, outbox: Outbox, client: ConsoleClient, item, now) -> float | None:
        """One item alone. None: go on draining; else the seconds to wait."""
        outbox.mark_in_flight(item.id)
        result = client.send(item, outbox.depth())
        self._note_update(result)
        if result.ok:
            outbox.mark_acked(item.id, result.body)
            self._contact(True)
            self._emit(self.on_acked, item.id, item.kind, result.body)
            return None
        if result.outcome == UNAUTHORISED:
            outbox.release(item.id, result.describe(), now, result.error_code)
            self._become_unauthorised()
            return self.unauthorised_recheck
        if result.outcome == PERMANENT:
            self._refused(outbox, item, result)
            return None
        return self._wait_to_retry(outbox, [item], result, now)

    def _send_batch(self, outbox: Outbox, client: ConsoleClient, items, now) -> float | None:
        """Several backlog items in one request; each has its own answer."""
        outbox.mark_many_in_flight([item.id for item in items])
        result = client.send_batch(items, outbox.depth())
        self._note_update(result)
        answers = batch_answers(result, items) if result.ok else None
        if answers is None:
            if result.outcome == UNAUTHORISED:
                for item in items:
                    outbox.release(item.id, result.describe(), now, result.error_code)
                self._become_unauthorised()
                return self.unauthorised_recheck
            if result.ok or result.outcome == PERMANENT:
                # An older console without batches, or an answer we cannot read:
                # send alone for a while; nothing was counted against the items.
                for item in items:
                    outbox.release(item.id, f"batch refused: {result.describe()}", now)
                self._batches_off_until = time.monotonic() + BATCHES_OFF_SECONDS
                return None
            return self._wait_to_retry(outbox, items, result, now)
        return self._settle_batch(outbox, list(zip(items, answers, strict=True)), now)

    def _settle_batch(self, outbox: Outbox, answered, now) -> float | None:
        self._contact(True)
        outbox.mark_many_acked([(item.id, answer.body) for item, answer in answered if answer.ok])
        waits = []
        for item, answer in answered:
            if answer.ok:
                self._emit(self.on_acked, item.id, item.kind, answer.body)
            elif answer.outcome == PERMANENT:
                self._refused(outbox, item, answer)
            else:
                waits.append(self._wait_to_retry(outbox, [item], answer, now))
        return min(waits) if waits else None

    def _wait_to_retry(self, outbox: Outbox, items, result: Result, now) -> float:
        """A transient failure: the items wait their (capped, jittered) backoff and are
        sent again for as long as it takes; the console's own pacing is not counted."""
        delay = self.backoff.delay(items[0].attempts + 1, result.retry_after)
        retry_at = now + timedelta(seconds=delay)
        for item in items:
            if result.error_code == RATE_LIMITED:
                outbox.release(item.id, result.describe(), retry_at, result.error_code)
            else:
                outbox.retry_later(item.id, result.describe(), retry_at, result.error_code)
        if result.error_code == RATE_LIMITED:
            self._contact(True)
        else:
            self._set_online(result.reached_console)
        log.info("%d outbox item(s): %s; retry in %.1f s", len(items), result.describe(), delay)
        return delay

    def _refused(self, outbox: Outbox, item, result: Result) -> None:
        """The console will never accept this request as it is: dead-letter it (kept)
        rather than hold every later item behind it, and queue its report in the same
        transaction, so an item never goes dead unreported (a full disk keeps both
        as they were, and the item is tried again)."""
        refusal = Refusal.of_result(result)
        error = refusal.description
        log.error("outbox item %s (%s) refused: %s", item.id, item.kind, error)
        with write_transaction(outbox.db):
            outbox.mark_dead(item.id, error, refusal.code)
            report = report_of(item, error, self.clock.now())
            if report is not None:
                outbox.enqueue(*report)
        self._contact(True)
        self._emit(self.on_dead, item.id, item.kind, refusal)

    def _batches_allowed(self) -> bool:
        return time.monotonic() >= self._batches_off_until

    def poll_feed_once(
        self, store: KioskStore | None = None, client: ConsoleClient | None = None, wait=None
    ) -> Result:
        """One long poll. Events are handed on at once, then the cursor is stored with
        the feed epoch it belongs to (one write), so a restored console, whose event
        ids start again lower, tells this kiosk where to read from (shared/feed.py)."""
        store = store or self.store
        client = client or self.client
        cursor = store.get(keys.FEED_CURSOR, 0) or 0
        epoch = store.get(keys.FEED_EPOCH)
        if not isinstance(epoch, str):
            epoch = None
        result = client.feed(cursor, self.feed_wait if wait is None else wait, epoch)
        self._note_update(result)
        if result.ok:
            body = result.body or {}
            for event in body.get("events") or []:
                pass_keys.keep_revocation(store, event)
                self._emit(self.on_event, event)
            new_cursor = body.get("cursor", cursor)
            new_epoch = body.get("epoch", epoch)
            changed = {}
            if isinstance(new_cursor, int) and new_cursor != cursor:
                changed[keys.FEED_CURSOR] = new_cursor
            if isinstance(new_epoch, str) and new_epoch != epoch:
                changed[keys.FEED_EPOCH] = new_epoch
            if changed:
                store.set(**changed)
            self._contact(True)
        elif result.outcome == UNAUTHORISED:
            self._become_unauthorised()
        else:
            self._set_online(result.reached_console)
        return result

    def ping_once(self, outbox: Outbox | None = None, client: ConsoleClient | None = None):
        outbox = outbox or Outbox(self.store)
        client = client or self.client
        result = client.ping(outbox.depth())
        self._note_update(result)
        if result.ok:
            self._contact(True)
        elif result.outcome == UNAUTHORISED:
            self._become_unauthorised()
        else:
            self._set_online(result.reached_console)
        self._last_contact = self.clock.now()
        return result

    def refresh_pass_key(self, store: KioskStore | None = None, client=None) -> Result:
        """GET /pass-key into the store (kiosk/pass_keys.py), on the sender's thread."""
        result = pass_keys.fetch(store or self.store, client or self.client, self.clock)
        self._note_update(result)
        self._pass_key_at = time.monotonic() if result.ok else self._pass_key_at
        if result.outcome == UNAUTHORISED:
            self._become_unauthorised()
        return result

    # -- threads ---------------------------------------------------------
    def _sender_loop(self) -> None:
        store = self.store.reopen()
        outbox = Outbox(store)
        failures = 0
        try:
            while not self._stop.is_set():
                try:
                    if not self._recovered:
                        # What was in flight when the kiosk stopped goes back to ready.
                        # (After a full disk, the storage desk does this once a write
                        # succeeds again: until then a half-done item stays parked.)
                        outbox.recover()
                        self._recovered = True
                    if self._unauthorised and not self._token_changed(store):
                        self._wait(self.unauthorised_recheck, wakeable=True)
                        continue
                    self._wake.clear()
                    wait_for = self.drain_once(outbox, self.client)
                    if pass_keys.due(self._pass_key_at, self.pass_key_interval, self._online):
                        self.refresh_pass_key(store, self.client)
                    if wait_for is None:
                        if self._ping_due():
                            self.ping_once(outbox, self.client)
                        wait_for = self.ping_interval
                    failures = 0
                except Exception:
                    failures += 1
                    log.exception("kiosk sender step failed")
                    wait_for = self.backoff.delay(failures)
                self._wait(wait_for, wakeable=True)
        finally:
            store.close()

    def _feeder_loop(self) -> None:
        store = self.store.reopen()
        client = self._feed_client or self.client.copy()
        failures, last_kind = 0, None
        try:
            while not self._stop.is_set():
                if self._unauthorised:
                    self._wait(self.unauthorised_recheck, wakeable=False)
                    continue
                try:
                    result = self.poll_feed_once(store, client)
                except Exception:
                    log.exception("kiosk feed step failed")
                    result = None
                if result is not None and (result.ok or result.outcome == UNAUTHORISED):
                    failures, last_kind = 0, None
                    if result.ok and result.retry_after:
                        # A console near its connection capacity answered early: come
                        # back when it asked, not at once (README: Connection model).
                        self._wait(min(result.retry_after, self.feed_wait), wakeable=False)
                    continue
                if result is not None and result.outcome == PERMANENT and self.feed_wait > 5:
                    # e.g. a console configured with a shorter long-poll limit
                    log.error("feed refused (%s); polling with wait=5", result.describe())
                    self.feed_wait = 5
                # counted per kind (no answer, 4xx, 5xx, our own error): a console that
                # was away for a minute and then answers 500 while it starts is probed,
                # not backed off as if it had failed a minute long
                kind = "step" if result is None else (result.status or 0) // 100
                failures = failures + 1 if kind == last_kind else 1
                last_kind = kind
                self._wait(self._feed_retry_delay(result, failures), wakeable=False)
        finally:
            client.close()
            store.close()

    def _feed_retry_delay(self, result: Result | None, failures: int) -> float:
        return feed_retry_delay(self.backoff, self.probe_interval, result, failures)

    def _wait(self, seconds: float, wakeable: bool) -> None:
        if self._stop.is_set():
            return
        if self._sleep is not None:
            self._sleep(seconds)
        elif wakeable:
            self._wake.wait(seconds)
        else:
            self._stop.wait(seconds)

    def _ping_due(self) -> bool:
        last = self._last_contact
        return last is None or (self.clock.now() - last).total_seconds() >= self.ping_interval

    def _token_changed(self, store: KioskStore) -> bool:
        """The kiosk was paired again while running: carry on with the new token."""
        token = store.token
        if token and token != self.client.token:
            self.client.token = token
            if self._feed_client is not None:
                self._feed_client.token = token
            with self._lock:
                self._unauthorised = False
            return True
        return False

    # -- reporting -------------------------------------------------------
    def _note_update(self, result: Result) -> None:
        """A 426 says one of the two must be updated; any other answer of the console's
        that it reached says they speak the same protocol again."""
        if result.update_needed:
            needed = True
        elif result.status is not None and result.status < 500:
            needed = False
        else:
            return  # no answer: nothing learnt
        with self._lock:
            changed, self._update_needed = needed != self._update_needed, needed
        if changed:
            self._emit(self.on_update_needed, needed)

    def _contact(self, reached: bool) -> None:
        self._last_contact = self.clock.now()
        self._set_online(reached)

    def _set_online(self, online: bool) -> None:
        with self._lock:
            changed = online != self._online
            if changed and online and self._online is False:
                # Back after an outage: try the head now, not after its backoff.
                self._retry_now = True
                self._wake.set()
            self._online = online
        if changed:
            self._emit(self.on_online, online)

    def _take_retry_now(self) -> bool:
        with self._lock:
            retry, self._retry_now = self._retry_now, False
        return retry

    def _become_unauthorised(self) -> None:
        with self._lock:
            first = not self._unauthorised
            self._unauthorised = True
        self._set_online(False)
        if first:
            log.error("the console refused this kiosk's token: pair the kiosk again")
            self._emit(self.on_unauthorised)

    def _emit(self, callback, *args) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:
            log.exception("kiosk sync callback %r failed", callback)
