"""What software each kiosk runs: its version and protocol, as it last said
(the X-Lobbydesk-* headers, shared/protocol.py), and what the kiosks page says
about it.

Written only when it changed, so an ordinary request costs no extra commit.
"""

from __future__ import annotations

import sqlite_utils

from shared import protocol
from shared.db import write_transaction


def record(db: sqlite_utils.Database, kiosk: dict, protocol_number: int, version: str | None):
    """Store what the kiosk announced, if it differs from what is stored."""
    if kiosk.get("protocol") == protocol_number and kiosk.get("software_version") == version:
        return
    with write_transaction(db):
        db.execute(
            "UPDATE kiosks SET protocol = ?, software_version = ? WHERE id = ?",
            (protocol_number, version, kiosk["id"]),
        )


def describe(kiosk: dict) -> dict:
    """For the kiosks page: the version shown, and the problem line in both
    languages when this console cannot serve the kiosk's protocol (else None)."""
    number, version = kiosk.get("protocol"), kiosk.get("software_version")
    shown = version or "?"
    problem = None
    if number is not None and number < protocol.OLDEST_KIOSK_PROTOCOL:
        problem = (
            f"需要更新：终端版本 {shown} 使用协议 {number}，控制台需要 ≥ "
            f"{protocol.OLDEST_KIOSK_PROTOCOL} · Update needed: kiosk version {shown} speaks "
            f"protocol {number}; this console needs {protocol.OLDEST_KIOSK_PROTOCOL} or newer. "
            "它发送的请求在终端上排队，更新后送达 · Its requests wait on the kiosk and are "
            "delivered once it is updated."
        )
    elif number is not None and number > protocol.PROTOCOL_VERSION:
        problem = (
            f"控制台需要升级：终端版本 {shown} 使用协议 {number}，本控制台最高支持 "
            f"{protocol.PROTOCOL_VERSION} · Upgrade the console: kiosk version {shown} speaks "
            f"protocol {number}; this console speaks up to {protocol.PROTOCOL_VERSION}. "
            "它发送的请求在终端上排队 · Its requests wait on the kiosk."
        )
    if version:
        label = f"{version}（协议 {number}）· {version} (protocol {number})"
    elif number is not None:
        label = f"未报告版本（协议 {number}）· Version not reported (protocol {number})"
    else:
        label = "未知（升级后尚未联系）· Unknown (not heard since the upgrade)"
    return {"software_label": label, "update_problem": problem}
