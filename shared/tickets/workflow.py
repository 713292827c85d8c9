"""Staff work on a ticket: triage, assign, move along TRANSITIONS, notes and the
complaint record (S6). Every change is guarded by the status it expects, written
to the trail and the audit log, and told to the unit's residents."""

from __future__ import annotations

from datetime import timedelta

import sqlite_utils

from shared import audit, building, notifications
from shared import ticket_catalog as catalog
from shared.clock import local_time, parse_utc, to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest, StaleState
from shared.tickets.lookups import rating_url
from shared.tickets.model import (
    KIND_LABELS,
    MAX_COMMENT,
    MAX_NOTE,
    MAX_PEOPLE,
    MAX_SHORT_TEXT,
    OPEN_STATUSES,
    STATUS_LABELS,
    TRANSITIONS,
    URGENCIES,
    TransitionRefused,
    add_update,
    assignee_label,
    building_settings,
    clean_text,
    clean_time,
    contacts,
    kind_label,
    sla_minutes,
    status_label,
    urgency_label,
)
from shared.tickets.queries import get


def _notify_residents(db, clock, ticket: dict, *, kind: str, headline: tuple[str, str], extra=""):
    """A bilingual message to each resident of the ticket's unit who has a channel."""
    if not ticket.get("unit_id"):
        return 0
    number = ticket["id"]
    what_zh = catalog.label(f"{ticket['category']}.{ticket['problem']}", "zh_CN")
    what_en = catalog.label(f"{ticket['category']}.{ticket['problem']}", "en")
    if not ticket["problem"]:
        what_zh = catalog.label(ticket["category"], "zh_CN")
        what_en = catalog.label(ticket["category"], "en")
    name = building.current(db)["name"]
    subject = f"报修单 {number}：{headline[0]} · Ticket {number}: {headline[1]} — {name}"
    status_zh, status_en = STATUS_LABELS[ticket["status"]]
    body = (
        f"您好！您在 {ticket['unit_number']} 的{KIND_LABELS[ticket['kind']][0]}单 {number}"
        f"（{what_zh}）{headline[0]}。当前状态：{status_zh}。\n"
        f"Hello! Your {KIND_LABELS[ticket['kind']][1].lower()} ticket {number} for "
        f"{ticket['unit_number']} ({what_en}): {headline[1]}. Status now: {status_en}.\n"
        + (f"\n{extra}\n" if extra else "")
    )
    sent = 0
    for resident in building.residents_of(db, ticket["unit_id"]):
        queued = notifications.enqueue_for_resident(
            db,
            clock,
            resident,
            kind=kind,
            subject=subject,
            body=body,
            related=f"ticket:{number}",
        )
        sent += queued is not None
    return sent


def _queue_for_department(db, clock, ticket: dict, contact: dict) -> int | None:
    url = (contact.get("notify_url") or "").strip()
    if not url:
        return None
    if url.lower().startswith("mailto:") and "://" not in url:
        channel, recipient = "email", url[7:]
    elif "@" in url and "://" not in url:
        channel, recipient = "email", url
    else:
        channel, recipient = "apprise", url
    current = building.current(db)
    what = catalog.bilingual(
        f"{ticket['category']}.{ticket['problem']}" if ticket["problem"] else ticket["category"]
    )
    due = local_time(ticket["sla_due_at"], current["timezone"])
    subject = f"新派工 · New work order {ticket['id']}: {what} ({urgency_label(ticket['urgency'])})"
    body = (
        f"报修单 Ticket {ticket['id']} · {kind_label(ticket['kind'])}\n"
        f"地点 Place: {ticket['location'] or ticket.get('unit_number') or ''}\n"
        f"问题 Problem: {what}\n"
        f"紧急程度 Urgency: {urgency_label(ticket['urgency'])}\n"
        f"请在此前解决 Resolve by: {due}\n"
        + (f"\n{ticket['description']}\n" if ticket["description"] else "")
    )
    now = to_iso(clock.now())
    cursor = db.execute(
        "INSERT INTO notifications (kind, channel, recipient, subject, body, related,"
        " next_attempt_at, created_at) VALUES ('ticket.assigned', ?, ?, ?, ?, ?, ?, ?)",
        (channel, recipient, subject, body, f"ticket:{ticket['id']}", now, now),
    )
    return cursor.lastrowid


def triage(
    db: sqlite_utils.Database,
    clock,
    ticket_id: int,
    *,
    staff_id: int,
    category,
    problem,
    urgency,
) -> dict:
    """Staff correct the category, problem and urgency; the SLA is recomputed from
    received_at with the new urgency."""
    cat = catalog.category(category)
    prob = catalog.problem(cat.key, problem) if problem else None
    if urgency not in URGENCIES:
        raise InvalidRequest(f"urgency must be one of {', '.join(URGENCIES)}")
    with write_transaction(db):
        ticket = get(db, ticket_id)
        due = parse_utc(ticket["received_at"]) + timedelta(
            minutes=sla_minutes(building_settings(db), urgency)
        )
        db.execute(
            "UPDATE tickets SET category = ?, problem = ?, urgency = ?, sla_due_at = ?"
            " WHERE id = ?",
            (cat.key, prob.key if prob else None, urgency, to_iso(due), ticket["id"]),
        )
        what = catalog.bilingual(f"{cat.key}.{prob.key}" if prob else cat.key)
        add_update(
            db,
            clock,
            ticket["id"],
            kind="triage",
            text=f"分类 Category: {what}; 紧急程度 Urgency: {urgency_label(urgency)}",
            staff_id=staff_id,
        )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="ticket.triage",
            target=f"ticket:{ticket['id']}",
            detail={
                "from": [ticket["category"], ticket["problem"], ticket["urgency"]],
                "to": [cat.key, prob.key if prob else None, urgency],
            },
        )
    return get(db, ticket_id)


