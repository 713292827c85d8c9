"""The ticket settings a manager keeps (S5): minutes to resolve by urgency, and the
departments tickets are assigned to, each with an optional notify URL.

Stored in the building settings through shared.building.update_settings (audited,
notify URLs masked in the log: they may hold a token)."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlite_utils

from shared import building, terms
from shared.db import write_transaction
from shared.errors import LobbyDeskError
from shared.tickets.model import URGENCIES, urgency_label

MAX_SLA_MINUTES = 90 * 24 * 60  # 90 days


class SettingsInvalid(LobbyDeskError):
    """这些报修设置无法保存 · These ticket settings cannot be saved."""

    code = "ticket_settings_invalid"
    http_status = 422


def mask_url(url: str) -> str:
    """What pages and the audit log show of a stored notify URL: its scheme only."""
    if not url:
        return ""
    scheme = urlsplit(url).scheme or url.split(":", 1)[0]
    return f"{scheme}://…" if scheme else "…"


def _masked(value):
    if isinstance(value, list):
        return [{**c, "notify_url": mask_url(c.get("notify_url", ""))} for c in value]
    return value


def check_sla(sla: dict) -> dict[str, int]:
    """Whole minutes from 1 to MAX_SLA_MINUTES for each urgency, emergency ≤ urgent ≤
    normal; anything else (None for a value that was not a number) is refused."""
    values = {}
    for urgency in URGENCIES:
        minutes = sla.get(urgency)
        label = urgency_label(urgency)
        if (
            not isinstance(minutes, int)
            or isinstance(minutes, bool)
            or not 1 <= minutes <= MAX_SLA_MINUTES
        ):
            raise SettingsInvalid(
                f"{label}：请填写 1 到 {MAX_SLA_MINUTES} 之间的整数分钟 · {label}: a whole number "
                f"of minutes from 1 to {MAX_SLA_MINUTES}."
            )
        values[urgency] = minutes
    if not values["emergency"] <= values["urgent"] <= values["normal"]:
        raise SettingsInvalid(
            f"时限应为 {' ≤ '.join(terms.term('urgency', u, 'zh') for u in terms.URGENCY_ORDER)}"
            " · The times must run emergency ≤ urgent ≤ normal."
        )
    return values


def _refuse_removing_busy(db, current: list[dict], kept: set[str]) -> None:
    """A department with open tickets assigned to it stays until they are reassigned."""
    for old in current:
        if old["key"] in kept:
            continue
        open_count = db.execute(
            "SELECT COUNT(*) FROM tickets WHERE assigned_to = ? AND status IN"
            " ('new', 'assigned', 'in_progress')",
            (f"dept:{old['key']}",),
        ).fetchone()[0]
        if open_count:
            raise SettingsInvalid(
                f"{old['name_zh']} 还有 {terms.plural('open_tickets', open_count, 'zh')}，请先改派 · "
                f"{old['name_en']} still has {terms.plural('open_tickets', open_count, 'en')}."
            )


def save_settings(
    db: sqlite_utils.Database, clock, *, sla: dict, contacts: list[dict], actor: str
) -> dict:
    """Store the SLA minutes and the departments (audited, URLs masked in the log).
    `contacts` are checked rows ({"key", "name_zh", "name_en", "notify_url"})."""
    if not contacts:
        raise SettingsInvalid("至少保留一个部门 · Keep at least one department.")
    values = {"ticket_sla_minutes": check_sla(sla), "ticket_contacts": contacts}
    with write_transaction(db):
        stored = building.current(db)["settings"]["ticket_contacts"]
        _refuse_removing_busy(db, stored, {c["key"] for c in contacts})
        building.update_settings(db, clock, values, actor=actor, shown=_masked)
    return values
