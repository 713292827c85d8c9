"""Invitations kept, revoked, listed and turned into passes (docs/INVITATIONS.md)."""

from __future__ import annotations

import io
import secrets
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlite_utils

from shared import audit, building, emergency_broadcast, pass_signing, residents, terms
from shared.clock import to_iso
from shared.db import one, write_transaction
from shared.errors import NotFound, StaleState
from shared.invitations import fields as rules

STATE_LABELS = terms.labels("invitation_state")
_SELECT = (
    "SELECT i.*, u.number AS unit_number, r.name AS host_name FROM invitations i"
    " JOIN units u ON u.id = i.unit_id LEFT JOIN residents r ON r.id = i.host_resident_id"
)


def building_today(db: sqlite_utils.Database, clock) -> date:
    """Today's date in the building's time zone: what a pass's dates are read against."""
    zone = ZoneInfo(building.current(db)["timezone"])
    return clock.now().astimezone(zone).date()


def create(
    db: sqlite_utils.Database, clock, *, host_resident_id: int, fields: dict, actor: str
) -> int:
    """A new invitation from the resident (actor "resident:<id>") or the desk on their
    behalf ("staff:<id>"). The host must live in the building now. Returns its id."""
    host = residents.get(db, host_resident_id)  # NotFound for an unknown id
    if host["moved_out_on"]:
        raise rules.InvalidInvitation(
            "这位住户已迁出 · This resident has moved out.", "host_resident_id"
        )
    settings = building.current(db)["settings"]
    row = rules.clean(
        fields,
        today=building_today(db, clock),
        phone_required=settings["visitor_phone_required"],
    )
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO invitations (unit_id, host_resident_id, visitor_name, visitor_phone,"
            " party_size, purpose, kind, starts_on, ends_on, weekdays, note, nonce, created_by,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (host["unit_id"], host_resident_id, row["visitor_name"], row["visitor_phone"],
             row["party_size"], row["purpose"], row["kind"], row["starts_on"], row["ends_on"],
             row["weekdays"], row["note"], secrets.randbits(32), actor, to_iso(clock.now())),
        )  # fmt: skip
        invitation_id = cursor.lastrowid
        # ids and kind only: the visitor's name stays in the row, not the lasting log
        audit.record(
            db, clock, actor=actor, action="invitation.create",
            target=f"invitation:{invitation_id}", detail={"kind": row["kind"]},
        )  # fmt: skip
    return invitation_id


def get(db: sqlite_utils.Database, invitation_id: int) -> dict:
    row = one(db, _SELECT + " WHERE i.id = ?", (invitation_id,))
    if row is None:
        raise NotFound(f"没有这条预约 · Invitation {invitation_id} does not exist.")
    return row


def revoke(db: sqlite_utils.Database, clock, invitation_id: int, *, actor: str) -> None:
    """Cancel the invitation at once: its pass is refused from now on, at the console and
    (through every kiosk's feed) at kiosks that are offline when it is scanned."""
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE invitations SET status = 'revoked', revoked_at = ?, revoked_by = ?"
            " WHERE id = ? AND status = 'active'",
            (to_iso(clock.now()), actor, invitation_id),
        )
        if cursor.rowcount != 1:
            get(db, invitation_id)  # NotFound first
            raise StaleState(f"这条预约已取消 · Invitation {invitation_id} is already revoked.")
        emergency_broadcast.to_every_kiosk(
            db, clock, "invitation.revoked", {"invitation_id": invitation_id}
        )
        audit.record(
            db, clock, actor=actor, action="invitation.revoke", target=f"invitation:{invitation_id}"
        )


def revoked_ids(db: sqlite_utils.Database, today: date) -> list[int]:
    """Revoked invitations whose pass has not expired yet: what a kiosk must refuse."""
    rows = db.query(
        "SELECT id FROM invitations WHERE status = 'revoked' AND ends_on >= ? ORDER BY id",
        (today.isoformat(),),
    )
    return [row["id"] for row in rows]


def list_for_resident(db: sqlite_utils.Database, resident_id: int) -> list[dict]:
    """The resident's invitations, newest first (their page lists and revokes these)."""
    return list(
        db.query(_SELECT + " WHERE i.host_resident_id = ? ORDER BY i.id DESC", (resident_id,))
    )


