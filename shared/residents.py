"""The people of a building: owners, tenants and household members of each unit.

Every writer (the demo, the roster import, the console pages, the command
line) goes through `create`, `update`, `move_in` and `move_out` here, with the
same validation. A resident is active until moved out; a moved-out resident
gets no messages and is not shown as a host, and their row (their history)
stays until retention erases it. How a resident agreed to be told is kept per
channel with the time of consent (PIPL), in the fallback order.
"""

from __future__ import annotations

import logging
import re
from datetime import date

import sqlite_utils

from shared import audit, names, phones, terms
from shared.clock import local_time, to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest, NotFound, StaleState
from shared.text import refused_character

log = logging.getLogger(__name__)

ROLES = ("owner", "tenant", "household")
ROLE_LABELS = terms.labels("resident_role")
LANGUAGES = ("zh_CN", "en")
CHANNEL_KINDS = ("email", "sms", "wecom", "dingtalk", "feishu", "webhook")
CHANNEL_LABELS = {
    "email": "邮件 · E-mail",
    "sms": "短信 · SMS",
    "wecom": "企业微信 · WeCom",
    "dingtalk": "钉钉 · DingTalk",
    "feishu": "飞书 · Feishu",
    "webhook": "Webhook（公众号等 · WeChat bridge）",
}
# apprise schemes each kind accepts; an SMS gateway may be any other apprise service.
_SCHEMES = {
    "wecom": ("wecombot",),
    "dingtalk": ("dingtalk",),
    "feishu": ("feishu", "lark"),
    "webhook": ("json", "jsons", "form", "forms", "xml", "xmls"),
}
MAX_CHANNELS = 5
MAX_EMAIL = 254
MAX_URL = 500
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
INSTRUCTION_KINDS = ("do_not_admit", "parcels", "note")
INSTRUCTION_LABELS = terms.labels("instruction_kind")
MAX_INSTRUCTION = 300


class InvalidResident(InvalidRequest):
    """This resident cannot be saved as it is. 住户信息有误。"""

    code = "invalid_resident"
    http_status = 422

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


# --- validation ------------------------------------------------------------------------


def _name(value, field: str = "name") -> str:
    try:
        return names.clean(value)
    except names.InvalidName:
        raise InvalidResident(
            "请填写姓名：仅限文字，最多 40 个字符 · Enter a name: letters only, at most 40 characters.",
            field,
        ) from None


def _phone(value, field: str) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return phones.normalise(text)
    except phones.InvalidPhone:
        raise InvalidResident(
            f"“{text[:20]}”不是有效的手机号（固定电话无法接收短信）· "
            f"“{text[:20]}” is not a valid mobile number (a landline cannot receive messages).",
            field,
        ) from None


def _email(value, field: str = "email") -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    if len(text) > MAX_EMAIL or not _EMAIL.match(text) or refused_character(text, allowed=""):
        raise InvalidResident(
            f"“{text[:40]}”不是有效的邮箱地址 · “{text[:40]}” is not a valid e-mail address.", field
        )
    return text


def _date(value, field: str, label_zh: str, label_en: str) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text.replace("/", "-")).isoformat()
    except ValueError:
        raise InvalidResident(
            f"{label_zh}应为日期，如 2026-12-01 · {label_en} must be a date such as 2026-12-01.",
            field,
        ) from None


def channel_kind_of(address: str) -> str:
    """The channel an address belongs to: an e-mail address, or an apprise URL's service."""
    if "://" not in address:
        return "email"
    scheme = address.split("://", 1)[0].lower()
    if scheme in ("mailto", "mailtos"):
        return "email"
    for kind, schemes in _SCHEMES.items():
        if scheme in schemes:
            return kind
    return "sms"


