"""Live events reach every staff page and kiosk whichever console process they are
connected to (docs/ARCHITECTURE.md, "Several processes").

Two consoles over one data folder, each its own app (its own hub, its own
coordination.db connection: two processes as far as SQLite can tell) served by its
own ConsoleServer on a real port. A write on A wakes what waits on B. Nothing here
asserts speed; the latency is printed for the record (`pytest -s`)."""

from __future__ import annotations

import logging
import socket
import time

import requests

from console import live
from console.db import coordination_of
from console.server import ConsoleServer
from shared.tokens import new_idempotency_key
from tests.helpers import PASSWORD, add_staff, eventually, make_app, paired_kiosk
from tests.servers import ReceptionHttp

DEADLINE = 30


def _open_get(port: int, path: str, headers: dict) -> socket.socket:
    """A GET left open on a raw socket: the console holds it (long-poll or stream)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    seen = b""
    deadline = time.monotonic() + DEADLINE
    while marker not in seen and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        seen += chunk
    return seen


def _two_consoles(tmp_path) -> tuple[ConsoleServer, ConsoleServer]:
    first = make_app(tmp_path)
    second = make_app(tmp_path, building=None)  # the same building, another process
    return ConsoleServer(first).start_in_background(), ConsoleServer(second).start_in_background()


def _call_reception(base: str, token: str) -> requests.Response:
    return requests.post(
        f"{base}/api/v1/escalations",
        json={"kind": "help", "created_at": "2026-11-27T08:59:58+00:00", "language": "zh_CN", "screen": "home"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": new_idempotency_key()},
        timeout=DEADLINE,
    )  # fmt: skip


def test_a_help_call_on_one_console_reaches_a_staff_page_and_a_kiosk_on_the_other(tmp_path):
    a, b = _two_consoles(tmp_path)
    add_staff(a.app, "wangfang", role="reception")
    _, token = paired_kiosk(a.app)
    auth = {"Authorization": f"Bearer {token}"}
    held = []
    try:
        # the receptionist's queue page streams from B
        reception_b = ReceptionHttp(b.url, "wangfang", PASSWORD)
        cookie = "; ".join(f"{k}={v}" for k, v in reception_b.http.cookies.items())
        stream = _open_get(b.port, "/queue/stream", {"Cookie": cookie})
        held.append(stream)
        assert b"retry: 2000" in _read_until(stream, b"retry: 2000")

        # the kiosk's help call lands on A
        started = time.perf_counter()
        answer = _call_reception(a.url, token)
        assert answer.status_code == 201, answer.text
        assert b"event: queue" in _read_until(stream, b"event: queue")
        print(
            f"help call on A -> staff stream on B: {1000 * (time.perf_counter() - started):.1f} ms"
        )

        # the kiosk long-polls B; the receptionist answers on A: "on my way" reaches it
        cursor = requests.get(
            f"{b.url}/api/v1/feed", params={"after": 0, "wait": 0}, headers=auth, timeout=10
        ).json()["cursor"]
        poll = _open_get(b.port, f"/api/v1/feed?after={cursor}&wait=25", auth)
        held.append(poll)
        eventually(lambda: live.connections(b.app).feeds == 1, message="the long-poll parked on B")
        reception_a = ReceptionHttp(a.url, "wangfang", PASSWORD)
        started = time.perf_counter()
        reception_a.on_my_way(answer.json()["id"])
        answered = _read_until(poll, b"escalation.acknowledged")
        assert b"200 OK" in answered and b"escalation.acknowledged" in answered
        print(
            f"on my way on A -> kiosk long-poll on B: {1000 * (time.perf_counter() - started):.1f} ms"
        )
    finally:
        for sock in held:
            sock.close()
        a.stop()
        b.stop()


def test_a_console_hears_another_consoles_publish_once_and_not_its_own_twice(tmp_path):
    """The watcher wakes B once per publish on A; A's own publish wakes A once."""
    a, b = _two_consoles(tmp_path)
    hub_a, hub_b = live.hub(a.app), live.hub(b.app)
    try:
        before_a, before_b = hub_a.version, hub_b.version
        hub_a.publish()
        assert hub_b.wait_for_change(before_b, timeout=DEADLINE) == before_b + 1
        assert hub_a.version == before_a + 1
        hub_b.publish()
        assert hub_a.wait_for_change(before_a + 1, timeout=DEADLINE) == before_a + 2
        assert hub_b.version == before_b + 2  # B's own publish, not heard back from A
    finally:
        a.stop()
        b.stop()


def test_a_publish_never_fails_when_the_signal_cannot_be_written(tmp_path, caplog):
    """coordination.db locked by another process past the busy timeout: the publish
    still wakes this process (a staff page here gets its news) and raises nothing."""
    app = make_app(tmp_path)
    coordination_of(app).conn.execute("PRAGMA busy_timeout = 50")  # not 5 s in a test
    other = make_app(tmp_path, building=None)
    hub = live.hub(app)
    seen = hub.version
    with coordination_of(other).write():  # the other process holds the write lock
        with caplog.at_level(logging.WARNING, logger="console.live_signal"):
            hub.publish()
    assert hub.version == seen + 1
    assert "live signal not written" in caplog.text
