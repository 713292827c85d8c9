"""Schema fuzzing of the kiosk API on a live console: how many 5xx?

Usage: python bench/fuzz_api.py [--examples N]

Starts a console on a temporary folder (as the README says: a building, a paired
kiosk), drives every operation of /api/v1/openapi.json with schemathesis-generated
requests (N per operation, positive and negative data), plus the hostile classes an
outside tester found (ids and cursors beyond SQLite's range, JSON nested 1,000 deep,
lone surrogates, out-of-range numbers, kiosk times of year 1/9999 with an offset,
X-Outbox-Depth "²"), and reports the status codes seen. Exit code 1 on any 5xx.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from shared.tokens import new_idempotency_key
from tests.helpers import make_app, paired_kiosk
from tests.servers import serve

HUGE = str(10**20)
HOSTILE_BODIES = [
    "[" * 1000 + "]" * 1000,
    '{"kind": "help", "created_at": "2026-11-27T08:59:58+00:00", "screen": "\\ud800"}',
    '{"name": "\\udfff", "unit": "101", "created_at": "2026-11-27T08:59:58+00:00"}',
    '{"kind": "help", "created_at": "2026-11-27T08:59:58+00:00", "n": 1e400}',
    '{"kind": "help", "created_at": "0001-01-01T00:00:00+05:00", "screen": "home"}',
    '{"name": "张三", "unit": "101", "created_at": "9999-12-31T23:59:59-05:00"}',
    '{"kind": "dead_letter", "item_kind": "visit", "error": "x", "created_at": "0001-01-01T00:00:00+05:00"}',
]


def _fuzz(operation, auth: dict, examples: int, statuses, failures: list) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy())
    def fuzz(case):
        if (case.headers or {}).get("Idempotency-Key") is not None:
            case.headers["Idempotency-Key"] = new_idempotency_key()
        response = case.call(headers=auth)
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            failures.append(f"{operation.method.upper()} {operation.path}: {response.text[:120]}")

    fuzz()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=300, help="generated cases per operation")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lobbydesk-fuzz-"))
    app = make_app(folder, LONG_POLL_SECONDS=0.2, KIOSK_WRITE_BURST=10**9)
    server = serve(app)
    statuses: collections.Counter = collections.Counter()
    failures: list[str] = []
    started = time.perf_counter()
    try:
        token = paired_kiosk(app, name="fuzz")[1]
        schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")
        schema.config.base_url = f"{server.url}/api/v1"
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in operations:
            auth = {} if operation.path == "/pair" else {"Authorization": f"Bearer {token}"}

            _fuzz(operation, auth, args.examples, statuses, failures)
            path = operation.path.replace("{", "<").replace("}", ">")
            path = re.sub(r"<\w+>", HUGE, path)
            method = operation.method.upper()
            bodies = HOSTILE_BODIES if method == "POST" else [None]
            for body in bodies:
                headers = {**auth, "Idempotency-Key": new_idempotency_key(), "X-Outbox-Depth": "²"}
                if body is not None:
                    headers["Content-Type"] = "application/json"
                for depth in ("²", None):
                    if depth is None:
                        headers.pop("X-Outbox-Depth")
                    response = requests.request(
                        method, f"{server.url}/api/v1{path}", data=body and body.encode(),
                        headers=headers, params={"after": HUGE, "before": HUGE}, timeout=30,
                    )  # fmt: skip
                    statuses[response.status_code] += 1
                    if response.status_code >= 500:
                        failures.append(f"{method} {path} (hostile): {response.text[:120]}")
    finally:
        server.stop()
    total = sum(statuses.values())
    seconds = time.perf_counter() - started
    print(f"{total:,} requests over {len(operations)} operations in {seconds:.0f} s")
    print("status codes:", ", ".join(f"{code}: {n:,}" for code, n in sorted(statuses.items())))
    fives = sum(n for code, n in statuses.items() if code >= 500)
    print(f"5xx: {fives}")
    for failure in failures[:20]:
        print("  ", failure)
    return 1 if fives else 0


if __name__ == "__main__":
    sys.exit(main())
