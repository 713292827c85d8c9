"""Issue [9/9]: a kiosk write on one console process reaches a staff page's event
stream on another process over the same data folder, also after either process
was SIGKILLed and started again. The latency is printed, never asserted."""

from __future__ import annotations

import queue
import threading
import time
from datetime import UTC, datetime

import requests

from shared.clock import to_iso
from shared.tokens import new_idempotency_key
from tests.helpers import add_staff, eventually, make_app, paired_kiosk
from tests.servers import ConsoleProcess, ReceptionHttp

SECRET = "two-consoles-test-" + "s" * 40
PASSWORD = "two-consoles-password"


class StaffStream:
    """A staff page's EventSource on one console: `queue` events land in `events`;
    when the console goes away it reconnects, as the browser does."""

    def __init__(self, desk: ReceptionHttp):
        self.desk, self.events = desk, queue.Queue()
        self.open = threading.Event()
        self.stopped = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.stopped:
            try:
                with self.desk.http.get(
                    f"{self.desk.base_url}/queue/stream", stream=True, timeout=(5, 60)
                ) as stream:
                    self.open.set()
                    self.events.put(time.perf_counter())  # the page re-reads its rows on (re)open
                    for line in stream.iter_lines(decode_unicode=True):
                        if line == "event: queue":
                            self.events.put(time.perf_counter())
            except requests.RequestException:
                pass
            self.open.clear()
            time.sleep(0.2)  # the browser's EventSource waits before reconnecting too

    def shows(self, escalation_id: int, since: float, deadline: float = 20.0) -> float:
        """Seconds from `since` to the queue event after which the staff page's rows
        (as queue.js fetches them) show the call."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            try:
                at = self.events.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                break
            rows = self.desk.http.get(f"{self.desk.base_url}/queue/rows", timeout=10).text
            if f"/queue/escalations/{escalation_id}/" in rows:
                return at - since
        raise AssertionError(f"call {escalation_id} never reached the other process's stream")


def _help_call(url: str, token: str) -> int:
    body = {"kind": "help", "created_at": to_iso(datetime.now(UTC)), "language": "zh_CN",
            "screen": "home"}  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": new_idempotency_key()}
    for _ in range(50):  # transient failures (the console restarting) are retried
        try:
            answer = requests.post(f"{url}/api/v1/escalations", json=body, headers=headers, timeout=10)  # fmt: skip
        except requests.ConnectionError:
            time.sleep(0.2)
            continue
        if answer.status_code < 500:
            assert answer.status_code in (200, 201), answer.text
            return answer.json()["id"]
    raise AssertionError("the console never took the call")


def test_a_kiosk_write_on_one_process_reaches_a_staff_stream_on_another(tmp_path):
    data = tmp_path / "console"
    app = make_app(data, SECRET_KEY=SECRET)
    add_staff(app, "wangfang", password=PASSWORD)
    _kiosk_id, token = paired_kiosk(app)
    kiosk_side = ConsoleProcess(data, secret_key=SECRET).start()
    staff_side = ConsoleProcess(data, secret_key=SECRET).start()
    stream = StaffStream(ReceptionHttp(staff_side.url, "wangfang", PASSWORD, page="/queue"))
    latencies = []

    def calls(count: int) -> None:
        eventually(stream.open.is_set, timeout=30, message="the staff stream is open")
        for _ in range(count):
            while not stream.events.empty():  # only what comes after this write counts
                stream.events.get_nowait()
            since = time.perf_counter()
            latencies.append(stream.shows(_help_call(kiosk_side.url, token), since))

    try:
        calls(5)
        kiosk_side.kill()  # the kiosk's process dies; it comes back on the same port
        kiosk_side.start()
        calls(5)
        staff_side.kill()  # the staff page's process dies; the page reconnects
        staff_side.start()
        calls(5)
    finally:
        stream.stopped = True
        kiosk_side.stop()
        staff_side.stop()
    latencies_ms = sorted(round(seconds * 1000, 1) for seconds in latencies)
    print(f"kiosk write on A -> staff stream on B, ms: {latencies_ms}")
    assert len(latencies) == 15
