"""The shift handover log for reception: notes, ending a shift, acknowledging it.

Every staff page asks a receptionist who has not yet acknowledged the latest
handover to read it (the banner in base.html, fed by `unread_handover`).
"""

from __future__ import annotations

import sqlite3

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from console import query_args
from console.db import get_clock, get_db
from console.security import role_required
from shared import building, handover, terms
from shared.clock import local_time
from shared.errors import LobbyDeskError, StaleState

bp = Blueprint("handover", __name__, url_prefix="/handover")
STAFF = ("reception", "manager")
MANAGERS = ("manager",)
LOG_PAGE_SIZE = 20
STATUS_LABELS = terms.labels("handover_status")
_NOT_LOOKED_UP = object()


def _timezone() -> str:
    return building.current(get_db())["timezone"]


def _decorate_notes(notes: list[dict], timezone: str) -> list[dict]:
    for note in notes:
        note["created_local"] = local_time(note["created_at"], timezone, "%m-%d %H:%M")
        note["done_local"] = local_time(note["done_at"], timezone, "%m-%d %H:%M")
        note["category_label"] = handover.CATEGORIES.get(note["category"] or "", "")
    return notes


def _decorate_handover(item: dict | None, timezone: str) -> dict | None:
    if item is None:
        return None
    item["created_local"] = local_time(item["created_at"], timezone)
    for read in item.get("reads", []):
        read["read_local"] = local_time(read["read_at"], timezone, "%m-%d %H:%M")
    _decorate_notes(item.get("notes", []), timezone)
    return item


@bp.app_context_processor
def handover_banner() -> dict:
    return {"unread_handover": unread_handover}


def unread_handover() -> dict | None:
    """The latest handover when the signed-in receptionist has not acknowledged it.

    Looked up once per request, and only by templates that ask (base.html), so
    the partials a live page refetches cost nothing.
    """
    found = g.get("_unread_handover", _NOT_LOOKED_UP)
    if found is _NOT_LOOKED_UP:
        found = None
        member = g.get("staff")
        if member:
            try:
                db = get_db()
                found = _decorate_handover(handover.unread_for(db, member), _timezone())
                if found:
                    # On that handover's own page the banner needs no link to it.
                    found["here"] = (
                        request.endpoint == "handover.show"
                        and (request.view_args or {}).get("handover_id") == found["id"]
                    )
            except (sqlite3.Error, LobbyDeskError):
                # The banner never takes a page down with it (an error page included).
                current_app.logger.exception("unread handover lookup failed")
        g._unread_handover = found
    return found


def _safe_back(default: str) -> str:
    """The "back" form field if it is one of this console's own handover pages, else
    `default`: never an open redirect, and never a header with a line break in it."""
    back = request.form.get("back", "")
    if (
        back.startswith("/handover/")
        and len(back) <= 2000
        and all("!" <= ch <= "~" for ch in back)  # printable ASCII: no CR, LF, tab or space
        and "//" not in back
        and "\\" not in back
        and "/../" not in back.split("?", 1)[0] + "/"
    ):
        return back
    return default


def waited_text(seconds: int) -> str:
    """How long something has waited, in both languages."""
    if seconds < 60:
        return f"{seconds} 秒 · {seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} 分钟 · {seconds // 60} min"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} 小时 {minutes} 分 · {hours} h {minutes} min"


def _decorate_open_items(items: list[dict], timezone: str) -> list[dict]:
    for item in items:
        item["since_local"] = local_time(item["since"], timezone, "%m-%d %H:%M")
        item["waited_text"] = waited_text(int(item.get("waited") or 0))
    return items


def _index_page(
    form: dict | None = None,
    error: LobbyDeskError | None = None,
    status=200,
    end_error: str | None = None,
):
    db = get_db()
    timezone = _timezone()
    shift = handover.current_shift(db)
    previous = shift["previous"]
    if previous:
        previous = _decorate_handover(handover.get(db, previous["id"]), timezone)
    notes = _decorate_notes(shift["notes"], timezone)
    return render_template(
        "handover/index.html",
        notes=notes,
        open_count=sum(1 for n in notes if n["status"] == "open"),
        previous=previous,
        form=form or {"text": "", "category": "", "unit": ""},
        error=error,
        open_items=_decorate_open_items(handover.open_items(db, get_clock()), timezone),
        end_error=end_error,
        categories=handover.CATEGORIES,
        status_labels=STATUS_LABELS,
        max_length=handover.MAX_TEXT_LENGTH,
    ), status


