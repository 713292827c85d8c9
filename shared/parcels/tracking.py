"""Tracking numbers, carriers, shelves and units: what the desk types at intake."""

from __future__ import annotations

import functools
import re
import unicodedata

import sqlite_utils

from shared import building, terms
from shared.clock import local_time
from shared.db import one
from shared.errors import LobbyDeskError

MAX_SHELF_LENGTH = 12
MAX_SEARCH_LENGTH = 40
_TRACKING = re.compile(r"^[A-Z0-9-]{6,40}$")

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


def _status_zh(status: str) -> str:
    return terms.term("parcel_status", status, "zh")


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
    directory's index (shared/residents/)."""
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
