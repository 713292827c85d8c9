"""Parcels for reception: scanner intake, lists, labels, desk handover, failed messages.

The intake form is built for a USB keyboard-wedge scanner (characters + Enter
into the focused field). static/parcels.js moves focus field to field and
submits with fetch; without JavaScript the same form is a plain POST whose
answer re-renders the form with the field that needs attention focused.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from console import documents, live
from console.db import get_clock, get_db
from console.exports import csv_response
from console.security import role_required
from shared import audit, building, delivery, parcels, signing, terms
from shared.clock import local_time, to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest, LobbyDeskError, StaleState

bp = Blueprint("parcels", __name__, url_prefix="/parcels")
STAFF = ("reception", "manager")
PAGE_SIZE = 50
FIELD_FOR_ERROR = {
    "invalid_tracking": "tracking",
    "duplicate_tracking": "shelf",
    "unknown_unit": "unit",
    "unit_ambiguous": "unit",
    "invalid_shelf": "shelf",
}
VIEW_LABELS = {
    "waiting": terms.term("parcel_status", "waiting"),
    "overdue": "逾期 · Overdue",
    "collected": terms.term("parcel_status", "collected"),
    "all": "全部 · All",
}
CSV_COLUMNS = (
    ("ref", "编号 Ref"),
    ("received_local", "登记时间 Received"),
    ("unit_number", "房号 Unit"),
    ("tracking_number", "快递单号 Tracking"),
    ("carrier_label", "快递公司 Carrier"),
    ("shelf", "货架 Shelf"),
    ("status", "状态 Status", terms.formatter("parcel_status")),
    ("status", "状态代码 Status code"),
    ("collected_local", "领取时间 Collected"),
    ("release_method", "领取方式 Method"),
    ("handed_over_local", "交付时间 Handed over"),
    ("handed_over_by_name", "交付人 Handed over by"),
)


def _wants_fetch() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _decorate(rows: list[dict], timezone: str) -> list[dict]:
    now = to_iso(get_clock().now())
    for row in rows:
        row["ref"] = parcels.staff_ref(row["id"])
        row["carrier_label"] = parcels.carrier_label(row["carrier"])
        row["received_local"] = local_time(row["received_at"], timezone)
        row["collected_local"] = local_time(row["collected_at"], timezone)
        row["handed_over_local"] = local_time(row.get("handed_over_at"), timezone)
        row["expires_local"] = local_time(row["expires_at"], timezone, "%m-%d")
        row["overdue"] = row["status"] == "waiting" and (row["expires_at"] or "") <= now
    return rows


def _recent(db, timezone: str) -> list[dict]:
    return _decorate(parcels.recent_intake(db), timezone)


def _intake_page(form: dict, *, error: LobbyDeskError | None = None, status: int = 200):
    db = get_db()
    timezone = building.current(db)["timezone"]
    return render_template(
        "parcels/intake.html",
        form=form,
        error=error,
        duplicate=isinstance(error, parcels.DuplicateTracking),
        focus=FIELD_FOR_ERROR.get(error.code, "tracking") if error else "tracking",
        recent=_recent(db, timezone),
        carriers=parcels.CARRIERS,
    ), status


@bp.get("/")
@role_required(*STAFF)
def intake_form():
    return _intake_page({"shelf": request.args.get("shelf", "")[: parcels.MAX_SHELF_LENGTH]})[0]


@bp.post("/")
@role_required(*STAFF)
def intake():
    form = {key: request.form.get(key, "")[:80] for key in ("tracking", "unit", "shelf", "carrier")}
    db = get_db()
    try:
        result = parcels.intake(
            db,
            get_clock(),
            secret_key=current_app.config["SECRET_KEY"],
            staff_id=g.staff["id"],
            tracking=form["tracking"],
            unit=form["unit"],
            shelf=form["shelf"],
            carrier=form["carrier"],
            confirm_duplicate=request.form.get("confirm_duplicate") == "1",
        )
    except LobbyDeskError as error:
        if _wants_fetch():
            raise
        return _intake_page(form, error=error, status=error.http_status)
    parcel = result["parcel"]
    summary = (
        f"已登记 · Logged {parcels.staff_ref(parcel['id'])}: {parcel['unit_number']} · "
        f"{parcels.carrier_label(parcel['carrier'])} · 货架 {parcel['shelf']}"
        + (" · 并入同一取件码 · joined the unit's code" if result["joined"] else "")
    )
    if _wants_fetch():
        timezone = building.current(db)["timezone"]
        return jsonify(
            ok=True,
            summary=summary,
            parcel={
                "id": parcel["id"],
                "ref": parcels.staff_ref(parcel["id"]),
                "unit": parcel["unit_number"],
                "shelf": parcel["shelf"],
                "carrier": parcels.carrier_label(parcel["carrier"]),
            },
            joined=result["joined"],
            notified=result["notified"],
            recent_html=render_template("parcels/_recent.html", recent=_recent(db, timezone)),
        ), 201
    flash(summary, "ok")
    return redirect(url_for("parcels.intake_form", shelf=parcel["shelf"]))


@bp.get("/check")
@role_required(*STAFF)
def check():
    """Carrier guess and earlier use of a tracking number, as soon as it is scanned."""
    return parcels.check_tracking(get_db(), request.args.get("tracking", ""))


@bp.get("/units")
@role_required(*STAFF)
def units():
    """Autocomplete: units by number, resident name or pinyin (wjg, wangjianguo)."""
    return {"units": parcels.search_units(get_db(), request.args.get("q", ""))}


@bp.get("/list")
@role_required(*STAFF)
def listing():
    db = get_db()
    timezone = building.current(db)["timezone"]
    view = request.args.get("view", "waiting")
    if view not in parcels.VIEWS:
        view = "waiting"
    q = request.args.get("q", "")[: parcels.MAX_SEARCH_LENGTH]
    before = request.args.get("before", type=int)
    rows = _decorate(
        parcels.search(db, get_clock(), view=view, text=q, before_id=before, limit=PAGE_SIZE + 1),
        timezone,
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    notices = _decorate_notices(parcels.troubled_notices(db), timezone)
    return render_template(
        "parcels/list.html",
        rows=rows,
        view=view,
        q=q,
        view_labels=VIEW_LABELS,
        method_labels=parcels.RELEASE_METHODS,
        older_url=url_for("parcels.listing", view=view, q=q, before=rows[-1]["id"])
        if more
        else None,
        notices=notices,
        # A configuration problem is said once, above the rows, to whoever can fix it.
        mail_server_missing=any(row["failure"] == "config" for row in notices),
        pauses=parcels.active_pauses(db, get_clock()),
    )


def _decorate_notices(rows: list[dict], timezone: str) -> list[dict]:
    for row in rows:
        row["next_local"] = local_time(row["next_attempt_at"], timezone, "%m-%d %H:%M")
        # What happened in words (never an exception's name), and whether Retry can help.
        row["failure"] = delivery.failure_kind(row["last_error"])
        row["reason"] = delivery.reason_text(row["last_error"])
    return rows


@bp.get("/export.csv")
@role_required(*STAFF)
def export():
    db = get_db()
    timezone = building.current(db)["timezone"]
    view = request.args.get("view", "all")
    view = view if view in parcels.VIEWS else "all"
    q = request.args.get("q", "")[: parcels.MAX_SEARCH_LENGTH]
    rows = _decorate(parcels.search(db, get_clock(), view=view, text=q, limit=100_000), timezone)
    with write_transaction(db):
        audit.record(
            db,
            get_clock(),
            actor=f"staff:{g.staff['id']}",
            action="parcel.export",
            detail={"rows": len(rows), "view": view, "q": q},
        )
    return csv_response(rows, CSV_COLUMNS, "parcels.csv")


@bp.get("/<int:parcel_id>/label.pdf")
@role_required(*STAFF)
def label(parcel_id: int):
    db = get_db()
    parcel = parcels.get(db, parcel_id)
    current = building.current(db)
    pdf = documents.parcel_label(
        building=current["name"],
        unit=parcel["unit_number"],
        shelf=parcel["shelf"] or "",
        ref=parcels.staff_ref(parcel["id"]),
        carrier=parcels.carrier_label(parcel["carrier"]),
        tracking_tail=parcels.tracking_tail(parcel["tracking_number"]),
        received=local_time(parcel["received_at"], current["timezone"]),
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename=parcel-{parcel_id}.pdf"},
    )


# --- desk handover --------------------------------------------------------------------------


def _desk_page(
    *,
    found=None,
    token: str = "",
    unit=None,
    unit_id: int | None = None,
    scan_error: str = "",
    errors: dict | None = None,
    typed: dict | None = None,
    status=200,
):
    """The desk handover page; with a unit, who may collect its parcels beside them."""
    db = get_db()
    timezone = building.current(db)["timezone"]
    return render_template(
        "parcels/desk.html",
        found=_decorate(found, timezone) if found is not None else None,
        token=token,
        unit=unit,
        scan_error=scan_error,
        collectors=parcels.collector_candidates(db, unit_id) if unit_id else [],
        instructions=parcels.parcel_instructions(db, unit_id) if unit_id else [],
        errors=errors or {},
        typed=typed or {},
    ), status


@bp.get("/desk")
@role_required(*STAFF)
def desk():
    unit_text = request.args.get("unit", "")
    if not unit_text:
        return _desk_page()[0]
    return _look_up(unit_text)


@bp.post("/desk")
@role_required(*STAFF)
def desk_scan():
    """The resident's QR (scanned into the field) or a unit. POST keeps the token out of URLs."""
    return _look_up(request.form.get("scan", "")[: signing.MAX_TOKEN_LENGTH])