@bp.get("/")
@role_required(*STAFF)
def index():
    return _index_page()


@bp.post("/notes")
@role_required(*STAFF)
def add_note():
    # Kept exactly as typed (the request size limit bounds it), so a refused note
    # comes back whole for correcting.
    form = {
        "text": request.form.get("text", ""),
        "category": request.form.get("category", "")[:20],
        "unit": request.form.get("unit", "")[:40],
    }
    try:
        handover.add_note(
            get_db(),
            get_clock(),
            staff_id=g.staff["id"],
            text=form["text"],
            category=form["category"],
            unit=form["unit"],
        )
    except LobbyDeskError as error:
        return _index_page(form, error, error.http_status)
    flash("已记下 · Note added.", "ok")
    return redirect(url_for("handover.index"))


def _set_status(note_id: int, status: str):
    try:
        handover.set_status(get_db(), get_clock(), note_id, status, staff_id=g.staff["id"])
        flash(
            "已标记完成 · Marked done." if status == "done" else "已重新打开 · Opened again.",
            "ok",
        )
    except StaleState as error:
        flash(str(error), "error")
    return redirect(_safe_back(url_for("handover.index")))


@bp.post("/notes/<int:note_id>/done")
@role_required(*STAFF)
def mark_done(note_id: int):
    return _set_status(note_id, "done")


@bp.post("/notes/<int:note_id>/reopen")
@role_required(*STAFF)
def reopen(note_id: int):
    return _set_status(note_id, "open")


END_SHIFT_UNCONFIRMED = (
    "请先勾选确认：交班后由接班同事处理以上事项 · Tick the confirmation first: the colleague "
    "taking over deals with what is listed."
)


@bp.post("/end")
@role_required(*STAFF)
def end_shift():
    # Ending a shift cannot be undone: it needs the tick, shown beside what is open.
    if request.form.get("confirm") != "yes":
        return _index_page(status=422, end_error=END_SHIFT_UNCONFIRMED)
    try:
        handover_id = handover.end_shift(
            get_db(),
            get_clock(),
            staff_id=g.staff["id"],
            previous_id=request.form.get("previous", type=int),
            open_items_seen=request.form.get("open_items_seen", type=int),
        )
    except StaleState as error:
        flash(str(error), "error")
        return redirect(url_for("handover.index"))
    flash(
        "已交班，接班同事登录后会看到提醒 · Shift handed over: the next receptionist is asked to read it.",
        "ok",
    )
    return redirect(url_for("handover.show", handover_id=handover_id))


@bp.get("/<int:handover_id>")
@role_required(*STAFF)
def show(handover_id: int):
    db = get_db()
    timezone = _timezone()
    item = _decorate_handover(handover.get(db, handover_id), timezone)
    _decorate_open_items(item["open_items_then"], timezone)
    me = g.staff["id"]
    return render_template(
        "handover/show.html",
        handover=item,
        is_author=item["author_id"] == me,
        has_read=any(r["staff_id"] == me for r in item["reads"]),
        is_latest=(handover.latest(db) or {}).get("id") == handover_id,
        status_labels=STATUS_LABELS,
    )


@bp.post("/<int:handover_id>/read")
@role_required(*STAFF)
def read(handover_id: int):
    try:
        first = handover.mark_read(get_db(), get_clock(), handover_id, staff_id=g.staff["id"])
    except handover.NotForTheAuthor as error:
        flash(str(error), "error")
        return redirect(url_for("handover.show", handover_id=handover_id))
    flash("已阅 · Marked as read." if first else "您已阅过 · You had already read it.", "ok")
    return redirect(url_for("handover.show", handover_id=handover_id))


@bp.get("/log")
@role_required(*MANAGERS)
def log():
    timezone = _timezone()
    filters = {
        **query_args.day_range(),
        "status": request.args.get("status", "")
        if request.args.get("status") in STATUS_LABELS
        else "",
    }
    before = request.args.get("before", type=int)
    rows = handover.search(
        get_db(), **filters, timezone=timezone, before_id=before, limit=LOG_PAGE_SIZE + 1
    )
    more = len(rows) > LOG_PAGE_SIZE
    rows = [_decorate_handover(row, timezone) for row in rows[:LOG_PAGE_SIZE]]
    return render_template(
        "handover/log.html",
        handovers=rows,
        filters=filters,
        status_labels=STATUS_LABELS,
        older_url=url_for("handover.log", **{**request.args.to_dict(), "before": rows[-1]["id"]})
        if more
        else None,
    )
