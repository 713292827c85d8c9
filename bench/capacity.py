"""Capacity: N kiosks long-polling + M staff streams open, and what a kiosk write and a
staff page cost meanwhile, against a bare ping in the same run.

Starts `lobbydesk console` as a real process with default settings (so the load
generator does not share its interpreter), seeds a building, K paired kiosks and a
receptionist, then for each N:

- opens N feed long-polls (`GET /api/v1/feed?wait=25`, round-robin over the K
  kiosk tokens; each answered one is re-polled at once, or after Retry-After
  when the console answers early near capacity) and M staff streams
  (`GET /queue/stream`, read to the end), all from one asyncio process with
  aiohttp: one connection each, no thread each;
- measures, interleaved, `--samples` kiosk writes (`POST /api/v1/escalations`),
  staff pages (`GET /queue/rows`) and bare pings (`GET /api/v1/ping`), each on
  its own keep-alive connection, as a kiosk and a browser hold one. Each call
  is resolved through the desk's own action after it is measured, so every
  page meets a queue of the same size.

    .venv/bin/python bench/capacity.py [--kiosks 0,50,200,500,1000] [--streams 50]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.tokens import new_idempotency_key
from tests.helpers import add_staff, csrf_token, make_app, paired_kiosk
from tests.servers import ConsoleProcess

PASSWORD = "capacity-bench-password"  # a throwaway bench login
CAPACITY_BUILDING = {"name": "容量大厦", "name_en": "Capacity Tower", "floors": 3}
TOKENS = 40  # kiosks whose tokens the long-polls share (pairing is the slow part)


def seed(data_dir: Path, writers: int) -> tuple[list[str], list[str]]:
    """A building, a reception login and kiosks: tokens to long-poll with, and writers'."""
    app = make_app(data_dir, testing=False, building=CAPACITY_BUILDING)
    add_staff(app, "wangfang", password=PASSWORD)  # cheap hash: signing in is not measured
    tokens = [paired_kiosk(app, name=f"K{index}")[1] for index in range(TOKENS + writers)]
    return tokens[:TOKENS], tokens[TOKENS:]


async def sign_in(base: str) -> aiohttp.CookieJar:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        page = await (await session.get(f"{base}/login")).text()
        form = {"username": "wangfang", "password": PASSWORD, "csrf_token": csrf_token(page)}
        answer = await session.post(f"{base}/login", data=form, allow_redirects=False)
        assert answer.status == 302, answer.status
    return jar


class Load:
    """N long-polls and M streams, kept open until stopped."""

    def __init__(self, base, tokens, jar):
        self.base, self.tokens, self.jar = base, tokens, jar
        self.tasks: list[asyncio.Task] = []
        self.early = self.errors = 0
        self.sessions: list[aiohttp.ClientSession] = []

    def _session(self, **kw):
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=60), **kw
        )
        self.sessions.append(session)
        return session

    async def start(self, kiosks_n: int, streams_n: int):
        feeds, staff_session = self._session(), self._session(cookie_jar=self.jar)
        for index in range(kiosks_n):
            self.tasks.append(asyncio.create_task(self._poll(feeds, self.tokens[index % TOKENS])))
        for _ in range(streams_n):
            self.tasks.append(asyncio.create_task(self._stream(staff_session)))
        await asyncio.sleep(2 + kiosks_n / 250)  # let them all connect and park

    async def _poll(self, session, token):
        headers = {"Authorization": f"Bearer {token}"}
        cursor = 0
        while True:
            try:
                params = {"after": cursor, "wait": 25}
                async with session.get(
                    f"{self.base}/api/v1/feed", params=params, headers=headers
                ) as r:
                    body = await r.json()
                    cursor = body.get("cursor", cursor)
                    if "Retry-After" in r.headers:
                        self.early += 1
                        await asyncio.sleep(float(r.headers["Retry-After"]))
            except (aiohttp.ClientError, TimeoutError):
                self.errors += 1
                await asyncio.sleep(1)

    async def _stream(self, session):
        while True:
            try:
                async with session.get(f"{self.base}/queue/stream") as r:
                    async for _ in r.content:
                        pass
            except (aiohttp.ClientError, TimeoutError):
                self.errors += 1
                await asyncio.sleep(1)

    async def stop(self):
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for session in self.sessions:
            await session.close()


async def measure(base, writer_tokens, jar, samples):
    timeout = aiohttp.ClientTimeout(total=60)
    one = {"connector_owner": True, "timeout": timeout}
    kiosk = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1), **one)
    browser = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1), cookie_jar=jar, **one)
    times = {"ping": [], "write": [], "page": []}
    failed = 0
    body = {"kind": "help", "created_at": "2026-11-27T08:59:58+00:00", "language": "zh_CN", "screen": "home"}  # fmt: skip

    async def timed(name, call):
        nonlocal failed
        start = time.perf_counter()
        try:
            async with call() as r:
                await r.read()
                ok = r.status in (200, 201)
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        if ok:
            times[name].append((time.perf_counter() - start) * 1000)
        else:
            failed += 1

    home = await (await browser.get(f"{base}/")).text()
    desk = {"X-CSRF-Token": csrf_token(home), "X-Requested-With": "fetch"}

    async def resolve_calls():
        # the desk deals with each call, so every page meets a queue of the same size
        rows = await (await browser.get(f"{base}/queue/rows")).text()
        for number in set(re.findall(r"/queue/escalations/(\d+)/resolve", rows)):
            url = f"{base}/queue/escalations/{number}/resolve"
            async with browser.post(url, headers=desk) as r:
                await r.read()

    for index in range(samples):
        # a kiosk's burst allowance is 60 writes: spread the writes over several kiosks
        auth = {"Authorization": f"Bearer {writer_tokens[index // 50]}"}
        await timed("ping", lambda auth=auth: kiosk.get(f"{base}/api/v1/ping", headers=auth))
        key = {**auth, "Idempotency-Key": new_idempotency_key()}
        await timed("write", lambda key=key: kiosk.post(f"{base}/api/v1/escalations", json=body, headers=key))  # fmt: skip
        await timed("page", lambda: browser.get(f"{base}/queue/rows"))
        await resolve_calls()
        await asyncio.sleep(0.05)
    await kiosk.close()
    await browser.close()
    return times, failed


def pct(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args):
    levels = [int(n) for n in args.kiosks.split(",")]
    data_dir = Path(tempfile.mkdtemp(prefix="lobbydesk-capacity-"))
    per_level = -(-args.samples // 50)
    poll_tokens, writer_tokens = seed(data_dir, len(levels) * per_level)
    console = ConsoleProcess(data_dir, keep_stderr=False).start()
    base = console.url
    try:
        jar = await sign_in(base)
        print(f"console {base}; {args.streams} staff streams; {args.samples} samples per figure")
        print(
            "kiosks | ping p50/p99 ms | write p50/p99 ms | page p50/p99 ms | failed | early answers"
        )
        for number, level in enumerate(levels):
            writers = writer_tokens[number * per_level : (number + 1) * per_level]
            load = Load(base, poll_tokens, jar)
            await load.start(level, args.streams)
            times, failed = await measure(base, writers, jar, args.samples)
            early = load.early
            await load.stop()
            cells = [f"{statistics.median(times[k]):.1f} / {pct(times[k], 0.99):.1f}" if times[k] else "—"
                     for k in ("ping", "write", "page")]  # fmt: skip
            print(f"{level:6d} | {' | '.join(cells)} | {failed} | {early}", flush=True)
            await asyncio.sleep(1)
    finally:
        console.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", default="0,50,200,500,1000")
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--samples", type=int, default=200)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
