"""What waits for a person at the desk, for the badge on every staff page.

"Waiting" is what the live queue (console/queue.py) shows as needing someone: help
calls and other escalations no one has answered yet ("on my way" stops the clock, as
on the queue), visitors to verify, kiosk pickups to hand over, and refused kiosk
requests. It is fetched by every open staff tab on every queue change, so it reads
ids and times only (no hosts, parcels or request bodies); tests/test_attention.py
holds it to the queue page's own rows so the two cannot drift apart.
"""

from __future__ import annotations

import sqlite_utils

from shared import escalations, quarantine, queue_order, terms
from shared.clock import to_iso

ITEMS_SENT = 50  # the oldest few go to the page (for its clocks and chimes); all are counted

_KIND_LABELS = terms.labels("escalation_kind")
_SOS_LABELS = terms.labels("sos_screen")
_TYPE_LABELS = {
    "visit": "访客登记 · Visitor",
    "handover": "快递待交付 · Parcel handover",
    "refused": "终端请求未能保存 · A kiosk request was refused",
}


def _item(kind: str, row: dict, label: str, where: str | None, emergency=False) -> dict:
    key = f"{kind}-{row['id']}"
    return {
        "key": key,
        "anchor": f"item-{key}",  # the row's id on the queue page (queue/_rows.html)
        "type": kind,
        "received_at": row["received_at"],
        "label": label,
        "where": where or "",
        "emergency": emergency,
    }


def _escalations(db) -> list[dict]:
    # An emergency is what the queue puts first (shared/queue_order.py), so the badge
    # and the queue agree on a help call from the kiosk's emergency screens too.
    return [
        _item(
            "escalation",
            row,
            _SOS_LABELS.get(row["screen"]) or _KIND_LABELS.get(row["kind"], row["kind"]),
            row["kiosk_name"],
            emergency=queue_order.priority({**row, "type": "escalation"}) == queue_order.EMERGENCY,
        )
        for row in escalations.live_queue(db)
        if row["acknowledged_at"] is None
    ]


def _visits(db) -> list[dict]:
    # The same rows as visitors.pending(), without the hosts and instructions it adds.
    rows = db.query(
        "SELECT v.id, v.received_at, u.number AS unit_number FROM visits v"
        " LEFT JOIN units u ON u.id = v.unit_id WHERE v.status = 'pending'"
    )
    return [_item("visit", r, _TYPE_LABELS["visit"], r["unit_number"]) for r in rows]


def _handovers(db) -> list[dict]:
    # The same rows as parcels.open_handovers(), without their parcels.
    rows = db.query(
        "SELECT h.id, h.received_at, u.number AS unit_number FROM parcel_handovers h"
        " JOIN units u ON u.id = h.unit_id WHERE h.status = 'open'"
    )
    return [_item("handover", r, _TYPE_LABELS["handover"], r["unit_number"]) for r in rows]


def _refused(db) -> list[dict]:
    # The rows quarantine.refused_waiting() gives the queue, without their bodies.
    rows = db.query(
        "SELECT q.id, q.received_at, k.name AS kiosk_name FROM quarantine q"
        " JOIN kiosks k ON k.id = q.kiosk_id"
        " WHERE q.reason = 'refused' AND q.status = 'held' ORDER BY q.id LIMIT ?",
        (quarantine.REFUSED_SHOWN,),
    )
    return [_item("refused", r, _TYPE_LABELS["refused"], r["kiosk_name"]) for r in rows]


def summary(db: sqlite_utils.Database, clock) -> dict:
    """The number waiting, how many are emergencies, and the oldest items (emergencies
    first, then by arrival) with the console's time, so pages tick the clock locally."""
    items = _escalations(db) + _visits(db) + _handovers(db)
    refused = _refused(db)
    # Refused requests beyond those the queue loads still wait: it counts them too.
    count = len(items) + max(len(refused), quarantine.refused_count(db))
    items += refused
    items.sort(key=lambda item: (not item["emergency"], item["received_at"], item["key"]))
    return {
        "count": count,
        "emergencies": sum(1 for item in items if item["emergency"]),
        "items": items[:ITEMS_SENT],
        "server_now": to_iso(clock.now()),
        "warning_seconds": escalations.WARNING_FROM_SECONDS,
        "standard_seconds": escalations.RESPONSE_STANDARD_SECONDS,
    }
