"""Visitor registration, identity confirmation, sign-out (S2, S3, S10).

A visitor registers at the kiosk; reception confirms the identity (ID checked,
or the host confirmed by phone) or denies entry; the kiosk learns the outcome
through its feed and shows a signed pass QR used to sign out.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from shared import audit, building, feed, kiosk_time, names, notifications, phones, signing, terms
from shared.clock import local_day_start, to_iso
from shared.db import one, write_transaction

# The deny list lives in its own module; its functions stay reachable here, where
# callers have always found them (visitors.add_to_deny_list …).
from shared.deny_list import add_to_deny_list, deny_list, deny_match, remove_from_deny_list  # noqa: F401
from shared.errors import InvalidRequest, LobbyDeskError, NotFound, StaleState
from shared.rate_limit import RateLimited

PURPOSES = ("visit", "delivery", "contractor", "interview", "other")
PURPOSE_LABELS = terms.labels("visit_purpose")  # the kiosk's purpose chips say these too
DECISIONS = {"confirm_id": "confirmed", "confirm_host": "confirmed", "deny": "denied"}
DECISION_LABELS = {
    "confirm_id": "已核验证件 · ID checked",
    "confirm_host": "住户电话确认 · Host confirmed by phone",
    "deny": "拒绝 · Denied",
}
SIGN_OUT_METHODS = ("kiosk_pass", "kiosk_phone", "staff", "auto")
MAX_PARTY_SIZE = 10
PASS_VALID_FOR = timedelta(hours=24)


class ReturningVisitorUnknown(LobbyDeskError):
    """没有找到这个手机号的来访记录，请输入姓名 · We have no earlier visit with this phone number. Please enter your name."""

    code = "returning_visitor_unknown"
    http_status = 404


class PhoneRequired(LobbyDeskError):
    """本楼要求每位访客登记手机号 · This building asks every visitor for a mobile number."""

    code = "phone_required"
    http_status = 400


class NotOnSite(LobbyDeskError):
    """没有找到在场的访客，请联系前台 · No visitor with this pass or number is on site. Please see reception."""

    code = "not_on_site"
    http_status = 404


class LookupLimited(RateLimited):
    """Too many returning-visitor look-ups from one kiosk (console/limits.py)."""

    template = (
        "查询太频繁，请输入姓名，或 {seconds} 秒后再试 · Too many look-ups at this kiosk: "
        "enter your name, or try again in {seconds} s."
    )


class SignOutLimited(RateLimited):
    """Too many sign-outs by phone from one kiosk (console/limits.py)."""

    template = (
        "按手机号签退太频繁，请扫描通行证或 {seconds} 秒后再试 · Too many sign-outs by "
        "phone at this kiosk: scan your pass, or try again in {seconds} s."
    )


def validate_registration(body, settings: dict) -> dict:
    """The kiosk's POST /api/v1/visits body, checked field by field."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    allowed = {
        "name",
        "phone",
        "returning",
        "unit",
        "purpose",
        "party_size",
        "language",
        "created_at",
    }
    unknown = set(body) - allowed
    if unknown:
        raise InvalidRequest(f"unexpected fields: {', '.join(sorted(unknown))}")
    returning = body.get("returning", False)
    if not isinstance(returning, bool):
        raise InvalidRequest("returning must be true or false")
    phone = body.get("phone")
    phone = phones.normalise(phone) if phone not in (None, "") else None
    if returning and not phone:
        raise InvalidRequest("a returning visitor is found by phone")
    if phone is None and settings["visitor_phone_required"]:
        raise PhoneRequired()
    name = None if returning else names.clean(body.get("name"))
    purpose = body.get("purpose", "visit")
    if purpose not in PURPOSES:
        raise InvalidRequest(f"purpose must be one of {', '.join(PURPOSES)}")
    party = body.get("party_size", 1)
    if not isinstance(party, int) or isinstance(party, bool) or not 1 <= party <= MAX_PARTY_SIZE:
        raise InvalidRequest(f"party_size must be 1-{MAX_PARTY_SIZE}")
    language = body.get("language", "zh_CN")
    if language not in ("zh_CN", "en"):
        raise InvalidRequest("language must be zh_CN or en")
    created_at = body.get("created_at")
    kiosk_time.parse(created_at)  # only its form: its plausibility is flagged, never refused
    return {
        "name": name,
        "phone": phone,
        "returning": returning,
        "unit": body.get("unit"),
        "purpose": purpose,
        "party_size": party,
        "language": language,
        "created_at": created_at,
    }