def clean_channel(channel: dict, position: int) -> dict:
    """One contact channel: kind, address and the resident's consent (PIPL)."""
    field = f"channel_{position}"
    address = str(channel.get("address") or "").strip()
    kind = str(channel.get("kind") or "").strip().lower() or channel_kind_of(address)
    if kind not in CHANNEL_KINDS:
        raise InvalidResident("未知的通知渠道 · Unknown contact channel.", field)
    if kind == "email" and "://" in address:
        # a mail server of the resident's own (an apprise mailto:// URL) is allowed too
        if not _valid_apprise_url(kind, address):
            raise InvalidResident(
                f"“{address[:60]}”不是有效的邮件地址 · “{address[:60]}” is not a valid mail URL.",
                field,
            )
    elif kind == "email":
        address = _email(address.removeprefix("mailto:"), field) or ""
    elif not _valid_apprise_url(kind, address):
        raise InvalidResident(
            f"“{address[:60]}”不是有效的{CHANNEL_LABELS[kind]}地址 · "
            f"“{address[:60]}” is not a valid {kind} address (an apprise URL).",
            field,
        )
    if not address:
        raise InvalidResident("请填写通知地址 · Enter the address for this channel.", field)
    if not channel.get("consent_at"):
        raise InvalidResident(
            "须经住户同意才能通过此渠道通知 · The resident must agree before being contacted this way.",
            field,
        )
    return {
        "kind": kind,
        "address": address,
        "consent_at": channel["consent_at"],
        "consent_source": str(channel.get("consent_source") or "form"),
    }


def _valid_apprise_url(kind: str, url: str) -> bool:
    import apprise  # heavy: only when a channel is checked

    if not url or len(url) > MAX_URL or refused_character(url, allowed=""):
        return False
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if kind == "email" and scheme not in ("mailto", "mailtos"):
        return False
    if kind in _SCHEMES and scheme not in _SCHEMES[kind]:
        return False
    if kind == "sms" and scheme in ("mailto", "mailtos"):
        return False
    return apprise.Apprise.instantiate(url) is not None


def clean(fields: dict, *, today: str) -> dict:
    """Validated resident fields; InvalidResident names the first wrong field."""
    role = str(fields.get("role") or "owner").strip().lower()
    if role not in ROLES:
        raise InvalidResident(
            "身份应为业主、租户或家庭成员 · Role must be owner, tenant or household.", "role"
        )
    language = str(fields.get("language") or "zh_CN").strip()
    if language not in LANGUAGES:
        language = "en" if language.lower().startswith("en") else None
        if language is None:
            raise InvalidResident(
                "语言应为中文或英文 · Language must be Chinese or English.", "language"
            )
    cleaned = {
        "name": _name(fields.get("name")),
        "role": role,
        "phone": _phone(fields.get("phone"), "phone"),
        "alt_phone": _phone(fields.get("alt_phone"), "alt_phone"),
        "email": _email(fields.get("email")),
        "language": language,
        "moved_in_on": _date(fields.get("moved_in_on"), "moved_in_on", "入住日期", "Move-in date")
        or today,
    }
    channels = list(fields.get("channels") or [])
    if len(channels) > MAX_CHANNELS:
        raise InvalidResident(
            f"最多 {MAX_CHANNELS} 个通知渠道 · At most {MAX_CHANNELS} channels.", "channels"
        )
    cleaned["channels"] = [clean_channel(c, i) for i, c in enumerate(channels, start=1)]
    return cleaned


# --- search keys -----------------------------------------------------------------------


def pinyin_keys(name: str) -> tuple[str, ...]:
    from shared.parcels import pinyin_keys as keys  # cached there, used by parcel intake too

    return keys(name)


def _phone_keys(e164: str | None) -> set[str]:
    if not e164:
        return set()
    digits = e164[3:] if e164.startswith("+86") else e164[1:]
    return {digits, digits[-4:]}


