"""A ticket's page and its workflow forms (triage, assign, status, note, complaint
record). A refused change shows the page again with the error beside its form and
everything typed; a good one redirects with a message naming the new state."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for

from console import live
from console import settings as console_settings
from console.db import get_clock, get_db
from console.security import role_required
from console.tickets import STAFF, bp
from console.tickets.forms import COMPLAINT_FIELDS, FormInvalid, split_problem
from console.tickets.present import (
    STATUS_LABELS,
    UPDATE_LABELS,
    assigned_message,
    assignee_label,
    catalog_context,
    catalog_label,
    current_building,
    local_time,
    message_for,
    phone_display,
    place_of,
    problem_path,
    sla_clock,
    staff_names,
    status_buttons,
    status_message,
    triaged_message,
    utc_to_local_input,
)
from shared import ticket_catalog, tickets
from shared.db import write_transaction
from shared.errors import LobbyDeskError


def _active_staff(db) -> list[dict]:
    return list(
        db.query("SELECT id, display_name, role FROM staff WHERE active = 1 ORDER BY display_name")
    )


def _timeline(db, ticket_id: int, timezone: str) -> list[dict]:
    """The trail as the page lists it: local times and the words of each kind."""
    updates = tickets.timeline(db, ticket_id)
    for update in updates:
        update["at_local"] = local_time(update["at"], timezone, "%Y-%m-%d %H:%M")
        update["kind_label"] = UPDATE_LABELS.get(update.get("kind"), update.get("kind") or "")
        update["status_to_label"] = STATUS_LABELS.get(update.get("status_to") or "", "")
    return updates


def _shown(ticket: dict, timezone: str, assignee: str) -> dict:
    """The ticket with what the page shows of it: labels, place, phone, local times."""
    return {
        **ticket,
        "label": catalog_label(problem_path(ticket)),
        "category_label": catalog_label(ticket.get("category")),
        "place": place_of(ticket),
        "assignee": assignee,
        "phone_display": phone_display(ticket.get("reporter_phone")),
        "received_local": local_time(ticket["received_at"], timezone, "%Y-%m-%d %H:%M"),
        "incident_local": local_time(ticket.get("incident_at"), timezone, "%Y-%m-%d %H:%M"),
    }


def _ticket_page(
    ticket_id: int,
    *,
    errors: dict | None = None,
    typed: dict | None = None,
    status: int = 200,
):
    db = get_db()
    current = current_building()
    timezone = current["timezone"]
    ticket = tickets.get(db, ticket_id)
    contacts = tickets.contacts(current["settings"])
    names = staff_names(db)
    now = get_clock().now()
    updates = _timeline(db, ticket_id, timezone)
    ticket = _shown(ticket, timezone, assignee_label(ticket.get("assigned_to"), contacts, names))
    complaint_form = {key: ticket.get(key) or "" for key in COMPLAINT_FIELDS}
    complaint_form["incident_at"] = utc_to_local_input(ticket.get("incident_at"), timezone)
    typed = typed or {}
    return render_template(
        "tickets/detail.html",
        ticket=ticket,
        sla=sla_clock(ticket, now, timezone),
        updates=updates,
        contacts=contacts,
        staff_members=_active_staff(db),
        buttons=status_buttons(ticket["status"]),
        next_action=tickets.next_action(ticket, updates),
        errors=errors or {},
        triage={
            "category": ticket.get("category") or "",
            "problem": problem_path(ticket) if ticket.get("problem") else "",
            "urgency": ticket.get("urgency"),
            **typed.get("triage", {}),
        },
        assign={"assignee": ticket.get("assigned_to") or "", **typed.get("assign", {})},
        status_form={"message": "", **typed.get("status", {})},
        note={"text": "", "resident_visible": False, **typed.get("note", {})},
        complaint={**complaint_form, **typed.get("complaint", {})},
        reason_labels={key: f"{zh} · {en}" for key, zh, en in ticket_catalog.LOW_RATING_REASONS},
        **catalog_context(),
    ), status


@bp.get("/<int:ticket_id>")
@role_required(*STAFF)
def detail(ticket_id: int):
    return _ticket_page(ticket_id)[0]


def _act(ticket_id: int, form_name: str, typed: dict, action, done):
    """Run a change; on refusal show the page again with the error beside the form.

    `done` is the success message, or a function of the changed ticket that words
    its new state. The redirect has no #fragment: the page opens at the top, where
    that message is, not scrolled down to the form that was used."""
    db = get_db()
    try:
        with write_transaction(db):
            action(db)
            changed = tickets.get(db, ticket_id)
    except LobbyDeskError as error:
        if isinstance(error, tickets.TicketNotFound):
            raise
        return _ticket_page(
            ticket_id,
            errors={form_name: message_for(error)},
            typed={form_name: typed},
            status=error.http_status,
        )
    live.hub(current_app).publish()
    flash(done(changed) if callable(done) else done, "ok")
    return redirect(url_for("tickets.detail", ticket_id=ticket_id))


@bp.post("/<int:ticket_id>/triage")
@role_required(*STAFF)
def triage(ticket_id: int):
    typed = {key: request.form.get(key, "")[:80] for key in ("category", "problem", "urgency")}

    def action(db):
        tickets.triage(
            db,
            get_clock(),
            ticket_id,
            staff_id=g.staff["id"],
            category=typed["category"],
            problem=split_problem(typed["category"], typed["problem"]) or None,
            urgency=typed["urgency"],
        )

    return _act(ticket_id, "triage", typed, action, triaged_message)


@bp.post("/<int:ticket_id>/assign")
@role_required(*STAFF)
def assign(ticket_id: int):
    typed = {"assignee": request.form.get("assignee", "")[:80]}

    def action(db):
        if not typed["assignee"]:
            raise FormInvalid("请选择部门或员工 · Pick a department or a staff member.")
        tickets.assign(
            db, get_clock(), ticket_id, staff_id=g.staff["id"], assignee=typed["assignee"]
        )

    return _act(ticket_id, "assign", typed, action, assigned_message)


@bp.post("/<int:ticket_id>/status")
@role_required(*STAFF)
def set_status(ticket_id: int):
    typed = {"message": request.form.get("message", "")[:600]}
    wanted = request.form.get("status", "")

    def action(db):
        tickets.set_status(
            db,
            get_clock(),
            ticket_id,
            staff_id=g.staff["id"],
            status=wanted,
            message=typed["message"].strip() or None,
            secret_key=current_app.config["SECRET_KEY"],
            public_url=console_settings.public_url(current_app.config),
        )

    def done(ticket: dict) -> str:
        return status_message(ticket, reopened=wanted == "reopen")

    return _act(ticket_id, "status", typed, action, done)


@bp.post("/<int:ticket_id>/note")
@role_required(*STAFF)
def add_note(ticket_id: int):
    typed = {
        "text": request.form.get("text", "")[:600],
        "resident_visible": request.form.get("resident_visible") == "1",
    }

    def action(db):
        tickets.add_note(
            db,
            get_clock(),
            ticket_id,
            staff_id=g.staff["id"],
            text=typed["text"],
            resident_visible=typed["resident_visible"],
        )

    done = (
        "已添加备注，住户可见 · Note added; the resident can see it."
        if typed["resident_visible"]
        else "已添加内部备注 · Internal note added."
    )
    return _act(ticket_id, "note", typed, action, done)


@bp.post("/<int:ticket_id>/complaint")
@role_required(*STAFF)
def record_complaint(ticket_id: int):
    typed = {key: request.form.get(key, "")[:600] for key in COMPLAINT_FIELDS}

    def action(db):
        tickets.record_complaint(
            db,
            get_clock(),
            ticket_id,
            staff_id=g.staff["id"],
            incident_at=typed["incident_at"],  # datetime-local, read in building time
            location=typed["location"],
            people_involved=typed["people_involved"],
            forwarded_to=typed["forwarded_to"],
            resident_told=typed["resident_told"],
        )

    return _act(ticket_id, "complaint", typed, action, "投诉记录已保存 · Complaint record saved.")
