"""Requests about one person (PIPL arts. 44-47, GDPR arts. 15-17; SECURITY.md 26).

A manager finds every record that names one person (by name, by phone, or
both: a record matching either is shown), exports it (JSON or CSV), and
deletes what the person asked to have deleted. Each request is audited with
counts only: the name and phone are the very data being asked about, so they
do not go into the (append-only) audit log.

Repair and complaint tickets recorded at the desk name their reporter (name,
phone) and hold the person's own words (description) and maybe a photo. A
ticket is the building's record of its repairs and complaints (KPIs, SLA), so
"delete" keeps the ticket and erases the person from it: reporter name and phone
cleared, the description replaced by ERASED (also in the work-order messages
that copied it), the photo file deleted.

Residents are found by name, phone or second phone, with their contact channels
(withdrawn ones too: the consent history is theirs), every message to them (by
resident, or by their address for messages older than the roster) and the parcel
proxy entries naming them. A resident who has moved out can be erased from here
(retention.erase_residents); one still living here is moved out first, in
resident management.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import sqlite_utils

from shared import audit, names, phones, retention
from shared.db import write_transaction
from shared.errors import InvalidRequest

KINDS = (
    "visits",
    "deny_list",
    "notifications",
    "residents",
    "resident_channels",
    "parcel_notices",
    "parcel_proxies",
    "tickets",
)
# Residents are changed by the building's own resident management; a moved-out
# one is erased from here (erase_residents). Tickets stay, with the person's
# details erased (erase_tickets).
DELETABLE = ("visits", "deny_list", "tickets")
ERASED = "[已删除 · removed]"


def criteria(name: str = "", phone: str = "") -> dict:
    """Clean what the manager typed: at least one of name and phone."""
    name = names.clean(name) if name and name.strip() else None
    phone = phones.normalise(phone) if phone and phone.strip() else None
    if not (name or phone):
        raise InvalidRequest("请填写姓名或电话 · Give a name, a phone number, or both.")
    return {"name": name, "phone": phone}


def find(db: sqlite_utils.Database, *, name: str | None, phone: str | None) -> dict:
    """Every record naming this person, by kind."""
    by = "(name = ? COLLATE NOCASE OR phone = ?)"
    params = (name or "\x00", phone or "\x00")  # a value no stored row has
    visits = list(
        db.query(
            "SELECT v.*, u.number AS unit_number FROM visits v LEFT JOIN units u"
            " ON u.id = v.unit_id WHERE (v.name = ? COLLATE NOCASE OR v.phone = ?) ORDER BY v.id",
            params,
        )
    )
    deny = list(db.query(f"SELECT * FROM deny_list WHERE {by} ORDER BY id", params))  # noqa: S608
    residents = list(
        db.query(
            "SELECT r.*, u.number AS unit_number FROM residents r JOIN units u ON u.id = r.unit_id"
            " WHERE (r.name = ? COLLATE NOCASE OR r.phone = ? OR r.alt_phone = ?) ORDER BY r.id",
            (*params, params[1]),
        )
    )
    tickets = list(
        db.query(
            "SELECT t.*, u.number AS unit_number FROM tickets t LEFT JOIN units u"
            " ON u.id = t.unit_id WHERE (t.reporter_name = ? COLLATE NOCASE"
            " OR t.reporter_phone = ?) ORDER BY t.id",
            params,
        )
    )
    ids = [r["id"] for r in residents]
    channels = _by_resident(db, "resident_channels", ids)
    addresses = [r[k] for r in residents for k in ("email", "notify_url") if r.get(k)]
    addresses += [c["address"] for c in channels]
    return {
        "visits": visits,
        "deny_list": deny,
        "notifications": _notifications(db, [f"visit:{v['id']}" for v in visits], addresses, ids),
        "residents": residents,
        "resident_channels": channels,
        "parcel_notices": _by_resident(db, "parcel_notices", ids),
        "parcel_proxies": list(
            db.query(f"SELECT * FROM parcel_proxies WHERE {by} ORDER BY id", params)  # noqa: S608
        ),
        "tickets": tickets,
    }


def _by_resident(db, table: str, ids: list[int]) -> list[dict]:
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    return list(
        db.query(
            f"SELECT * FROM {table} WHERE resident_id IN ({marks}) ORDER BY id",  # noqa: S608
            ids,
        )
    )


def _notifications(db, related: list[str], addresses: list[str], resident_ids) -> list[dict]:
    """Messages about their visits, to them as a resident, or to their address (older
    messages name no resident)."""
    clauses, params = [], []
    for column, values in (
        ("related", related),
        ("recipient", addresses),
        ("resident_id", resident_ids),
    ):
        if values:
            clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
            params += values
    if not clauses:
        return []
    where = " OR ".join(clauses)
    return list(
        db.query(f"SELECT * FROM notifications WHERE {where} ORDER BY id", params)  # noqa: S608
    )


def counts(found: dict) -> dict:
    return {kind: len(found[kind]) for kind in KINDS}


def to_json(found: dict) -> str:
    return json.dumps(found, ensure_ascii=False, indent=2, default=str)


def to_csv(found: dict, cell=str) -> str:
    """One CSV: a `record` column (visits, deny_list …) then each kind's own columns.

    `cell` neutralises spreadsheet formulas (console.exports.csv_safe).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for kind in KINDS:
        rows = found[kind]
        if not rows:
            continue
        columns = list(rows[0])
        writer.writerow(["record", *columns])
        for row in rows:
            writer.writerow([kind, *(cell(row[c]) for c in columns)])
        writer.writerow([])
    return buffer.getvalue()


