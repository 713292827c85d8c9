"""How the ticket pages show a ticket: labels in both languages, times in the
building's zone, the SLA clock, the assignee, and the message after each change."""

from __future__ import annotations

import re
from datetime import datetime

from flask import url_for

from console.db import get_db
from shared import building, phones, terms, ticket_catalog, tickets
from shared import clock as shared_clock
from shared.clock import parse_utc
from shared.errors import LobbyDeskError

# The same words as the kiosk and the residents' messages ("中文 · English").
STATUS_LABELS = {key: tickets.status_label(key) for key in tickets.STATUSES}
URGENCY_LABELS = {key: tickets.urgency_label(key) for key in tickets.URGENCIES}
KIND_LABELS = {key: tickets.kind_label(key) for key in tickets.KINDS}
SOURCE_LABELS = terms.labels("ticket_source")
UPDATE_LABELS = {
    "created": "创建 · Created",
    "status": "状态 · Status",
    "triage": "分类 · Triage",
    "assign": tickets.status_label("assigned"),
    "note": "备注 · Note",
    "rating": "评价 · Rating",
    "complaint": "投诉记录 · Complaint record",
}
BUTTON_LABELS = {
    "in_progress": "开始处理 · Start work",
    "resolved": tickets.status_label("resolved"),
    "closed": "关闭 · Close",
    "reopen": "重新打开 · Reopen",
}


# Errors from shared modules that only speak English get their Chinese here.
CHINESE_FOR_ERROR = {
    "unknown_unit": "没有这个房号，请核对",
    "invalid_phone": "手机号不正确，请填 11 位手机号或带 + 的国际号码",
}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def message_for(error: LobbyDeskError) -> str:
    """An error as the page shows it: Chinese first, English alongside."""
    text = str(error)
    if _CJK.search(text):
        return text
    return f"{CHINESE_FOR_ERROR.get(error.code, '请检查填写的内容')} · {text}"


