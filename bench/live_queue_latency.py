"""Request-to-screen latency: a kiosk's "call reception" until the row is on the staff page.

Starts a real console (uvicorn through ConsoleServer, real clock, a temporary
data directory), a paired kiosk speaking HTTP with a keep-alive `requests`
Session (as kiosk/client.py does), and a receptionist signed in on the live
queue in Debian's Chromium. Then, for each of N calls:

  (a) kiosk POST /api/v1/escalations → the row with that id is in the staff
      page's DOM (measured in Python with perf_counter around
      `page.wait_for_selector`);
  (a') the same, stamped inside the page by a MutationObserver: the same
      path without Playwright's own polling and round trip;
  (b) the same kiosk's round trip to the bare `GET /api/v1/ping`;
  (c) the kiosk's POST alone (commit + idempotency record + publish).

Each item is marked done through the page after it is measured, so every
call meets a queue of the same, realistic size (`--let-queue-grow` keeps them).

`--no-browser` replaces Chromium by what queue.js does, in Python: read
/queue/stream, fetch /queue/rows on each event, until the row is there.

    .venv/bin/python bench/live_queue_latency.py [--calls 200] [--no-browser]
"""

from __future__ import annotations

import argparse
import queue
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import markdown_table, ms_since, percentile, ratio
from shared.tokens import new_idempotency_key
from tests.servers import (
    BENCH_PASSWORD,
    BENCH_USERNAME,
    CHROMIUM,
    bench_console,
    launch_chromium,
    signed_in_session,
)

WARM_UP = 10
DONE = "已处理 · Done"

# Stamps, in the page, the wall-clock time each queue row first appears.
STAMP_ROWS = """
window.__rowSeenAt = {};
document.addEventListener("DOMContentLoaded", () => {
  const rows = document.getElementById("queue-rows");
  if (!rows) return;
  new MutationObserver(() => {
    const now = performance.timeOrigin + performance.now();
    rows.querySelectorAll("tr.item[data-id]").forEach((tr) => {
      if (!(tr.dataset.id in window.__rowSeenAt)) window.__rowSeenAt[tr.dataset.id] = now;
    });
  }).observe(rows, { childList: true });
});
"""


# ---------------------------------------------------------------- the kiosk


class Kiosk:
    """One kiosk: a keep-alive Session with its bearer token."""

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def ping(self) -> None:
        response = self.session.get(f"{self.base_url}/api/v1/ping", timeout=5)
        response.raise_for_status()

    def call_reception(self) -> int:
        response = self.session.post(
            f"{self.base_url}/api/v1/escalations",
            json={
                "kind": "help",
                "created_at": datetime.now(UTC).isoformat(),
                "language": "zh_CN",
                "screen": "home",
            },
            headers={"Idempotency-Key": new_idempotency_key()},
            timeout=5,
        )
        response.raise_for_status()
        return response.json()["id"]


# ------------------------------------------------------------ the staff side


class ChromiumStaff:
    """The receptionist in Chromium, signed in on the live queue."""

    def __init__(self, base_url: str):
        from playwright.sync_api import sync_playwright

        from tests.browser.actions import sign_in

        self._playwright = sync_playwright().start()
        self._browser = launch_chromium(self._playwright)
        self.page = self._browser.new_page(viewport={"width": 1280, "height": 800})
        self.page.add_init_script(STAMP_ROWS)
        sign_in(self.page, base_url, BENCH_USERNAME, BENCH_PASSWORD)
        self.page.wait_for_selector('#live-status[data-state="live"]', timeout=10_000)

    def wait_for_row(self, escalation_id: int) -> None:
        self.page.wait_for_selector(
            f'tr[data-id="{escalation_id}"]', state="attached", timeout=10_000
        )

    def row_seen_at_ms(self, escalation_id: int) -> float:
        """Wall-clock ms when the page's observer first saw the row."""
        return self.page.evaluate(f'window.__rowSeenAt["{escalation_id}"]')

    def mark_done(self, escalation_id: int) -> None:
        row = self.page.locator(f'tr[data-id="{escalation_id}"]')
        row.get_by_role("button", name=DONE).click()
        row.wait_for(state="detached", timeout=10_000)

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()


