"""Keeping personal data only as long as the building says (SECURITY.md 25).

A daily purge removes visits older than `visit_retention_days` together with
everything that repeats their data (the resident notifications about them,
the kiosk feed events, the idempotency records of their kiosk requests), deny
list entries removed that long ago, invitations whose last day (or revocation) is
that long ago (the invited visitor's name and phone), requests held in quarantine (a revoked
kiosk's visits, repair reports with their photos …) received that long ago,
whether staff decided them or not, and photo files older than
`photo_retention_days` (repair photos go by their ticket's received_at, and the
ticket forgets the file), and the personal data of residents who moved out more
than `resident_retention_days` ago (erase_residents: the row stays, as "erased",
so the unit's parcels, visits and messages keep their history). Connections run
with `PRAGMA secure_delete = ON`, so
deleted rows are overwritten, and the WAL is checkpointed so the old pages do
not linger there either.

Idempotency records are kept exactly as long as the record they protect
(SECURITY.md 14): a record goes with its visit, never before it. Records of
other kinds (help calls …) stay with theirs.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlite_utils

from shared import audit, building, delivery, invitations, login_guard, residents
from shared.clock import to_iso
from shared.db import one, write_transaction
from shared.errors import LobbyDeskError, StaleState

log = logging.getLogger(__name__)
PHOTOS_FOLDER = "photos"
TICKET_PHOTOS = "tickets"
_NAMED_PHOTOS = "SELECT photo_path FROM tickets WHERE photo_path IS NOT NULL"
STAFF_SESSIONS_KEPT = timedelta(days=30)
MAX_RETENTION_DAYS = 3650
_CHUNK = 500
ERASED_NAME = "已删除 · erased"


def photos_folder(data_dir: str | Path) -> Path:
    return Path(data_dir) / PHOTOS_FOLDER


def delete_visits(db: sqlite_utils.Database, visits: list[dict]) -> dict:
    """Delete these visits and every copy of their data. Call inside a write transaction.

    `visits` are rows with at least id, kiosk_id and received_at.
    """
    counts = {"visits": 0, "notifications": 0, "kiosk_events": 0, "idempotency_records": 0}
    for start in range(0, len(visits), _CHUNK):
        chunk = visits[start : start + _CHUNK]
        ids = [v["id"] for v in chunk]
        marks = ", ".join("?" * len(ids))
        # Only fixed SQL text and "?" placeholders are joined; values are parameters.
        counts["notifications"] += db.execute(
            f"DELETE FROM notifications WHERE related IN ({marks})",  # noqa: S608
            [f"visit:{i}" for i in ids],
        ).rowcount
        counts["kiosk_events"] += db.execute(
            f"DELETE FROM kiosk_events WHERE json_extract(payload, '$.visit_id') IN ({marks})",  # noqa: S608
            ids,
        ).rowcount
        # The registration answer names the visit by id, received_at and a visit
        # status (which together tell it from a help call's answer, whose status
        # is open/acknowledged/resolved); a sign-out answer by visit_id.
        for visit in chunk:
            counts["idempotency_records"] += db.execute(
                "DELETE FROM idempotency_records WHERE"
                " (kiosk_id IS ? AND json_extract(response_body, '$.id') = ?"
                "  AND json_extract(response_body, '$.received_at') = ?"
                "  AND json_extract(response_body, '$.status')"
                "      IN ('pending', 'confirmed', 'denied', 'signed_out'))"
                " OR json_extract(response_body, '$.visit_id') = ?",
                (visit["kiosk_id"], visit["id"], visit["received_at"], visit["id"]),
            ).rowcount
        counts["visits"] += db.execute(
            f"DELETE FROM visits WHERE id IN ({marks})",  # noqa: S608
            ids,
        ).rowcount
    return counts


def delete_visit_photos(data_dir: str | Path | None, visit_ids) -> int:
    """Photos are stored as DATA_DIR/photos/visit-<id>.<ext>."""
    if data_dir is None:
        return 0
    folder, removed = photos_folder(data_dir), 0
    for visit_id in visit_ids:
        for path in folder.glob(f"visit-{int(visit_id)}.*"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def ticket_photos_folder(data_dir: str | Path) -> Path:
    """Repair photos: DATA_DIR/photos/tickets/<ticket id>.jpg (shared.tickets.photo_folder)."""
    return photos_folder(data_dir) / TICKET_PHOTOS


def purge_photos(data_dir: str | Path | None, now: datetime, days: int) -> int:
    """Delete photo files last written more than `days` days before `now` (repair
    photos go by their ticket instead: purge_ticket_photos)."""
    if data_dir is None or not photos_folder(data_dir).is_dir():
        return 0
    cutoff = (now - timedelta(days=days)).timestamp()
    tickets_folder = ticket_photos_folder(data_dir)
    removed = 0
    for path in photos_folder(data_dir).rglob("*"):
        if tickets_folder in path.parents:
            continue
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def purge_ticket_photos(
    db: sqlite_utils.Database, data_dir: str | Path | None, now: datetime, days: int
) -> int:
    """Repair photos (DATA_DIR/photos/tickets/<id>.jpg) of tickets received more than
    `days` days ago: the file goes and the ticket forgets it. Call inside a write
    transaction."""
    cutoff = to_iso(now - timedelta(days=days))
    old = list(
        db.query(
            "SELECT id, photo_path FROM tickets WHERE photo_path IS NOT NULL AND received_at < ?",
            (cutoff,),
        )
    )
    folder = ticket_photos_folder(data_dir) if data_dir is not None else None
    for ticket in old:
        if folder is not None:
            (folder / Path(ticket["photo_path"]).name).unlink(missing_ok=True)
        db.execute("UPDATE tickets SET photo_path = NULL WHERE id = ?", (ticket["id"],))
    if folder is not None and folder.is_dir():
        # A file no ticket names (its request was rolled back) goes by its age.
        named = {r["photo_path"] for r in db.query(_NAMED_PHOTOS)}
        for path in folder.iterdir():
            if path.is_file() and path.name not in named:
                if path.stat().st_mtime < (now - timedelta(days=days)).timestamp():
                    path.unlink(missing_ok=True)
    return len(old)


def _wipe_addresses(db, resident_id: int, addresses: list[str]) -> int:
    """Messages queued before the roster name no resident, only the address (left
    alone while someone else, say the family's shared mailbox, still uses it)."""
    wiped = 0
    for address in addresses:
        if one(
            db,
            "SELECT 1 FROM resident_channels WHERE address = ? AND resident_id != ?"
            " AND withdrawn_at IS NULL",
            (address, resident_id),
        ):
            continue
        db.execute(
            "UPDATE notifications SET status = 'failed', last_error = ? WHERE resident_id IS NULL"
            " AND recipient = ? AND status = 'pending'",
            (delivery.ERASED, address),
        )
        wiped += db.execute(
            "UPDATE notifications SET recipient = '' WHERE resident_id IS NULL AND recipient = ?",
            (address,),
        ).rowcount
    return wiped


def _erase_resident(db, resident: dict, now: str) -> dict:
    """Everything that names or reaches one resident; the rows that are the building's
    history (messages, attempts, parcels, visits) stay, pointing at an erased row."""
    resident_id = resident["id"]
    delivery.cancel_for_resident(db, resident_id, delivery.ERASED)
    channels = list(
        db.query("SELECT id, address FROM resident_channels WHERE resident_id = ?", (resident_id,))
    )
    messages = 0
    for table in ("notifications", "parcel_notices"):
        # The attempts keep the channel's kind, never its address: the kind is enough.
        messages += db.execute(
            f"UPDATE {table} SET recipient = '', channel_id = NULL WHERE resident_id = ?",  # noqa: S608
            (resident_id,),
        ).rowcount
    for channel in channels:
        db.execute(
            "UPDATE notification_attempts SET channel_id = NULL WHERE channel_id = ?",
            (channel["id"],),
        )
    addresses = [c["address"] for c in channels]
    addresses += [resident[k] for k in ("email", "notify_url") if resident.get(k)]
    messages += _wipe_addresses(db, resident_id, sorted(set(addresses)))
    db.execute("DELETE FROM resident_channels WHERE resident_id = ?", (resident_id,))
    db.execute("DELETE FROM resident_search WHERE resident_id = ?", (resident_id,))
    # The 0014 migration kept an unreadable phone as a unit note that starts with the name.
    db.execute(
        "UPDATE unit_instructions SET text = ?, removed_at = COALESCE(removed_at, ?),"
        " removed_by = COALESCE(removed_by, 'retention')"
        " WHERE created_by = 'migration' AND instr(text, ?) = 1",
        (ERASED_NAME, now, f"{resident['name']} 原电话"),
    )
    db.execute(
        "UPDATE residents SET name = ?, phone = NULL, alt_phone = NULL, email = NULL,"
        " notify_url = NULL, erased_at = ?, updated_at = ? WHERE id = ?",
        (ERASED_NAME, now, now, resident_id),
    )
    return {"resident_channels": len(channels), "messages": messages}


def erase_residents(db: sqlite_utils.Database, clock, resident_ids, *, actor: str) -> dict:
    """Erase moved-out residents' personal data: name, phones, e-mail, contact channels,
    search keys and the addresses their messages went to (PIPL art. 47). One already
    erased is skipped; one still living here is refused (move them out first).
    Returns the counts; each resident's erasure is audited by id."""
    counts = {"residents": 0, "resident_channels": 0, "messages": 0}
    now = to_iso(clock.now())
    with write_transaction(db):
        for resident_id in resident_ids:
            resident = one(db, "SELECT * FROM residents WHERE id = ?", (int(resident_id),))
            if resident is None or resident["erased_at"]:
                continue
            if not resident["moved_out_on"]:
                raise StaleState(
                    "住户仍在住，请先办理迁出 · This resident still lives here: move them out first."
                )
            for key, value in _erase_resident(db, resident, now).items():
                counts[key] += value
            counts["residents"] += 1
            audit.record(
                db,
                clock,
                actor=actor,
                action="resident.erase",
                target=f"resident:{resident['id']}",
                detail={"unit_id": resident["unit_id"], "moved_out_on": resident["moved_out_on"]},
            )
    return counts


def _moved_out_before(db, clock, days: int) -> list[int]:
    """Residents who moved out more than `days` days ago (building dates) and keep data."""
    today = date.fromisoformat(residents.today(db, clock))
    cutoff = (today - timedelta(days=days)).isoformat()
    return [
        row["id"]
        for row in db.query(
            "SELECT id FROM residents WHERE moved_out_on IS NOT NULL AND moved_out_on < ?"
            " AND erased_at IS NULL",
            (cutoff,),
        )
    ]


def purge(db: sqlite_utils.Database, clock, *, data_dir: str | Path | None = None) -> dict:
    """Remove what is past the building's retention periods; returns the counts (audited)."""
    try:
        settings = building.current(db)["settings"]
    except LobbyDeskError:
        return {}  # no building yet: nothing to keep or purge
    now = clock.now()
    visit_cutoff = to_iso(now - timedelta(days=int(settings["visit_retention_days"])))
    with write_transaction(db):
        old = list(
            db.query(
                "SELECT id, kiosk_id, received_at FROM visits WHERE received_at < ?",
                (visit_cutoff,),
            )
        )
        counts = delete_visits(db, old)
        counts["deny_list"] = db.execute(
            "DELETE FROM deny_list WHERE removed_at IS NOT NULL AND removed_at < ?",
            (visit_cutoff,),
        ).rowcount
        # Held requests carry the same personal data as the records they would
        # make; by the age of that data (received_at), decided or not.
        counts["quarantine"] = db.execute(
            "DELETE FROM quarantine WHERE received_at < ?", (visit_cutoff,)
        ).rowcount
        counts["invitations"] = invitations.purge_ended(
            db, clock, int(settings["visit_retention_days"])
        )
        counts["login_failures"] = login_guard.purge_old(db, clock)
        counts["staff_sessions"] = db.execute(
            "DELETE FROM staff_sessions WHERE last_seen_at < ?",
            (to_iso(now - STAFF_SESSIONS_KEPT),),
        ).rowcount
        counts["ticket_photos"] = purge_ticket_photos(
            db, data_dir, now, int(settings["photo_retention_days"])
        )
        counts["photos"] = purge_photos(data_dir, now, int(settings["photo_retention_days"]))
        gone = _moved_out_before(db, clock, int(settings["resident_retention_days"]))
        counts["residents_erased"] = erase_residents(db, clock, gone, actor="system")["residents"]
        audit.record(db, clock, actor="system", action="retention.purge", detail=counts)
    # Move the overwritten pages out of the WAL into the (securely deleted) main file.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts


def last_purge_at(db: sqlite_utils.Database) -> str | None:
    row = next(
        iter(
            db.query(
                "SELECT at FROM audit_log WHERE action = 'retention.purge' ORDER BY id DESC LIMIT 1"
            )
        ),
        None,
    )
    return row["at"] if row else None


def validate_days(value, *, minimum: int = 1) -> int:
    try:
        days = int(str(value).strip())
    except ValueError as error:
        raise ValueError("a whole number of days") from error
    if not minimum <= days <= MAX_RETENTION_DAYS:
        raise ValueError(f"between {minimum} and {MAX_RETENTION_DAYS} days")
    return days


def set_periods(
    db: sqlite_utils.Database, clock, *, visit_days, photo_days, resident_days=None, actor: str
) -> dict[str, int]:
    """Change the building's retention periods (audited with the old and new values);
    a period given as None is left as it is."""
    values = {
        "visit_retention_days": validate_days(visit_days),
        "photo_retention_days": validate_days(photo_days),
    }
    if resident_days is not None:
        values["resident_retention_days"] = validate_days(resident_days)
    building.update_settings(db, clock, values, actor=actor)
    return values