def previous_name(db: sqlite_utils.Database, phone: str) -> str | None:
    row = one(db, "SELECT name FROM visits WHERE phone = ? ORDER BY id DESC LIMIT 1", (phone,))
    return row["name"] if row else None


def lookup_returning(
    db: sqlite_utils.Database, phone_text: str, clock=None, *, kiosk_id: int | None = None
) -> dict:
    """For the kiosk: is this a known visitor? Only a masked name leaves the console
    (first character + "**"). With a clock, the look-up is audited: who asked and
    whether it found someone, never the number."""
    name = previous_name(db, phones.normalise(phone_text))
    if clock is not None:
        with write_transaction(db):
            audit.record(
                db,
                clock,
                actor=f"kiosk:{kiosk_id}",
                action="visitor.lookup",
                detail={"found": name is not None},
            )
    return {"found": name is not None, "masked_name": names.mask(name) if name else None}


def last_visit(db: sqlite_utils.Database, phone_text: str) -> dict:
    """For a returning visitor's one-tap "same as last time?": the host unit and purpose
    of this phone's latest visit (the person typing the number already knows them;
    no name, no time). Empty when the phone has never visited."""
    row = one(
        db,
        "SELECT units.number AS unit, visits.purpose FROM visits"
        " JOIN units ON units.id = visits.unit_id WHERE visits.phone = ?"
        " ORDER BY visits.id DESC LIMIT 1",
        (phones.normalise(phone_text),),
    )
    if row is None or not row["unit"]:
        return {}
    return {"last_unit": row["unit"], "last_purpose": row["purpose"]}


def register(db: sqlite_utils.Database, clock, *, kiosk_id: int | None, body: dict) -> dict:
    """Record a registration. Call inside the API's write transaction."""
    current = building.current(db)
    fields = validate_registration(body, current["settings"])
    unit = building.unit_by_number(db, fields["unit"])
    name = fields["name"]
    if fields["returning"]:
        name = previous_name(db, fields["phone"])
        if name is None:
            raise ReturningVisitorUnknown()
    now = clock.now()
    sent = kiosk_time.judge(fields["created_at"], now)
    cursor = db.execute(
        "INSERT INTO visits (kiosk_id, unit_id, name, phone, purpose, party_size, status,"
        " created_at, received_at, deny_match, is_returning, language, clock_doubtful)"
        " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)",
        (
            kiosk_id,
            unit["id"],
            name,
            fields["phone"],
            fields["purpose"],
            fields["party_size"],
            sent.stored,
            to_iso(now),
            deny_match(db, name, fields["phone"]),
            int(fields["returning"]),
            fields["language"],
            int(sent.doubtful),
        ),
    )
    visit = get(db, cursor.lastrowid)
    audit.record(
        db, clock, actor=f"kiosk:{kiosk_id}", action="visit.register", target=f"visit:{visit['id']}"
    )
    return visit


def get(db: sqlite_utils.Database, visit_id: int) -> dict:
    row = one(
        db,
        "SELECT v.*, u.number AS unit_number FROM visits v LEFT JOIN units u ON u.id = v.unit_id"
        " WHERE v.id = ?",
        (visit_id,),
    )
    if row is None:
        raise NotFound(f"visit {visit_id} does not exist")
    return row


def pass_token(secret_key: str, visit: dict, now: datetime) -> str:
    """The visitor pass QR: the visit id, signed; no name, phone or unit in it."""
    return signing.sign(secret_key, signing.VISITOR_PASS, {"v": visit["id"]}, now + PASS_VALID_FOR)


