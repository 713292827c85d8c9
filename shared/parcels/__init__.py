"""Parcels (S4): desk intake, resident notification, pickup by code or QR, handover.

Batches. All of a unit's waiting parcels form one open *batch* with ONE
6-digit pickup code and one signed QR. A parcel logged while its unit has an
open batch joins it: same code, the batch's expiry moves out to the new
parcel's, and the residents get a fresh message listing everything waiting.
A new batch (after the last one was collected or its code expired) adopts
every parcel of the unit still waiting, so one code always collects them all.
A pickup releases every waiting parcel of the batch, exactly once: one UPDATE
guarded by status, inside `write_transaction`, with its row count checked.

Codes. From `secrets`, bound to the unit, stored as HMAC-SHA-256 keyed with the
console's SECRET_KEY (a plain SHA-256 of a 6-digit code falls to an offline
search of a million values). The resident's messages are rendered when sent,
so the code must be recoverable until then: it is kept *sealed* (XOR with an
HMAC-SHA-256 keystream under SECRET_KEY and a random nonce) and wiped when the
batch closes. Neither form is readable from the database alone; the code is
never written to the audit log or any log.

Guessing (SECURITY.md 17-18). Five wrong codes for a unit within 15 minutes
pause code entry for that unit for 15 minutes and put a `code_lockout`
escalation in the live queue. A kiosk spraying codes across units is slowed,
not shut: from its tenth wrong code within ten minutes each wrong code makes
the kiosk wait before its next one (10 s, doubling, at most 4 min; 429 with
Retry-After) and reception gets ONE "suspicious pickup attempts" escalation per
kiosk (updated with the count). During a wait one code for a unit with no recent
wrong codes is still checked — the resident who walks up after the sprayer
left is served — but only one per wait, so the sprayer gains at most one extra
try per wait (≤ 2 tries per 4 minutes at the cap). A unit with no parcels
answers exactly like a wrong code, so nobody learns who has parcels waiting.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import html
import io
import logging
import math
import re
import secrets
import unicodedata
from datetime import datetime, timedelta

import sqlite_utils

from shared import audit, building, delivery, escalations, residents, signing
from shared.clock import local_time, parse_utc, to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest, LobbyDeskError, NotFound, StaleState

log = logging.getLogger(__name__)

CODE_DIGITS = 6
UNIT_WRONG_LIMIT = 5  # wrong codes for one unit …
UNIT_WINDOW = timedelta(minutes=15)  # … within this window pause code entry …
UNIT_PAUSE = timedelta(minutes=15)  # … for this long.
KIOSK_WRONG_LIMIT = 10  # wrong codes from one kiosk, any units …
KIOSK_WINDOW = timedelta(minutes=10)  # … within this window: the kiosk is slowed,
KIOSK_FIRST_WAIT = timedelta(seconds=10)  # … waiting this long after a wrong code,
KIOSK_MAX_WAIT = timedelta(minutes=4)  # … doubling with each further one up to this.
MAX_SHELF_LENGTH = 12
MAX_SEARCH_LENGTH = 40
NOTICE_BATCH = 20
QR_FILENAME = "pickup-qr.png"
_CODE_HASH_PURPOSE = b"lobbydesk.parcel-code"
_CODE_SEAL_PURPOSE = b"lobbydesk.parcel-code-seal"
_TRACKING = re.compile(r"^[A-Z0-9-]{6,40}$")
_CODE = re.compile(r"^[0-9]{6}$")

# Best-effort carrier recognition from the tracking number: first match wins,
# so carriers with a fixed prefix come before the bare digit formats.
CARRIERS: tuple[tuple[str, str, re.Pattern | None], ...] = (
    ("sf", "顺丰 SF Express", re.compile(r"SF\d{12,13}")),
    ("jd", "京东 JD Logistics", re.compile(r"JD[0-9A-Z]{10,20}")),
    ("yto", "圆通 YTO Express", re.compile(r"YT\d{13}")),
    ("ems", "EMS / 中国邮政 China Post", re.compile(r"[A-Z]{2}\d{9}CN")),
    ("ups", "UPS", re.compile(r"1Z[0-9A-Z]{16}")),
    ("zto", "中通 ZTO Express", re.compile(r"(?:73|75|78)\d{12}")),
    ("sto", "申通 STO Express", re.compile(r"(?:77|88|55|66)\d{10,13}")),
    ("yunda", "韵达 Yunda Express", re.compile(r"(?:43|46|31|33|34|35|36|37|38|39)\d{11,13}")),
    ("fedex", "FedEx", re.compile(r"\d{12}|\d{15}")),
    ("dhl", "DHL", re.compile(r"\d{10}")),
    ("other", "其他快递 · Other carrier", None),
)
CARRIER_LABELS = {key: label for key, label, _pattern in CARRIERS}
RELEASE_METHODS = {
    "kiosk_code": "终端取件码 · Kiosk, code",
    "kiosk_qr": "终端二维码 · Kiosk, QR",
    "desk_qr": "前台扫码 · Desk, QR",
    "desk": "前台交付 · Desk",
}
VIEWS = ("waiting", "overdue", "collected", "all")


class InvalidTracking(LobbyDeskError):
    """快递单号应为 6–40 位字母、数字或短横线 · A tracking number is 6-40 letters, digits or dashes."""

    code = "invalid_tracking"


class InvalidShelf(LobbyDeskError):
    """请填写货架或位置，最多 12 个字符（如 A-3）· Give the shelf or place, at most 12 characters (e.g. A-3)."""

    code = "invalid_shelf"


class UnitNotResolved(LobbyDeskError):
    """More than one unit matches; type the unit number or pick one."""

    code = "unit_ambiguous"

    def __init__(self, candidates: list[dict]):
        self.candidates = candidates
        listed = "、".join(c["label"] for c in candidates[:5])
        super().__init__(f"有多个房号符合 · Several units match: {listed}")


class DuplicateTracking(LobbyDeskError):
    """该单号已登记过 · This tracking number was logged before."""

    code = "duplicate_tracking"
    http_status = 409

    def __init__(self, earlier: list[dict], timezone: str):
        self.earlier = earlier
        first = earlier[0]
        when = local_time(first["received_at"], timezone)
        super().__init__(
            f"该单号已于 {when} 登记给 {first['unit_number']}（{_status_zh(first['status'])}）。"
            f"确认是另一件请再按回车 · This tracking number was already logged on {when} for unit "
            f"{first['unit_number']} ({first['status']}). Press Enter again to log it anyway."
        )


class InvalidCodeFormat(LobbyDeskError):
    """取件码为 6 位数字 · A pickup code is 6 digits."""

    code = "invalid_code_format"


class AlreadyCollected(LobbyDeskError):
    """这些快递已被取走 · These parcels were already collected."""

    code = "already_collected"
    http_status = 410


class CodeExpired(LobbyDeskError):
    """取件码已过期，请到前台 · This pickup code has expired. Please see reception."""

    code = "code_expired"
    http_status = 410


class CodeEntryPaused(LobbyDeskError):
    """Too many wrong codes for this unit: code entry is paused. Please see reception."""

    code = "code_entry_paused"
    http_status = 423

    def __init__(self, paused_until: datetime, now: datetime):
        self.paused_until = paused_until
        self.retry_after = max(1, math.ceil((paused_until - now).total_seconds()))
        super().__init__()


class PickupThrottled(LobbyDeskError):
    """Too many wrong codes from this kiosk. Please wait, or see reception."""

    code = "too_many_attempts"
    http_status = 429

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(
            f"这台终端输错取件码次数太多，请 {retry_after} 秒后再试，或联系前台 · Too many wrong "
            f"codes at this kiosk: try again in {retry_after} s, or see reception."
        )


def _status_zh(status: str) -> str:
    return {"waiting": "待取", "collected": "已取", "returned": "已退回"}.get(status, status)


# --- tracking numbers, carriers, units ------------------------------------------------


def normalise_tracking(text) -> str:
    """What the scanner or a person typed: spaces dropped, upper case, checked."""
    if not isinstance(text, str):
        raise InvalidTracking()
    cleaned = "".join(text.split()).upper()
    if not _TRACKING.match(cleaned):
        raise InvalidTracking()
    return cleaned


def guess_carrier(tracking: str) -> str | None:
    """The carrier key for a tracking number's format, or None when nothing fits."""
    text = "".join(str(tracking).split()).upper()
    for key, _label, pattern in CARRIERS:
        if pattern is not None and pattern.fullmatch(text):
            return key
    return None