def _looks_like_token(text: str) -> bool:
    return "." in text and len(text) > 20


def _look_up(text: str, **page):
    db = get_db()
    text = text.strip()
    if _looks_like_token(text):
        try:
            batch = parcels.batch_from_token(
                db, get_clock(), current_app.config["SECRET_KEY"], text
            )
        except (
            signing.TokenInvalid,
            signing.TokenExpired,
            parcels.AlreadyCollected,
            parcels.CodeExpired,
        ) as refused:
            parcels.record_rejected_qr(
                db, get_clock(), actor=f"staff:{g.staff['id']}", reason=refused.code
            )
            return _desk_page(scan_error=str(refused), status=refused.http_status)
        found = [
            {**p, "unit_number": batch["unit_number"]}
            for p in parcels.waiting_for_unit(db, batch["unit_id"])
            if p["batch_id"] == batch["id"]
        ]
        return _desk_page(
            found=found, token=text, unit=batch["unit_number"], unit_id=batch["unit_id"]
        )
    try:
        unit = parcels.resolve_unit(db, text)
    except LobbyDeskError as error:
        return _desk_page(scan_error=str(error), status=error.http_status)
    found = [{**p, "unit_number": unit["number"]} for p in parcels.waiting_for_unit(db, unit["id"])]
    return _desk_page(found=found, unit=unit["number"], unit_id=unit["id"], **page)