def search_keys(resident: dict) -> set[str]:
    name = "".join(resident["name"].split()).casefold()
    keys = {name, *pinyin_keys(resident["name"])}
    if names.is_cjk(resident["name"]) and len(name) > 1:
        keys.add(name[1:])  # the given name: 建国 finds 王建国
    else:
        keys.update(word.casefold() for word in resident["name"].split())
    keys |= _phone_keys(resident.get("phone")) | _phone_keys(resident.get("alt_phone"))
    return {k for k in keys if k}


def _index(db, resident_id: int, resident: dict) -> None:
    db.execute("DELETE FROM resident_search WHERE resident_id = ?", (resident_id,))
    db.conn.executemany(
        "INSERT INTO resident_search (resident_id, key) VALUES (?, ?)",
        [(resident_id, key) for key in sorted(search_keys(resident))],
    )


def search_text(text: str) -> str:
    """What a typed query is matched as: no spaces, case-folded; a phone as its digits."""
    query = "".join(str(text or "").split()).casefold()[:40]
    digits = "".join(ch for ch in query if ch.isdigit())
    if query and all(ch.isdigit() or ch in "+-()" for ch in query) and len(digits) >= 4:
        if query.startswith("+86") or (query.startswith("86") and len(digits) == 13):
            digits = digits[2:]
        return digits
    return query


# --- writers ---------------------------------------------------------------------------


def today(db: sqlite_utils.Database, clock) -> str:
    """The building's date now (moves are dated in building time)."""
    from shared import building

    timezone = building.current(db)["timezone"]
    return local_time(to_iso(clock.now()), timezone, "%Y-%m-%d")


def _active_unit(db, unit_id: int) -> dict:
    unit = one(db, "SELECT * FROM units WHERE id = ?", (unit_id,))
    if unit is None or unit["retired_at"]:
        raise InvalidResident("没有这个房号或已停用 · No such unit in use.", "unit")
    return unit


def _save_channels(db, clock, resident_id: int, channels: list[dict]) -> None:
    """Replace the resident's channels: unchanged ones keep their consent time."""
    now = to_iso(clock.now())
    current = {
        (c["kind"], c["address"]): c
        for c in db.query(
            "SELECT * FROM resident_channels WHERE resident_id = ? AND withdrawn_at IS NULL",
            (resident_id,),
        )
    }
    kept = set()
    for position, channel in enumerate(channels, start=1):
        key = (channel["kind"], channel["address"])
        if key in current:
            kept.add(current[key]["id"])
            db.execute(
                "UPDATE resident_channels SET position = ? WHERE id = ?",
                (position, current[key]["id"]),
            )
        else:
            db.execute(
                "INSERT INTO resident_channels (resident_id, kind, address, position, consent_at,"
                " consent_source) VALUES (?, ?, ?, ?, ?, ?)",
                (resident_id, *key, position, channel["consent_at"], channel["consent_source"]),
            )
    for old in current.values():
        if old["id"] not in kept:
            db.execute(
                "UPDATE resident_channels SET withdrawn_at = ? WHERE id = ?", (now, old["id"])
            )


def _insert(db, clock, unit_id: int, resident: dict) -> int:
    now = to_iso(clock.now())
    cursor = db.execute(
        "INSERT INTO residents (unit_id, name, role, phone, alt_phone, email, language,"
        " moved_in_on, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            unit_id,
            *(resident[k] for k in ("name", "role", "phone", "alt_phone", "email", "language")),
            resident["moved_in_on"],
            now,
            now,
        ),
    )
    resident_id = cursor.lastrowid
    _save_channels(db, clock, resident_id, resident["channels"])
    _index(db, resident_id, resident)
    return resident_id


def create(db: sqlite_utils.Database, clock, unit_id: int, fields: dict, *, actor: str) -> int:
    """A new resident of a unit in use; returns the id."""
    resident = clean(fields, today=today(db, clock))
    with write_transaction(db):
        _active_unit(db, unit_id)
        resident_id = _insert(db, clock, unit_id, resident)
        audit.record(
            db,
            clock,
            actor=actor,
            action="resident.create",
            target=f"resident:{resident_id}",
            detail={"unit_id": unit_id, "role": resident["role"]},
        )
    return resident_id