def carrier_label(key: str | None) -> str:
    return CARRIER_LABELS.get(key or "", "快递 · Parcel")


def tracking_tail(tracking: str) -> str:
    return "…" + tracking[-4:]


def staff_ref(parcel_id: int) -> str:
    """The short reference on the shelf label; never the pickup code."""
    return f"P{parcel_id:05d}"


def clean_shelf(text) -> str:
    if not isinstance(text, str):
        raise InvalidShelf()
    shelf = " ".join(
        "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").split()
    ).upper()
    if not 1 <= len(shelf) <= MAX_SHELF_LENGTH:
        raise InvalidShelf()
    return shelf


@functools.lru_cache(maxsize=20_000)
def pinyin_keys(name: str) -> tuple[str, ...]:
    """Search keys for a resident's name: full pinyin and initials (wangjianguo, wjg).

    A surname read two ways (单 shan/dan, 曾 zeng/ceng) gets keys for each reading.
    """
    from pypinyin import Style, lazy_pinyin, pinyin  # 0.3 s to import: only when needed

    syllables = [s.lower() for s in lazy_pinyin(name) if s.strip()]
    if not syllables:
        return ()
    firsts = {r.lower() for r in pinyin(name[0], style=Style.NORMAL, heteronym=True)[0]}
    keys = set()
    for first in firsts | {syllables[0]}:
        parts = [first, *syllables[1:]]
        keys.add("".join(parts).replace(" ", ""))
        keys.add("".join(p[0] for p in parts if p))
    return tuple(sorted(keys))


def search_units(db: sqlite_utils.Database, text: str, limit: int = 8) -> list[dict]:
    """Units for the intake autocomplete: by unit label or keypad code, then by a
    resident living there now (name, pinyin or its initials, phone), from the
    directory's index (shared/residents.py)."""
    from shared import residents

    query = "".join(str(text).split()).casefold()[:MAX_SEARCH_LENGTH]
    if not query:
        return []
    best: dict[int, tuple[int, str]] = {}
    for unit in db.query(
        "SELECT id, number FROM units WHERE retired_at IS NULL AND ((number >= ? COLLATE NOCASE"
        " AND number < ? COLLATE NOCASE) OR (keypad >= ? AND keypad < ?))"
        " ORDER BY number LIMIT 50",
        (query, query + "\uffff", query, query + "\uffff"),
    ):
        exact = unit["number"].casefold() == query
        best.setdefault(unit["id"], (0 if exact else 1, unit["number"]))
    for row in residents.search(db, query, limit=50):
        if row["unit_id"] not in best:
            best[row["unit_id"]] = (2, row["unit_number"])
    ranked = sorted(best.items(), key=lambda item: (item[1][0], item[1][1]))[:limit]
    results = []
    for unit_id, (_score, number) in ranked:
        names = [r["name"] for r in building.residents_of(db, unit_id)][:3]
        results.append(
            {
                "unit": number,
                "residents": names,
                "label": f"{number} · {'、'.join(names)}" if names else number,
            }
        )
    return results


def resolve_unit(db: sqlite_utils.Database, text) -> dict:
    """The unit a receptionist meant: an exact number, or one unit matching the name/pinyin."""
    if not isinstance(text, str) or not text.strip():
        raise building.UnknownUnit("请填写房号 · Enter the unit.")
    typed = text.strip()
    if len(typed) > MAX_SEARCH_LENGTH:
        raise building.UnknownUnit()
    unit = one(
        db,
        "SELECT * FROM units WHERE number = ? COLLATE NOCASE AND retired_at IS NULL",
        (typed,),
    )
    if unit is not None:
        return unit
    candidates = search_units(db, typed)
    if not candidates:
        raise building.UnknownUnit(
            f"没有房号或住户“{typed}” · No unit or resident matches “{typed}”."
        )
    if len(candidates) > 1:
        raise UnitNotResolved(candidates)
    return building.unit_by_number(db, candidates[0]["unit"])


def earlier_with_tracking(db: sqlite_utils.Database, tracking: str) -> list[dict]:
    return list(
        db.query(
            "SELECT p.id, p.status, p.received_at, u.number AS unit_number FROM parcels p"
            " JOIN units u ON u.id = p.unit_id WHERE p.tracking_number = ? ORDER BY p.id DESC",
            (tracking,),
        )
    )


