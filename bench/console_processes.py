"""Several console processes behind one address: kiosk writes and the manager's
dashboard under a steady kiosk load, against 1, 2 and 4 processes in one run.

For each process count it copies one seeded building (a fresh copy each time, so
every configuration starts from the same database), starts `lobbydesk console
--processes N` as a real process, and from one asyncio process (aiohttp):

- sends kiosk writes (`POST /api/v1/escalations`, a help call with its own
  Idempotency-Key) as a Poisson stream at --rate writes/s over --tokens paired
  kiosks: 1,000 kiosks each writing every ~2 minutes is ~8 writes/s; plus a
  burst of --burst writes at once every --burst-every seconds (a shift change, a
  fire drill);
- fetches `GET /dashboard` as a manager every --page-every seconds, timed to
  the last byte;

for --seconds, after a warm-up. Figures: kiosk write p50/p99 and dashboard
p50/p99 (ms), failures, and each figure divided by the single process's.

    .venv/bin/python bench/console_processes.py [--processes 1,2,4] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import markdown_table, ms_since, percentile, ratio
from shared.tokens import new_idempotency_key
from tests.helpers import add_staff, csrf_token, eventually, make_app, paired_kiosk
from tests.servers import BENCH_BUILDING, ConsoleProcess

MANAGER, PASSWORD = "bench.manager", "processes-bench-password"  # a throwaway login
STARTED = re.compile(r"console worker \d+ started")


def seed(data_dir: Path, tokens: int) -> list[str]:
    """A building, a manager and `tokens` paired kiosks; their tokens."""
    app = make_app(data_dir, testing=False, building=BENCH_BUILDING)
    add_staff(app, MANAGER, "manager", "经理", password=PASSWORD)
    return [paired_kiosk(app, name=f"K{index}")[1] for index in range(tokens)]


async def sign_in(base: str) -> aiohttp.CookieJar:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(f"{base}/login") as answer:
            page = await answer.text()
        form = {"username": MANAGER, "password": PASSWORD, "csrf_token": csrf_token(page)}
        async with session.post(f"{base}/login", data=form, allow_redirects=False) as answer:
            assert answer.status == 302, answer.status
    return jar


class Load:
    """The kiosk writes and dashboard loads of one configuration, with their timings."""

    def __init__(self, base: str, tokens: list[str], jar, args):
        self.base, self.tokens, self.jar, self.args = base, tokens, jar, args
        self.writes: list[float] = []
        self.pages: list[float] = []
        self.failed = 0
        self.rng = random.Random(20261206)  # the same arrivals for every configuration

    async def run(self, seconds: float, measured: bool) -> None:
        timeout = aiohttp.ClientTimeout(total=60)
        kiosks = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout)
        browser = aiohttp.ClientSession(cookie_jar=self.jar, timeout=timeout)
        end = time.monotonic() + seconds
        pending: set[asyncio.Task] = set()
        try:
            await asyncio.gather(
                self._kiosks(kiosks, end, pending, measured),
                self._bursts(kiosks, end, pending, measured),
                self._dashboard(browser, end, measured),
            )
            await asyncio.gather(*pending)
        finally:
            await kiosks.close()
            await browser.close()

    async def _kiosks(self, session, end, pending, measured) -> None:
        while time.monotonic() < end:
            await asyncio.sleep(self.rng.expovariate(self.args.rate))
            self._spawn(session, pending, measured)

    async def _bursts(self, session, end, pending, measured) -> None:
        while time.monotonic() + self.args.burst_every < end:
            await asyncio.sleep(self.args.burst_every)
            for _ in range(self.args.burst):
                self._spawn(session, pending, measured)

    def _spawn(self, session, pending, measured) -> None:
        task = asyncio.create_task(self._write(session, measured))
        pending.add(task)
        task.add_done_callback(pending.discard)

    async def _write(self, session, measured) -> None:
        token = self.rng.choice(self.tokens)
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": new_idempotency_key()}
        body = {"kind": "help", "created_at": _now(), "language": "zh_CN", "screen": "home"}
        started = time.perf_counter()
        ok = await _request(session.post(f"{self.base}/api/v1/escalations", json=body, headers=headers))  # fmt: skip
        self._record(self.writes, started, ok, measured)

    async def _dashboard(self, session, end, measured) -> None:
        while time.monotonic() < end:
            started = time.perf_counter()
            ok = await _request(session.get(f"{self.base}/dashboard", allow_redirects=False))
            self._record(self.pages, started, ok, measured)
            await asyncio.sleep(self.args.page_every)

    def _record(self, samples, started, ok, measured) -> None:
        if not measured:
            return
        if ok:
            samples.append(ms_since(started))
        else:
            self.failed += 1


async def _request(call) -> bool:
    try:
        async with call as answer:
            await answer.read()  # time to the last byte
            return answer.status in (200, 201)
    except (aiohttp.ClientError, TimeoutError):
        return False


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


async def measure(seed_dir: Path, tokens: list[str], processes: int, args) -> Load:
    data_dir = Path(tempfile.mkdtemp(prefix=f"lobbydesk-processes-{processes}-"))
    shutil.copytree(seed_dir, data_dir, dirs_exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}.log"
    console = ConsoleProcess(
        data_dir, secret_key=args.secret, args=["--processes", str(processes)], log_path=log_path
    ).start()
    try:
        if processes > 1:
            eventually(lambda: len(STARTED.findall(log_path.read_text())) >= processes)
        jar = await sign_in(console.url)
        load = Load(console.url, tokens, jar, args)
        await load.run(args.warmup, measured=False)
        await load.run(args.seconds, measured=True)
        return load
    finally:
        console.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def row(label: str, load: Load, base: Load) -> list:
    cells = [label, len(load.writes)]
    for samples, base_samples in ((load.writes, base.writes), (load.pages, base.pages)):
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        cells += [f"{p50:.1f}", f"{p99:.1f}"]
        cells.append(f"{ratio(p50, percentile(base_samples, 50))} / {ratio(p99, percentile(base_samples, 99))}")  # fmt: skip
    return [*cells, load.failed]


async def run(args) -> None:
    seed_dir = Path(tempfile.mkdtemp(prefix="lobbydesk-processes-seed-"))
    started = time.perf_counter()
    tokens = seed(seed_dir, args.tokens)
    print(f"seeded {args.tokens} kiosks in {ms_since(started) / 1000:.1f} s", flush=True)
    results = {}
    for processes in [int(n) for n in args.processes.split(",")]:
        results[processes] = await measure(seed_dir, tokens, processes, args)
        load = results[processes]
        print(f"{processes} process(es): {len(load.writes)} writes, {len(load.pages)} pages, "
              f"{load.failed} failed", flush=True)  # fmt: skip
    shutil.rmtree(seed_dir, ignore_errors=True)
    base = next(iter(results.values()))
    header = ["processes", "writes", "write p50 ms", "write p99 ms", "÷ first, p50 / p99",
              "dashboard p50 ms", "dashboard p99 ms", "÷ first, p50 / p99", "failed"]  # fmt: skip
    print(markdown_table(header, [row(str(n), load, base) for n, load in results.items()]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--rate", type=float, default=8.3, help="kiosk writes per second")
    parser.add_argument("--tokens", type=int, default=200, help="paired kiosks writing")
    parser.add_argument("--burst", type=int, default=40, help="writes at once in a burst")
    parser.add_argument("--burst-every", type=float, default=15.0)
    parser.add_argument("--page-every", type=float, default=1.0, help="dashboard loads gap")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    args = parser.parse_args()
    args.secret = secrets.token_hex(32)  # a throwaway secret key for the bench's consoles
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