def decide(
    db: sqlite_utils.Database,
    clock,
    visit_id: int,
    *,
    decision: str,
    staff_id: int,
    secret_key: str,
    reason: str = "",
) -> dict:
    """Confirm (ID checked / host confirmed) or deny a pending visit, exactly once."""
    if decision not in DECISIONS:
        raise InvalidRequest(f"decision must be one of {', '.join(DECISIONS)}")
    reason = " ".join(reason.split())[:200]
    if decision == "deny" and not reason:
        raise InvalidRequest("请填写拒绝原因 · Give a reason for the denial.")
    now = clock.now()
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE visits SET status = ?, decided_at = ?, decided_by = ?, decision_method = ?,"
            " deny_reason = ? WHERE id = ? AND status = 'pending'",
            (DECISIONS[decision], to_iso(now), staff_id, decision, reason or None, visit_id),
        )
        visit = get(db, visit_id)
        if cursor.rowcount != 1:
            raise StaleState(f"visit {visit_id} was already {visit['status']}")
        settings = building.current(db)["settings"]
        if visit["kiosk_id"]:
            feed.append(
                db,
                clock,
                visit["kiosk_id"],
                f"visit.{DECISIONS[decision]}",
                _kiosk_outcome(visit, settings, secret_key, now),
            )
        if decision != "deny" and settings["notify_host_on_confirm"]:
            _notify_host(db, clock, visit)
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action=f"visit.{decision}",
            target=f"visit:{visit_id}",
            # the free-text reason stays in the visit row (purged with it), not in
            # the audit log, which outlives retention
            detail={"with_reason": bool(reason)},
        )
    return visit


def _kiosk_outcome(visit: dict, settings: dict, secret_key: str, now: datetime) -> dict:
    outcome = {"visit_id": visit["id"]}
    if visit["status"] == "confirmed":
        outcome.update(
            pass_token=pass_token(secret_key, visit, now),
            unit=visit["unit_number"],
            directions_zh=settings["directions_zh"],
            directions_en=settings["directions_en"],
        )
    return outcome


def _notify_host(db: sqlite_utils.Database, clock, visit: dict) -> None:
    party = f"（共 {visit['party_size']} 人）" if visit["party_size"] > 1 else ""
    party_en = f" (party of {visit['party_size']})" if visit["party_size"] > 1 else ""
    subject = f"访客已到达 · Your visitor has arrived: {visit['name']}"
    body = (
        f"您好，访客 {visit['name']}{party} 已在大堂登记并经前台确认，正前往 {visit['unit_number']}。\n"
        f"来访事由：{PURPOSE_LABELS[visit['purpose']]}\n\n"
        f"Hello, your visitor {visit['name']}{party_en} has signed in at the lobby, was confirmed by "
        f"reception and is on the way to {visit['unit_number']}.\n"
    )
    for resident in building.residents_of(db, visit["unit_id"]):
        notifications.enqueue_for_resident(
            db,
            clock,
            resident,
            kind="visitor.arrived",
            subject=subject,
            body=body,
            related=f"visit:{visit['id']}",
        )
    db.execute(
        "UPDATE visits SET host_notified_at = ? WHERE id = ?", (to_iso(clock.now()), visit["id"])
    )


def sign_out(db: sqlite_utils.Database, clock, visit_id: int, *, method: str, actor: str) -> dict:
    if method not in SIGN_OUT_METHODS:
        raise InvalidRequest(f"method must be one of {', '.join(SIGN_OUT_METHODS)}")
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE visits SET status = 'signed_out', signed_out_at = ?, sign_out_method = ?"
            " WHERE id = ? AND status = 'confirmed'",
            (to_iso(clock.now()), method, visit_id),
        )
        if cursor.rowcount != 1:
            raise NotOnSite()
        audit.record(
            db,
            clock,
            actor=actor,
            action="visit.sign_out",
            target=f"visit:{visit_id}",
            detail={"method": method},
        )
    return get(db, visit_id)


def sign_out_by_pass(db, clock, secret_key: str, token: str, *, kiosk_id: int) -> dict:
    payload = signing.verify(secret_key, signing.VISITOR_PASS, token, clock.now())
    visit_id = payload.get("v")
    if not isinstance(visit_id, int):
        raise signing.TokenInvalid()
    return sign_out(db, clock, visit_id, method="kiosk_pass", actor=f"kiosk:{kiosk_id}")


def sign_out_by_phone(db, clock, phone_text: str, *, kiosk_id: int) -> dict:
    """Only a visit still on site: confirmed, not signed out, received since the start
    of today in the building's time zone. Anything else — an unknown number, a visit
    pending, denied, signed out or from an earlier day — is the same NotOnSite (404),
    so the answer never says whether a number is a visitor's."""
    phone = phones.normalise(phone_text)
    current = building.current(db)
    today = clock.now().astimezone(ZoneInfo(current["timezone"])).date().isoformat()
    row = one(
        db,
        "SELECT id FROM visits WHERE phone = ? AND status = 'confirmed' AND received_at >= ?"
        " ORDER BY id DESC LIMIT 1",
        (phone, local_day_start(today, current["timezone"])),
    )
    if row is None:
        raise NotOnSite()
    return sign_out(db, clock, row["id"], method="kiosk_phone", actor=f"kiosk:{kiosk_id}")