def get(db: sqlite_utils.Database, resident_id: int) -> dict:
    row = one(
        db,
        "SELECT r.*, u.number AS unit_number FROM residents r JOIN units u ON u.id = r.unit_id"
        " WHERE r.id = ?",
        (resident_id,),
    )
    if row is None:
        raise NotFound(f"没有这位住户 · No resident {resident_id}.")
    row["channels"] = channels_of(db, resident_id)
    return row


_FIELDS = ("name", "role", "phone", "alt_phone", "email", "language", "moved_in_on")


def update(db: sqlite_utils.Database, clock, resident_id: int, fields: dict, *, actor: str) -> None:
    """Change a resident's details and channels (the audit names the fields, not values)."""
    resident = clean(fields, today=today(db, clock))
    with write_transaction(db):
        before = get(db, resident_id)
        if before["moved_out_on"] or before["erased_at"]:
            raise StaleState("这位住户已迁出 · This resident has moved out.")
        db.execute(
            "UPDATE residents SET name = ?, role = ?, phone = ?, alt_phone = ?, email = ?,"
            " language = ?, moved_in_on = ?, updated_at = ? WHERE id = ?",
            (*(resident[k] for k in _FIELDS), to_iso(clock.now()), resident_id),
        )
        _save_channels(db, clock, resident_id, resident["channels"])
        _index(db, resident_id, resident)
        changed = [k for k in _FIELDS if before[k] != resident[k]]
        if [(c["kind"], c["address"]) for c in before["channels"]] != [
            (c["kind"], c["address"]) for c in resident["channels"]
        ]:
            changed.append("channels")
        audit.record(
            db,
            clock,
            actor=actor,
            action="resident.update",
            target=f"resident:{resident_id}",
            detail={"fields": changed},
        )


def _check_move_out_date(moved_out_on: str, today_text: str, moved_in_on: str | None) -> None:
    if moved_out_on > today_text:
        raise InvalidResident(
            "迁出日期不能晚于今天 · The move-out date cannot be after today.", "moved_out_on"
        )
    if moved_in_on and moved_out_on < moved_in_on:
        raise InvalidResident(
            "迁出日期不能早于入住日期 · The move-out date cannot be before the move-in date.",
            "moved_out_on",
        )


def move_out(
    db: sqlite_utils.Database, clock, resident_ids, *, on: str | None = None, actor: str
) -> int:
    """Move residents out (dated today or earlier): from now on they get no messages and
    are not shown as hosts; messages still queued for them are cancelled."""
    today_text = today(db, clock)
    moved_out_on = _date(on, "moved_out_on", "迁出日期", "Move-out date") or today_text
    with write_transaction(db):
        moved = 0
        for resident_id in resident_ids:
            resident = get(db, int(resident_id))
            if resident["moved_out_on"]:
                continue
            _check_move_out_date(moved_out_on, today_text, resident["moved_in_on"])
            db.execute(
                "UPDATE residents SET moved_out_on = ?, updated_at = ? WHERE id = ?",
                (moved_out_on, to_iso(clock.now()), resident["id"]),
            )
            _cancel_messages(db, resident["id"])
            audit.record(
                db,
                clock,
                actor=actor,
                action="resident.move_out",
                target=f"resident:{resident['id']}",
                detail={"unit_id": resident["unit_id"], "on": moved_out_on},
            )
            moved += 1
    return moved


def _cancel_messages(db, resident_id: int) -> None:
    db.execute(
        "UPDATE parcel_notices SET status = 'cancelled' WHERE resident_id = ? AND status = 'pending'",
        (resident_id,),
    )
    db.execute(
        "UPDATE notifications SET status = 'failed', last_error = 'moved out'"
        " WHERE resident_id = ? AND status = 'pending'",
        (resident_id,),
    )


