"""Visitors for reception: decisions, the log, on-site list, deny list, passes."""

from __future__ import annotations

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

from console import documents, live, query_args, queue
from console.db import get_clock, get_db
from console.exports import csv_response, phone_cell
from console.security import role_required
from shared import audit, building, phones, terms, visitors
from shared.clock import local_time, to_iso
from shared.db import write_transaction
from shared.errors import InvalidRequest, LobbyDeskError, StaleState

bp = Blueprint("visitors", __name__, url_prefix="/visitors")
STAFF = ("reception", "manager")
PAGE_SIZE = 50
CSV_COLUMNS = (
    ("id", "编号 ID"),
    ("name", "姓名 Name"),
    ("phone", "电话 Phone", phone_cell),
    ("unit_number", "房号 Unit"),
    ("purpose", "事由 Purpose"),
    ("party_size", "人数 Party"),
    ("status", "状态 Status", terms.formatter("visit_status")),
    ("status", "状态代码 Status code"),
    ("received_local", "登记时间 Registered"),
    ("decision_method", "核实方式 Verified by"),
    ("deny_reason", "拒绝原因 Deny reason"),
    ("signed_out_local", "签退时间 Signed out"),
    ("sign_out_method", "签退方式 Sign-out"),
)


def _wants_fetch() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


@bp.post("/<int:visit_id>/decide")
@role_required(*STAFF)
def decide(visit_id: int):
    try:
        visit = visitors.decide(
            get_db(),
            get_clock(),
            visit_id,
            decision=request.form.get("decision", ""),
            staff_id=g.staff["id"],
            secret_key=current_app.config["SECRET_KEY"],
            reason=request.form.get("reason", ""),
        )
    except (InvalidRequest, StaleState) as error:
        if _wants_fetch():
            raise
        flash(str(error), "error")
        return redirect(url_for("queue.index"))
    live.hub(current_app).publish()
    if _wants_fetch():
        return {"ok": True}
    # The queue's own words for the new state (one wording for both routes).
    flash(queue.decision_message(visit), "ok")
    return redirect(url_for("queue.index"))


@bp.post("/<int:visit_id>/sign-out")
@role_required(*STAFF)
def sign_out(visit_id: int):
    visitors.sign_out(
        get_db(), get_clock(), visit_id, method="staff", actor=f"staff:{g.staff['id']}"
    )
    flash(terms.term("visit_status", "signed_out") + ".", "ok")
    return redirect(request.referrer or url_for("visitors.on_site"))


def _filters() -> dict:
    return {
        "text": request.args.get("q", ""),
        "status": request.args.get("status", ""),
        **query_args.day_range(),
    }


def _localise(rows: list[dict], timezone: str) -> list[dict]:
    for row in rows:
        row["received_local"] = local_time(row["received_at"], timezone)
        row["signed_out_local"] = local_time(row["signed_out_at"], timezone)
        row["phone_display"] = phones.display(row["phone"])
    return rows


@bp.get("/")
@role_required(*STAFF)
def log():
    db = get_db()
    timezone = building.current(db)["timezone"]
    filters = _filters()
    before = request.args.get("before", type=int)
    rows = _localise(
        visitors.search(db, **filters, timezone=timezone, before_id=before, limit=PAGE_SIZE + 1),
        timezone,
    )
    more = len(rows) > PAGE_SIZE
    return render_template(
        "visitors/log.html",
        rows=rows[:PAGE_SIZE],
        filters=filters,
        q=request.args.get("q", ""),
        older_url=url_for(
            "visitors.log", **{**request.args.to_dict(), "before": rows[PAGE_SIZE - 1]["id"]}
        )
        if more
        else None,
        purpose_labels=visitors.PURPOSE_LABELS,
        decision_labels=visitors.DECISION_LABELS,
    )


@bp.get("/export.csv")
@role_required(*STAFF)
def export():
    db = get_db()
    timezone = building.current(db)["timezone"]
    rows = _localise(visitors.search(db, **_filters(), timezone=timezone, limit=100_000), timezone)
    with write_transaction(db):
        audit.record(
            db,
            get_clock(),
            actor=f"staff:{g.staff['id']}",
            action="visit.export",
            detail={"rows": len(rows), **_filters()},
        )
    return csv_response(rows, CSV_COLUMNS, "visitors.csv")


@bp.get("/on-site")
@role_required(*STAFF)
def on_site():
    db = get_db()
    current = building.current(db)
    rows = visitors.on_site(db)
    for row in rows:
        row["arrived_local"] = local_time(row["decided_at"], current["timezone"], "%H:%M")
        row["phone_display"] = phones.display(row["phone"])
    printed = local_time(to_iso(get_clock().now()), current["timezone"])
    return render_template("visitors/on_site.html", rows=rows, building=current, printed=printed)


@bp.get("/deny-list")
@role_required(*STAFF)
def deny_list():
    entries = visitors.deny_list(get_db())
    for entry in entries:
        entry["phone_display"] = phones.display(entry["phone"])
    return render_template("visitors/deny_list.html", entries=entries)


@bp.post("/deny-list")
@role_required(*STAFF)
def add_to_deny_list():
    try:
        visitors.add_to_deny_list(
            get_db(),
            get_clock(),
            name=request.form.get("name", ""),
            phone=request.form.get("phone", ""),
            reason=request.form.get("reason", ""),
            staff_id=g.staff["id"],
        )
        flash("已加入 · Added to the deny list.", "ok")
    except LobbyDeskError as error:
        flash(str(error), "error")
    return redirect(url_for("visitors.deny_list"))


def _deny_remove_page(entry_id: int, error: str | None = None, status: int = 200):
    """Removing lets this person be confirmed again: a page that says so, and a tick."""
    entry = next((e for e in visitors.deny_list(get_db()) if e["id"] == entry_id), None)
    if entry is None:
        abort(404, description="该黑名单记录不存在或已移除 · That deny-list entry is gone.")
    entry["phone_display"] = phones.display(entry["phone"])
    return render_template("visitors/deny_remove.html", entry=entry, error=error), status


@bp.get("/deny-list/<int:entry_id>/remove")
@role_required(*STAFF)
def confirm_remove_from_deny_list(entry_id: int):
    return _deny_remove_page(entry_id)


@bp.post("/deny-list/<int:entry_id>/remove")
@role_required(*STAFF)
def remove_from_deny_list(entry_id: int):
    if request.form.get("confirm") != "yes":
        return _deny_remove_page(
            entry_id, "请先勾选确认 · Tick the confirmation first.", status=422
        )
    visitors.remove_from_deny_list(get_db(), get_clock(), entry_id, staff_id=g.staff["id"])
    flash("已从黑名单移除 · Removed from the deny list.", "ok")
    return redirect(url_for("visitors.deny_list"))


@bp.get("/<int:visit_id>/pass.pdf")
@role_required(*STAFF)
def visitor_pass(visit_id: int):
    db = get_db()
    visit = visitors.get(db, visit_id)
    if visit["status"] != "confirmed":
        abort(
            409,
            description="只有已确认且未签退的访客才有通行证 · Only confirmed visitors on site have a pass.",
        )
    current = building.current(db)
    pdf = documents.visitor_pass(
        building=current["name"],
        name=visit["name"],
        unit=visit["unit_number"],
        date=local_time(visit["decided_at"], current["timezone"]),
        qr_text=visitors.pass_token(current_app.config["SECRET_KEY"], visit, get_clock().now()),
        size="a6" if request.args.get("size") == "a6" else "62mm",
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename=pass-{visit_id}.pdf"},
    )