def check_tracking(db: sqlite_utils.Database, text: str) -> dict:
    """For the intake form as soon as the scan lands: carrier guess and earlier use."""
    tracking = normalise_tracking(text)
    carrier = guess_carrier(tracking)
    earlier = earlier_with_tracking(db, tracking)
    timezone = building.current(db)["timezone"]
    return {
        "tracking": tracking,
        "carrier": carrier,
        "carrier_label": carrier_label(carrier) if carrier else None,
        "earlier": [
            {
                "unit": row["unit_number"],
                "status": row["status"],
                "received": local_time(row["received_at"], timezone),
            }
            for row in earlier[:3]
        ],
    }


# --- codes -------------------------------------------------------------------------------


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(secret_key: str, unit_id: int, code: str) -> str:
    """HMAC-SHA-256 of the code, bound to its unit, keyed with the console's secret."""
    message = _CODE_HASH_PURPOSE + f"|{unit_id}|{code}".encode()
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _keystream(secret_key: str, nonce: str) -> bytes:
    return hmac.new(
        secret_key.encode("utf-8"), _CODE_SEAL_PURPOSE + b"|" + nonce.encode(), hashlib.sha256
    ).digest()


def seal_code(secret_key: str, code: str) -> str:
    nonce = secrets.token_hex(8)
    sealed = bytes(
        a ^ b for a, b in zip(code.encode(), _keystream(secret_key, nonce), strict=False)
    )
    return f"{nonce}.{sealed.hex()}"


def unseal_code(secret_key: str, sealed: str) -> str:
    nonce, _dot, data = sealed.partition(".")
    raw = bytes.fromhex(data)
    plain = bytes(a ^ b for a, b in zip(raw, _keystream(secret_key, nonce), strict=False))
    return plain.decode("utf-8", "replace")


def pickup_token(secret_key: str, batch: dict) -> str:
    """The QR: ids only (unit id, batch id), signed, expiring with the batch."""
    return signing.sign(
        secret_key,
        signing.PARCEL_PICKUP,
        {"u": batch["unit_id"], "b": batch["id"]},
        parse_utc(batch["expires_at"]),
    )


def qr_png(text: str) -> bytes:
    import qrcode

    buffer = io.BytesIO()
    qrcode.make(text, box_size=8, border=3).save(buffer, format="PNG")
    return buffer.getvalue()


# --- intake ------------------------------------------------------------------------------


def _settings(db) -> dict:
    return building.current(db)["settings"]


def get(db: sqlite_utils.Database, parcel_id: int) -> dict:
    row = one(
        db,
        "SELECT p.*, u.number AS unit_number FROM parcels p JOIN units u ON u.id = p.unit_id"
        " WHERE p.id = ?",
        (parcel_id,),
    )
    if row is None:
        raise NotFound(f"没有这件快递 · Parcel {parcel_id} does not exist.")
    return row


def get_batch(db: sqlite_utils.Database, batch_id: int) -> dict | None:
    return one(
        db,
        "SELECT b.*, u.number AS unit_number FROM parcel_batches b JOIN units u ON u.id = b.unit_id"
        " WHERE b.id = ?",
        (batch_id,),
    )


def _open_batch(db, clock, secret_key: str, unit_id: int, expires_at: datetime, settings) -> dict:
    """The unit's open batch (extended to `expires_at`), or a new one with a new code."""
    now = clock.now()
    batch = one(
        db, "SELECT * FROM parcel_batches WHERE unit_id = ? AND status = 'open'", (unit_id,)
    )
    if batch is not None and parse_utc(batch["expires_at"]) <= now:
        _expire_batch(db, clock, batch)  # the job has not run yet: same rule
        batch = None
    if batch is not None:
        if parse_utc(batch["expires_at"]) < expires_at:
            db.execute(
                "UPDATE parcel_batches SET expires_at = ? WHERE id = ?",
                (to_iso(expires_at), batch["id"]),
            )
        return {**get_batch(db, batch["id"]), "joined": True}
    code = new_code()
    first_reminder = _reminder_days(settings)[:1]
    cursor = db.execute(
        "INSERT INTO parcel_batches (unit_id, code_hash, code_sealed, status, created_at,"
        " expires_at, next_reminder_at) VALUES (?, ?, ?, 'open', ?, ?, ?)",
        (
            unit_id,
            code_hash(secret_key, unit_id, code),
            seal_code(secret_key, code),
            to_iso(now),
            to_iso(expires_at),
            to_iso(now + timedelta(days=first_reminder[0])) if first_reminder else None,
        ),
    )
    return {**get_batch(db, cursor.lastrowid), "joined": False}


def _reminder_days(settings: dict) -> list[float]:
    days = settings.get("parcel_reminder_days") or []
    return sorted(float(d) for d in days if isinstance(d, int | float) and d > 0)


def intake(
    db: sqlite_utils.Database,
    clock,
    *,
    secret_key: str,
    staff_id: int,
    tracking: str,
    unit: str,
    shelf: str,
    carrier: str = "",
    confirm_duplicate: bool = False,
) -> dict:
    """Log one parcel at the desk, put it in its unit's batch and queue the residents' message."""
    tracking = normalise_tracking(tracking)
    shelf = clean_shelf(shelf)
    if carrier and carrier not in CARRIER_LABELS:
        raise InvalidRequest("未知快递公司 · Unknown carrier.")
    carrier = carrier or guess_carrier(tracking)
    with write_transaction(db):
        current = building.current(db)
        settings = current["settings"]
        unit_row = resolve_unit(db, unit)
        earlier = earlier_with_tracking(db, tracking)
        if earlier and not confirm_duplicate:
            raise DuplicateTracking(earlier, current["timezone"])
        now = clock.now()
        expires_at = now + timedelta(days=float(settings["parcel_code_valid_days"]))
        batch = _open_batch(db, clock, secret_key, unit_row["id"], expires_at, settings)
        cursor = db.execute(
            "INSERT INTO parcels (unit_id, tracking_number, carrier, shelf, status, received_at,"
            " expires_at, batch_id, received_by) VALUES (?, ?, ?, ?, 'waiting', ?, ?, ?, ?)",
            (
                unit_row["id"],
                tracking,
                carrier,
                shelf,
                to_iso(now),
                to_iso(expires_at),
                batch["id"],
                staff_id,
            ),
        )
        parcel_id = cursor.lastrowid
        # One code collects everything: parcels left from an expired batch join the new one.
        db.execute(
            "UPDATE parcels SET batch_id = ? WHERE unit_id = ? AND status = 'waiting'"
            " AND batch_id IS NOT ?",
            (batch["id"], unit_row["id"], batch["id"]),
        )
        queued = _queue_notices(db, clock, batch, kind="parcel.waiting")
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="parcel.intake",
            target=f"parcel:{parcel_id}",
            detail={
                "unit": unit_row["number"],
                "batch": batch["id"],
                "joined_batch": batch["joined"],
                "duplicate_confirmed": bool(earlier),
            },
        )
    parcel = get(db, parcel_id)
    return {
        "parcel": parcel,
        "batch_id": batch["id"],
        "joined": batch["joined"],
        "notified": queued,
        "duplicate": bool(earlier),
    }


