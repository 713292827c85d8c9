"""Using a pass: the one path for the kiosk API and the desk's "match a walk-in's pass".

A pass is good once per building date (a `once` invitation has one date, so it is
good once; a window or recurring one once each valid day): the second use that day
— a second person, or the same pass scanned at two kiosks while offline — goes to
the desk as an escalation, never silently in or silently away. The visit is made by
shared/visitors.py `register` (the one path for every visit), marked with the
invitation; a guest on the deny list stays pending for staff, anyone else is signed
in and their host told.

Every outcome is returned, not raised: (answer, HTTP status). The caller's transaction
then keeps the audit row and the escalation of a refusal, and the kiosk API stores
the answer under the Idempotency-Key like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from shared import (
    audit,
    building,
    escalations,
    names,
    notifications,
    pass_signing,
    protocol,
    visitors,
)
from shared.clock import to_iso
from shared.db import one
from shared.invitations import fields as rules
from shared.invitations import store
from shared.rate_limit import RateLimited

ESCALATION_SCREEN = "invitation_pass"


class PassUsed(pass_signing.PassError):
    """此通行证今天已使用，已通知前台 · This pass was already used today. Reception has been told."""

    code = "pass_used"
    http_status = 409


class PassNotToday(pass_signing.PassError):
    """此通行证今天无效，请联系住户或呼叫前台 · This pass is not valid today. Ask your host or call reception."""

    code = "pass_not_today"
    http_status = 403


class PassUnknown(pass_signing.PassError):
    """此通行证无效，请呼叫前台 · This pass is not valid. Please call reception."""

    code = "pass_invalid"


# The verifier's finer reasons reach the kiosk as pass_invalid (one screen), with the
# reason beside it; the audit keeps the reason.
_AS_INVALID = {"pass_malformed", "pass_truncated", "pass_tampered"}


@dataclass(frozen=True)
class Scan:
    text: object
    actor: str  # "kiosk:<id>" or "staff:<id>"
    kiosk_id: int | None = None
    offline: bool = False  # the kiosk let the visitor in offline; this is the sync
    confirm: bool = True  # False: only check the pass and say whom it is for
    language: str = "zh_CN"
    created_at: str | None = None


def _display(invitation: dict) -> dict:
    name = invitation["visitor_name"]
    shown = names.mask(name) if name else None
    unit = invitation["unit_number"]
    return {
        "masked_name": shown,
        "unit": unit,
        "party_size": invitation["party_size"],
        "purpose": invitation["purpose"],
        "greeting_zh": f"欢迎 {shown or '访客'} · 拜访 {unit}",
        "greeting_en": f"Welcome {shown or 'guest'} · visiting {unit}",
    }


def _escalate(db, clock, scan: Scan, invitation_id: int | None, reason: str) -> int:
    """A person the desk must see: at the kiosk now, or already inside (offline)."""
    row = escalations.raise_help_call(
        db,
        clock,
        kiosk_id=scan.kiosk_id,
        created_at=scan.created_at or to_iso(clock.now()),
        language=scan.language,
        screen=ESCALATION_SCREEN,
    )
    where = "离线时" if scan.offline else ""
    note = f"预约通行证 #{invitation_id} {where}{reason}"
    db.execute("UPDATE escalations SET note = ? WHERE id = ?", (note, row["id"]))
    return row["id"]


def _refuse(db, clock, scan: Scan, refused: pass_signing.PassError, invitation_id=None):
    code = "pass_invalid" if refused.code in _AS_INVALID else refused.code
    error = {"code": code, "message": str(refused), "call_reception": True}
    if code != refused.code:
        error["reason"] = refused.code.removeprefix("pass_")
    # A second use, or any refusal of a visitor who is already inside (offline), needs a person.
    if isinstance(refused, PassUsed) or (scan.offline and scan.confirm):
        reason = "今日已使用 · used twice today" if isinstance(refused, PassUsed) else code
        error["escalation_id"] = _escalate(db, clock, scan, invitation_id, reason)
    audit.record(
        db, clock, actor=scan.actor, action="invitation.pass_refused",
        target=f"invitation:{invitation_id}" if invitation_id else None,
        detail={"reason": refused.code, "offline": scan.offline},
    )  # fmt: skip
    return {"error": error}, refused.http_status


def _check(db, clock, scan: Scan, key) -> dict:
    """The invitation this pass lets in today; a PassError says why not."""
    current = building.current(db)
    claims = pass_signing.verify(scan.text, key, building_id=current["id"], now=clock.now())
    row = one(db, "SELECT id FROM invitations WHERE id = ?", (claims.invitation_id,))
    if row is None:
        raise PassUnknown()
    invitation = store.get(db, claims.invitation_id)
    # A pass of a revoked invitation, or one made before its nonce changed, is refused.
    if invitation["status"] == "revoked" or invitation["nonce"] != claims.nonce:
        raise pass_signing.PassRevoked()
    today = store.building_today(db, clock)
    if not rules.valid_on(invitation, today):
        raise PassNotToday()
    used = one(
        db,
        "SELECT id FROM invitation_uses WHERE invitation_id = ? AND day = ?",
        (invitation["id"], today.isoformat()),
    )
    if used is not None:
        raise PassUsed()
    return invitation


def redeem(db: sqlite_utils.Database, clock, key, scan: Scan, *, secret_key: str):
    """(answer, status) for a scanned pass. Call inside a write transaction."""
    invitation_id = None
    try:
        invitation = _check(db, clock, scan, key)
    except pass_signing.PassError as refused:
        if isinstance(refused, PassUsed | PassNotToday | pass_signing.PassRevoked):
            invitation_id = _invitation_id(scan.text, key, db, clock)
        return _refuse(db, clock, scan, refused, invitation_id)
    display = _display(invitation)
    if not scan.confirm:
        audit.record(
            db, clock, actor=scan.actor, action="invitation.pass_checked",
            target=f"invitation:{invitation['id']}",
        )  # fmt: skip
        return {"outcome": "valid", "invitation_id": invitation["id"], **display}, 200
    visit = _sign_in(db, clock, scan, invitation)
    answer = {
        "outcome": "see_staff" if visit["status"] == "pending" else "signed_in",
        "invitation_id": invitation["id"],
        "visit_id": visit["id"],
        **display,
    }
    if visit["status"] == "confirmed":
        answer["pass_token"] = visitors.pass_token(secret_key, visit, clock.now())
    return answer, 201


def _invitation_id(text, key, db, clock) -> int | None:
    """Which invitation a refused (but genuine) pass names, for the audit and the desk."""
    try:
        current = building.current(db)
        return pass_signing.verify(
            text, key, building_id=current["id"], now=clock.now()
        ).invitation_id
    except pass_signing.PassError:
        return None


def _sign_in(db, clock, scan: Scan, invitation: dict) -> dict:
    """The visit, through visitors.register; confirmed unless the deny list matches."""
    body = {
        "name": invitation["visitor_name"] or "预约访客",
        "unit": invitation["unit_number"],
        "purpose": invitation["purpose"],
        "party_size": invitation["party_size"],
        "language": scan.language,
        "created_at": scan.created_at or to_iso(clock.now()),
    }
    if invitation["visitor_phone"]:
        body["phone"] = invitation["visitor_phone"]
    visit = visitors.register(db, clock, kiosk_id=scan.kiosk_id, body=body)
    now = to_iso(clock.now())
    db.execute("UPDATE visits SET invitation_id = ? WHERE id = ?", (invitation["id"], visit["id"]))
    db.execute(
        "INSERT INTO invitation_uses (invitation_id, day, visit_id, kiosk_id, actor, used_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (invitation["id"], store.building_today(db, clock).isoformat(), visit["id"],
         scan.kiosk_id, scan.actor, now),
    )  # fmt: skip
    if visit["deny_match"] is None:
        # The resident vouched ahead: signed in without a desk check, and the host told.
        db.execute(
            "UPDATE visits SET status = 'confirmed', decided_at = ?, decision_method = 'invitation'"
            " WHERE id = ? AND status = 'pending'",
            (now, visit["id"]),
        )
        _notify_host(db, clock, invitation, visit)
    audit.record(
        db, clock, actor=scan.actor, action="invitation.redeem",
        target=f"invitation:{invitation['id']}",
        detail={"visit": visit["id"], "to_staff": visit["deny_match"] is not None,
                "offline": scan.offline},
    )  # fmt: skip
    return visitors.get(db, visit["id"])


def _hosts(db, invitation: dict) -> list[dict]:
    """The inviting resident if they still live there, else the unit's residents."""
    hosts = building.residents_of(db, invitation["unit_id"])
    chosen = [r for r in hosts if r["id"] == invitation["host_resident_id"]]
    return chosen or hosts


