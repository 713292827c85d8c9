"""Repairs and complaints for reception (S5, S6): the list, the desk form, the
ticket page with its workflow forms, the work order and the SLA settings.

Every change goes through shared.tickets (which audits it). A form with bad
input is shown again with the error and everything typed; a good one
redirects (post/redirect/get).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import apprise
from flask import (
    Blueprint,
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

from console import live, work_orders
from console import settings as console_settings
from console.db import get_db
from console.security import role_required
from shared import audit, building, phones, ticket_catalog, tickets
from shared import clock as shared_clock
from shared.clock import parse_utc, to_iso
from shared.db import one, write_transaction
from shared.errors import LobbyDeskError

bp = Blueprint("tickets", __name__, url_prefix="/tickets")
STAFF = ("reception", "manager")
MANAGERS = ("manager",)
PAGE_SIZE = 50
MAX_SEARCH_LENGTH = 20

# The same words as the kiosk and the residents' messages ("中文 · English").
STATUS_LABELS = {key: tickets.status_label(key) for key in tickets.STATUSES}
URGENCY_LABELS = {key: tickets.urgency_label(key) for key in tickets.URGENCIES}
KIND_LABELS = {key: tickets.kind_label(key) for key in tickets.KINDS}
SOURCE_LABELS = {"kiosk": "终端 · Kiosk", "desk": "前台 · Desk"}
UPDATE_LABELS = {
    "created": "创建 · Created",
    "status": "状态 · Status",
    "triage": "分类 · Triage",
    "assign": "派单 · Assigned",
    "note": "备注 · Note",
    "rating": "评价 · Rating",
    "complaint": "投诉记录 · Complaint record",
}
BUTTON_LABELS = {
    "in_progress": "开始处理 · Start work",
    "resolved": "已解决 · Resolved",
    "closed": "关闭 · Close",
    "reopen": "重新打开 · Reopen",
}
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
COMPLAINT_FIELDS = ("incident_at", "location", "people_involved", "forwarded_to", "resident_told")
CONTACT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_CONTACTS = 20
MAX_SLA_MINUTES = 90 * 24 * 60  # 90 days


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


class SettingsInvalid(LobbyDeskError):
    """这些报修设置无法保存 · These ticket settings cannot be saved."""

    code = "ticket_settings_invalid"
    http_status = 422


class FormInvalid(LobbyDeskError):
    """表单有内容需要修改 · Something in the form needs fixing."""

    code = "ticket_form_invalid"
    http_status = 422


# --- small helpers ---------------------------------------------------------------------------


def local_time(stored: str | None, timezone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """shared.clock.local_time that never takes a page down: a stored time that does
    not parse or does not fit the building's zone (year 9999 + 8 h) is shown as stored."""
    try:
        return shared_clock.local_time(stored, timezone, fmt)
    except (ValueError, OverflowError, TypeError):
        return str(stored)


def _clock():
    return current_app.extensions["lobbydesk.clock"]


def _actor() -> str:
    return f"staff:{g.staff['id']}"


def _building() -> dict:
    return building.current(get_db())


def _status_buttons(status: str) -> list[tuple[str, str]]:
    """The status buttons a ticket page offers ("assigned" comes from the assign form)."""
    return [(s, BUTTON_LABELS[s]) for s in tickets.TRANSITIONS.get(status, ()) if s != "assigned"]


def _label(path: str | None) -> dict:
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


def _problem_path(ticket: dict) -> str:
    if ticket.get("problem"):
        return f"{ticket['category']}.{ticket['problem']}"
    return ticket.get("category") or ""


def _contacts(settings: dict) -> list[dict]:
    return tickets.contacts(settings)


def _staff_names(db) -> dict[int, str]:
    return {
        row["id"]: row["display_name"] for row in db.query("SELECT id, display_name FROM staff")
    }


def _assignee_label(assigned_to: str | None, contacts: list[dict], names: dict[int, str]) -> str:
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


