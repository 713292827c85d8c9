"""What the ticket forms send, checked: the list's filters, the desk form's problem
key, and the manager's SLA and department rows (the domain stores them)."""

from __future__ import annotations

import re

import apprise
from flask import request

from console.tickets.present import KIND_LABELS
from shared import ticket_catalog, tickets
from shared.errors import LobbyDeskError

DESK_FIELDS = (
    "kind",
    "unit",
    "location",
    "category",
    "problem",
    "urgency",
    "description",
    "reporter_name",
    "reporter_phone",
    "incident_at",
    "people_involved",
)
MAX_SEARCH_LENGTH = 20
COMPLAINT_FIELDS = ("incident_at", "location", "people_involved", "forwarded_to", "resident_told")
CONTACT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_CONTACTS = 20


class FormInvalid(LobbyDeskError):
    """表单有内容需要修改 · Something in the form needs fixing."""

    code = "ticket_form_invalid"
    http_status = 422


def split_problem(category: str, problem: str) -> str:
    """The problem select sends "category.problem"; the domain wants the problem key."""
    if not problem:
        return ""
    prefix, _, key = problem.partition(".")
    if not key:
        return problem
    if category and prefix != category:
        raise FormInvalid(
            "所选问题不属于所选类别 · The problem picked belongs to another category: "
            "pick one from the chosen category."
        )
    return key


def list_filters() -> dict:
    args = request.args
    filters: dict = {}
    status = args.get("status", "")
    if status in (*tickets.STATUSES, "open"):
        filters["status"] = status
    category = args.get("category", "")
    if category in {c.key for c in ticket_catalog.CATEGORIES}:
        filters["category"] = category
    if args.get("urgency", "") in tickets.URGENCIES:
        filters["urgency"] = args["urgency"]
    if args.get("kind", "") in KIND_LABELS:
        filters["kind"] = args["kind"]
    if args.get("overdue") == "1":
        filters["overdue"] = True
    q = args.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    if q:
        filters["q"] = q
    return filters


def _check_notify_url(url: str, row: int) -> str:
    url = url.strip()
    if not url:
        return ""
    if len(url) > 500 or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise tickets.SettingsInvalid(
            f"第 {row} 行：通知地址不能含空格或换行 · Row {row}: the notify URL may not contain "
            "spaces or line breaks."
        )
    understood = apprise.Apprise.instantiate(url) is not None
    if not understood:
        raise tickets.SettingsInvalid(
            f"第 {row} 行：无法识别的通知地址 · Row {row}: not a notify URL apprise understands "
            "(e.g. mailto://user:pass@example.com, dingtalk://token/)."
        )
    return url


def parse_sla(form) -> dict[str, int]:
    """The minutes typed for each urgency, checked by the domain (range and order)."""
    typed = {u: str(form.get(f"sla_{u}", "")).strip() for u in tickets.URGENCIES}
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    return tickets.check_sla({u: int(t) if t.isdecimal() else None for u, t in typed.items()})


def parse_contacts(form, stored: list[dict]) -> list[dict]:
    """Rows contact_<n>_{key,name_zh,name_en,notify_url,clear_url,remove}; blank rows skipped.
    A notify URL left empty keeps the stored one (it is never shown back in full)."""
    stored_urls = {c["key"]: c.get("notify_url", "") for c in stored}
    contacts, seen = [], set()
    for n in range(MAX_CONTACTS):
        field = {
            k: str(form.get(f"contact_{n}_{k}", "")).strip() for k in ("key", "zh", "en", "url")
        }
        if form.get(f"contact_{n}_remove") == "1" or not any(field.values()):
            continue
        row = n + 1
        if not CONTACT_KEY.match(field["key"]):
            raise tickets.SettingsInvalid(
                f"第 {row} 行：代码用小写字母、数字和下划线，以字母开头 · Row {row}: the key is "
                "lower-case letters, digits and _, starting with a letter (e.g. maintenance)."
            )
        if field["key"] in seen:
            raise tickets.SettingsInvalid(
                f"第 {row} 行：代码 {field['key']} 重复 · Row {row}: the key {field['key']} is "
                "used twice."
            )
        if not 1 <= len(field["zh"]) <= 40 or not 1 <= len(field["en"]) <= 60:
            raise tickets.SettingsInvalid(
                f"第 {row} 行：请填写中文名称（≤40 字）和英文名称（≤60 字）· Row {row}: give the "
                "Chinese name (up to 40) and the English name (up to 60)."
            )
        seen.add(field["key"])
        url = _check_notify_url(field["url"], row)
        if not url and form.get(f"contact_{n}_clear_url") != "1":
            url = stored_urls.get(field["key"], "")
        contacts.append(
            {"key": field["key"], "name_zh": field["zh"], "name_en": field["en"], "notify_url": url}
        )
    return contacts  # none left is refused by tickets.save_settings
