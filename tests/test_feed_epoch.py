"""The feed survives a restore and a restart (shared/feed.py): every answer names the
database's feed epoch; a kiosk holding another one is read from min(cursor, base), so
"on my way" still reaches a kiosk whose cursor lies beyond a restored history; and a
kiosk's feeder is back within about a second of the console."""

from __future__ import annotations

import queue
import random
import re
import time

import pytest

from console.server import ConsoleServer
from kiosk.backoff import Backoff
from kiosk.client import RETRYABLE, ConsoleClient, Result
from kiosk.outbox import Outbox
from kiosk.store import FEED_CURSOR, FEED_EPOCH, KioskStore
from kiosk.sync import SyncWorker
from shared import backup, feed, kiosks
from shared.clock import SystemClock, to_iso
from shared.db import connect
from shared.demo import create_building
from shared.schema import migrations, open_building_db
from tests.helpers import (
    PASSWORD,
    KioskCaller,
    StaffBrowser,
    add_staff,
    building_db,
    eventually,
    make_app,
    paired_kiosk,
)
from tests.servers import ConsoleProcess, ReceptionHttp
from tests.test_sync_faults import SECRET, _paired_kiosk_store


def _feed(client, kiosk, after=0, epoch=None, wait=0):
    query = f"after={after}&wait={wait}" + ("" if epoch is None else f"&epoch={epoch}")
    response = client.get(f"/api/v1/feed?{query}", headers=kiosk.headers(key=False))
    assert response.status_code == 200, response.json
    return response.json


def _on_my_way(kiosk, reception) -> int:
    """The kiosk calls reception and staff answer "on my way"; the escalation id."""
    escalation_id = kiosk.call_reception().json["id"]
    reception.post(f"/queue/escalations/{escalation_id}/acknowledge")
    return escalation_id


def _restore_like(app) -> feed.Epoch:
    """What a restore does to the feed: a new epoch after the newest event."""
    db = building_db(app)
    try:
        with db.conn:
            return feed.start_epoch(db, to_iso(SystemClock().now()))
    finally:
        db.close()


# -- the console's side -------------------------------------------------------


def test_every_answer_names_the_epoch_and_a_matching_one_reads_on(client, kiosk, reception):
    first = _on_my_way(kiosk, reception)
    answer = _feed(client, kiosk)
    assert re.fullmatch(r"[0-9a-f]{32}", answer["epoch"]) and answer["base"] == 0
    assert [e["payload"]["escalation_id"] for e in answer["events"]] == [first]
    again = _feed(client, kiosk, after=answer["cursor"], epoch=answer["epoch"])
    assert again == {**answer, "events": [], "cursor": answer["cursor"]}
    second = _on_my_way(kiosk, reception)
    news = _feed(client, kiosk, after=answer["cursor"], epoch=answer["epoch"])
    assert [e["payload"]["escalation_id"] for e in news["events"]] == [second]


def test_another_epoch_resynchronises_a_kiosk_beyond_the_base(app, client, kiosk, reception):
    old = _feed(client, kiosk)
    for _ in range(3):
        _on_my_way(kiosk, reception)
    seen = _feed(client, kiosk, epoch=old["epoch"])
    restored = _restore_like(app)
    assert restored.epoch != old["epoch"] and restored.base == seen["cursor"]
    # the kiosk's cursor lies beyond the (restored) history: nothing new yet …
    far = seen["cursor"] + 1000
    quiet = _feed(client, kiosk, after=far, epoch=old["epoch"])
    assert quiet["events"] == [] and quiet["cursor"] == restored.base
    assert (quiet["epoch"], quiet["base"]) == (restored.epoch, restored.base)
    # … and the first event after the restore reaches it
    new = _on_my_way(kiosk, reception)
    answer = _feed(client, kiosk, after=far, epoch=old["epoch"])
    assert [e["payload"]["escalation_id"] for e in answer["events"]] == [new]
    assert answer["epoch"] == restored.epoch


