"""A tiny real HTTP server implementing the console's kiosk API contract.

Used by the kiosk's tests until the real console exists: a real socket and a
real `requests` client, no mocks. It keeps what it received so tests can
assert "delivered exactly once", and can be told to misbehave next time
(`script`): answer with a given status, or commit and then drop the
connection before answering (a lost response).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "stub-token-0123456789abcdef"
DROP = "drop"


class StubConsole:
    def __init__(self, port: int = 0, token: str = TOKEN):
        self.token = token
        self.port = port
        self.revoked = False
        self.lock = threading.Condition()
        self.requests: list[dict] = []  # every request: method, path, headers, body
        self.records: dict[str, tuple[int, dict]] = {}  # idempotency key -> answer
        self.escalations: list[dict] = []
        self.alerts: list[dict] = []  # what the kiosk reported as refused or dead-lettered
        self.events: list[dict] = []
        self.script: deque = deque()  # next answers for POST /escalations
        self.pairing_codes = {
            "ABCDE-FGHJK": "fresh",
            "USEDD-CODEE": "used",
            "OLDDD-CODEE": "expired",
        }
        self.polls_waiting = 0
        self.polls_timed_out = 0  # long polls that ended by their deadline, not by news
        self.closing = False
        self._ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StubConsole:
        handler = type("Handler", (_Handler,), {"stub": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.closing = False
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self

    def release(self) -> None:
        """End every long poll now (before stopping a worker)."""
        with self.lock:
            self.closing = True
            self.lock.notify_all()

    def stop(self) -> None:
        self.release()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)
            self.server = None

    # -- what staff do ---------------------------------------------------
    def add_event(self, kind: str, payload: dict) -> dict:
        with self.lock:
            event = {
                "id": next(self._event_ids),
                "kind": kind,
                "payload": payload,
                "created_at": "2026-11-27T09:00:05.000000+00:00",
            }
            self.events.append(event)
            self.lock.notify_all()
        return event

    def posts(self, path: str = "/api/v1/escalations") -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["method"] == "POST" and r["path"] == path]


class _Handler(BaseHTTPRequestHandler):
    stub: StubConsole
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet
        pass

    # -- plumbing --------------------------------------------------------
    def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str, headers=None) -> None:
        self._answer(status, {"error": {"code": code, "message": message}}, headers)

    def _record(self) -> tuple[str, dict | None]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        split = urlsplit(self.path)
        with self.stub.lock:
            self.stub.requests.append(
                {
                    "method": self.command,
                    "path": split.path,
                    "query": parse_qs(split.query),
                    "headers": dict(self.headers),
                    "body": body,
                    "raw": raw,
                }
            )
        return split.path, body

    def _authorised(self) -> bool:
        if (
            self.headers.get("Authorization") == f"Bearer {self.stub.token}"
            and not self.stub.revoked
        ):
            return True
        self._error(401, "kiosk_not_authorised", "The kiosk token is missing, unknown or revoked.")
        return False

    # -- routes ----------------------------------------------------------
    def do_POST(self):
        path, body = self._record()
        if path == "/api/v1/pair":
            return self._pair(body)
        if path in ("/api/v1/alerts", "/api/v1/refused") and self._authorised():
            self.stub.alerts.append(body)
            return self._answer(201, {"id": len(self.stub.alerts)}, {})
        if path != "/api/v1/escalations":
            return self._error(404, "not_found", "no such endpoint")
        if not self._authorised():
            return None
        key = self.headers.get("Idempotency-Key")
        if not key:
            return self._error(
                400, "idempotency_key_missing", "Every write needs an Idempotency-Key header."
            )
        stub = self.stub
        with stub.lock:
            scripted = stub.script.popleft() if stub.script else None
            if scripted is not None and scripted != DROP:
                status, answer, headers = scripted
                return self._answer(status, answer, headers)
            if key not in stub.records:
                escalation = {
                    "id": next(stub._ids),
                    "status": "open",
                    "received_at": "2026-11-27T09:00:01.000000+00:00",
                }
                stub.escalations.append({**escalation, "body": body, "key": key})
                stub.records[key] = (201, escalation)
            status, answer = stub.records[key]
        if scripted == DROP:
            # Committed, but the answer is lost on the way back.
            self.close_connection = True
            return None
        return self._answer(status, answer)

    def _pair(self, body):
        state = self.stub.pairing_codes.get((body or {}).get("code"))
        if state is None:
            return self._error(400, "pairing_code_invalid", "This pairing code is not known.")
        if state == "used":
            return self._error(409, "pairing_code_used", "This pairing code was already used.")
        if state == "expired":
            return self._error(410, "pairing_code_expired", "This pairing code has expired.")
        self.stub.pairing_codes[body["code"]] = "used"
        return self._answer(
            201,
            {
                "token": self.stub.token,
                "kiosk": {"id": 1, "name": "Lobby A"},
                "building": {"name": "滨江花园", "name_en": "Riverside Gardens"},
            },
        )

    def do_GET(self):
        path, _ = self._record()
        if not self._authorised():
            return None
        if path == "/api/v1/ping":
            return self._answer(200, {"ok": True, "time": "2026-11-27T09:00:00.000000+00:00"})
        if path == "/api/v1/feed":
            return self._feed()
        return self._error(404, "not_found", "no such endpoint")

    def _feed(self):
        query = parse_qs(urlsplit(self.path).query)
        after = int(query.get("after", ["0"])[0])
        wait = min(25, int(query.get("wait", ["0"])[0]))
        stub = self.stub
        with stub.lock:
            stub.polls_waiting += 1
            stub.lock.notify_all()
            woken = stub.lock.wait_for(
                lambda: stub.closing or any(e["id"] > after for e in stub.events), timeout=wait
            )
            stub.polls_waiting -= 1
            stub.polls_timed_out += 0 if woken else 1
            events = [e for e in stub.events if e["id"] > after]
        cursor = events[-1]["id"] if events else after
        return self._answer(200, {"events": events, "cursor": cursor})