def assign(db: sqlite_utils.Database, clock, ticket_id: int, *, staff_id: int, assignee) -> dict:
    """Give the ticket to a department ("dept:<key>") or a staff member ("staff:<id>").
    A new ticket becomes assigned and its residents are told; the department's
    notify_url (if any) gets the work order."""
    contact, assigned_staff = _assignee(db, assignee)
    with write_transaction(db):
        ticket = get(db, ticket_id)
        if ticket["status"] not in OPEN_STATUSES:
            raise TransitionRefused(
                "已解决或关闭的单子不能派工，请先重新打开 · Reopen a resolved or closed ticket before assigning it."
            )
        new_status = "assigned" if ticket["status"] == "new" else ticket["status"]
        now = to_iso(clock.now())
        cursor = db.execute(
            "UPDATE tickets SET assigned_to = ?, assigned_staff_id = ?, assigned_at = ?,"
            " status = ? WHERE id = ? AND status = ?",
            (assignee, assigned_staff, now, new_status, ticket["id"], ticket["status"]),
        )
        if cursor.rowcount != 1:
            raise StaleState()
        who = assignee_label(db, assignee)
        add_update(
            db,
            clock,
            ticket["id"],
            kind="assign",
            text=f"派给 Assigned to: {who}",
            staff_id=staff_id,
            status_from=ticket["status"],
            status_to=new_status,
        )
        updated = get(db, ticket["id"])
        if contact is not None:
            _queue_for_department(db, clock, updated, contact)
        if new_status != ticket["status"]:
            _notify_residents(
                db, clock, updated, kind="ticket.status", headline=_headline("assigned")
            )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="ticket.assign",
            target=f"ticket:{ticket['id']}",
            detail={"assignee": assignee, "from": ticket["status"], "to": new_status},
        )
    return updated


def _assignee(db, assignee) -> tuple[dict | None, int | None]:
    """ "dept:<key>" → (the department's contact, None); "staff:<id>" → (None, the id of
    an active staff member); anything else is refused."""
    if not isinstance(assignee, str):
        raise InvalidRequest("assignee must be dept:<key> or staff:<id>")
    kind, _colon, ref = assignee.partition(":")
    if kind == "dept":
        contact = next((c for c in contacts(building_settings(db)) if c["key"] == ref), None)
        if contact is None:
            raise InvalidRequest("未知部门 · Unknown department")
        return contact, None
    if kind == "staff" and ref.isdigit():
        row = one(db, "SELECT id FROM staff WHERE id = ? AND active = 1", (int(ref),))
        if row is None:
            raise InvalidRequest("未知员工 · Unknown or inactive staff member")
        return None, row["id"]
    raise InvalidRequest("assignee must be dept:<key> or staff:<id>")


# What happened, for the residents' message: the new status's own word (the catalogue,
# shared/terms.py) except where an event reads better than the status it leads to.
_EVENT_HEADLINES = {
    "in_progress": ("正在处理", "work has started"),
    "new": ("已重新打开", "reopened"),
}


def _headline(status: str) -> tuple[str, str]:
    if status in _EVENT_HEADLINES:
        return _EVENT_HEADLINES[status]
    zh, en = STATUS_LABELS[status]
    return zh, en.lower()  # mid-sentence: "Ticket 12: assigned"


def set_status(
    db: sqlite_utils.Database,
    clock,
    ticket_id: int,
    *,
    staff_id: int,
    status: str,
    message=None,
    secret_key: str,
    public_url: str,
) -> dict:
    """Move the ticket along TRANSITIONS (or "reopen"); `message` is for the resident."""
    message = clean_text(message, "message", MAX_NOTE)
    with write_transaction(db):
        ticket = get(db, ticket_id)
        current = ticket["status"]
        target, sql, params = _move(ticket, status, to_iso(clock.now()))
        if db.execute(sql, params).rowcount != 1:
            raise StaleState()
        headline = _headline("new" if status == "reopen" else target)
        add_update(
            db,
            clock,
            ticket["id"],
            kind="status",
            text=message or f"状态 Status: {status_label(current)} → {status_label(target)}",
            staff_id=staff_id,
            resident_visible=bool(message),
            status_from=current,
            status_to=target,
        )
        updated = get(db, ticket["id"])
        extra = message or ""
        if target == "resolved":
            link = rating_url(public_url, secret_key, updated, clock.now())
            extra += (
                "\n\n" if extra else ""
            ) + f"请为这次服务打分（1-5 星）· Please rate the service (1-5 stars):\n{link}"
        _notify_residents(db, clock, updated, kind="ticket.status", headline=headline, extra=extra)
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="ticket.reopen" if status == "reopen" else "ticket.status",
            target=f"ticket:{ticket['id']}",
            detail={"from": current, "to": target, "with_message": bool(message)},
        )
    return updated