def local_time(stored: str | None, timezone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """shared.clock.local_time that never takes a page down: a stored time that does
    not parse or does not fit the building's zone (year 9999 + 8 h) is shown as stored."""
    try:
        return shared_clock.local_time(stored, timezone, fmt)
    except (ValueError, OverflowError, TypeError):
        return str(stored)


def current_building() -> dict:
    return building.current(get_db())


def status_buttons(status: str) -> list[tuple[str, str]]:
    """The status buttons a ticket page offers ("assigned" comes from the assign form)."""
    return [(s, BUTTON_LABELS[s]) for s in tickets.TRANSITIONS.get(status, ()) if s != "assigned"]


def catalog_label(path: str | None) -> dict:
    """{"zh", "en"} for a category or "category.problem" key; the raw key if unknown."""
    if not path:
        return {"zh": "", "en": ""}
    try:
        return {
            "zh": ticket_catalog.label(path, "zh_CN"),
            "en": ticket_catalog.label(path, "en"),
        }
    except LobbyDeskError:
        return {"zh": path, "en": path}


def problem_path(ticket: dict) -> str:
    if ticket.get("problem"):
        return f"{ticket['category']}.{ticket['problem']}"
    return ticket.get("category") or ""


def staff_names(db) -> dict[int, str]:
    return {
        row["id"]: row["display_name"] for row in db.query("SELECT id, display_name FROM staff")
    }


def assignee_label(assigned_to: str | None, contacts: list[dict], names: dict[int, str]) -> str:
    if not assigned_to:
        return ""
    kind, _, value = assigned_to.partition(":")
    if kind == "dept":
        contact = next((c for c in contacts if c["key"] == value), None)
        return f"{contact['name_zh']} · {contact['name_en']}" if contact else value
    if kind == "staff" and value.isdigit():
        return names.get(int(value), assigned_to)
    return assigned_to


def _duration(seconds: float) -> tuple[str, str]:
    """('2 小时 5 分', '2 h 5 min'); days past two days: ('3 天 4 小时', '3 d 4 h')."""
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时", f"{days} d {hours} h"
    if hours:
        return f"{hours} 小时 {mins} 分", f"{hours} h {mins} min"
    return f"{mins} 分", f"{mins} min"


def sla_clock(ticket: dict, now: datetime, timezone: str) -> dict:
    """What the page says about the SLA: due time, time left or overdue by."""
    due = ticket.get("sla_due_at") or ""
    state = {"due_local": local_time(due, timezone), "overdue": False, "text": "", "state": "ok"}
    try:
        due_at = parse_utc(due) if due else None
    except (ValueError, OverflowError):
        due_at = None
    if due_at is None:
        return state
    if ticket["status"] in tickets.OPEN_STATUSES:
        if tickets.is_overdue(ticket, now):
            zh, en = _duration((now - due_at).total_seconds())
            state.update(overdue=True, state="overdue", text=f"超时 {zh} · Overdue by {en}")
        else:
            zh, en = _duration((due_at - now).total_seconds())
            state.update(state="running", text=f"剩余 {zh} · {en} left")
        return state
    finished = ticket.get("resolved_at") or ticket.get("closed_at")
    try:
        finished_at = parse_utc(finished) if finished else None
    except (ValueError, OverflowError):
        finished_at = None
    if finished_at is not None:
        late = (finished_at - due_at).total_seconds()
        zh, en = _duration(late)
        state["state"] = "late" if late > 0 else "met"
        state["text"] = (
            f"超时 {zh} 完成 · Finished {en} late" if late > 0 else "按时完成 · Finished in time"
        )
    return state


def decorate(rows: list[dict], db, timezone: str) -> list[dict]:
    contacts = tickets.contacts(current_building()["settings"])
    names = staff_names(db)
    # One url_for for the page, not one per row (each costs ~0.05 ms).
    link = url_for("tickets.detail", ticket_id=0).removesuffix("0")
    for row in rows:
        row["url"] = f"{link}{int(row['id'])}"
        row["received_local"] = local_time(row["received_at"], timezone, "%m-%d %H:%M")
        row["due_local"] = local_time(row.get("sla_due_at"), timezone, "%m-%d %H:%M")
        row["label"] = catalog_label(problem_path(row))
        row["category_label"] = catalog_label(row.get("category"))
        row["assignee"] = assignee_label(row.get("assigned_to"), contacts, names)
        row["place"] = place_of(row)
        # Labels looked up here: a call inside a template costs more than the whole row.
        row["source_label"] = SOURCE_LABELS.get(row.get("source"), row.get("source") or "")
        row["kind_label"] = KIND_LABELS.get(row["kind"], row["kind"])
        row["urgency_label"] = URGENCY_LABELS.get(row["urgency"], row["urgency"])
        row["status_label"] = STATUS_LABELS.get(row["status"], row["status"])
    return rows


def place_of(ticket: dict) -> str:
    """The unit, and the place when it says more than the unit number."""
    unit, location = ticket.get("unit_number") or "", ticket.get("location") or ""
    if unit and location and location != unit:
        return f"{unit} · {location}"
    return unit or location


def catalog_context() -> dict:
    return {
        "categories": ticket_catalog.CATEGORIES,
        "urgency_labels": URGENCY_LABELS,
        "status_labels": STATUS_LABELS,
        "kind_labels": KIND_LABELS,
        "source_labels": SOURCE_LABELS,
    }


def utc_to_local_input(stored: str | None, timezone: str) -> str:
    return local_time(stored, timezone, "%Y-%m-%dT%H:%M") if stored else ""


def phone_display(text: str | None) -> str:
    if not text:
        return ""
    try:
        return phones.display(text) if text.startswith("+") else text
    except Exception:  # noqa: BLE001 - a stored number phonenumbers cannot parse is shown as is
        return text


def triaged_message(ticket: dict) -> str:
    """已分类：天花板渗水，紧急 · Triaged: Water coming through the ceiling, urgent."""
    what = catalog_label(problem_path(ticket))
    zh, en = tickets.URGENCY_LABELS.get(ticket["urgency"], (ticket["urgency"],) * 2)
    return f"已分类：{what['zh']}，{zh} · Triaged: {what['en']}, {en.lower()}"


def assigned_message(ticket: dict) -> str:
    """已指派给 工程维修部 · Assigned to Maintenance (a staff member by their name)."""
    contacts = tickets.contacts(current_building()["settings"])
    kind, _, value = (ticket.get("assigned_to") or "").partition(":")
    contact = next((c for c in contacts if kind == "dept" and c["key"] == value), None)
    if contact is not None:
        zh, en = contact["name_zh"], contact["name_en"]
    else:
        zh = en = assignee_label(ticket.get("assigned_to"), contacts, staff_names(get_db()))
    return f"已指派给 {zh} · Assigned to {en}"


def status_message(ticket: dict, *, reopened: bool = False) -> str:
    """状态：处理中 · Status: in progress (and "reopened" first after a reopen)."""
    zh, en = tickets.STATUS_LABELS.get(ticket["status"], (ticket["status"],) * 2)
    if reopened:
        return f"已重新打开，状态：{zh} · Reopened; status: {en.lower()}"
    return f"状态：{zh} · Status: {en.lower()}"
