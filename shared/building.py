"""The building and its settings, declared once with defaults."""

from __future__ import annotations

import json

import sqlite_utils

from shared import audit
from shared.db import one, write_transaction
from shared.errors import LobbyDeskError

SETTING_DEFAULTS = {
    "visit_retention_days": 90,
    "photo_retention_days": 30,
    # A resident's name, phones and contact channels are erased this many days after
    # they moved out (their unit's parcels and visits stay).
    "resident_retention_days": 365,
    "visitor_phone_required": False,
    "visitor_photo_enabled": False,
    "notify_host_on_confirm": True,
    "auto_sign_out_time": "23:00",  # building time; confirmed visitors still on site are signed out
    "directions_zh": "请乘电梯上楼。离开时请在终端签退。",
    "directions_en": "Please take the lift up. Sign out at the kiosk when you leave.",
    # Parcels: a pickup code (and its QR) works this many days after the unit's latest
    # parcel; residents are reminded these many days after the oldest waiting one;
    # self-service: residents take parcels from the shelf, else the desk hands them over.
    "parcel_code_valid_days": 14,
    "parcel_reminder_days": [1, 3],
    "parcel_self_service": False,
    # Repairs and complaints: minutes to resolve by urgency (the SLA clock runs from
    # received_at), and the departments a ticket can be assigned to; notify_url is an
    # apprise URL (or mailto:) told when a ticket is assigned there.
    "ticket_sla_minutes": {"emergency": 15, "urgent": 240, "normal": 4320},
    "ticket_contacts": [
        {"key": "maintenance", "name_zh": "工程维修部", "name_en": "Maintenance", "notify_url": ""},
        {"key": "cleaning", "name_zh": "保洁部", "name_en": "Cleaning", "notify_url": ""},
        {"key": "security", "name_zh": "秩序维护部", "name_en": "Security", "notify_url": ""},
        {
            "key": "customer_service",
            "name_zh": "客服部",
            "name_en": "Customer service",
            "notify_url": "",
        },
    ],
}


class UnknownUnit(LobbyDeskError):
    """没有这个房号，请核对或呼叫前台 · There is no such unit in this building. Check the number or call reception."""

    code = "unknown_unit"
    http_status = 422


def exists(db: sqlite_utils.Database) -> bool:
    """Whether `lobbydesk admin init-building` has been run on this database."""
    return one(db, "SELECT id FROM buildings ORDER BY id LIMIT 1") is not None


def current(db: sqlite_utils.Database) -> dict:
    """The (single) building with its settings merged over the defaults."""
    row = one(db, "SELECT * FROM buildings ORDER BY id LIMIT 1")
    if row is None:
        raise LobbyDeskError("No building yet: run `lobbydesk admin init-building`.")
    return {**row, "settings": {**SETTING_DEFAULTS, **json.loads(row["settings"] or "{}")}}


def unit_by_number(db: sqlite_utils.Database, number) -> dict:
    """The unit in use a person named: its label ("3-1-1201") or its keypad code."""
    from shared import units

    return units.lookup(db, number)


def residents_of(db: sqlite_utils.Database, unit_id: int) -> list[dict]:
    """Who lives there now: the hosts shown to reception and the people messages go to.
    Moved-out residents are not among them."""
    from shared import residents

    return residents.active_of(db, unit_id)


def update_settings(
    db: sqlite_utils.Database, clock, values: dict, *, actor: str, shown=None
) -> dict:
    """Store `values` over the building's settings; what changed is audited once
    ("settings.change", each key's old and new value). `shown(value)` is what the log
    keeps of a value (a notify URL may hold a token). Returns the changes; nothing is
    written when nothing changed. The one writer of building settings."""
    shown = shown or (lambda value: value)
    with write_transaction(db):
        current_building = current(db)
        row = one(db, "SELECT settings FROM buildings WHERE id = ?", (current_building["id"],))
        stored = json.loads(row["settings"] or "{}")  # without the defaults: only what was set
        changes = {
            key: {"from": shown(current_building["settings"].get(key)), "to": shown(value)}
            for key, value in values.items()
            if current_building["settings"].get(key) != value
        }
        if changes:
            db.execute(
                "UPDATE buildings SET settings = ? WHERE id = ?",
                (json.dumps({**stored, **values}, ensure_ascii=False), current_building["id"]),
            )
            audit.record(
                db,
                clock,
                actor=actor,
                action="settings.change",
                target=f"building:{current_building['id']}",
                detail=changes,
            )
    return changes
