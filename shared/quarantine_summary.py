"""A held kiosk request in words, for the quarantine page and the live queue
(shared/quarantine.py holds the requests): "中文 · English" instead of raw JSON,
never a pickup code."""

from __future__ import annotations

import json
from datetime import datetime

from shared import phones, signing, terms, tickets
from shared import ticket_catalog as catalog
from shared.errors import LobbyDeskError

# The kiosk API paths of the requests that carry a ticket (shared/quarantine.py
# accepts them too).
TICKETS = "/api/v1/tickets"
TICKET_RATING = "/api/v1/tickets/rating"


def summary(item: dict, *, secret_key: str | None = None, now: datetime | None = None) -> str:
    """A held request in words ("中文 · English"), instead of its raw JSON: for a
    repair report the unit, problem, urgency, description and whether a photo
    came with it; for a rating the ticket and the score. "" when the body is not
    a request of a kind staff can read (shown raw instead)."""
    try:
        body = json.loads(item["body"])
    except (ValueError, RecursionError):  # held before the edge capped JSON depth
        return ""
    if not isinstance(body, dict):
        return ""
    try:
        describe = _DESCRIBERS[item["path"]]
    except KeyError:
        return ""
    if item["path"] == TICKETS:  # held_page leaves the photo out: only its length comes
        return _describe_ticket(body, secret_key, now, photo_chars=item.get("photo_chars"))
    return describe(body, secret_key, now)


def _text(value, limit: int = 80) -> str:
    if not isinstance(value, str):
        return ""
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _describe_ticket(body: dict, _secret_key, _now, photo_chars: int | None = None) -> str:
    category, problem = _text(body.get("category"), 40), _text(body.get("problem"), 40)
    what = catalog.bilingual(f"{category}.{problem}" if problem else category)
    urgency = body.get("urgency", "normal")
    try:
        if catalog.problem(category, problem).emergency:
            urgency = "emergency"  # as create_from_kiosk will record it
    except LobbyDeskError:
        pass  # an unknown problem: accepting it will say so
    parts = [f"房号 Unit {_text(body.get('unit'), 12)}", what]
    if urgency in tickets.URGENCIES:
        parts.append(tickets.urgency_label(urgency))
    description = _text(body.get("description"))
    if description:
        parts.append(f"“{description}”")
    photo = body.get("photo")
    chars = len(photo) if isinstance(photo, str) else (photo_chars or 0)
    if chars:
        kilobytes = max(1, chars * 3 // 4 // 1024)
        parts.append(f"附照片 · with a photo ({kilobytes} KB)")
    else:
        parts.append("无照片 · no photo")
    return " · ".join(parts)


def _describe_rating(body: dict, secret_key, now) -> str:
    if "qr" in body:
        number = "?"
        if secret_key is not None and now is not None:
            try:
                payload = signing.verify(secret_key, tickets.TICKET_QR, body["qr"], now)
                number = str(payload.get("t", "?"))
            except (signing.TokenInvalid, signing.TokenExpired):
                number = "? (二维码无效 · QR not valid)"
        which = f"报修单 Ticket {number}（扫码 · by QR）"
    else:
        which = f"报修单 Ticket {_text(body.get('number'), 12)}，房号 Unit {_text(body.get('unit'), 12)}"
    rating = body.get("rating")
    parts = [which, f"评分 Rating {rating}/5" if isinstance(rating, int) else "评分 Rating ?"]
    reasons = body.get("reasons")
    if isinstance(reasons, list) and reasons:
        parts.append(
            "、".join(catalog.reason_label(r, "zh_CN") for r in reasons if isinstance(r, str))
            + " · "
            + ", ".join(catalog.reason_label(r, "en") for r in reasons if isinstance(r, str))
        )
    comment = _text(body.get("comment"))
    if comment:
        parts.append(f"“{comment}”")
    return " · ".join(parts)


def _describe_visit(body: dict, _secret_key, _now) -> str:
    phone = body.get("phone")
    try:
        shown = phones.display(phones.normalise(phone)) if phone else ""
    except LobbyDeskError:
        shown = _text(phone, 20)
    parts = [_text(body.get("name"), 40) or "（老访客 · returning visitor）", shown]
    parts.append(f"房号 Unit {_text(body.get('unit'), 12)}")
    return " · ".join(p for p in parts if p)


def _describe_help_call(body: dict, _secret_key, _now) -> str:
    return f"{terms.term('escalation_kind', 'help')} ({_text(body.get('created_at'), 40)})"


def _describe_pickup(body: dict, _secret_key, _now) -> str:
    """Never the code: only whose parcels were asked for."""
    if "qr" in body:
        return "取件 · Parcel pickup（扫码 · by QR）"
    return f"取件 · Parcel pickup · 房号 Unit {_text(body.get('unit'), 12)}"


def _describe_sign_out(body: dict, _secret_key, _now) -> str:
    if "pass" in body:
        return "访客离开 · Visitor signing out（扫通行证 · by pass）"
    return f"访客离开 · Visitor signing out · {_text(body.get('phone'), 20)}"


_DESCRIBERS = {
    TICKETS: _describe_ticket,
    TICKET_RATING: _describe_rating,
    "/api/v1/visits": _describe_visit,
    "/api/v1/escalations": _describe_help_call,
    "/api/v1/parcels/pickup": _describe_pickup,
    "/api/v1/visits/sign-out": _describe_sign_out,
}