def _handover_typed() -> dict:
    """What the receptionist typed in the handover form, to give back with an error."""
    ids = request.form.getlist("parcel_id")
    try:
        chosen = [int(i) for i in ids]
    except ValueError as error:
        raise InvalidRequest("parcel_id must be a number") from error
    return {
        "unit": request.form.get("unit", "")[:40],
        "parcel_ids": chosen,
        "code": request.form.get("code", "")[:20],
        "id_checked": request.form.get("id_checked") == "1",
        "collector": request.form.get("collector", "")[:80],
    }


@bp.post("/desk/hand-over")
@role_required(*STAFF)
def desk_hand_over():
    db = get_db()
    token = request.form.get("token", "")
    typed: dict = {}
    try:
        if token:
            released = parcels.hand_over_by_qr(
                db, get_clock(), current_app.config["SECRET_KEY"], token, staff_id=g.staff["id"]
            )
        else:
            typed = _handover_typed()
            try:
                released = parcels.hand_over_at_desk(
                    db,
                    get_clock(),
                    typed["parcel_ids"],
                    staff_id=g.staff["id"],
                    code=typed["code"],
                    id_checked=typed["id_checked"],
                    collector=typed["collector"],
                    secret_key=current_app.config["SECRET_KEY"],
                )
            except parcels.DeskCheckRefused as refused:
                # Nothing handed over: the same unit again, the message beside its field.
                errors = {refused.field: str(refused)}
                return _look_up(typed["unit"], errors=errors, typed=typed, status=422)
    except (signing.TokenInvalid, signing.TokenExpired) as refused:
        parcels.record_rejected_qr(
            db, get_clock(), actor=f"staff:{g.staff['id']}", reason=refused.code
        )
        flash(str(refused), "error")
        return redirect(url_for("parcels.desk"))
    except LobbyDeskError as error:
        flash(str(error), "error")
        return redirect(url_for("parcels.desk"))
    flash(_handed_over(len(released), typed), "ok")
    return redirect(url_for("parcels.desk"))