def _move(ticket: dict, status: str, now: str) -> tuple[str, str, tuple]:
    """(the status the ticket goes to, the guarded UPDATE, its parameters), or
    TransitionRefused when TRANSITIONS does not allow the step."""
    current = ticket["status"]
    if status not in TRANSITIONS.get(current, ()):
        raise TransitionRefused(
            f"不能从“{status_label(current)}”改为“{status_label(status)}” · "
            f"A ticket that is {STATUS_LABELS[current][1].lower()} cannot go to "
            f"{STATUS_LABELS.get(status, (status, status))[1].lower()}."
        )
    if status == "reopen":
        target = "assigned" if ticket["assigned_to"] else "new"
        sql = (
            "UPDATE tickets SET status = ?, reopened_count = reopened_count + 1,"
            " resolved_at = NULL, closed_at = NULL, rating = NULL, rating_reasons = NULL,"
            " rating_comment = NULL, rated_at = NULL, rated_via = NULL"
            " WHERE id = ? AND status = ?"
        )
        return target, sql, (target, ticket["id"], current)
    stamp = {
        "assigned": "assigned_at = COALESCE(assigned_at, ?)",
        "in_progress": "started_at = COALESCE(started_at, ?)",
        "resolved": "resolved_at = ?",
        "closed": "closed_at = ?",
    }[status]
    sql = f"UPDATE tickets SET status = ?, {stamp} WHERE id = ? AND status = ?"  # noqa: S608
    return status, sql, (status, now, ticket["id"], current)


def add_note(
    db: sqlite_utils.Database,
    clock,
    ticket_id: int,
    *,
    staff_id: int,
    text,
    resident_visible: bool,
) -> dict:
    """A note on the trail; a resident-visible one is also sent to the residents."""
    text = clean_text(text, "text", MAX_NOTE)
    if not text:
        raise InvalidRequest("请填写内容 · Write the note first.")
    with write_transaction(db):
        ticket = get(db, ticket_id)
        update_id = add_update(
            db,
            clock,
            ticket["id"],
            kind="note",
            text=text,
            staff_id=staff_id,
            resident_visible=bool(resident_visible),
        )
        if resident_visible:
            _notify_residents(
                db, clock, ticket, kind="ticket.update", headline=("有新进展", "an update"),
                extra=text,
            )  # fmt: skip
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="ticket.note",
            target=f"ticket:{ticket['id']}",
            detail={"resident_visible": bool(resident_visible), "update": update_id},
        )
    return get(db, ticket_id)


def record_complaint(
    db: sqlite_utils.Database,
    clock,
    ticket_id: int,
    *,
    staff_id: int,
    incident_at=None,
    location=None,
    people_involved=None,
    forwarded_to=None,
    resident_told=None,
) -> dict:
    """S6: when and where it happened, who was involved, where it was forwarded, what
    the resident was told. Empty fields are cleared; the place is kept if left empty."""
    timezone = building.current(db)["timezone"]
    values = {
        "incident_at": clean_time(incident_at, "incident_at", timezone, clock.now()),
        "people_involved": clean_text(people_involved, "people_involved", MAX_PEOPLE),
        "forwarded_to": clean_text(forwarded_to, "forwarded_to", MAX_SHORT_TEXT, multiline=False),
        "resident_told": clean_text(resident_told, "resident_told", MAX_COMMENT),
    }
    place = clean_text(location, "location", MAX_SHORT_TEXT, multiline=False)
    with write_transaction(db):
        ticket = get(db, ticket_id)
        db.execute(
            "UPDATE tickets SET incident_at = ?, people_involved = ?, forwarded_to = ?,"
            " resident_told = ?, location = COALESCE(?, location) WHERE id = ?",
            (*values.values(), place, ticket["id"]),
        )
        lines = []
        if values["incident_at"]:
            lines.append(f"时间 When: {local_time(values['incident_at'], timezone)}")
        if place:
            lines.append(f"地点 Where: {place}")
        if values["people_involved"]:
            lines.append(f"相关人员 People: {values['people_involved']}")
        if values["forwarded_to"]:
            lines.append(f"转交 Forwarded to: {values['forwarded_to']}")
        if values["resident_told"]:
            lines.append(f"已告知住户 Resident told: {values['resident_told']}")
        add_update(
            db,
            clock,
            ticket["id"],
            kind="complaint",
            text="\n".join(lines) or "投诉记录已清空 · Complaint details cleared",
            staff_id=staff_id,
        )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="ticket.complaint",
            target=f"ticket:{ticket['id']}",
            detail={key: bool(value) for key, value in values.items()},
        )
    return get(db, ticket_id)