def move_in(
    db: sqlite_utils.Database,
    clock,
    unit_id: int,
    people: list[dict],
    *,
    replace: bool = False,
    on: str | None = None,
    actor: str,
) -> list[int]:
    """A household moves in, all at once: with `replace`, everyone living there now is
    moved out on the same day first. Nothing is written if any person is invalid."""
    if not people:
        raise InvalidResident("请至少登记一位住户 · Enter at least one person.", "name")
    today_text = today(db, clock)
    moved_in_on = _date(on, "moved_in_on", "入住日期", "Move-in date") or today_text
    cleaned = [clean({**p, "moved_in_on": moved_in_on}, today=today_text) for p in people]
    with write_transaction(db):
        _active_unit(db, unit_id)
        if replace:
            current = [r["id"] for r in active_of(db, unit_id)]
            move_out(db, clock, current, on=min(moved_in_on, today_text), actor=actor)
        ids = [_insert(db, clock, unit_id, person) for person in cleaned]
        audit.record(
            db,
            clock,
            actor=actor,
            action="unit.move_in",
            target=f"unit:{unit_id}",
            detail={"residents": ids, "replace": replace, "on": moved_in_on},
        )
    return ids


# --- readers ---------------------------------------------------------------------------


def active_of(db: sqlite_utils.Database, unit_id: int) -> list[dict]:
    """The unit's residents living there now: its hosts and the people its messages go to."""
    return list(
        db.query(
            "SELECT * FROM residents WHERE unit_id = ? AND moved_out_on IS NULL ORDER BY"
            " CASE role WHEN 'owner' THEN 0 WHEN 'tenant' THEN 1 ELSE 2 END, id",
            (unit_id,),
        )
    )


def channels_of(db: sqlite_utils.Database, resident_id: int) -> list[dict]:
    """The resident's consented channels in fallback order."""
    return list(
        db.query(
            "SELECT * FROM resident_channels WHERE resident_id = ? AND withdrawn_at IS NULL"
            " ORDER BY position, id",
            (resident_id,),
        )
    )


def search(
    db: sqlite_utils.Database, text: str, *, include_moved_out: bool = False, limit: int = 50
) -> list[dict]:
    """The directory: residents by unit (label or keypad code), name, given name, pinyin
    or its initials, or phone (all or the last four digits), as prefixes."""
    query = search_text(text)
    if not query:
        return []
    upper = query + "\uffff"
    ids = [
        row["resident_id"]
        for row in db.query(
            "SELECT DISTINCT resident_id FROM resident_search WHERE key >= ? AND key < ? LIMIT 500",
            (query, upper),
        )
    ]
    unit_ids = [
        row["id"]
        for row in db.query(
            "SELECT id FROM units WHERE (number >= ? COLLATE NOCASE AND number < ? COLLATE NOCASE)"
            " OR (keypad >= ? AND keypad < ?) LIMIT 200",
            (query, upper, query, upper),
        )
    ]
    return _rows(db, ids, unit_ids, include_moved_out, limit)


def _rows(db, ids, unit_ids, include_moved_out: bool, limit: int) -> list[dict]:
    if not ids and not unit_ids:
        return []
    active = "" if include_moved_out else " AND r.moved_out_on IS NULL"
    id_marks, unit_marks = (
        ",".join("?" * len(ids)) or "NULL",
        ",".join("?" * len(unit_ids)) or "NULL",
    )
    return list(
        db.query(
            "SELECT r.*, u.number AS unit_number FROM residents r JOIN units u ON u.id = r.unit_id"  # noqa: S608
            f" WHERE (r.id IN ({id_marks}) OR r.unit_id IN ({unit_marks})){active}"
            " AND r.erased_at IS NULL ORDER BY r.moved_out_on IS NOT NULL, u.number, r.id LIMIT ?",
            (*ids, *unit_ids, limit),
        )
    )


