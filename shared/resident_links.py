"""The resident's own page: signed links for ONE resident and ONE unit.

A link carries a token signed with the console's SECRET_KEY under its own purpose
(shared/signing.py: HMAC-SHA-256, ids only, an expiry). The token names the
resident and the unit; every request checks both against the database, so a
resident who moved out (or whose unit was retired or merged away) loses the page
at once, and no id ever comes from the query string: the link cannot be widened
to another unit. Links last VALID_FOR (24 hours): long enough to use through a
day (a parcel in the morning, collected in the evening), short enough that a
forwarded or leaked message stops working soon. A fresh one is cheap: the kiosk
or the desk sends it again through the resident's own channel (`send`).

Every use is audited (actor "resident:<id>"); re-issues and uses are throttled per
resident and per client address (`Throttle`, counted in coordination.db like the
console's other limits, so every console process counts together).
"""

from __future__ import annotations

from datetime import timedelta

import sqlite_utils

from shared import audit, building, notifications, phones, rate_limit, signing
from shared.db import one, write_transaction
from shared.errors import LobbyDeskError

PURPOSE = "lobbydesk.resident-page"  # a purpose salt, not a secret
VALID_FOR = timedelta(hours=24)
PATH = "/me/"
MESSAGE_KIND = "resident.link"
# (events, seconds) per key; see Throttle.
SENDS_PER_RESIDENT = (3, 3600)  # links sent to one resident in an hour
SENDS_PER_ADDRESS = (10, 600)  # link requests from one kiosk or address in 10 minutes
USES_PER_RESIDENT = (120, 600)  # page views and form posts by one resident's links
USES_PER_ADDRESS = (60, 600)  # page views and form posts from one client address


class LinkRefused(LobbyDeskError):
    """这个链接已不能使用，请在终端或前台重新获取 · This link no longer works: ask for a new one at the kiosk or the desk."""

    code = "resident_link_refused"
    http_status = 403


class TooMany(rate_limit.RateLimited):
    template = (
        "操作太频繁，请 {seconds} 秒后再试 · Too many tries: please try again in {seconds} s."
    )
    code = "rate_limited"


def issue(secret_key: str, resident: dict, now) -> str:
    """A token for this resident in the unit they live in now."""
    payload = {"r": int(resident["id"]), "u": int(resident["unit_id"])}
    return signing.sign(secret_key, PURPOSE, payload, now + VALID_FOR)


def url(public_url: str, token: str, language: str | None = None) -> str:
    suffix = "?lang=en" if language == "en" else ""
    return f"{public_url.rstrip('/')}{PATH}{token}{suffix}"


def check(db: sqlite_utils.Database, clock, secret_key: str, token) -> dict:
    """{"resident", "unit"} for a link that still works. Forged → TokenInvalid, expired →
    TokenExpired, moved out / another unit / unit retired → LinkRefused."""
    payload = signing.verify(secret_key, PURPOSE, token, clock.now())
    resident_id, unit_id = payload.get("r"), payload.get("u")
    if type(resident_id) is not int or type(unit_id) is not int:
        raise signing.TokenInvalid()
    resident = one(db, "SELECT * FROM residents WHERE id = ?", (resident_id,))
    unit = one(db, "SELECT * FROM units WHERE id = ?", (unit_id,))
    if (
        resident is None
        or unit is None
        or resident["unit_id"] != unit_id
        or resident["moved_out_on"]
        or resident["erased_at"]
        or unit["retired_at"]
    ):
        raise LinkRefused()
    return {"resident": resident, "unit": unit}


def record(db, clock, scope: dict, action: str, *, address: str | None, **detail) -> None:
    """One audit row for one use of a link (its own transaction)."""
    with write_transaction(db):
        audit.record(
            db,
            clock,
            actor=f"resident:{scope['resident']['id']}",
            action=action,
            target=f"unit:{scope['unit']['id']}",
            detail=detail,
            device=address,
        )


# --- sending a fresh link ------------------------------------------------------------------