# --- notifications -------------------------------------------------------------------------


def _recipient(db, resident: dict) -> dict | None:
    """The channel a new message to this resident starts on (shared.delivery's rule,
    the same as for visitor and ticket messages); None: they get no messages."""
    channel = delivery.first_channel(db, resident)
    return delivery.channel_columns(channel) if channel else None


def _queue_notices(db, clock, batch: dict, *, kind: str) -> int:
    """One message per resident with a channel; a message not yet tried is reused,
    since it is rendered at send time and will list every parcel waiting."""
    now = to_iso(clock.now())
    queued = 0
    for resident in building.residents_of(db, batch["unit_id"]):
        target = _recipient(db, resident)
        if target is None:
            continue
        pending = one(
            db,
            "SELECT id FROM parcel_notices WHERE batch_id = ? AND resident_id = ? AND kind = ?"
            " AND status = 'pending' AND attempts = 0",
            (batch["id"], resident["id"], kind),
        )
        if pending is None:
            db.execute(
                "INSERT INTO parcel_notices (batch_id, resident_id, kind, channel, recipient,"
                " channel_id, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (batch["id"], resident["id"], kind, target["channel"], target["recipient"],
                 target["channel_id"], now, now),
            )  # fmt: skip
        queued += 1
    return queued


def _waiting_in_batch(db, batch_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT * FROM parcels WHERE batch_id = ? AND status = 'waiting' ORDER BY id",
            (batch_id,),
        )
    )


def render_notice(db, batch: dict, parcels: list[dict], code: str, *, kind: str) -> dict:
    """Subject (never the code: subjects end up in logs and previews), text and HTML bodies."""
    current = building.current(db)
    settings = current["settings"]
    until = local_time(batch["expires_at"], current["timezone"], "%Y-%m-%d")
    count = len(parcels)
    if kind == "parcel.reminder":
        subject = f"快递待取提醒 · Reminder: {count} parcel(s) waiting — {current['name']}"
        lead_zh, lead_en = "温馨提醒：", "Reminder: "
    else:
        subject = f"您有快递待取 · {count} parcel(s) waiting for you — {current['name']}"
        lead_zh, lead_en = "", ""
    where_zh, where_en = (
        ("请到货架自取", "take them from the shelf")
        if settings["parcel_self_service"]
        else ("请到大堂服务台领取", "collect them at the lobby desk")
    )
    lines = [
        f"{carrier_label(p['carrier'])} {tracking_tail(p['tracking_number'])}"
        + (f" · 货架 Shelf {p['shelf']}" if settings["parcel_self_service"] else "")
        for p in parcels
    ]
    text = (
        f"{lead_zh}您好！{batch['unit_number']} 有 {count} 件快递在大堂，{where_zh}。\n"
        f"取件码：{code}（请在大堂终端输入房号 {batch['unit_number']} 和取件码，或扫描二维码）\n"
        f"有效期至 {until}。\n\n"
        f"{lead_en}Hello! {count} parcel(s) for {batch['unit_number']} are at the lobby; {where_en}.\n"
        f"Pickup code: {code} (enter unit {batch['unit_number']} and the code at the lobby kiosk, "
        f"or scan the QR code). Valid until {until}.\n\n" + "\n".join(lines) + "\n"
    )
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    body_html = (
        f"<p>{html.escape(lead_zh)}您好！{html.escape(batch['unit_number'])} 有 {count} 件快递在大堂，"
        f"{where_zh}。<br>{html.escape(lead_en)}Hello! {count} parcel(s) for "
        f"{html.escape(batch['unit_number'])} are at the lobby; {where_en}.</p>"
        f'<p style="font-size:20px">取件码：<b style="letter-spacing:3px">{code}</b>'
        " · Pickup code</p>"
        f"<p>在大堂终端扫描二维码，或输入房号和取件码。有效期至 {until}。<br>"
        f"Scan this QR code at the lobby kiosk, or enter your unit and the code. "
        f"Valid until {until}.</p>"
        f'<p><img src="cid:{QR_FILENAME}" alt="QR" width="240" height="240"></p>'
        f"<ul>{items}</ul>"
    )
    return {"subject": subject, "text": text, "html": body_html}


def _send(target: dict, message: dict, qr: bytes, email_url: str | None) -> None:
    import apprise
    from apprise.attachment.memory import AttachMemory

    url = delivery.apprise_url(target, email_url)
    sender = apprise.Apprise()
    if target["kind"] == "email":
        # Any e-mail (through the console's server or the resident's own): HTML with the QR.
        url += ("&" if "?" in url else "?") + "inline=yes"
        if not sender.add(url):
            raise delivery.BadAddress()
        attachments = apprise.AppriseAttachment()
        attachments.add(AttachMemory(content=qr, name=QR_FILENAME, mimetype="image/png"))
        sent = sender.notify(
            title=message["subject"], body=message["html"], body_format="html", attach=attachments
        )
    else:
        # SMS gateways, WeCom, DingTalk, Feishu, webhooks: the code in text (a QR image
        # does not survive SMS).
        if not sender.add(url):
            raise delivery.BadAddress()
        sent = sender.notify(title=message["subject"], body=message["text"])
    if not sent:
        raise delivery.Refused()


def _notice_sender(db, secret_key: str, email_url: str | None):
    def send(row: dict, target: dict) -> None:
        batch = get_batch(db, row["batch_id"])
        parcels = _waiting_in_batch(db, row["batch_id"]) if batch else []
        if batch is None or batch["status"] != "open" or not parcels or not batch["code_sealed"]:
            raise delivery.Cancelled(delivery.NOTHING_LEFT)
        code = unseal_code(secret_key, batch["code_sealed"])
        message = render_notice(db, batch, parcels, code, kind=row["kind"])
        _send(target, message, qr_png(pickup_token(secret_key, batch)), email_url)

    return send


