"""The ticket list, the desk form, a ticket's photo and work order, and the live
queue's emergency rows."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from console import work_orders
from console.db import get_clock, get_db
from console.security import role_required
from console.tickets import STAFF, bp
from console.tickets.forms import DESK_FIELDS, list_filters, split_problem
from console.tickets.present import (
    KIND_LABELS,
    STATUS_LABELS,
    URGENCY_LABELS,
    assignee_label,
    catalog_context,
    catalog_label,
    current_building,
    decorate,
    local_time,
    message_for,
    phone_display,
    place_of,
    problem_path,
    staff_names,
)
from shared import tickets
from shared.clock import to_iso
from shared.db import write_transaction
from shared.errors import LobbyDeskError

PAGE_SIZE = 50


@bp.get("/")
@role_required(*STAFF)
def index():
    db = get_db()
    current = current_building()
    filters = list_filters()
    page = max(1, min(request.args.get("page", 1, type=int), 10_000))
    found = tickets.search(db, get_clock(), filters, page=page, page_size=PAGE_SIZE)
    rows = decorate(found["rows"], db, current["timezone"])
    query = {k: ("1" if v is True else v) for k, v in filters.items()}
    return render_template(
        "tickets/list.html",
        rows=rows,
        filters=filters,
        q=filters.get("q", ""),
        page=page,
        newer_url=url_for("tickets.index", **query, page=page - 1) if page > 1 else None,
        older_url=url_for("tickets.index", **query, page=page + 1) if found["has_next"] else None,
        counts=tickets.counts(db, get_clock()),
        **catalog_context(),
    )


# --- desk form ------------------------------------------------------------------------------


def _desk_page(form: dict, *, error: LobbyDeskError | None = None, status: int = 200):
    return render_template(
        "tickets/new.html",
        form=form,
        error=error,
        error_message=message_for(error) if error else "",
        **catalog_context(),
    ), status


@bp.get("/new")
@role_required(*STAFF)
def new_form():
    kind = request.args.get("kind", "repair")
    return _desk_page({"kind": kind if kind in KIND_LABELS else "repair", "urgency": "normal"})[0]


@bp.post("/new")
@role_required(*STAFF)
def create():
    typed = {key: request.form.get(key, "")[:600] for key in DESK_FIELDS}
    db = get_db()
    try:
        # incident_at is the datetime-local value: shared.tickets reads it in building time.
        form = {**typed, "problem": split_problem(typed["category"], typed["problem"])}
        with write_transaction(db):
            ticket = tickets.create_at_desk(db, get_clock(), staff_id=g.staff["id"], form=form)
    except LobbyDeskError as error:
        return _desk_page(typed, error=error, status=error.http_status)
    flash(f"已登记工单 {ticket['number']} · Ticket {ticket['number']} recorded.", "ok")
    return redirect(url_for("tickets.detail", ticket_id=ticket["id"]))


@bp.get("/<int:ticket_id>/photo")
@role_required(*STAFF)
def photo(ticket_id: int):
    ticket = tickets.get(get_db(), ticket_id)
    name = ticket.get("photo_path")
    if not name:
        abort(404, description="此工单没有照片 · This ticket has no photo.")
    folder = tickets.photo_folder(current_app.config["DATA_DIR"]).resolve()
    path = (folder / Path(name).name).resolve()
    if path.parent != folder or not path.is_file():
        abort(
            404, description="照片已删除（超过保留期限）· The photo was deleted (past retention)."
        )
    # A JPEG we re-encoded ourselves (≤ 1600 px): small enough to answer from memory.
    return Response(
        path.read_bytes(),
        mimetype="image/jpeg",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f"inline; filename=ticket-{ticket_id}.jpg",
        },
    )


@bp.get("/<int:ticket_id>/work-order.pdf")
@role_required(*STAFF)
def work_order(ticket_id: int):
    db = get_db()
    current = current_building()
    timezone = current["timezone"]
    ticket = tickets.get(db, ticket_id)
    updates = [
        {"at": local_time(u["at"], timezone, "%m-%d %H:%M"), "text": u["text"]}
        for u in tickets.timeline(db, ticket_id)
        if u["resident_visible"]
    ]
    names = staff_names(db)
    pdf = work_orders.work_order(
        building=current["name"],
        number=str(ticket["id"]),
        kind=KIND_LABELS.get(ticket["kind"], ticket["kind"]),
        unit=ticket.get("unit_number") or "",
        location=ticket.get("location") or "",
        category=catalog_label(ticket.get("category")),
        problem=catalog_label(problem_path(ticket)) if ticket.get("problem") else None,
        urgency=URGENCY_LABELS.get(ticket["urgency"], ticket["urgency"]),
        status=STATUS_LABELS.get(ticket["status"], ticket["status"]),
        received=local_time(ticket["received_at"], timezone),
        due=local_time(ticket.get("sla_due_at"), timezone),
        description=ticket.get("description") or "",
        reporter_name=ticket.get("reporter_name") or "",
        reporter_phone=phone_display(ticket.get("reporter_phone")),
        assignee=assignee_label(
            ticket.get("assigned_to"), tickets.contacts(current["settings"]), names
        ),
        updates=updates,
        printed=local_time(to_iso(get_clock().now()), timezone),
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename=work-order-{ticket_id}.pdf"},
    )


# --- the live queue's emergency rows -----------------------------------------------------------


@bp.app_template_global()
def emergency_ticket(ticket_id) -> dict | None:
    """What the live queue shows for an emergency escalation: its ticket, in brief."""
    if not ticket_id:
        return None
    db = get_db()
    try:
        ticket = tickets.get(db, int(ticket_id))
    except tickets.TicketNotFound:
        return None
    return {
        "number": ticket["number"],
        "label": catalog_label(problem_path(ticket)),
        "place": place_of(ticket),
        "url": url_for("tickets.detail", ticket_id=ticket["id"]),
    }