def auto_sign_out(db: sqlite_utils.Database, clock) -> int:
    """Sign out everyone still on site once the building's sign-out time has passed today.

    Only visits received before today's cut-off are touched, so someone who
    arrives at 23:30 is not signed out at once by the 23:00 rule.
    """
    current = building.current(db)
    zone = ZoneInfo(current["timezone"])
    local_now = clock.now().astimezone(zone)
    hour, minute = (int(part) for part in current["settings"]["auto_sign_out_time"].split(":"))
    cutoff = datetime.combine(local_now.date(), time(hour, minute), zone)
    if local_now < cutoff:
        cutoff -= timedelta(days=1)  # before today's time: yesterday's cut-off applies
    with write_transaction(db):
        due = [
            r["id"]
            for r in db.query(
                "SELECT id FROM visits WHERE status = 'confirmed' AND received_at < ?",
                (to_iso(cutoff),),
            )
        ]
        for visit_id in due:
            db.execute(
                "UPDATE visits SET status = 'signed_out', signed_out_at = ?, sign_out_method = 'auto'"
                " WHERE id = ? AND status = 'confirmed'",
                (to_iso(clock.now()), visit_id),
            )
            audit.record(
                db,
                clock,
                actor="system",
                action="visit.sign_out",
                target=f"visit:{visit_id}",
                detail={"method": "auto"},
            )
    return len(due)


def pending(db: sqlite_utils.Database) -> list[dict]:
    """Visitors waiting for reception, oldest first, each with whom to call (the unit's
    active residents) and what the desk must know (its standing instructions: a "do
    not admit" is read before anyone is let up)."""
    from shared import residents

    rows = list(
        db.query(
            "SELECT v.*, u.number AS unit_number, k.name AS kiosk_name FROM visits v"
            " LEFT JOIN units u ON u.id = v.unit_id LEFT JOIN kiosks k ON k.id = v.kiosk_id"
            " WHERE v.status = 'pending' ORDER BY v.received_at, v.id"
        )
    )
    for row in rows:
        unit_id = row["unit_id"]
        row["hosts"] = building.residents_of(db, unit_id) if unit_id else []
        row["instructions"] = residents.instructions_of(db, unit_id) if unit_id else []
    return rows


def on_site(db: sqlite_utils.Database) -> list[dict]:
    return list(
        db.query(
            "SELECT v.*, u.number AS unit_number FROM visits v LEFT JOIN units u ON u.id = v.unit_id"
            " WHERE v.status = 'confirmed' ORDER BY v.decided_at, v.id"
        )
    )


def search(
    db: sqlite_utils.Database,
    *,
    text: str = "",
    status: str = "",
    day_from: str = "",
    day_to: str = "",
    timezone: str = "Asia/Shanghai",
    before_id: int | None = None,
    limit: int = 50,
) -> list[dict]:
    """The visitor log, newest first, with keyset paging (before_id) for long histories."""
    where, params = [], []
    text = " ".join(text.split())[:40]
    if text:
        like = f"%{text}%"
        digits = "".join(ch for ch in text if ch.isdigit())
        clause = "v.name LIKE ? OR u.number = ?"
        params += [like, text]
        if len(digits) >= 4:
            clause += " OR v.phone LIKE ?"
            params.append(f"%{digits}%")
        where.append(f"({clause})")
    if status in ("pending", "confirmed", "denied", "signed_out"):
        where.append("v.status = ?")
        params.append(status)
    if day_from:
        where.append("v.received_at >= ?")
        params.append(local_day_start(day_from, timezone))
    if day_to:
        where.append("v.received_at < ?")
        params.append(local_day_start(day_to, timezone, plus_days=1))
    if before_id:
        where.append("v.id < ?")
        params.append(before_id)
    # The clauses are fixed strings; every value is a parameter.
    where_sql = " WHERE " + " AND ".join(where) if where else ""
    sql = f"SELECT v.*, u.number AS unit_number FROM visits v LEFT JOIN units u ON u.id = v.unit_id{where_sql} ORDER BY v.id DESC LIMIT ?"  # noqa: S608
    return list(db.query(sql, [*params, limit]))