def deliver_notices(
    db: sqlite_utils.Database, clock, secret_key: str, email_url: str | None, limit=NOTICE_BATCH
) -> int:
    """Send due parcel messages through shared.delivery (the resident's channels in
    order, retries, never to a resident who moved out); the code is rendered here, at
    send time, and is never stored in a message row, an attempt or a log."""
    send = _notice_sender(db, secret_key, email_url)
    return delivery.deliver(db, clock, delivery.PARCEL_NOTICE, send, limit=limit)


def retry_notice(db: sqlite_utils.Database, clock, notice_id: int, *, staff_id: int) -> None:
    with write_transaction(db):
        delivery.retry(db, clock, delivery.PARCEL_NOTICE, notice_id)
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="parcel.notice_retry",
            target=f"parcel_notice:{notice_id}",
        )


def troubled_notices(db: sqlite_utils.Database) -> list[dict]:
    """Messages that failed or are being retried, for the console's list."""
    return list(
        db.query(
            "SELECT n.*, r.name AS resident_name, u.number AS unit_number FROM parcel_notices n"
            " JOIN residents r ON r.id = n.resident_id JOIN parcel_batches b ON b.id = n.batch_id"
            " JOIN units u ON u.id = b.unit_id"
            " WHERE n.status = 'failed' OR (n.status = 'pending' AND n.attempts > 0)"
            " ORDER BY n.id DESC LIMIT 100"
        )
    )


# --- expiry and reminders (the console's background thread; tests call them directly) ----


def _expire_batch(db, clock, batch: dict) -> None:
    cursor = db.execute(
        "UPDATE parcel_batches SET status = 'expired', closed_at = ?, code_sealed = NULL,"
        " next_reminder_at = NULL WHERE id = ? AND status = 'open'",
        (to_iso(clock.now()), batch["id"]),
    )
    if cursor.rowcount == 1:
        db.execute(
            "UPDATE parcel_notices SET status = 'cancelled' WHERE batch_id = ? AND status = 'pending'",
            (batch["id"],),
        )
        audit.record(
            db,
            clock,
            actor="system",
            action="parcel.code_expire",
            target=f"parcel_batch:{batch['id']}",
        )


def expire_codes(db: sqlite_utils.Database, clock) -> int:
    """Close batches whose code has expired; their parcels stay waiting (overdue, desk only)."""
    with write_transaction(db):
        due = list(
            db.query(
                "SELECT * FROM parcel_batches WHERE status = 'open' AND expires_at <= ?",
                (to_iso(clock.now()),),
            )
        )
        for batch in due:
            _expire_batch(db, clock, batch)
    return len(due)


def queue_reminders(db: sqlite_utils.Database, clock) -> int:
    """Remind residents after each of `parcel_reminder_days` (from the oldest waiting parcel)."""
    now = clock.now()
    with write_transaction(db):
        settings = _settings(db)
        days = _reminder_days(settings)
        due = list(
            db.query(
                "SELECT b.*, u.number AS unit_number FROM parcel_batches b"
                " JOIN units u ON u.id = b.unit_id"
                " WHERE b.status = 'open' AND b.next_reminder_at <= ?",
                (to_iso(now),),
            )
        )
        for batch in due:
            oldest = one(
                db,
                "SELECT MIN(received_at) AS at FROM parcels WHERE batch_id = ? AND status = 'waiting'",
                (batch["id"],),
            )["at"]
            if oldest is None:
                continue
            waited = now - parse_utc(oldest)
            # Catch up without spamming: one reminder now, counting every step passed.
            passed = sum(1 for d in days if waited >= timedelta(days=d))
            following = [d for d in days[passed:]]
            db.execute(
                "UPDATE parcel_batches SET reminders_sent = ?, next_reminder_at = ? WHERE id = ?",
                (
                    max(passed, batch["reminders_sent"] + 1),
                    to_iso(parse_utc(oldest) + timedelta(days=following[0])) if following else None,
                    batch["id"],
                ),
            )
            _queue_notices(db, clock, batch, kind="parcel.reminder")
            audit.record(
                db,
                clock,
                actor="system",
                action="parcel.reminder",
                target=f"parcel_batch:{batch['id']}",
                detail={"reminder": passed},
            )
    return len(due)


def run_jobs(db: sqlite_utils.Database, clock, secret_key: str, email_url: str | None) -> dict:
    """Everything parcels do on their own, for the console's background thread."""
    return {
        "expired": expire_codes(db, clock),
        "reminders": queue_reminders(db, clock),
        "sent": deliver_notices(db, clock, secret_key, email_url),
    }


# --- pickup at the kiosk ---------------------------------------------------------------------


def validate_pickup(body) -> dict:
    """POST /api/v1/parcels/pickup: {"unit", "code"} or {"qr"}."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    if set(body) == {"qr"}:
        if not isinstance(body["qr"], str) or not 1 <= len(body["qr"]) <= signing.MAX_TOKEN_LENGTH:
            raise InvalidRequest("qr must be the scanned text")
        return {"qr": body["qr"]}
    if set(body) == {"unit", "code"}:
        unit, code = body["unit"], body["code"]
        if not isinstance(unit, str) or not 1 <= len(unit.strip()) <= 12:
            raise InvalidRequest("unit must be the unit number")
        if not isinstance(code, str) or not _CODE.match(code):
            raise InvalidCodeFormat()
        return {"unit": unit.strip(), "code": code}
    raise InvalidRequest('send {"unit": "1201", "code": "123456"} or {"qr": "<scanned text>"}')


def _error(error: LobbyDeskError, **extra) -> tuple[dict, int]:
    return {"error": {"code": error.code, "message": str(error), **extra}}, error.http_status


def _attempt(db, clock, *, unit_id: int, kiosk_id: int | None, outcome: str) -> None:
    db.execute(
        "INSERT INTO parcel_code_attempts (unit_id, kiosk_id, outcome, at) VALUES (?, ?, ?, ?)",
        (unit_id, kiosk_id, outcome, to_iso(clock.now())),
    )


def _kiosk_wait(db, clock, kiosk_id: int) -> tuple[datetime | None, bool]:
    """(until when the kiosk is slowed or None, whether the one code allowed during
    that wait was used). Worked out from the kiosk's wrong codes in KIOSK_WINDOW."""
    until, slot_used = None, False
    rows = db.query(
        "SELECT at FROM parcel_code_attempts WHERE kiosk_id = ? AND outcome = 'wrong'"
        " AND at > ? ORDER BY at, id",
        (kiosk_id, to_iso(clock.now() - KIOSK_WINDOW)),
    )
    for count, row in enumerate(rows, start=1):
        at = parse_utc(row["at"])
        if count < KIOSK_WRONG_LIMIT:
            continue
        slot_used = until is not None and at < until  # this try came during a wait
        wait = min(KIOSK_FIRST_WAIT * 2 ** (count - KIOSK_WRONG_LIMIT), KIOSK_MAX_WAIT)
        until = at + wait
    return until, slot_used