# --- standing instructions and parcel proxies --------------------------------------------


def _instruction_text(text, field: str = "text", limit: int = MAX_INSTRUCTION) -> str:
    value = " ".join(str(text or "").split())
    if not value or len(value) > limit:
        raise InvalidResident(f"请填写 1–{limit} 个字符 · Enter 1–{limit} characters.", field)
    if refused_character(value, allowed=""):
        raise InvalidResident("含有不可见字符 · It contains an invisible character.", field)
    return value


def add_instruction(
    db: sqlite_utils.Database, clock, unit_id: int, kind: str, text: str, *, actor: str
) -> int:
    if kind not in INSTRUCTION_KINDS:
        raise InvalidResident("未知的说明类型 · Unknown kind of instruction.", "kind")
    value = _instruction_text(text)
    with write_transaction(db):
        _active_unit(db, unit_id)
        cursor = db.execute(
            "INSERT INTO unit_instructions (unit_id, kind, text, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?)",
            (unit_id, kind, value, to_iso(clock.now()), actor),
        )
        audit.record(
            db,
            clock,
            actor=actor,
            action="unit.instruction_add",
            target=f"unit:{unit_id}",
            detail={"kind": kind},
        )
    return cursor.lastrowid


def instructions_of(db: sqlite_utils.Database, unit_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT * FROM unit_instructions WHERE unit_id = ? AND removed_at IS NULL"
            " ORDER BY CASE kind WHEN 'do_not_admit' THEN 0 WHEN 'parcels' THEN 1 ELSE 2 END, id",
            (unit_id,),
        )
    )


def add_proxy(db: sqlite_utils.Database, clock, unit_id: int, fields: dict, *, actor: str) -> int:
    """Someone who may collect the unit's parcels at the desk (李阿姨, the nanny)."""
    name = _name(fields.get("name"), "proxy_name")
    phone = _phone(fields.get("phone"), "proxy_phone")
    note = " ".join(str(fields.get("note") or "").split())
    if note:
        note = _instruction_text(note, "proxy_note", 100)
    with write_transaction(db):
        _active_unit(db, unit_id)
        cursor = db.execute(
            "INSERT INTO parcel_proxies (unit_id, name, phone, note, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (unit_id, name, phone, note, to_iso(clock.now()), actor),
        )
        audit.record(db, clock, actor=actor, action="unit.proxy_add", target=f"unit:{unit_id}")
    return cursor.lastrowid


def proxies_of(db: sqlite_utils.Database, unit_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT * FROM parcel_proxies WHERE unit_id = ? AND removed_at IS NULL ORDER BY id",
            (unit_id,),
        )
    )


def remove_standing(
    db: sqlite_utils.Database, clock, table: str, row_id: int, *, actor: str
) -> None:
    """Remove an instruction or a parcel proxy (kept, marked removed, for the audit)."""
    if table not in ("unit_instructions", "parcel_proxies"):
        raise InvalidRequest("unknown list")
    with write_transaction(db):
        cursor = db.execute(
            f"UPDATE {table} SET removed_at = ?, removed_by = ? WHERE id = ?"  # noqa: S608
            " AND removed_at IS NULL",
            (to_iso(clock.now()), actor, row_id),
        )
        if cursor.rowcount != 1:
            raise StaleState("已被移除 · It was already removed.")
        audit.record(db, clock, actor=actor, action=f"{table}.remove", target=f"{table}:{row_id}")


# --- the migration that brings existing rows in --------------------------------------------


