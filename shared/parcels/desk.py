"""Handing parcels over at the desk: who collects, and how they proved it."""

from __future__ import annotations

import unicodedata

import sqlite_utils

from shared import audit, residents
from shared.clock import parse_utc, to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest, LobbyDeskError, StaleState
from shared.parcels.batches import close_batch, waiting_in_batch
from shared.parcels.codes import CODE_PATTERN, code_hash
from shared.parcels.guessing import UNIT_WRONG_LIMIT, active_pause, record_attempt, wrong_count
from shared.parcels.pickup import batch_from_token, release

MAX_COLLECTOR_NAME = 40
DESK_CHECKS = {"code": "取件码 · Pickup code", "id_check": "核对证件 · ID checked"}


class DeskCheckRefused(LobbyDeskError):
    """请输入取件码，或勾选“已核对证件”并填写领取人 · Type the pickup code, or tick "ID checked" and give the collector's name."""

    code = "collector_not_checked"
    http_status = 422
    field = "check"  # which part of the desk form the message belongs beside


class CollectorNameMissing(DeskCheckRefused):
    """核对证件后请选择或填写领取人姓名 · After checking the ID, choose or type the collector's name."""

    code = "collector_name_missing"
    field = "collector"


class DeskCodeRefused(DeskCheckRefused):
    """取件码不对，请核对住户收到的取件码，或核对证件 · The pickup code does not match: check the code in the resident's message, or check their ID."""

    code = "wrong_code"
    field = "code"


def collector_candidates(db: sqlite_utils.Database, unit_id: int) -> list[dict]:
    """The people reception checks the person at the desk against: the unit's residents
    living there now, then those they said may collect its parcels (the roster's proxies)."""
    people = [
        {
            "name": r["name"],
            "kind": "resident",
            "label": residents.ROLE_LABELS.get(r["role"], r["role"]),
            "note": "",
        }
        for r in residents.active_of(db, unit_id)
    ]
    people += [
        {"name": p["name"], "kind": "proxy", "label": "可代领 · May collect", "note": p["note"]}
        for p in residents.proxies_of(db, unit_id)
    ]
    return people


def parcel_instructions(db: sqlite_utils.Database, unit_id: int) -> list[dict]:
    """The unit's standing parcel instructions ("leave with the nanny"), for the desk."""
    return [i for i in residents.instructions_of(db, unit_id) if i["kind"] == "parcels"]


def _collector_name(text) -> str:
    name = " ".join(str(text or "").split())
    if len(name) > MAX_COLLECTOR_NAME or any(unicodedata.category(c)[0] == "C" for c in name):
        raise CollectorNameMissing(
            f"姓名最多 {MAX_COLLECTOR_NAME} 个字，不含特殊字符 · A name of at most "
            f"{MAX_COLLECTOR_NAME} characters, no control characters."
        )
    return name


def _desk_wrong_code(db, clock, unit_id: int, *, staff_id: int) -> None:
    """A wrong code typed at the desk counts toward the unit's limit, as at a kiosk.
    Its own transaction: it is remembered although nothing is handed over."""
    with write_transaction(db):
        record_attempt(db, clock, unit_id=unit_id, kiosk_id=None, outcome="wrong")
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="parcel.code_wrong",
            target=f"unit:{unit_id}",
            detail={"at": "desk"},
        )


def _verify_desk_code(db, clock, secret_key: str, rows: list[dict], code: str, staff_id: int):
    """The code must open the batch holding every parcel chosen; DeskCodeRefused if not."""
    unit_id = rows[0]["unit_id"]
    if not CODE_PATTERN.match(code):
        raise DeskCodeRefused("取件码是 6 位数字 · A pickup code is 6 digits.")
    if active_pause(db, clock, unit_id) or wrong_count(db, clock, unit_id) >= UNIT_WRONG_LIMIT:
        raise DeskCodeRefused(
            "这个房号输错取件码次数太多，请改为核对证件 · Too many wrong codes for this unit: "
            "check the collector's ID instead."
        )
    batch = one(
        db,
        "SELECT * FROM parcel_batches WHERE unit_id = ? AND code_hash = ? ORDER BY id DESC LIMIT 1",
        (unit_id, code_hash(secret_key, unit_id, code)),
    )
    if batch is None:
        _desk_wrong_code(db, clock, unit_id, staff_id=staff_id)
        raise DeskCodeRefused()
    if batch["status"] != "open" or parse_utc(batch["expires_at"]) <= clock.now():
        raise DeskCodeRefused(
            "这个取件码已失效，请核对证件 · This pickup code is no longer valid: check the "
            "collector's ID instead."
        )
    if any(r["batch_id"] != batch["id"] for r in rows):
        raise DeskCodeRefused(
            "取件码不包括所选的全部快递，请核对证件 · The code does not cover every parcel "
            "chosen: check the collector's ID instead."
        )


