"""Photo load: one kiosk sends repair photos as fast as its write limit lets it,
while other kiosks make help calls. Do the others notice?

A real console (waitress through ConsoleServer, real clock, the product's write
limits). The photo is the costliest one the console accepts: a one-colour PNG of
12 MP (3464 × 3464, ~40 KB; decoding it is the work, not sending it). The photo
kiosk runs 4 senders that ignore Retry-After (a hostile token would), backing off
only 50 ms after a 429/503. Eight other kiosks each call reception every 0.5 s
(inside their own write limit) and a ninth pings; each call is timed.

Each mode runs twice, without and with the photo load:
- `pool`: the product, pictures decoded in the console's pool (1 worker, 4 waiting);
- `wide`: the same code with a pool of 16 workers, which is what decoding on the
  request threads amounted to before (every request thread could decode at once).

    .venv/bin/python bench/photo_load.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import ms_since, percentile
from console.server import ConsoleServer
from shared.tokens import new_idempotency_key
from tests.helpers import make_app, paired_kiosk
from tests.servers import BENCH_BUILDING, serve

CALLERS = 8
CALL_EVERY = 0.5  # seconds: 2 writes a second, the per-kiosk steady rate
SENDERS = 4
SIDE = 3464  # 3464² ≈ 12.0 MP, the most a kiosk photo may have


def photo() -> str:
    out = io.BytesIO()
    Image.new("RGB", (SIDE, SIDE), (90, 120, 200)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def start(data_dir: Path, workers: int) -> tuple[ConsoleServer, list[str]]:
    """A console deciding pictures on `workers` threads; the tokens of its kiosks."""
    app = make_app(data_dir, testing=False, building=BENCH_BUILDING, IMAGE_WORKERS=workers)
    tokens = [paired_kiosk(app, name=f"K{n}")[1] for n in range(CALLERS + 2)]
    return serve(app), tokens


def headers(token: str, write: bool = True) -> dict:
    sent = {"Authorization": f"Bearer {token}"}
    if write:
        sent["Idempotency-Key"] = new_idempotency_key()
    return sent


def caller(url: str, token: str, stop: threading.Event, samples: list[float]) -> None:
    session = requests.Session()
    while not stop.is_set():
        body = {
            "kind": "help",
            "language": "zh_CN",
            "screen": "home",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        }
        started = time.perf_counter()
        answer = session.post(f"{url}/api/v1/escalations", json=body, headers=headers(token))
        took = time.perf_counter() - started
        if answer.status_code == 201:
            samples.append(took * 1000)
        stop.wait(max(0.0, CALL_EVERY - took))


def pinger(url: str, token: str, stop: threading.Event, samples: list[float]) -> None:
    session = requests.Session()
    while not stop.is_set():
        started = time.perf_counter()
        session.get(f"{url}/api/v1/ping", headers=headers(token, write=False))
        samples.append(ms_since(started))
        stop.wait(0.2)


def sender(url: str, token: str, picture: str, stop: threading.Event, counts: dict) -> None:
    session = requests.Session()
    body = {
        "unit": "101",
        "category": "water",
        "problem": "dripping_tap",
        "urgency": "normal",
        "language": "zh_CN",
        "photo": picture,
    }
    while not stop.is_set():
        body["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        answer = session.post(f"{url}/api/v1/tickets", json=body, headers=headers(token))
        counts[answer.status_code] = counts.get(answer.status_code, 0) + 1
        if answer.status_code != 201:
            stop.wait(0.05)


def phase(url: str, tokens: list[str], seconds: float, picture: str | None) -> dict:
    stop = threading.Event()
    calls: list[float] = []
    pings: list[float] = []
    counts: dict[int, int] = {}
    threads = [
        threading.Thread(target=caller, args=(url, t, stop, calls)) for t in tokens[:CALLERS]
    ]
    threads.append(threading.Thread(target=pinger, args=(url, tokens[CALLERS], stop, pings)))
    if picture is not None:
        threads += [
            threading.Thread(target=sender, args=(url, tokens[CALLERS + 1], picture, stop, counts))
            for _ in range(SENDERS)
        ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    return {"calls": calls, "pings": pings, "photos": counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    picture = photo()
    print(
        f"photo: {SIDE} × {SIDE} PNG, {len(picture) * 3 // 4 // 1024} KB; {args.seconds:.0f} s a phase"
    )
    print(
        "| mode | load | calls | call p50 ms | call p99 ms | p99 ÷ ping p50 | ping p50 ms | photos 201 / 429 / 503 |"
    )
    print("|---|---|--:|--:|--:|--:|--:|---|")
    for mode, workers in (("pool", 1), ("wide", 16)):
        with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as data_dir:
            server, tokens = start(Path(data_dir), workers)
            try:
                for load in (None, picture):
                    got = phase(server.url, tokens, args.seconds, load)
                    calls, pings, photos = got["calls"], got["pings"], got["photos"]
                    ping50 = statistics.median(pings)
                    p99 = percentile(calls, 99)
                    shown = "/".join(str(photos.get(s, 0)) for s in (201, 429, 503))
                    print(
                        f"| {mode} | {'photos' if load else 'none'} | {len(calls)} |"
                        f" {statistics.median(calls):.1f} | {p99:.1f} | {p99 / ping50:.0f}× |"
                        f" {ping50:.2f} | {shown if load else '—'} |",
                        flush=True,
                    )
            finally:
                server.stop()


if __name__ == "__main__":
    main()