def test_another_epoch_behind_the_base_loses_nothing(app, client, kiosk, reception):
    old = _feed(client, kiosk)
    missed = [_on_my_way(kiosk, reception) for _ in range(2)]
    _restore_like(app)
    answer = _feed(client, kiosk, after=old["cursor"], epoch=old["epoch"])
    assert [e["payload"]["escalation_id"] for e in answer["events"]] == missed


def test_an_absent_epoch_is_another_epoch(app, client, kiosk, reception):
    _on_my_way(kiosk, reception)
    restored = _restore_like(app)
    new = _on_my_way(kiosk, reception)
    answer = _feed(client, kiosk, after=restored.base + 50)  # no epoch sent
    assert [e["payload"]["escalation_id"] for e in answer["events"]] == [new]
    assert answer["epoch"] == restored.epoch


@pytest.mark.parametrize(
    "epoch",
    ["", "a" * 65, "a%20b", "%C3%A9t%C3%A9", "..%2Fx", "abc%00", "x&epoch=y", "%E4%B8%AD"],
)
def test_a_bad_epoch_is_refused_clearly(client, kiosk, epoch):
    response = client.get(
        f"/api/v1/feed?after=0&wait=0&epoch={epoch}", headers=kiosk.headers(key=False)
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_request"
    assert "epoch" in response.json["error"]["message"]


def test_migration_0016_starts_the_epoch_after_the_newest_event(tmp_path):
    path = tmp_path / "lobbydesk.db"
    db = connect(path)
    migrations.apply(db, stop_before="0016_feed_epoch")
    clock = SystemClock()
    create_building(db, clock, name="测试大厦", name_en="Test Tower", floors=1)
    kiosk_id = kiosks.create(db, clock, building_id=1, name="大堂 A", actor="test")["id"]
    with db.conn:
        ids = [feed.append(db, clock, kiosk_id, "test", {"n": n}) for n in range(3)]
    db.close()
    db = open_building_db(path)
    epoch = feed.current_epoch(db)
    assert epoch.base == ids[-1] and re.fullmatch(r"[0-9a-f]{32}", epoch.epoch)
    db.close()


def test_a_restore_always_gives_a_new_epoch_after_its_newest_event(app, client, kiosk, reception):
    _on_my_way(kiosk, reception)
    data_dir = app.config["DATA_DIR"]
    taken = backup.create_from_file(f"{data_dir}/lobbydesk.db", backup.folder(data_dir))
    before = _feed(client, kiosk)
    _on_my_way(kiosk, reception)
    backup.restore(taken, data_dir, force=True)
    db = building_db(app)
    restored = feed.current_epoch(db)
    assert restored.epoch != before["epoch"] and restored.base == feed.max_event_id(db) == 1
    db.close()
    backup.restore(taken, data_dir, force=True)  # the same backup again: again a new one
    db = building_db(app)
    assert feed.current_epoch(db).epoch not in (before["epoch"], restored.epoch)
    db.close()


# -- the kiosk's side ----------------------------------------------------------


def test_pairing_resets_the_epoch_with_the_cursor(tmp_path):
    store = KioskStore.open(tmp_path / "kiosk.db")
    store.set(**{FEED_CURSOR: 41, FEED_EPOCH: "a" * 32})
    store.save_pairing({"token": "t" * 43, "kiosk": {"id": 2}, "building": {}})
    assert store.get(FEED_CURSOR) == 0 and store.get(FEED_EPOCH) is None
    store.close()


def test_the_kiosk_stores_the_new_epoch_with_its_cursor_and_hears_what_came_after(tmp_path):
    app = make_app(tmp_path / "console")
    add_staff(app)
    store = _paired_kiosk_store(app, tmp_path / "kiosk.db")
    server = ConsoleServer(app).start_in_background()
    heard = []
    try:
        worker = SyncWorker(store, ConsoleClient(server.url, store.token), on_event=heard.append)
        assert worker.poll_feed_once(wait=0).ok
        first_epoch = store.get(FEED_EPOCH)
        assert isinstance(first_epoch, str) and store.get(FEED_CURSOR) == 0
        # a kiosk far ahead of a restored console's history
        store.set(**{FEED_CURSOR: 500})
        restored = _restore_like(app)
        kiosk = KioskCaller(app.test_client(), store.token)
        reception = StaffBrowser(app.test_client())
        reception.login()
        escalation_id = kiosk.call_reception().json["id"]
        reception.post(f"/queue/escalations/{escalation_id}/acknowledge")
        assert worker.poll_feed_once(wait=0).ok
        assert [e["payload"]["escalation_id"] for e in heard] == [escalation_id]
        assert store.get(FEED_EPOCH) == restored.epoch
        assert store.get(FEED_CURSOR) == heard[-1]["id"] <= 500
        assert worker.poll_feed_once(wait=0).ok and len(heard) == 1  # not handed on twice
    finally:
        server.stop()
        store.close()


def _result(status, retry_after=None):
    return Result(RETRYABLE, status=status, retry_after=retry_after)


def test_the_feeder_probes_within_a_second_while_the_console_is_away_or_starting(tmp_path):
    store = KioskStore.open(tmp_path / "kiosk.db")
    worker = SyncWorker(
        store, ConsoleClient("http://127.0.0.1:9", None), backoff=Backoff(rng=random.Random(3))
    )
    try:
        for failures in (1, 5, 30, 500):
            for answer in (_result(None), _result(502), _result(503, 120), _result(504)):
                assert 0.5 <= worker._feed_retry_delay(answer, failures) <= 1.0
        starting = [worker._feed_retry_delay(_result(500), n) for n in range(1, 31)]
        assert all(0.5 <= d <= 1.0 for d in starting) and len(set(starting)) > 1  # jittered
        # a console that keeps failing is backed off again, from small
        assert worker._feed_retry_delay(_result(500), 31) <= 1.0
        assert worker._feed_retry_delay(_result(500), 40) <= worker.backoff.cap
        assert worker._feed_retry_delay(_result(429, 7), 1) == 7  # pacing is honoured
    finally:
        store.close()


# -- real console processes ----------------------------------------------------


class Reception(ReceptionHttp):
    """A receptionist's browser, as plain HTTP against a console process."""

    def __init__(self, base_url):
        super().__init__(base_url, "wangfang", PASSWORD)


class RunningKiosk:
    """A kiosk's SyncWorker running its threads against a console."""

    def __init__(self, store, url):
        self.store, self.outbox = store, Outbox(store)
        self.events, self.acked = queue.Queue(), queue.Queue()
        self.worker = SyncWorker(
            store,
            ConsoleClient(url, store.token),
            on_event=self.events.put,
            on_acked=lambda item_id, _kind, body: self.acked.put((item_id, body)),
        )
        self.worker.start()

    def call_reception(self, timeout=30) -> int:
        body = {"kind": "help", "created_at": to_iso(SystemClock().now()), "language": "zh_CN"}
        item_id = self.outbox.enqueue(
            "escalation.help", "/api/v1/escalations", {**body, "screen": "home"}
        )
        self.worker.wake()
        deadline = time.monotonic() + timeout
        while True:
            acked_id, answer = self.acked.get(timeout=max(0.01, deadline - time.monotonic()))
            if acked_id == item_id:
                return answer["id"]

    def forget_events(self):
        while not self.events.empty():
            self.events.get_nowait()

    def hears_on_my_way(self, escalation_id, timeout=30) -> bool:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                return False
            if (
                event["kind"] == "escalation.acknowledged"
                and event["payload"].get("escalation_id") == escalation_id
            ):
                return True
        return False

    def stop(self):
        self.worker.stop()
        self.worker.client.close()


def _console_with_kiosk(tmp_path):
    app = make_app(tmp_path / "console", SECRET_KEY=SECRET)
    add_staff(app)
    store = _paired_kiosk_store(app, tmp_path / "kiosk.db")
    console = ConsoleProcess(tmp_path / "console", secret_key=SECRET).start()
    return app, store, console


def test_after_a_restore_the_kiosk_still_hears_on_my_way(tmp_path):
    app, store, console = _console_with_kiosk(tmp_path)
    data_dir = tmp_path / "console"
    url = f"http://127.0.0.1:{console.port}"
    kiosk = RunningKiosk(store, url)
    reception = Reception(url)
    try:
        escalation_id = kiosk.call_reception()
        reception.on_my_way(escalation_id)
        assert kiosk.hears_on_my_way(escalation_id)
        older = backup.create_from_file(data_dir / "lobbydesk.db", backup.folder(data_dir))
        for _ in range(3):  # the kiosk's cursor moves beyond what the backup holds
            escalation_id = kiosk.call_reception()
            reception.on_my_way(escalation_id)
            assert kiosk.hears_on_my_way(escalation_id)
        cursor_before = store.get(FEED_CURSOR)
        epoch_before = store.get(FEED_EPOCH)

        console.kill()
        backup.restore(older, data_dir, force=True)
        console.start()
        reception.close()
        reception = Reception(url)  # the restored database has not got today's session

        kiosk.forget_events()
        escalation_id = kiosk.call_reception()
        reception.on_my_way(escalation_id)
        assert kiosk.hears_on_my_way(escalation_id), "the kiosk went deaf"
        # stored just after the event is handed on (same answer, one write)
        eventually(lambda: store.get(FEED_EPOCH) not in (None, epoch_before), message="new epoch")
        assert store.get(FEED_CURSOR) < cursor_before  # it follows the restored ids now
    finally:
        reception.close()
        kiosk.stop()
        if console.process.poll() is None:
            console.kill()
        store.close()


def test_after_a_console_restart_the_next_on_my_way_arrives(tmp_path):
    app, store, console = _console_with_kiosk(tmp_path)
    url = f"http://127.0.0.1:{console.port}"
    kiosk = RunningKiosk(store, url)
    reception = Reception(url)
    try:
        for _ in range(2):
            escalation_id = kiosk.call_reception()
            console.kill()
            console.start()
            reception.on_my_way(escalation_id)  # its session lives in the database
            assert kiosk.hears_on_my_way(escalation_id)
    finally:
        reception.close()
        kiosk.stop()
        if console.process.poll() is None:
            console.kill()
        store.close()


def test_the_feeder_is_not_backed_off_by_a_console_answering_503(tmp_path):
    """A proxy says 503 (Retry-After: an hour) while the console starts; the first event
    after that is heard, not an hour later."""
    app = make_app(tmp_path / "console")
    add_staff(app)
    store = _paired_kiosk_store(app, tmp_path / "kiosk.db")
    server = ConsoleServer(app).start_in_background()
    starting = {"left": 3}

    class Starting(ConsoleClient):
        def feed(self, after, wait, epoch=None):
            if starting["left"] > 0:
                starting["left"] -= 1
                return Result(RETRYABLE, status=503, retry_after=3600.0)
            return super().feed(after, wait, epoch)

        def copy(self):
            return Starting(self.base_url, self.token)

    heard = queue.Queue()
    worker = SyncWorker(store, Starting(server.url, store.token), on_event=heard.put)
    worker.start()
    try:
        eventually(lambda: starting["left"] == 0, message="three 503s answered")
        kiosk = KioskCaller(app.test_client(), store.token)
        reception = StaffBrowser(app.test_client())
        reception.login()
        escalation_id = _on_my_way(kiosk, reception)  # the console publishes its live hub
        event = heard.get(timeout=60)  # a generous deadline, far below the hour asked
        assert event["payload"]["escalation_id"] == escalation_id
    finally:
        worker.stop()
        worker.client.close()
        server.stop()
        store.close()


def test_two_kiosks_are_not_mixed_up_by_the_epoch(app, client, reception):
    _id_a, token_a = paired_kiosk(app, name="大堂 A")
    _id_b, token_b = paired_kiosk(app, name="大堂 B")
    a, b = KioskCaller(client, token_a), KioskCaller(client, token_b)
    _on_my_way(a, reception)
    _restore_like(app)
    mine = _on_my_way(b, reception)
    answer = _feed(client, b, after=10_000, epoch="0" * 32)
    assert [e["payload"]["escalation_id"] for e in answer["events"]] == [mine]