def _notify_host(db, clock, invitation: dict, visit: dict) -> None:
    if not building.current(db)["settings"]["notify_host_on_confirm"]:
        return
    name = visit["name"]
    party = f"（共 {visit['party_size']} 人）" if visit["party_size"] > 1 else ""
    party_en = f" (party of {visit['party_size']})" if visit["party_size"] > 1 else ""
    subject = f"您邀请的访客已到达 · Your invited visitor has arrived: {name}"
    body = (
        f"您好，您邀请的访客 {name}{party} 已凭通行证在大堂签到，正前往 {invitation['unit_number']}。\n\n"
        f"Hello, your invited visitor {name}{party_en} has signed in at the lobby with their "
        f"pass and is on the way to {invitation['unit_number']}.\n"
    )
    for resident in _hosts(db, invitation):
        notifications.enqueue_for_resident(
            db, clock, resident, kind="visitor.arrived", subject=subject, body=body,
            related=f"visit:{visit['id']}",
        )  # fmt: skip
    db.execute(
        "UPDATE visits SET host_notified_at = ? WHERE id = ?", (to_iso(clock.now()), visit["id"])
    )


# -- the kiosk write (console/kiosk_writes.py: POST /api/v1/invitations/redeem) ---------


class ScanLimited(RateLimited):
    """Too many pass scans from one kiosk (console/api.py): a flood is throttled."""

    template = (
        "扫描太频繁，请 {seconds} 秒后再试或呼叫前台 · Too many passes scanned at this kiosk: "
        "try again in {seconds} s or call reception."
    )


def prepare_kiosk_write(ctx, _raw) -> None:
    """A new scan counts against the kiosk's scan limit, before any transaction (a
    replayed key never gets here; a backlog of offline scans is not limited)."""
    if getattr(ctx, "limit_pass_scan", None) is not None:
        ctx.limit_pass_scan()


def kiosk_write(ctx, raw, _prepared):
    body = protocol.validate_invitation_redeem(raw)
    scan = Scan(
        body["pass"],
        actor=f"kiosk:{ctx.kiosk_id}",
        kiosk_id=ctx.kiosk_id,
        offline=body["offline"],
        confirm=body["confirm"],
        language=body["language"],
        created_at=body["created_at"],
    )
    return redeem(ctx.db, ctx.clock, ctx.pass_key, scan, secret_key=ctx.secret_key)