class StreamStaff:
    """What queue.js does, in Python: an SSE reader and a rows fetch per event."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http, self.csrf = signed_in_session(base_url)
        self.events: queue.Queue[float] = queue.Queue()
        self._stream = requests.Session()
        self._stream.cookies.update(self.http.cookies)
        self._response = self._stream.get(f"{base_url}/queue/stream", stream=True, timeout=30)
        self._reader = threading.Thread(target=self._read, name="sse-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for line in self._response.iter_lines(chunk_size=None):
                if line.startswith(b"event: queue"):
                    self.events.put(time.perf_counter())
        except (requests.RequestException, AttributeError):
            return  # the stream was closed at the end of the run

    def _rows(self) -> str:
        return self.http.get(
            f"{self.base_url}/queue/rows", headers={"X-Requested-With": "fetch"}, timeout=5
        ).text

    def forget_events(self) -> None:
        while not self.events.empty():
            self.events.get_nowait()

    def wait_for_row(self, escalation_id: int) -> None:
        marker = f'data-id="{escalation_id}"'
        while True:
            self.events.get(timeout=10)
            if marker in self._rows():
                return

    def mark_done(self, escalation_id: int) -> None:
        self.http.post(
            f"{self.base_url}/queue/escalations/{escalation_id}/resolve",
            headers={"X-CSRF-Token": self.csrf, "X-Requested-With": "fetch"},
            timeout=5,
        ).raise_for_status()

    def close(self) -> None:
        self._response.close()
        self._stream.close()
        self.http.close()


# ---------------------------------------------------------------- measuring


def run(calls: int, use_browser: bool, let_queue_grow: bool) -> list[tuple[str, list[float]]]:
    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as data_dir:
        server, token = bench_console(Path(data_dir))
        kiosk = Kiosk(server.url, token)
        people = ChromiumStaff(server.url) if use_browser else StreamStaff(server.url)
        try:
            screen_ms, in_page_ms, post_ms, ping_ms = [], [], [], []
            for i in range(WARM_UP + calls):
                if not use_browser:
                    people.forget_events()
                wall_start_ms = time.time() * 1000
                started = time.perf_counter()
                escalation_id = kiosk.call_reception()
                posted = time.perf_counter()
                people.wait_for_row(escalation_id)
                on_screen = time.perf_counter()
                if i >= WARM_UP:
                    screen_ms.append((on_screen - started) * 1000)
                    post_ms.append((posted - started) * 1000)
                    if use_browser:
                        in_page_ms.append(people.row_seen_at_ms(escalation_id) - wall_start_ms)
                if not let_queue_grow:
                    people.mark_done(escalation_id)
            for i in range(WARM_UP + calls):
                started = time.perf_counter()
                kiosk.ping()
                if i >= WARM_UP:
                    ping_ms.append(ms_since(started))
        finally:
            people.close()
            kiosk.session.close()
            server.stop()
    staff_side = "Chromium, wait_for_selector" if use_browser else "SSE + /queue/rows in Python"
    results = [(f"(a) kiosk call → row on staff page ({staff_side})", screen_ms)]
    if use_browser:
        results.append(("(a') same, stamped in the page (MutationObserver)", in_page_ms))
    results.append(("(b) kiosk GET /api/v1/ping round trip", ping_ms))
    results.append(("(c) kiosk POST /api/v1/escalations round trip", post_ms))
    return results


def tables(results: list[tuple[str, list[float]]]) -> tuple[str, str]:
    ping = dict(results)["(b) kiosk GET /api/v1/ping round trip"]
    ping_p50, ping_p99 = percentile(ping, 50), percentile(ping, 99)
    rows = []
    for name, samples in results:
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        ratios = f"{ratio(p50, ping_p50)} / {ratio(p99, ping_p99)}"
        rows.append([name, str(len(samples)), f"{p50:.2f}", f"{p99:.2f}", ratios])
    header = ["metric", "n", "p50 ms", "p99 ms", "÷ (b), p50 / p99"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    plain = "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [header, *rows]
    )
    return plain, markdown_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="measured calls (default 200)")
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="measure (a) with a Python SSE client instead of Chromium",
    )
    parser.add_argument(
        "--let-queue-grow",
        action="store_true",
        help="leave every call in the queue instead of marking it done after measuring",
    )
    args = parser.parse_args(argv)
    if args.calls < 2:
        parser.error("--calls must be at least 2")
    use_browser = not args.no_browser
    if use_browser and not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} not found: install chromium or use --no-browser")
    results = run(args.calls, use_browser, args.let_queue_grow)
    plain, markdown = tables(results)
    print(plain)
    print()
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