def _message(db, resident: dict, link: str) -> tuple[str, str]:
    name = building.current(db)["name"]
    subject = f"您的住户页链接 · Your resident page link — {name}"
    hours = int(VALID_FOR.total_seconds() // 3600)
    body = (
        f"您好！这是您在 {name} 的住户页链接（{hours} 小时内有效），可查看待取快递、报修和通知设置：\n"
        f"{link}\n请勿转发。过期后可在大堂终端或前台重新获取。\n\n"
        f"Hello! Your resident page at {name} (the link works for {hours} hours): parcels "
        f"waiting, your tickets and how we contact you.\n{link}\nPlease do not forward it. "
        "When it expires, ask for a new one at the lobby kiosk or the desk."
    )
    return subject, body


def send(
    db: sqlite_utils.Database,
    clock,
    secret_key: str,
    public_url: str,
    resident_id: int,
    *,
    actor: str,
    via: str,
) -> int | None:
    """Queue a fresh link on the resident's own first channel (audited); the message id,
    or None when they have no channel. LinkRefused if they no longer live there."""
    with write_transaction(db):
        resident = one(db, "SELECT * FROM residents WHERE id = ?", (resident_id,))
        if resident is None or resident["moved_out_on"] or resident["erased_at"]:
            raise LinkRefused()
        token = issue(secret_key, resident, clock.now())
        subject, body = _message(db, resident, url(public_url, token, resident["language"]))
        queued = notifications.enqueue_for_resident(
            db,
            clock,
            resident,
            kind=MESSAGE_KIND,
            subject=subject,
            body=body,
            related=f"resident:{resident_id}",
        )
        audit.record(
            db,
            clock,
            actor=actor,
            action="resident_link.send",
            target=f"resident:{resident_id}",
            detail={"via": via, "queued": queued is not None},
        )
    return queued


def _last4(e164: str | None) -> str:
    return (e164 or "")[-4:]


def match_for_kiosk(db: sqlite_utils.Database, unit_text, phone_text) -> list[dict]:
    """The residents living in the unit whose phone is the one given, or ends in the four
    digits given. An unknown unit or phone is no match ([]), never an error: the kiosk
    answers the same either way."""
    from shared import residents, units
    from shared.building import UnknownUnit

    try:
        unit = units.lookup(db, unit_text)
    except UnknownUnit:
        return []
    typed = str(phone_text or "").strip()
    if len(typed) == 4 and typed.isascii() and typed.isdigit():
        wanted = lambda r: typed in (_last4(r["phone"]), _last4(r["alt_phone"]))  # noqa: E731
    else:
        try:
            full = phones.normalise(typed)
        except phones.InvalidPhone:
            return []
        wanted = lambda r: full in (r["phone"], r["alt_phone"])  # noqa: E731
    return [r for r in residents.active_of(db, unit["id"]) if wanted(r)]


NEUTRAL_ANSWER = {
    "requested": True,
    "message": "如果信息与登记相符，链接将发到住户登记的通知渠道 · If the details match our "
    "records, a link is on its way to the resident's own contact channel.",
}


def request_from_kiosk(
    db: sqlite_utils.Database,
    clock,
    secret_key: str,
    public_url: str,
    body: dict,
    *,
    kiosk_id: int,
    allow_resident,
) -> dict:
    """A link asked for at the kiosk ({"unit", "phone"} checked by shared.protocol):
    sent to each matching resident whom `allow_resident(id)` lets through (their
    throttle); the same NEUTRAL_ANSWER whether or not anyone matched. Audited once
    with how many matched (staff may see that, the kiosk never does)."""
    with write_transaction(db):
        matched = match_for_kiosk(db, body["unit"], body["phone"])
        sent = 0
        for resident in matched:
            if not allow_resident(resident["id"]):
                continue
            send(db, clock, secret_key, public_url, resident["id"],
                 actor=f"kiosk:{kiosk_id}", via="kiosk")  # fmt: skip
            sent += 1
        audit.record(
            db,
            clock,
            actor=f"kiosk:{kiosk_id}",
            action="resident_link.request",
            detail={"matched": len(matched), "sent": sent},
        )
    return dict(NEUTRAL_ANSWER)


# --- throttles -----------------------------------------------------------------------------


class Throttle:
    """Window limits per resident and per client address, for sends and for uses."""

    def __init__(self, coordination, limits: dict | None = None):
        chosen = {
            "sends_per_resident": SENDS_PER_RESIDENT,
            "sends_per_address": SENDS_PER_ADDRESS,
            "uses_per_resident": USES_PER_RESIDENT,
            "uses_per_address": USES_PER_ADDRESS,
            **(limits or {}),
        }
        self._windows = {
            name: rate_limit.WindowLimit(coordination, f"resident_link.{name}", *pair)
            for name, pair in chosen.items()
        }

    def _hit(self, name: str, key, now: float) -> None:
        wait = self._windows[name].hit(key, now)
        if wait > 0:
            raise TooMany(wait)

    def address_send(self, address, now: float) -> None:
        """Count a link request from a kiosk or address; TooMany over the limit."""
        self._hit("sends_per_address", address, now)

    def resident_send(self, resident_id: int, now: float) -> None:
        self._hit("sends_per_resident", resident_id, now)

    def resident_send_allowed(self, resident_id: int, now: float) -> bool:
        """Count a send to this resident if allowed (for the kiosk, which never says)."""
        return self._windows["sends_per_resident"].hit(resident_id, now) == 0

    def address_use(self, address, now: float) -> None:
        self._hit("uses_per_address", address, now)

    def resident_use(self, resident_id: int, now: float) -> None:
        self._hit("uses_per_resident", resident_id, now)
