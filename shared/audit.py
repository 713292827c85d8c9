"""The append-only audit log (SECURITY.md 12): who, what, when (UTC), device.

Never pass passwords, tokens or pickup codes in `detail`.
"""

from __future__ import annotations

import json

import sqlite_utils

from shared.clock import to_iso


def record(
    db: sqlite_utils.Database,
    clock,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict | None = None,
    device: str | None = None,
) -> None:
    db.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail, device) VALUES (?, ?, ?, ?, ?, ?)",
        (
            to_iso(clock.now()),
            actor,
            action,
            target,
            json.dumps(detail or {}, ensure_ascii=False),
            device,
        ),
    )
