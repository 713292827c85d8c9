"""Connection model (README): waiting long-polls and staff streams hold no thread,
so far more of them than worker threads leave writes and pages answered; near the
configured capacity long-polls are answered early and writes still succeed.

Real console (a `lobbydesk console` process with default settings, or
ConsoleServer in-process), real HTTP over raw sockets so the test holds open
connections without a thread each. Nothing here asserts speed: only that
answers come, within generous deadlines."""

from __future__ import annotations

import re
import socket
import time

import requests

from console import live
from console.server import ConsoleServer, LiveFront
from shared import feed
from shared.db import write_transaction
from shared.tokens import new_idempotency_key
from tests.helpers import PASSWORD, add_staff, building_db, make_app, paired_kiosk
from tests.servers import ConsoleProcess

SECRET = "test-" + "x" * 40
DEADLINE = 30


def _sign_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = session.post(
        f"{base}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    return session


def _open_get(port: int, path: str, headers: dict) -> socket.socket:
    """A GET left open: the console holds it (long-poll or stream); no thread here."""
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


def _counts(admin: requests.Session, base: str) -> tuple[int, int]:
    page = admin.get(f"{base}/admin/kiosks/", timeout=10).text
    match = re.search(r'data-feeds="(\d+)" data-streams="(\d+)"', page)
    return int(match.group(1)), int(match.group(2))


def _wait_for(condition, what: str):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def _call_reception(base: str, token: str) -> requests.Response:
    return requests.post(
        f"{base}/api/v1/escalations",
        json={"kind": "help", "created_at": "2026-11-27T08:59:58+00:00", "language": "zh_CN", "screen": "home"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": new_idempotency_key()},
        timeout=DEADLINE,
    )  # fmt: skip


def test_more_waiting_kiosks_and_staff_pages_than_threads_and_a_help_call_still_lands(tmp_path):
    """100 long-polls + 10 staff streams against a default console (32 threads): the
    kiosks page counts them, a help call is answered 201 and reaches a staff stream."""
    app = make_app(tmp_path)
    add_staff(app, "wangfang", role="reception")
    add_staff(app, "guanli", role="admin", display_name="管理员")
    _, token = paired_kiosk(app)
    console = ConsoleProcess(tmp_path, secret_key=SECRET, start_timeout=15).start()
    port, base = console.port, console.url
    held = []
    try:
        reception, admin = _sign_in(base, "wangfang"), _sign_in(base, "guanli")
        cookie = "; ".join(f"{k}={v}" for k, v in reception.cookies.items())
        streams = [_open_get(port, "/queue/stream", {"Cookie": cookie}) for _ in range(10)]
        held += streams
        for stream in streams:
            assert b"retry: 2000" in _read_until(stream, b"retry: 2000")
        cursor = requests.get(
            f"{base}/api/v1/feed", params={"after": 0, "wait": 0},
            headers={"Authorization": f"Bearer {token}"}, timeout=10,
        ).json()["cursor"]  # fmt: skip
        auth = {"Authorization": f"Bearer {token}"}
        held += [_open_get(port, f"/api/v1/feed?after={cursor}&wait=25", auth) for _ in range(100)]

        feeds, count_streams = _wait_for(
            lambda: (c := _counts(admin, base))[0] >= 100 and c, "100 long-polls counted"
        )
        assert feeds == 100 and count_streams >= 10

        answer = _call_reception(base, token)
        assert answer.status_code == 201, answer.text
        assert b"event: queue" in _read_until(streams[0], b"event: queue")
        assert reception.get(f"{base}/queue/rows", timeout=DEADLINE).status_code == 200
    finally:
        for sock in held:
            sock.close()
        console.stop()


def test_near_capacity_long_polls_are_answered_early_and_writes_still_succeed(tmp_path):
    app = make_app(tmp_path, CONNECTION_CAPACITY=10)
    add_staff(app, "guanli", role="admin", display_name="管理员")
    _, token = paired_kiosk(app)
    server = ConsoleServer(app).start_in_background()
    auth = {"Authorization": f"Bearer {token}"}
    held = []
    try:
        cursor = requests.get(
            f"{server.url}/api/v1/feed", params={"after": 0, "wait": 0}, headers=auth, timeout=10
        ).json()["cursor"]
        held += [
            _open_get(server.port, f"/api/v1/feed?after={cursor}&wait=25", auth) for _ in range(9)
        ]
        connections = live.connections(app)
        _wait_for(lambda: connections.feeds == 9, "9 long-polls waiting")

        # 9 of 10 is past the early-answer level: a new long-poll does not wait
        early = requests.get(
            f"{server.url}/api/v1/feed",
            params={"after": cursor, "wait": 25},
            headers=auth,
            timeout=20,
        )
        assert early.status_code == 200
        assert early.json()["events"] == []
        assert early.headers["Retry-After"] == "10"
        assert connections.feeds == 9

        answer = _call_reception(server.url, token)
        assert answer.status_code == 201, answer.text

        admin = _sign_in(server.url, "guanli")
        page = admin.get(f"{server.url}/admin/kiosks/", timeout=10).text
        assert "Connections near capacity" in page and "连接数接近上限" in page
    finally:
        for sock in held:
            sock.close()
        server.stop()


def test_a_long_poll_wakes_for_its_own_kiosk_only(tmp_path):
    """News for kiosk A, published from another thread, answers A's waiting long-poll;
    B's stays parked (nothing for B)."""
    app = make_app(tmp_path)
    kiosk_a, token_a = paired_kiosk(app, "A")
    _, token_b = paired_kiosk(app, "B")
    server = ConsoleServer(app).start_in_background()
    sockets = {}
    try:
        for name, token in (("a", token_a), ("b", token_b)):
            auth = {"Authorization": f"Bearer {token}"}
            cursor = requests.get(
                f"{server.url}/api/v1/feed",
                params={"after": 0, "wait": 0},
                headers=auth,
                timeout=10,
            ).json()["cursor"]
            sockets[name] = _open_get(server.port, f"/api/v1/feed?after={cursor}&wait=25", auth)
        connections = live.connections(app)
        _wait_for(lambda: connections.feeds == 2, "2 long-polls waiting")

        db = building_db(app)
        with write_transaction(db):
            feed.append(db, app.extensions["lobbydesk.clock"], kiosk_a, "test", {"n": 1})
        db.close()
        live.hub(app).publish()

        answered = _read_until(sockets["a"], b'"kind":"test"')
        assert b"200 OK" in answered and b'"kind":"test"' in answered
        assert connections.feeds == 1  # B still waiting
    finally:
        for sock in sockets.values():
            sock.close()
        server.stop()


def test_forwarded_headers_count_only_from_the_trusted_proxy(tmp_path):
    app = make_app(tmp_path, TRUSTED_PROXY="10.0.0.1")
    front = LiveFront(app, threads=1)
    headers = [
        (b"host", b"127.0.0.1:8080"),
        (b"x-forwarded-for", b"1.2.3.4, 192.168.1.20"),
        (b"x-forwarded-proto", b"https"),
        (b"x-forwarded-host", b"desk.lobby.lan"),
    ]
    scope = {"type": "http", "headers": headers, "client": ("10.0.0.1", 5000), "scheme": "http"}
    try:
        trusted = front._proxied(scope)
        assert trusted["client"] == ("192.168.1.20", 0)
        assert trusted["scheme"] == "https"
        assert (b"host", b"desk.lobby.lan") in trusted["headers"]

        stranger = front._proxied({**scope, "client": ("192.168.1.66", 5000)})
        assert stranger["client"] == ("192.168.1.66", 5000) and stranger["scheme"] == "http"
        assert stranger["headers"] == [(b"host", b"127.0.0.1:8080")]
    finally:
        front.close()


def test_news_wakes_a_staff_stream_at_once_not_at_the_next_keepalive(tmp_path):
    """With keep-alives an hour apart, only the news itself can carry the help call to
    the staff page: it arrives (the stream once waited for news *and* a hang-up, so
    every event sat until the next keep-alive tick), and a page that closes is let go."""
    app = make_app(tmp_path, STREAM_KEEPALIVE_SECONDS=3600)
    add_staff(app, "wangfang", role="reception")
    add_staff(app, "guanli", role="admin", display_name="管理员")
    _, token = paired_kiosk(app)
    server = ConsoleServer(app).start_in_background()
    try:
        reception, admin = _sign_in(server.url, "wangfang"), _sign_in(server.url, "guanli")
        cookie = "; ".join(f"{k}={v}" for k, v in reception.cookies.items())
        stream = _open_get(server.port, "/queue/stream", {"Cookie": cookie})
        assert b"retry: 2000" in _read_until(stream, b"retry: 2000")
        assert _call_reception(server.url, token).status_code == 201
        assert b"event: queue" in _read_until(stream, b"event: queue")

        stream.close()  # the receptionist closes the tab
        _wait_for(lambda: _counts(admin, server.url)[1] == 0, "the closed stream let go")
    finally:
        server.stop()