def search(
    db: sqlite_utils.Database, *, text: str = "", day: str = "", limit: int = 100
) -> list[dict]:
    """The desk's search: by host unit, visitor or host name (part of it), and/or a date
    on which the invitation is valid (weekdays of recurring ones checked after)."""
    where, params = [], []
    text = " ".join(str(text).split())[:40]
    if text:
        where.append("(u.number = ? COLLATE NOCASE OR i.visitor_name LIKE ? OR r.name LIKE ?)")
        params += [text, f"%{text}%", f"%{text}%"]
    if day:
        where.append("i.starts_on <= ? AND i.ends_on >= ?")
        params += [day, day]
    # The clauses are fixed strings; every value is a parameter.
    where_sql = " WHERE " + " AND ".join(where) if where else ""
    rows = list(db.query(f"{_SELECT}{where_sql} ORDER BY i.id DESC LIMIT ?", [*params, limit]))
    if day:
        wanted = date.fromisoformat(day)
        rows = [row for row in rows if rules.valid_on(row, wanted)]
    return rows


def _state(invitation: dict, visit: dict | None) -> str:
    if visit is None:
        return "revoked" if invitation["status"] == "revoked" else "expected"
    return {"pending": "waiting", "signed_out": "left"}.get(visit["status"], "arrived")


def expected_on(db: sqlite_utils.Database, day: date) -> list[dict]:
    """Everyone invited for this building date, each with `state` (expected, waiting,
    arrived, left, revoked) and the visit it became, if any."""
    rows = search(db, day=day.isoformat(), limit=1000)
    for row in rows:
        visit = one(
            db,
            "SELECT v.id, v.status, v.received_at, v.deny_match FROM invitation_uses x"
            " JOIN visits v ON v.id = x.visit_id WHERE x.invitation_id = ? AND x.day = ?",
            (row["id"], day.isoformat()),
        )
        row["visit"] = visit
        row["state"] = _state(row, visit)
    rows.sort(key=lambda row: (row["state"] != "expected", row["unit_number"], row["id"]))
    return rows


# -- the pass ---------------------------------------------------------------------------


def signing_key(data_dir_or_key):
    """The building's private key from the console's data folder, or the key itself."""
    if isinstance(data_dir_or_key, str | Path):
        return pass_signing.load_or_create_key(data_dir_or_key)
    return data_dir_or_key


def pass_expiry(db: sqlite_utils.Database, invitation: dict) -> datetime:
    """Local midnight after the last valid date: the pass is good all that day."""
    zone = ZoneInfo(building.current(db)["timezone"])
    last = date.fromisoformat(invitation["ends_on"]) + timedelta(days=1)
    return datetime.combine(last, time(0, 0), zone)


def pass_text(db: sqlite_utils.Database, data_dir_or_key, invitation_id: int) -> str:
    """The signed pass: ids and validity, nothing personal (shared/pass_signing.py)."""
    invitation = get(db, invitation_id)
    claims = pass_signing.PassClaims(
        building_id=building.current(db)["id"],
        invitation_id=invitation_id,
        nonce=invitation["nonce"],
        expires_at=pass_expiry(db, invitation),
    )
    return pass_signing.sign(signing_key(data_dir_or_key), claims)


def pass_png(db: sqlite_utils.Database, data_dir_or_key, invitation_id: int) -> bytes:
    """The pass as a QR image to forward (WeChat, SMS, e-mail) or print."""
    import qrcode

    image = qrcode.make(
        pass_text(db, data_dir_or_key, invitation_id),
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=8,
        border=4,
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def purge_ended(db: sqlite_utils.Database, clock, days: int) -> int:
    """Delete invitations (the visitor's name and phone with them) whose last day, or
    whose revocation, is more than `days` ago: the visit retention period. Their use
    rows go too, and a visit still kept forgets which invitation it came by. Call
    inside a write transaction; returns how many invitations went."""
    last_day = (building_today(db, clock) - timedelta(days=days)).isoformat()
    revoked_before = to_iso(clock.now() - timedelta(days=days))
    ids = [
        row["id"]
        for row in db.query(
            "SELECT id FROM invitations WHERE ends_on < ?"
            " OR (status = 'revoked' AND revoked_at < ?)",
            (last_day, revoked_before),
        )
    ]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        # Only fixed SQL text and "?" placeholders are joined; values are parameters.
        forget = f"UPDATE visits SET invitation_id = NULL WHERE invitation_id IN ({marks})"  # noqa: S608
        db.execute(forget, chunk)
        db.execute(f"DELETE FROM invitation_uses WHERE invitation_id IN ({marks})", chunk)  # noqa: S608
        db.execute(f"DELETE FROM invitations WHERE id IN ({marks})", chunk)  # noqa: S608
    return len(ids)