def migrate_existing(db: sqlite_utils.Database) -> None:
    """0014: residents stored before the roster existed get E.164 phones, channels (their
    e-mail or apprise URL, consent as of their creation) and search keys. A phone that
    cannot be read is kept as a note on the unit, never dropped."""
    rows = list(db.query("SELECT * FROM residents"))
    for row in rows:
        phone = row["phone"]
        try:
            phone = phones.normalise(phone) if phone else None
        except phones.InvalidPhone:
            db.execute(
                "INSERT INTO unit_instructions (unit_id, kind, text, created_at, created_by)"
                " VALUES (?, 'note', ?, ?, 'migration')",
                (
                    row["unit_id"],
                    f"{row['name']} 原电话 · phone on file: {phone}"[:300],
                    row["created_at"],
                ),
            )
            phone = None
        db.execute(
            "UPDATE residents SET phone = ?, moved_in_on = substr(created_at, 1, 10),"
            " updated_at = created_at WHERE id = ?",
            (phone, row["id"]),
        )
        channels = []
        if row.get("notify_url"):
            channels.append((channel_kind_of(row["notify_url"]), row["notify_url"]))
        if row.get("email"):
            email_first = row.get("preferred_channel") != "apprise"
            channels.insert(0 if email_first else len(channels), ("email", row["email"]))
        for position, (kind, address) in enumerate(channels, start=1):
            db.execute(
                "INSERT INTO resident_channels (resident_id, kind, address, position, consent_at,"
                " consent_source) VALUES (?, ?, ?, ?, ?, 'migrated')",
                (row["id"], kind, address, position, row["created_at"]),
            )
        _index(db, row["id"], {**row, "phone": phone})


# --- bulk writes (roster import) -------------------------------------------------------------
# The roster import validates every row with clean() first, then writes thousands of
# people in one transaction through the same insert path as create(), with one audit
# row for the whole file (shared/roster.py) instead of one per person.


def insert_many(db: sqlite_utils.Database, clock, people: list[tuple[int, dict]]) -> list[int]:
    """New residents, each (unit id, fields from clean()): their channels and search
    keys as create() writes them. Returns the ids in order."""
    with write_transaction(db):
        return [_insert(db, clock, unit_id, person) for unit_id, person in people]


def update_many(db: sqlite_utils.Database, clock, changes: list[tuple[int, dict]]) -> None:
    """(resident id, fields from clean()) for residents living there now; channels None
    leaves the resident's channels as they are (a row without consent)."""
    now = to_iso(clock.now())
    with write_transaction(db):
        for resident_id, resident in changes:
            cursor = db.execute(
                "UPDATE residents SET name = ?, role = ?, phone = ?, alt_phone = ?, email = ?,"
                " language = ?, moved_in_on = ?, updated_at = ? WHERE id = ?"
                " AND moved_out_on IS NULL AND erased_at IS NULL",
                (*(resident[k] for k in _FIELDS), now, resident_id),
            )
            if cursor.rowcount != 1:
                raise StaleState("这位住户已迁出 · This resident has moved out.")
            if resident["channels"] is not None:
                _save_channels(db, clock, resident_id, resident["channels"])
            _index(db, resident_id, resident)


def move_out_many(db: sqlite_utils.Database, clock, moves: list[tuple[int, str]]) -> None:
    """(resident id, checked move-out date): as move_out() does, without an audit row each."""
    now = to_iso(clock.now())
    with write_transaction(db):
        for resident_id, moved_out_on in moves:
            db.execute(
                "UPDATE residents SET moved_out_on = ?, updated_at = ? WHERE id = ?"
                " AND moved_out_on IS NULL",
                (moved_out_on, now, resident_id),
            )
            _cancel_messages(db, resident_id)


def check_move_out_on(text, *, today: str, moved_in_on: str | None) -> str:
    """A move-out date from a file, held to move_out()'s rules (InvalidResident)."""
    moved_out_on = _date(text, "moved_out_on", "迁出日期", "Move-out date")
    if moved_out_on is None:
        raise InvalidResident("请填写迁出日期 · Enter the move-out date.", "moved_out_on")
    _check_move_out_date(moved_out_on, today, moved_in_on)
    return moved_out_on