def audit_request(db: sqlite_utils.Database, clock, *, action: str, actor: str, found: dict):
    with write_transaction(db):
        audit.record(db, clock, actor=actor, action=action, detail=counts(found))


def delete(
    db: sqlite_utils.Database,
    clock,
    *,
    name: str | None,
    phone: str | None,
    visit_ids=None,
    deny_ids=None,
    ticket_ids=None,
    actor: str,
    data_dir: str | Path | None = None,
) -> dict:
    """Delete this person's visits (with their notifications, feed events,
    idempotency records and photos) and deny-list entries, and erase them from
    their tickets (erase_tickets).

    `visit_ids` / `deny_ids` / `ticket_ids` narrow the deletion to the rows the
    manager kept ticked (a common name can match other people); only rows that
    match the person are ever touched. Returns the counts, which are audited.
    """
    with write_transaction(db):
        found = find(db, name=name, phone=phone)
        visits = _chosen(found["visits"], visit_ids)
        deny = _chosen(found["deny_list"], deny_ids)
        removed = retention.delete_visits(db, visits)
        removed["deny_list"] = 0
        for entry in deny:
            removed["deny_list"] += db.execute(
                "DELETE FROM deny_list WHERE id = ?", (entry["id"],)
            ).rowcount
        removed["photos"] = retention.delete_visit_photos(data_dir, [v["id"] for v in visits])
        removed.update(erase_tickets(db, _chosen(found["tickets"], ticket_ids), data_dir))
        audit.record(db, clock, actor=actor, action="person.delete", detail=removed)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return removed


def erase_tickets(
    db: sqlite_utils.Database, tickets: list[dict], data_dir: str | Path | None
) -> dict:
    """Erase the person from these tickets; the tickets stay (status, times,
    category, rating: the building's records and KPIs). Call inside a write
    transaction. Returns {"tickets", "ticket_photos", "ticket_notifications"}."""
    counts = {"tickets": 0, "ticket_photos": 0, "ticket_notifications": 0}
    folder = retention.ticket_photos_folder(data_dir) if data_dir is not None else None
    for ticket in tickets:
        description = ticket["description"]
        if description:
            # A work order sent to a department quotes the description on lines
            # of its own (shared.tickets.workflow._queue_for_department).
            quoted = f"\n{description}\n"
            counts["ticket_notifications"] += db.execute(
                "UPDATE notifications SET body = replace(body, ?, ?)"
                " WHERE related = ? AND instr(body, ?) > 0",
                (quoted, f"\n{ERASED}\n", f"ticket:{ticket['id']}", quoted),
            ).rowcount
        counts["tickets"] += db.execute(
            "UPDATE tickets SET reporter_name = NULL, reporter_phone = NULL,"
            " description = CASE WHEN description IS NULL THEN NULL ELSE ? END,"
            " photo_path = NULL WHERE id = ?",
            (ERASED, ticket["id"]),
        ).rowcount
        if ticket["photo_path"] and folder is not None:
            photo = folder / Path(ticket["photo_path"]).name
            if photo.is_file():
                photo.unlink()
                counts["ticket_photos"] += 1
    return counts


def erase_residents(
    db: sqlite_utils.Database, clock, *, name: str | None, phone: str | None, resident_ids, actor
) -> dict:
    """Erase the ticked residents who match this person and have moved out (one still
    living here is refused: retention.erase_residents). Returns the counts (audited)."""
    with write_transaction(db):
        found = find(db, name=name, phone=phone)
        chosen = [r["id"] for r in _chosen(found["residents"], resident_ids) if not r["erased_at"]]
        counts = retention.erase_residents(db, clock, chosen, actor=actor)
        audit.record(db, clock, actor=actor, action="person.erase_residents", detail=counts)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts


def _chosen(rows: list[dict], ids) -> list[dict]:
    if ids is None:
        return rows
    wanted = {int(i) for i in ids}
    return [row for row in rows if row["id"] in wanted]