def _check_kiosk_throttle(db, clock, kiosk_id: int, unit_id: int) -> None:
    """PickupThrottled while the kiosk is slowed, except one code for a unit that has
    no recent wrong codes (a resident after the sprayer left)."""
    until, slot_used = _kiosk_wait(db, clock, kiosk_id)
    now = clock.now()
    if until is None or until <= now:
        return
    if not slot_used and _wrong_count(db, clock, unit_id) == 0:
        return
    raise PickupThrottled(max(1, math.ceil((until - now).total_seconds())))


def _note_spray(db, clock, kiosk_id: int | None) -> None:
    """From the kiosk's KIOSK_WRONG_LIMIT-th wrong code in the window: one escalation
    for reception (raised once, then its count kept current) and an audit row."""
    if kiosk_id is None:
        return
    recent = one(
        db,
        "SELECT COUNT(*) AS wrong, COUNT(DISTINCT unit_id) AS units FROM parcel_code_attempts"
        " WHERE kiosk_id = ? AND outcome = 'wrong' AND at > ?",
        (kiosk_id, to_iso(clock.now() - KIOSK_WINDOW)),
    )
    if recent["wrong"] < KIOSK_WRONG_LIMIT:
        return
    escalation, new = escalations.raise_or_count_pickup_spray(
        db, clock, kiosk_id=kiosk_id, wrong=recent["wrong"], units=recent["units"]
    )
    if new:
        audit.record(
            db,
            clock,
            actor=f"kiosk:{kiosk_id}",
            action="parcel.pickup_spray",
            target=f"kiosk:{kiosk_id}",
            detail={**recent, "escalation": escalation["id"]},
        )


def active_pause(db, clock, unit_id: int) -> dict | None:
    return one(
        db,
        "SELECT * FROM parcel_code_pauses WHERE unit_id = ? AND lifted_at IS NULL"
        " AND paused_until > ? ORDER BY id DESC LIMIT 1",
        (unit_id, to_iso(clock.now())),
    )


def _wrong_count(db, clock, unit_id: int) -> int:
    """Wrong codes for the unit in the window, since its last success, pause or lift."""
    return one(
        db,
        "SELECT COUNT(*) AS n FROM parcel_code_attempts WHERE unit_id = ? AND outcome = 'wrong'"
        " AND at > ? AND id > COALESCE((SELECT MAX(id) FROM parcel_code_attempts"
        " WHERE unit_id = ? AND outcome IN ('ok', 'reset')), 0)",
        (unit_id, to_iso(clock.now() - UNIT_WINDOW), unit_id),
    )["n"]


def _wrong_code(db, clock, unit: dict, kiosk_id: int | None) -> tuple[dict, int]:
    _attempt(db, clock, unit_id=unit["id"], kiosk_id=kiosk_id, outcome="wrong")
    _note_spray(db, clock, kiosk_id)
    wrong = _wrong_count(db, clock, unit["id"])
    now = clock.now()
    if wrong < UNIT_WRONG_LIMIT:
        audit.record(
            db,
            clock,
            actor=f"kiosk:{kiosk_id}",
            action="parcel.code_wrong",
            target=f"unit:{unit['id']}",
            detail={"unit": unit["number"], "attempts_left": UNIT_WRONG_LIMIT - wrong},
        )
        return {
            "error": {
                "code": "wrong_code",
                "message": "The unit and code do not match. Check the code in your message.",
                "attempts_left": UNIT_WRONG_LIMIT - wrong,
            }
        }, 400
    paused_until = now + UNIT_PAUSE
    escalation = escalations.raise_code_lockout(
        db, clock, kiosk_id=kiosk_id, unit_number=unit["number"]
    )
    db.execute(
        "INSERT INTO parcel_code_pauses (unit_id, kiosk_id, paused_at, paused_until, escalation_id)"
        " VALUES (?, ?, ?, ?, ?)",
        (unit["id"], kiosk_id, to_iso(now), to_iso(paused_until), escalation["id"]),
    )
    _attempt(db, clock, unit_id=unit["id"], kiosk_id=kiosk_id, outcome="reset")
    audit.record(
        db,
        clock,
        actor=f"kiosk:{kiosk_id}",
        action="parcel.code_lockout",
        target=f"unit:{unit['id']}",
        detail={"unit": unit["number"], "escalation": escalation["id"]},
    )
    paused = CodeEntryPaused(paused_until, now)
    return _error(
        paused, attempts_left=0, paused_until=to_iso(paused_until), retry_after=paused.retry_after
    )


def lift_pause(db: sqlite_utils.Database, clock, unit_id: int, *, staff_id: int) -> None:
    """Reception checked the resident and lets code entry resume for the unit."""
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE parcel_code_pauses SET lifted_at = ?, lifted_by = ? WHERE unit_id = ?"
            " AND lifted_at IS NULL AND paused_until > ?",
            (to_iso(clock.now()), staff_id, unit_id, to_iso(clock.now())),
        )
        if cursor.rowcount == 0:
            raise StaleState("该房号的取件码输入没有暂停 · Code entry for this unit is not paused.")
        _attempt(db, clock, unit_id=unit_id, kiosk_id=None, outcome="reset")
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="parcel.pause_lift",
            target=f"unit:{unit_id}",
        )


def active_pauses(db: sqlite_utils.Database, clock) -> list[dict]:
    return list(
        db.query(
            "SELECT p.*, u.number AS unit_number FROM parcel_code_pauses p"
            " JOIN units u ON u.id = p.unit_id WHERE p.lifted_at IS NULL AND p.paused_until > ?"
            " ORDER BY p.id DESC",
            (to_iso(clock.now()),),
        )
    )