def _decorate(rows: list[dict], db, timezone: str) -> list[dict]:
    contacts = _contacts(_building()["settings"])
    names = _staff_names(db)
    # One url_for for the page, not one per row (each costs ~0.05 ms).
    link = url_for("tickets.detail", ticket_id=0).removesuffix("0")
    for row in rows:
        row["url"] = f"{link}{int(row['id'])}"
        row["received_local"] = local_time(row["received_at"], timezone, "%m-%d %H:%M")
        row["due_local"] = local_time(row.get("sla_due_at"), timezone, "%m-%d %H:%M")
        row["label"] = _label(_problem_path(row))
        row["category_label"] = _label(row.get("category"))
        row["assignee"] = _assignee_label(row.get("assigned_to"), contacts, names)
        row["place"] = _place(row)
        # Labels looked up here: a call inside a template costs more than the whole row.
        row["source_label"] = SOURCE_LABELS.get(row.get("source"), row.get("source") or "")
        row["kind_label"] = KIND_LABELS.get(row["kind"], row["kind"])
        row["urgency_label"] = URGENCY_LABELS.get(row["urgency"], row["urgency"])
        row["status_label"] = STATUS_LABELS.get(row["status"], row["status"])
    return rows


def _place(ticket: dict) -> str:
    """The unit, and the place when it says more than the unit number."""
    unit, location = ticket.get("unit_number") or "", ticket.get("location") or ""
    if unit and location and location != unit:
        return f"{unit} · {location}"
    return unit or location


def _catalog_context() -> dict:
    return {
        "categories": ticket_catalog.CATEGORIES,
        "urgency_labels": URGENCY_LABELS,
        "status_labels": STATUS_LABELS,
        "kind_labels": KIND_LABELS,
        "source_labels": SOURCE_LABELS,
    }


def _split_problem(category: str, problem: str) -> str:
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


def _utc_to_local_input(stored: str | None, timezone: str) -> str:
    return local_time(stored, timezone, "%Y-%m-%dT%H:%M") if stored else ""


# --- list ---------------------------------------------------------------------------------


def _filters() -> dict:
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


@bp.get("/")
@role_required(*STAFF)
def index():
    db = get_db()
    current = _building()
    filters = _filters()
    page = max(1, min(request.args.get("page", 1, type=int), 10_000))
    found = tickets.search(db, _clock(), filters, page=page, page_size=PAGE_SIZE)
    rows = _decorate(found["rows"], db, current["timezone"])
    query = {k: ("1" if v is True else v) for k, v in filters.items()}
    return render_template(
        "tickets/list.html",
        rows=rows,
        filters=filters,
        q=filters.get("q", ""),
        page=page,
        newer_url=url_for("tickets.index", **query, page=page - 1) if page > 1 else None,
        older_url=url_for("tickets.index", **query, page=page + 1) if found["has_next"] else None,
        counts=tickets.counts(db, _clock()),
        **_catalog_context(),
    )


# --- desk form ------------------------------------------------------------------------------