def check_collector(
    db, clock, rows: list[dict], *, code, id_checked: bool, collector, secret_key, staff_id
) -> dict:
    """How the person collecting proved they may: the pickup code (verified here) or an
    ID reception checked, with the collector's name. DeskCheckRefused otherwise."""
    code = "".join(str(code or "").split())
    name = _collector_name(collector)
    if code:
        _verify_desk_code(db, clock, secret_key, rows, code, staff_id)
        method = "code"
    elif id_checked:
        if not name:
            raise CollectorNameMissing()
        method = "id_check"
    else:
        raise DeskCheckRefused()
    roster = {c["name"] for c in collector_candidates(db, rows[0]["unit_id"])}
    return {"check": method, "collector": name or None, "on_roster": name in roster}


def hand_over_at_desk(
    db: sqlite_utils.Database,
    clock,
    parcel_ids: list[int],
    *,
    staff_id: int,
    code: str = "",
    id_checked: bool = False,
    collector: str = "",
    secret_key: str = "",
) -> list[dict]:
    """Staff found a unit's parcels and gave them over, once the person collecting showed
    the pickup code or an ID (check_collector). Each parcel is released exactly once;
    the audit says how the collector was checked and their name."""
    ids = sorted({int(i) for i in parcel_ids})
    if not ids:
        raise InvalidRequest("请选择快递 · Choose the parcels to hand over.")
    marks = ", ".join("?" for _ in ids)
    rows = list(db.query(f"SELECT * FROM parcels WHERE id IN ({marks})", ids))  # noqa: S608
    if len(rows) != len(ids) or any(r["status"] != "waiting" for r in rows):
        raise StaleState("有快递已被领取 · Some of these parcels were already collected.")
    if len({r["unit_id"] for r in rows}) != 1:
        raise InvalidRequest("一次只交付一个房号的快递 · Hand over one unit's parcels at a time.")
    checked = check_collector(
        db,
        clock,
        rows,
        code=code,
        id_checked=id_checked,
        collector=collector,
        secret_key=secret_key,
        staff_id=staff_id,
    )
    with write_transaction(db):
        _release_at_desk(db, clock, rows, staff_id=staff_id)
        if checked["check"] == "code":  # the code worked: the unit's wrong count starts over
            record_attempt(db, clock, unit_id=rows[0]["unit_id"], kiosk_id=None, outcome="ok")
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="parcel.release",
            target=f"unit:{rows[0]['unit_id']}",
            detail={"method": "desk", **checked, "parcels": ids},
        )
    return rows


def _release_at_desk(db, clock, rows: list[dict], *, staff_id: int) -> None:
    """The guarded UPDATE (SECURITY.md 19), then close any batch left with nothing waiting."""
    now = to_iso(clock.now())
    ids = [r["id"] for r in rows]
    marks = ", ".join("?" for _ in ids)
    cursor = db.execute(
        "UPDATE parcels SET status = 'collected', collected_at = ?, release_method = 'desk',"  # noqa: S608
        " released_by = ?, handed_over_at = ?, handed_over_by = ?"
        f" WHERE id IN ({marks}) AND status = 'waiting'",
        (now, staff_id, now, staff_id, *ids),
    )
    if cursor.rowcount != len(ids):
        raise StaleState("有快递已被领取 · Some of these parcels were already collected.")
    for batch_id in {r["batch_id"] for r in rows if r["batch_id"]}:
        if not waiting_in_batch(db, batch_id):
            close_batch(db, batch_id, "collected", now)


def hand_over_by_qr(
    db: sqlite_utils.Database, clock, secret_key: str, token: str, *, staff_id: int
) -> list[dict]:
    """Staff scanned the resident's QR at the console and gave the parcels over."""
    with write_transaction(db):
        batch = batch_from_token(db, clock, secret_key, token)
        return release(db, clock, batch, method="desk_qr", staff_id=staff_id)


def record_rejected_qr(db, clock, *, actor: str, reason: str) -> None:
    with write_transaction(db):
        audit.record(db, clock, actor=actor, action="parcel.qr_rejected", detail={"reason": reason})