def batch_from_token(db, clock, secret_key: str, token) -> dict:
    """The open batch a pickup QR names; TokenInvalid / TokenExpired / AlreadyCollected /
    CodeExpired otherwise."""
    payload = signing.verify(secret_key, signing.PARCEL_PICKUP, token, clock.now())
    unit_id, batch_id = payload.get("u"), payload.get("b")
    if not isinstance(unit_id, int) or not isinstance(batch_id, int):
        raise signing.TokenInvalid()
    batch = get_batch(db, batch_id)
    if batch is None or batch["unit_id"] != unit_id:
        raise signing.TokenInvalid()
    _check_open(db, clock, batch)
    return batch


def _check_open(db, clock, batch: dict) -> None:
    if batch["status"] == "collected":
        raise AlreadyCollected()
    if batch["status"] == "expired" or parse_utc(batch["expires_at"]) <= clock.now():
        raise CodeExpired()


def release(
    db: sqlite_utils.Database,
    clock,
    batch: dict,
    *,
    method: str,
    kiosk_id: int | None = None,
    staff_id: int | None = None,
) -> list[dict]:
    """Release every waiting parcel of the batch, exactly once. Call inside write_transaction."""
    if method not in RELEASE_METHODS:
        raise InvalidRequest(f"method must be one of {', '.join(RELEASE_METHODS)}")
    parcels = _waiting_in_batch(db, batch["id"])
    now = to_iso(clock.now())
    at_desk = method.startswith("desk")
    # The guard (SECURITY.md 19): one UPDATE on status; zero rows means someone was first.
    cursor = db.execute(
        "UPDATE parcels SET status = 'collected', collected_at = ?, release_method = ?,"
        " released_by = ?, released_kiosk_id = ?, handed_over_at = ?, handed_over_by = ?"
        " WHERE batch_id = ? AND status = 'waiting'",
        (
            now,
            method,
            staff_id,
            kiosk_id,
            now if at_desk else None,
            staff_id if at_desk else None,
            batch["id"],
        ),
    )
    if cursor.rowcount == 0 or cursor.rowcount != len(parcels):
        raise AlreadyCollected()
    closed = db.execute(
        "UPDATE parcel_batches SET status = 'collected', closed_at = ?, code_sealed = NULL,"
        " next_reminder_at = NULL WHERE id = ? AND status = 'open'",
        (now, batch["id"]),
    )
    if closed.rowcount != 1:
        raise AlreadyCollected()
    db.execute(
        "UPDATE parcel_notices SET status = 'cancelled' WHERE batch_id = ? AND status = 'pending'",
        (batch["id"],),
    )
    actor = f"staff:{staff_id}" if staff_id else f"kiosk:{kiosk_id}"
    audit.record(
        db,
        clock,
        actor=actor,
        action="parcel.release",
        target=f"parcel_batch:{batch['id']}",
        detail={
            "method": method,
            "unit": batch.get("unit_number"),
            "parcels": [p["id"] for p in parcels],
        },
    )
    return parcels


def pickup(db: sqlite_utils.Database, clock, *, secret_key: str, kiosk_id: int, body) -> tuple:
    """The kiosk's pickup, inside the API's write transaction: (answer, status).

    Outcomes that must be remembered (a release, a wrong code, a rejected QR, a
    lockout) are returned so they commit with the idempotency record; refusals
    made before looking at the code (bad input, throttle, pause) are raised and
    leave nothing behind, so a retry after the wait is evaluated afresh.
    """
    fields = validate_pickup(body)
    settings = _settings(db)
    if "qr" in fields:
        try:
            batch = batch_from_token(db, clock, secret_key, fields["qr"])
        except (signing.TokenInvalid, signing.TokenExpired, AlreadyCollected, CodeExpired) as no:
            audit.record(
                db,
                clock,
                actor=f"kiosk:{kiosk_id}",
                action="parcel.qr_rejected",
                detail={"reason": no.code},
            )
            return _error(no)
        method = "kiosk_qr"
    else:
        unit = building.unit_by_number(db, fields["unit"])
        _check_kiosk_throttle(db, clock, kiosk_id, unit["id"])
        pause = active_pause(db, clock, unit["id"])
        if pause is not None:
            raise CodeEntryPaused(parse_utc(pause["paused_until"]), clock.now())
        batch = one(
            db,
            "SELECT b.*, u.number AS unit_number FROM parcel_batches b"
            " JOIN units u ON u.id = b.unit_id WHERE b.unit_id = ? AND b.code_hash = ?"
            " ORDER BY b.id DESC LIMIT 1",
            (unit["id"], code_hash(secret_key, unit["id"], fields["code"])),
        )
        if batch is None:
            return _wrong_code(db, clock, unit, kiosk_id)
        try:
            _check_open(db, clock, batch)
        except (AlreadyCollected, CodeExpired) as no:
            audit.record(
                db,
                clock,
                actor=f"kiosk:{kiosk_id}",
                action="parcel.code_rejected",
                target=f"parcel_batch:{batch['id']}",
                detail={"reason": no.code},
            )
            return _error(no)
        _attempt(db, clock, unit_id=unit["id"], kiosk_id=kiosk_id, outcome="ok")
        method = "kiosk_code"
    parcels = release(db, clock, batch, method=method, kiosk_id=kiosk_id)
    self_service = bool(settings["parcel_self_service"])
    if not self_service:
        _create_handover(db, clock, batch, parcels, kiosk_id=kiosk_id, method=method)
    return pickup_answer(parcels, self_service), 200


def pickup_answer(parcels: list[dict], self_service: bool) -> dict:
    count = len(parcels)
    shelves = "、".join(dict.fromkeys(p["shelf"] for p in parcels if p["shelf"]))
    if self_service:
        zh = f"已为您找到 {count} 件快递，请到货架 {shelves} 自取。"
        en = f"We found {count} parcel(s) for you. Please take them from shelf {shelves}."
    else:
        zh = f"已为您找到 {count} 件快递，请到服务台领取，工作人员正在为您取件。"
        en = f"We found {count} parcel(s) for you. Please come to the desk; staff are fetching them now."
    return {
        "parcels": [
            {
                "carrier": carrier_label(p["carrier"]),
                "shelf": p["shelf"],
                "tracking_tail": tracking_tail(p["tracking_number"]),
            }
            for p in parcels
        ],
        "collect_at": "shelf" if self_service else "desk",
        "message_zh": zh,
        "message_en": en,
    }


# --- handover at the desk ----------------------------------------------------------------------


