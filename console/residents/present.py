"""How the residents pages show what is stored: bilingual labels, building-time dates,
phones and contact channels. Shared by the directory, unit and form pages.

A stored value that cannot be read (written around the domain, or damaged) is
shown as "—" or as stored: one bad row never takes a page down.
"""

from __future__ import annotations

from flask import current_app, g

from console import live
from console.db import get_clock
from shared import building, phones, residents
from shared.clock import local_time

LANGUAGE_LABELS = {"zh_CN": "中文 · Chinese", "en": "英文 · English"}
CONSENT_SOURCE_LABELS = {
    "console": "前台登记 · Desk form",
    "form": "表单 · Form",
    "migrated": "系统迁移 · Migrated",
    "import": "名册导入 · Roster import",
}


clock = get_clock  # the console's one clock (console.db); callers here say clock()


def actor() -> str:
    return f"staff:{g.staff['id']}"


def may_edit() -> bool:
    """Managers (and admins) edit; reception reads. The routes check it again."""
    return bool(g.staff) and g.staff["role"] in ("manager", "admin")


def timezone(db) -> str:
    return building.current(db)["timezone"]


def local(stored: str | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time in building time; a time that does not parse is shown as stored."""
    try:
        return local_time(stored, tz, fmt)
    except (ValueError, OverflowError, TypeError, AttributeError):
        return str(stored)


def phone(stored: str | None) -> str:
    return phones.display(stored)


def short_address(channel: dict) -> str:
    """An e-mail address as is; an apprise URL by its service only, because its path
    often holds the bot's secret key and reception does not need to read it."""
    address = str(channel.get("address") or "")
    if "://" not in address:
        return address
    scheme = address.split("://", 1)[0]
    return f"{scheme}://…{address[-4:]}" if len(address) > len(scheme) + 7 else address


def channel_view(channel: dict, tz: str) -> dict:
    return {
        **channel,
        "kind_label": residents.CHANNEL_LABELS.get(channel["kind"], channel["kind"]),
        "shown_address": short_address(channel),
        "consent_local": local(channel.get("consent_at"), tz),
        "source_label": CONSENT_SOURCE_LABELS.get(
            channel.get("consent_source") or "", channel.get("consent_source") or ""
        ),
    }


def resident_view(db, row: dict, tz: str) -> dict:
    """A resident row with everything a page shows, already in words."""
    channels = [channel_view(c, tz) for c in residents.channels_of(db, row["id"])]
    return {
        **row,
        "role_label": residents.ROLE_LABELS.get(row["role"], row["role"] or ""),
        "language_label": LANGUAGE_LABELS.get(row["language"], row["language"] or ""),
        "phone_display": phone(row["phone"]),
        "alt_phone_display": phone(row["alt_phone"]),
        "channels": channels,
    }


def changed() -> None:
    """Hosts, instructions and unit labels show on the live queue: refresh open desks."""
    live.hub(current_app).publish()