def _desk_page(form: dict, *, error: LobbyDeskError | None = None, status: int = 200):
    return render_template(
        "tickets/new.html",
        form=form,
        error=error,
        error_message=message_for(error) if error else "",
        **_catalog_context(),
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
        form = {**typed, "problem": _split_problem(typed["category"], typed["problem"])}
        with write_transaction(db):
            ticket = tickets.create_at_desk(db, _clock(), staff_id=g.staff["id"], form=form)
    except LobbyDeskError as error:
        return _desk_page(typed, error=error, status=error.http_status)
    flash(f"已登记工单 {ticket['number']} · Ticket {ticket['number']} recorded.", "ok")
    return redirect(url_for("tickets.detail", ticket_id=ticket["id"]))


# --- ticket page ----------------------------------------------------------------------------


def _active_staff(db) -> list[dict]:
    return list(
        db.query("SELECT id, display_name, role FROM staff WHERE active = 1 ORDER BY display_name")
    )


def _ticket_page(
    ticket_id: int,
    *,
    errors: dict | None = None,
    typed: dict | None = None,
    status: int = 200,
):
    db = get_db()
    current = _building()
    timezone = current["timezone"]
    ticket = tickets.get(db, ticket_id)
    contacts = _contacts(current["settings"])
    names = _staff_names(db)
    now = _clock().now()
    updates = tickets.timeline(db, ticket_id)
    for update in updates:
        update["at_local"] = local_time(update["at"], timezone, "%Y-%m-%d %H:%M")
        update["kind_label"] = UPDATE_LABELS.get(update.get("kind"), update.get("kind") or "")
        update["status_to_label"] = STATUS_LABELS.get(update.get("status_to") or "", "")
    ticket = {
        **ticket,
        "label": _label(_problem_path(ticket)),
        "category_label": _label(ticket.get("category")),
        "place": _place(ticket),
        "assignee": _assignee_label(ticket.get("assigned_to"), contacts, names),
        "phone_display": _phone(ticket.get("reporter_phone")),
        "received_local": local_time(ticket["received_at"], timezone, "%Y-%m-%d %H:%M"),
        "incident_local": local_time(ticket.get("incident_at"), timezone, "%Y-%m-%d %H:%M"),
    }
    complaint_form = {
        "incident_at": _utc_to_local_input(ticket.get("incident_at"), timezone),
        "location": ticket.get("location") or "",
        "people_involved": ticket.get("people_involved") or "",
        "forwarded_to": ticket.get("forwarded_to") or "",
        "resident_told": ticket.get("resident_told") or "",
    }
    typed = typed or {}
    return render_template(
        "tickets/detail.html",
        ticket=ticket,
        sla=sla_clock(ticket, now, timezone),
        updates=updates,
        contacts=contacts,
        staff_members=_active_staff(db),
        buttons=_status_buttons(ticket["status"]),
        next_action=tickets.next_action(ticket, updates),
        errors=errors or {},
        triage={
            "category": ticket.get("category") or "",
            "problem": _problem_path(ticket) if ticket.get("problem") else "",
            "urgency": ticket.get("urgency"),
            **typed.get("triage", {}),
        },
        assign={"assignee": ticket.get("assigned_to") or "", **typed.get("assign", {})},
        status_form={"message": "", **typed.get("status", {})},
        note={"text": "", "resident_visible": False, **typed.get("note", {})},
        complaint={**complaint_form, **typed.get("complaint", {})},
        reason_labels={key: f"{zh} · {en}" for key, zh, en in ticket_catalog.LOW_RATING_REASONS},
        **_catalog_context(),
    ), status


def _phone(text: str | None) -> str:
    if not text:
        return ""
    try:
        return phones.display(text) if text.startswith("+") else text
    except Exception:  # noqa: BLE001 - a stored number phonenumbers cannot parse is shown as is
        return text


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


# --- what the page says after a change: the ticket's new state, in both languages ------------


def triaged_message(ticket: dict) -> str:
    """已分类：天花板渗水，紧急 · Triaged: Water coming through the ceiling, urgent."""
    what = _label(_problem_path(ticket))
    zh, en = tickets.URGENCY_LABELS.get(ticket["urgency"], (ticket["urgency"],) * 2)
    return f"已分类：{what['zh']}，{zh} · Triaged: {what['en']}, {en.lower()}"


def assigned_message(ticket: dict) -> str:
    """已指派给 工程维修部 · Assigned to Maintenance (a staff member by their name)."""
    contacts = _contacts(_building()["settings"])
    kind, _, value = (ticket.get("assigned_to") or "").partition(":")
    contact = next((c for c in contacts if kind == "dept" and c["key"] == value), None)
    if contact is not None:
        zh, en = contact["name_zh"], contact["name_en"]
    else:
        zh = en = _assignee_label(ticket.get("assigned_to"), contacts, _staff_names(get_db()))
    return f"已指派给 {zh} · Assigned to {en}"


def status_message(ticket: dict, *, reopened: bool = False) -> str:
    """状态：处理中 · Status: in progress (and "reopened" first after a reopen)."""
    zh, en = tickets.STATUS_LABELS.get(ticket["status"], (ticket["status"],) * 2)
    if reopened:
        return f"已重新打开，状态：{zh} · Reopened; status: {en.lower()}"
    return f"状态：{zh} · Status: {en.lower()}"


@bp.post("/<int:ticket_id>/triage")
@role_required(*STAFF)
def triage(ticket_id: int):
    typed = {key: request.form.get(key, "")[:80] for key in ("category", "problem", "urgency")}

    def action(db):
        tickets.triage(
            db,
            _clock(),
            ticket_id,
            staff_id=g.staff["id"],
            category=typed["category"],
            problem=_split_problem(typed["category"], typed["problem"]) or None,
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
        tickets.assign(db, _clock(), ticket_id, staff_id=g.staff["id"], assignee=typed["assignee"])

    return _act(ticket_id, "assign", typed, action, assigned_message)


@bp.post("/<int:ticket_id>/status")
@role_required(*STAFF)
def set_status(ticket_id: int):
    typed = {"message": request.form.get("message", "")[:600]}
    wanted = request.form.get("status", "")

    def action(db):
        tickets.set_status(
            db,
            _clock(),
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
            _clock(),
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
            _clock(),
            ticket_id,
            staff_id=g.staff["id"],
            incident_at=typed["incident_at"],  # datetime-local, read in building time
            location=typed["location"],
            people_involved=typed["people_involved"],
            forwarded_to=typed["forwarded_to"],
            resident_told=typed["resident_told"],
        )

    return _act(ticket_id, "complaint", typed, action, "投诉记录已保存 · Complaint record saved.")


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
    current = _building()
    timezone = current["timezone"]
    ticket = tickets.get(db, ticket_id)
    updates = [
        {"at": local_time(u["at"], timezone, "%m-%d %H:%M"), "text": u["text"]}
        for u in tickets.timeline(db, ticket_id)
        if u["resident_visible"]
    ]
    names = _staff_names(db)
    pdf = work_orders.work_order(
        building=current["name"],
        number=str(ticket["id"]),
        kind=KIND_LABELS.get(ticket["kind"], ticket["kind"]),
        unit=ticket.get("unit_number") or "",
        location=ticket.get("location") or "",
        category=_label(ticket.get("category")),
        problem=_label(_problem_path(ticket)) if ticket.get("problem") else None,
        urgency=URGENCY_LABELS.get(ticket["urgency"], ticket["urgency"]),
        status=STATUS_LABELS.get(ticket["status"], ticket["status"]),
        received=local_time(ticket["received_at"], timezone),
        due=local_time(ticket.get("sla_due_at"), timezone),
        description=ticket.get("description") or "",
        reporter_name=ticket.get("reporter_name") or "",
        reporter_phone=_phone(ticket.get("reporter_phone")),
        assignee=_assignee_label(ticket.get("assigned_to"), _contacts(current["settings"]), names),
        updates=updates,
        printed=local_time(to_iso(_clock().now()), timezone),
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
        "label": _label(_problem_path(ticket)),
        "place": _place(ticket),
        "url": url_for("tickets.detail", ticket_id=ticket["id"]),
    }


# --- settings (manager) ---------------------------------------------------------------------


def _mask_url(url: str) -> str:
    """What the page shows of a stored notify URL: its scheme only (it may hold a token)."""
    if not url:
        return ""
    scheme = urlsplit(url).scheme or url.split(":", 1)[0]
    return f"{scheme}://…" if scheme else "…"


def _check_notify_url(url: str, row: int) -> str:
    url = url.strip()
    if not url:
        return ""
    if len(url) > 500 or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise SettingsInvalid(
            f"第 {row} 行：通知地址不能含空格或换行 · Row {row}: the notify URL may not contain "
            "spaces or line breaks."
        )
    understood = apprise.Apprise.instantiate(url) is not None
    if not understood:
        raise SettingsInvalid(
            f"第 {row} 行：无法识别的通知地址 · Row {row}: not a notify URL apprise understands "
            "(e.g. mailto://user:pass@example.com, dingtalk://token/)."
        )
    return url


def parse_sla(form) -> dict[str, int]:
    values = {}
    for urgency in tickets.URGENCIES:
        text = str(form.get(f"sla_{urgency}", "")).strip()
        label = URGENCY_LABELS[urgency]
        if not text.isdigit() or not 1 <= int(text) <= MAX_SLA_MINUTES:
            raise SettingsInvalid(
                f"{label}：请填写 1 到 {MAX_SLA_MINUTES} 之间的整数分钟 · {label}: a whole number "
                f"of minutes from 1 to {MAX_SLA_MINUTES}."
            )
        values[urgency] = int(text)
    if not values["emergency"] <= values["urgent"] <= values["normal"]:
        raise SettingsInvalid(
            "时限应为 危急 ≤ 紧急 ≤ 一般 · The times must run emergency ≤ urgent ≤ normal."
        )
    return values


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
            raise SettingsInvalid(
                f"第 {row} 行：代码用小写字母、数字和下划线，以字母开头 · Row {row}: the key is "
                "lower-case letters, digits and _, starting with a letter (e.g. maintenance)."
            )
        if field["key"] in seen:
            raise SettingsInvalid(
                f"第 {row} 行：代码 {field['key']} 重复 · Row {row}: the key {field['key']} is "
                "used twice."
            )
        if not 1 <= len(field["zh"]) <= 40 or not 1 <= len(field["en"]) <= 60:
            raise SettingsInvalid(
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
    if not contacts:
        raise SettingsInvalid("至少保留一个部门 · Keep at least one department.")
    return contacts


def save_settings(db, clock, *, sla: dict, contacts: list[dict], actor: str) -> dict:
    """Store the SLA minutes and contacts in the building settings (audited, URLs redacted).

    A department with open tickets assigned to it cannot be removed."""
    with write_transaction(db):
        current = building.current(db)
        kept = {c["key"] for c in contacts}
        for old in current["settings"]["ticket_contacts"]:
            if old["key"] in kept:
                continue
            open_count = db.execute(
                "SELECT COUNT(*) FROM tickets WHERE assigned_to = ? AND status IN"
                " ('new', 'assigned', 'in_progress')",
                (f"dept:{old['key']}",),
            ).fetchone()[0]
            if open_count:
                raise SettingsInvalid(
                    f"{old['name_zh']} 还有 {open_count} 张未完成工单，请先改派 · "
                    f"{old['name_en']} still has {open_count} open ticket(s): reassign them first."
                )
        row = one(db, "SELECT settings FROM buildings WHERE id = ?", (current["id"],))
        stored = json.loads(row["settings"] or "{}")
        values = {"ticket_sla_minutes": sla, "ticket_contacts": contacts}
        changes = {}
        for key, value in values.items():
            if current["settings"][key] != value:
                changes[key] = {"from": _redacted(current["settings"][key]), "to": _redacted(value)}
        if changes:
            db.execute(
                "UPDATE buildings SET settings = ? WHERE id = ?",
                (json.dumps({**stored, **values}, ensure_ascii=False), current["id"]),
            )
            audit.record(
                db,
                clock,
                actor=actor,
                action="settings.change",
                target=f"building:{current['id']}",
                detail=changes,
            )
    return values


def _redacted(value):
    if isinstance(value, list):
        return [{**c, "notify_url": _mask_url(c.get("notify_url", ""))} for c in value]
    return value


def _settings_page(form: dict | None = None, *, error=None, status: int = 200):
    settings = _building()["settings"]
    if form is None:
        form = {f"sla_{u}": str(m) for u, m in settings["ticket_sla_minutes"].items()}
        for n, contact in enumerate(settings["ticket_contacts"]):
            form[f"contact_{n}_key"] = contact["key"]
            form[f"contact_{n}_zh"] = contact["name_zh"]
            form[f"contact_{n}_en"] = contact["name_en"]
    stored_urls = {
        c["key"]: _mask_url(c.get("notify_url", "")) for c in settings["ticket_contacts"]
    }
    filled = [n for n in range(MAX_CONTACTS) if form.get(f"contact_{n}_key")]
    rows = max(filled, default=-1) + 3  # two blank rows for new departments
    return render_template(
        "tickets/settings.html",
        form=form,
        error=error,
        rows=min(rows, MAX_CONTACTS),
        stored_urls=stored_urls,
        urgencies=tickets.URGENCIES,
        urgency_labels=URGENCY_LABELS,
    ), status


@bp.get("/settings")
@role_required(*MANAGERS)
def settings_page():
    return _settings_page()[0]


@bp.post("/settings")
@role_required(*MANAGERS)
def save_settings_form():
    typed = {key: value[:600] for key, value in request.form.items() if key != "csrf_token"}
    db = get_db()
    try:
        stored = building.current(db)["settings"]["ticket_contacts"]
        save_settings(
            db,
            _clock(),
            sla=parse_sla(typed),
            contacts=parse_contacts(typed, stored),
            actor=_actor(),
        )
    except LobbyDeskError as error:
        return _settings_page(typed, error=error, status=error.http_status)
    flash("保存成功 · Saved.", "ok")
    return redirect(url_for("tickets.settings_page"))
