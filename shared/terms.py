"""The one bilingual word for each domain value (a status, an urgency, a role …).

Pages, charts, the monthly PDF and CSV exports all say a value through `term()`, so
a ticket that is 危急 · Emergency on its own page is 危急 · Emergency on the dashboard
too (issue 4: the dashboard once said 紧急 for what the ticket page called 危急).
Chinese first, English second (STANDARDS.md S14). Each group lists every value the
schema allows (tests/test_terms.py checks the CHECK constraints against it).
"""

from __future__ import annotations

SEPARATOR = " · "

TERMS: dict[str, dict[str, tuple[str, str]]] = {
    # staff.role
    "role": {
        "reception": ("前台", "Reception"),
        "manager": ("物业经理", "Property manager"),
        "admin": ("管理员", "Administrator"),
    },
    # tickets.urgency, most urgent first: the ticket pages' words (S5 "by urgency")
    "urgency": {
        "emergency": ("危急", "Emergency"),
        "urgent": ("紧急", "Urgent"),
        "normal": ("一般", "Normal"),
    },
    "ticket_status": {
        "new": ("待处理", "New"),
        "assigned": ("已派工", "Assigned"),
        "in_progress": ("处理中", "In progress"),
        "resolved": ("已解决", "Resolved"),
        "closed": ("已关闭", "Closed"),
    },
    "ticket_kind": {"repair": ("报修", "Repair"), "complaint": ("投诉", "Complaint")},
    "visit_status": {
        "pending": ("待核实", "Pending"),
        "confirmed": ("在场", "On site"),
        "denied": ("已拒绝", "Denied"),
        "signed_out": ("已签退", "Signed out"),
    },
    "parcel_status": {
        "waiting": ("待取", "Waiting"),
        "collected": ("已取", "Collected"),
        "returned": ("已退回", "Returned"),
    },
    "escalation_kind": {
        "help": ("呼叫前台", "Call reception"),
        "unknown_unit": ("未知房号", "Unknown unit"),
        "code_lockout": ("取件码锁定", "Code lockout"),
        "emergency": ("危急情况", "Emergency"),
    },
    # escalations.screen of a help call from the kiosk's home "紧急求助 · Emergency"
    # (kiosk/viewmodels/sos.py): the queue names the hazard, not just "call reception".
    "sos_screen": {
        "sos_elevator": ("紧急求助：有人被困电梯", "Emergency: someone trapped in a lift"),
        "sos_fire": ("紧急求助：烟雾或火情", "Emergency: smoke or fire"),
        "sos_water": ("紧急求助：爆管/大量漏水", "Emergency: burst pipe / major leak"),
    },
    "escalation_status": {
        "open": ("待处理", "Waiting"),
        "acknowledged": ("已响应", "On the way"),
        "resolved": ("已处理", "Resolved"),
    },
    # roster_imports.status: an uploaded roster or units file
    "import_status": {
        "previewed": ("待确认", "Awaiting confirmation"),
        "applied": ("已导入", "Imported"),
        "discarded": ("已放弃", "Discarded"),
    },
    # a message to a resident (shared.delivery.state)
    "message_state": {
        "pending": ("待发送", "Pending"),
        "sent": ("已发送", "Sent"),
        "failed": ("失败", "Failed"),
        "cancelled": ("已取消", "Cancelled"),
    },
}

# The dashboard and the PDF list urgencies most urgent first.
URGENCY_ORDER = tuple(TERMS["urgency"])


def pair(group: str, value: str | None) -> tuple[str, str]:
    """(zh, en) for a value; an unknown value is shown as it is in both (never a 500)."""
    if value is None:
        return ("—", "—")
    return TERMS[group].get(value, (str(value), str(value)))


def term(group: str, value: str | None, language: str | None = None) -> str:
    """ "中文 · English" (or one language: "zh", "en") for a value of a group."""
    zh, en = pair(group, value)
    if language == "zh":
        return zh
    if language == "en":
        return en
    return zh if zh == en else f"{zh}{SEPARATOR}{en}"


def labels(group: str) -> dict[str, str]:
    """Every value of a group with its "中文 · English" words, in the catalogue's order."""
    return {value: term(group, value) for value in TERMS[group]}


def pairs(group: str) -> dict[str, tuple[str, str]]:
    return dict(TERMS[group])


def formatter(group: str):
    """A one-argument function saying a group's values (CSV columns take these)."""
    return lambda value: term(group, value)