def _handed_over(count: int, typed: dict) -> str:
    """The success message, saying how the collector was checked and, by ID, who it was."""
    parcels_en = terms.plural("parcels", count, "en")  # "1 parcel", "2 parcels"
    if typed.get("code"):
        return f"已凭取件码交付 {count} 件 · Handed over {parcels_en} on the pickup code."
    name = " ".join(typed.get("collector", "").split())
    if name:
        return (
            f"已交付 {count} 件给 {name}（已核对证件）· Handed over {parcels_en} to {name}"
            " (ID checked)."
        )
    return f"已交付 {count} 件 · Handed over {parcels_en}."


@bp.post("/handovers/<int:handover_id>/done")
@role_required(*STAFF)
def handover_done(handover_id: int):
    """The live queue's "handed over" button for a kiosk pickup; without script the
    queue comes back with a message naming what happened."""
    db = get_db()
    try:
        parcels.complete_handover(db, get_clock(), handover_id, staff_id=g.staff["id"])
    except StaleState as error:
        if _wants_fetch():
            return {"error": {"code": error.code, "message": str(error)}}, 409
        flash(str(error), "error")
    else:
        if not _wants_fetch():
            flash(_kiosk_pickup_done(db, handover_id), "ok")
    live.hub(current_app).publish()
    if _wants_fetch():
        return {"ok": True}
    return redirect(url_for("queue.index"))


def _kiosk_pickup_done(db, handover_id: int) -> str:
    done = one(
        db,
        "SELECT u.number, h.parcel_count AS n FROM parcel_handovers h"
        " JOIN units u ON u.id = h.unit_id WHERE h.id = ?",
        (handover_id,),
    )
    return (
        f"已交付 {done['number']} 的 {done['n']} 件快递，已移出队列 · Handed over "
        f"{terms.plural('parcels', done['n'], 'en')} for {done['number']}; removed from the queue."
    )


@bp.post("/notices/<int:notice_id>/retry")
@role_required(*STAFF)
def retry_notice(notice_id: int):
    try:
        parcels.retry_notice(get_db(), get_clock(), notice_id, staff_id=g.staff["id"])
        flash("将立即重试 · The message will be sent again now.", "ok")
    except StaleState as error:
        flash(str(error), "error")
    return redirect(url_for("parcels.listing", view=request.form.get("view", "waiting")))


@bp.post("/pauses/<int:unit_id>/lift")
@role_required(*STAFF)
def lift_pause(unit_id: int):
    try:
        parcels.lift_pause(get_db(), get_clock(), unit_id, staff_id=g.staff["id"])
        flash("已恢复取件码输入 · Code entry resumed for the unit.", "ok")
    except StaleState as error:
        flash(str(error), "error")
    return redirect(url_for("parcels.listing"))