def _create_handover(db, clock, batch: dict, parcels: list[dict], *, kiosk_id, method) -> int:
    shelves = ", ".join(dict.fromkeys(p["shelf"] for p in parcels if p["shelf"]))
    cursor = db.execute(
        "INSERT INTO parcel_handovers (batch_id, unit_id, kiosk_id, method, shelves,"
        " parcel_count, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            batch["id"],
            batch["unit_id"],
            kiosk_id,
            method,
            shelves,
            len(parcels),
            to_iso(clock.now()),
        ),
    )
    db.execute(
        "UPDATE parcels SET handover_id = ? WHERE batch_id = ? AND status = 'collected'"
        " AND handover_id IS NULL",
        (cursor.lastrowid, batch["id"]),
    )
    return cursor.lastrowid


def open_handovers(db: sqlite_utils.Database) -> list[dict]:
    """Kiosk pickups waiting at the desk, for the live queue."""
    rows = list(
        db.query(
            "SELECT h.*, u.number AS unit_number, k.name AS kiosk_name FROM parcel_handovers h"
            " JOIN units u ON u.id = h.unit_id LEFT JOIN kiosks k ON k.id = h.kiosk_id"
            " WHERE h.status = 'open' ORDER BY h.received_at, h.id"
        )
    )
    for row in rows:
        row["parcels"] = [
            {
                **p,
                "carrier_label": carrier_label(p["carrier"]),
                "tail": tracking_tail(p["tracking_number"]),
            }
            for p in db.query(
                "SELECT * FROM parcels WHERE handover_id = ? ORDER BY shelf, id", (row["id"],)
            )
        ]
    return rows


def complete_handover(db: sqlite_utils.Database, clock, handover_id: int, *, staff_id: int) -> None:
    """Staff gave the parcels of a kiosk pickup to the resident."""
    now = to_iso(clock.now())
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE parcel_handovers SET status = 'done', done_at = ?, done_by = ?"
            " WHERE id = ? AND status = 'open'",
            (now, staff_id, handover_id),
        )
        if cursor.rowcount != 1:
            raise StaleState(f"这次交付已完成 · Handover {handover_id} was already completed.")
        handover = one(db, "SELECT * FROM parcel_handovers WHERE id = ?", (handover_id,))
        db.execute(
            "UPDATE parcels SET handed_over_at = ?, handed_over_by = ? WHERE handover_id = ?",
            (now, staff_id, handover_id),
        )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="parcel.hand_over",
            target=f"parcel_batch:{handover['batch_id']}",
            detail={"method": handover["method"], "handover": handover_id},
        )


# --- who collects at the desk --------------------------------------------------------------------

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
        _attempt(db, clock, unit_id=unit_id, kiosk_id=None, outcome="wrong")
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
    if not _CODE.match(code):
        raise DeskCodeRefused("取件码是 6 位数字 · A pickup code is 6 digits.")
    if active_pause(db, clock, unit_id) or _wrong_count(db, clock, unit_id) >= UNIT_WRONG_LIMIT:
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
            _attempt(db, clock, unit_id=rows[0]["unit_id"], kiosk_id=None, outcome="ok")
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
        if not _waiting_in_batch(db, batch_id):
            db.execute(
                "UPDATE parcel_batches SET status = 'collected', closed_at = ?,"
                " code_sealed = NULL, next_reminder_at = NULL WHERE id = ? AND status = 'open'",
                (now, batch_id),
            )
            db.execute(
                "UPDATE parcel_notices SET status = 'cancelled' WHERE batch_id = ?"
                " AND status = 'pending'",
                (batch_id,),
            )


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


# --- lists ---------------------------------------------------------------------------------------


def waiting_for_unit(db: sqlite_utils.Database, unit_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT * FROM parcels WHERE unit_id = ? AND status = 'waiting' ORDER BY id", (unit_id,)
        )
    )


def search(
    db: sqlite_utils.Database,
    clock,
    *,
    view: str = "waiting",
    text: str = "",
    before_id: int | None = None,
    limit: int = 50,
) -> list[dict]:
    """Waiting / overdue / collected parcels, newest first, keyset-paged on id."""
    where, params = [], []
    if view == "waiting":
        where.append("p.status = 'waiting'")
    elif view == "overdue":
        where.append("p.status = 'waiting' AND p.expires_at <= ?")
        params.append(to_iso(clock.now()))
    elif view == "collected":
        where.append("p.status = 'collected'")
    text = " ".join(str(text).split())[:MAX_SEARCH_LENGTH]
    if text:
        clauses = [
            "p.unit_id IN (SELECT id FROM units WHERE number = ? COLLATE NOCASE)",
            "p.unit_id IN (SELECT unit_id FROM residents WHERE name LIKE ? AND moved_out_on IS NULL)",
        ]
        params += [text, f"%{text}%"]
        compact = "".join(text.split()).upper()
        if len(compact) >= 4:
            clauses.append("p.tracking_number LIKE ?")
            params.append(f"%{compact}%")
        where.append("(" + " OR ".join(clauses) + ")")
    if before_id:
        where.append("p.id < ?")
        params.append(before_id)
    where_sql = " WHERE " + " AND ".join(where) if where else ""
    # The clauses are fixed strings; every value is a parameter.
    sql = (
        "SELECT p.*, u.number AS unit_number,"  # noqa: S608
        " (SELECT group_concat(name, '、') FROM residents r WHERE r.unit_id = p.unit_id"
        " AND r.moved_out_on IS NULL) AS residents,"
        " (SELECT status FROM parcel_notices n WHERE n.batch_id = p.batch_id"
        "   ORDER BY n.id DESC LIMIT 1) AS notice_status,"
        " s1.display_name AS released_by_name, s2.display_name AS handed_over_by_name"
        " FROM parcels p JOIN units u ON u.id = p.unit_id"
        " LEFT JOIN staff s1 ON s1.id = p.released_by"
        " LEFT JOIN staff s2 ON s2.id = p.handed_over_by"
        f"{where_sql} ORDER BY p.id DESC LIMIT ?"
    )
    return list(db.query(sql, [*params, limit]))


def recent_intake(db: sqlite_utils.Database, limit: int = 10) -> list[dict]:
    return list(
        db.query(
            "SELECT p.*, u.number AS unit_number FROM parcels p JOIN units u ON u.id = p.unit_id"
            " ORDER BY p.id DESC LIMIT ?",
            (limit,),
        )
    )
