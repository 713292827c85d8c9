"""Emergency broadcast for staff (S8): start and end it, the roll call as a page and a PDF.

Reception, managers and admins may start and end a broadcast. Starting commits
the emergency and one feed event per kiosk together, then wakes every kiosk's
long-poll at once (the live hub). Every staff page shows a red banner while one
is on (the context processor below, rendered by base.html).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from fpdf import FPDF
from fpdf.fonts import FontFace

from console import live
from console.db import get_clock, get_db
from console.security import role_required
from shared import audit, building, emergency_broadcast, kiosks
from shared.clock import local_time, parse_utc, to_iso
from shared.db import write_transaction
from shared.errors import InvalidRequest, LobbyDeskError
from shared.fonts import find_font

bp = Blueprint("emergency", __name__, url_prefix="/emergency")
STAFF = ("reception", "manager")


@bp.app_context_processor
def emergency_banner() -> dict:
    """`active_emergency` for base.html's banner, on every signed-in staff page."""
    if not g.get("staff"):
        return {}
    try:
        return {"active_emergency": emergency_broadcast.active(get_db())}
    except LobbyDeskError:
        return {}


def _kiosk_reach(db) -> dict:
    online_window = current_app.config["KIOSK_ONLINE_WINDOW_SECONDS"]
    now = get_clock().now()
    paired = [k for k in kiosks.list_all(db) if k["paired_at"] and not k["revoked_at"]]
    online = [
        k
        for k in paired
        if k["last_seen_at"]
        and (now - parse_utc(k["last_seen_at"])).total_seconds() <= online_window
    ]
    return {"paired": len(paired), "online": len(online)}


END_UNCONFIRMED = (
    "请先勾选确认：结束后所有终端恢复正常画面 · Tick the confirmation first: ending it "
    "returns every kiosk to its normal screen."
)


@bp.get("/")
@role_required(*STAFF)
def index():
    return _index_page()


def _index_page(end_error: str | None = None, status: int = 200):
    db = get_db()
    timezone = building.current(db)["timezone"]
    current = emergency_broadcast.active(db)
    kind = request.args.get("kind", "")
    draft = None
    if current is None and kind in emergency_broadcast.KINDS:
        draft = {"kind": kind, **emergency_broadcast.KINDS[kind]}
    past = emergency_broadcast.history(db)
    for row in ([current] if current else []) + past:
        row["started_local"] = local_time(row["started_at"], timezone, "%Y-%m-%d %H:%M:%S")
        row["ended_local"] = local_time(row["ended_at"], timezone, "%Y-%m-%d %H:%M:%S")
    return render_template(
        "emergency/index.html",
        current=current,
        draft=draft,
        kinds=emergency_broadcast.KINDS,
        history=[row for row in past if row["ended_at"]],
        reach=_kiosk_reach(db),
        max_instructions=emergency_broadcast.MAX_INSTRUCTIONS,
        end_error=end_error,
    ), status


def _refused_start(form: dict, errors: dict[str, str]):
    """The start form again (422) as typed, every error beside its field."""
    kinds = emergency_broadcast.KINDS
    draft = {**kinds.get(form["kind"], kinds["other"]), **form}
    draft["kind"] = form["kind"] if form["kind"] in kinds else "other"
    page = render_template(
        "emergency/index.html",
        current=None,
        draft=draft,
        kinds=kinds,
        history=[],
        reach=_kiosk_reach(get_db()),
        max_instructions=emergency_broadcast.MAX_INSTRUCTIONS,
        errors=errors,
    )
    return page, 422


@bp.post("/start")
@role_required(*STAFF)
def start():
    form = {
        "kind": request.form.get("kind", ""),
        "instructions_zh": request.form.get("instructions_zh", "")[:5000],
        "instructions_en": request.form.get("instructions_en", "")[:5000],
    }
    errors = emergency_broadcast.start_errors(**form)
    if errors:
        return _refused_start(form, errors)
    try:
        emergency_broadcast.start(get_db(), get_clock(), **form, staff_id=g.staff["id"])
    except emergency_broadcast.EmergencyAlreadyActive as error:
        flash(str(error), "error")
        return redirect(url_for("emergency.index"))
    except InvalidRequest as error:  # the rules changed between the check and the write
        return _refused_start(form, {"instructions_zh": str(error)})
    live.hub(current_app).publish()  # every kiosk's long-poll answers now
    flash(
        "紧急广播已发出，所有终端正在全屏显示 · Broadcast sent: every kiosk shows it full-screen.",
        "ok",
    )
    return redirect(url_for("emergency.index"))


@bp.post("/<int:emergency_id>/end")
@role_required(*STAFF)
def end(emergency_id: int):
    # Ending takes the instructions off every kiosk: it needs the tick beside the button.
    if request.form.get("confirm") != "yes":
        return _index_page(END_UNCONFIRMED, 422)
    try:
        emergency_broadcast.end(get_db(), get_clock(), emergency_id, staff_id=g.staff["id"])
    except emergency_broadcast.EmergencyNotActive as error:
        flash(str(error), "error")
        return redirect(url_for("emergency.index"))
    live.hub(current_app).publish()
    flash("紧急广播已结束，终端已恢复 · The broadcast has ended; kiosks are back to normal.", "ok")
    return redirect(url_for("emergency.index"))


def _roll_call_context() -> dict:
    db = get_db()
    current = building.current(db)
    call = emergency_broadcast.roll_call(db)
    emergency = emergency_broadcast.active(db)
    if emergency:
        emergency["started_local"] = local_time(emergency["started_at"], current["timezone"])
    return {
        **call,
        "building": current,
        "emergency": emergency,
        "printed": local_time(to_iso(get_clock().now()), current["timezone"], "%Y-%m-%d %H:%M"),
    }


def _record_roll_call(form: str, visits: int) -> None:
    """The list names people: who printed it, and when, goes into the audit log."""
    db = get_db()
    with write_transaction(db):
        audit.record(
            db,
            get_clock(),
            actor=f"staff:{g.staff['id']}",
            action="emergency.roll_call",
            detail={"form": form, "visits": visits},
        )


@bp.get("/roll-call")
@role_required(*STAFF)
def roll_call():
    context = _roll_call_context()
    _record_roll_call("html", context["visits"])
    return render_template("emergency/roll_call.html", **context)


@bp.get("/roll-call.pdf")
@role_required(*STAFF)
def roll_call_pdf():
    context = _roll_call_context()
    _record_roll_call("pdf", context["visits"])
    return Response(
        roll_call_document(context),
        mimetype="application/pdf",
        headers={"Content-Disposition": "inline; filename=roll-call.pdf"},
    )


def roll_call_document(context: dict) -> bytes:
    """An A4 roll call: building, time, totals, then one row per visit with a tick box."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("cjk", fname=str(find_font()))
    pdf.add_page()
    usable = pdf.w - 30
    pdf.set_font("cjk", size=18)
    pdf.cell(usable, 10, "紧急疏散点名 · Evacuation roll call", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    place = context["building"]
    pdf.cell(usable, 6, f"{place['name']} · {place['name_en']}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(usable, 6, f"打印时间 · Printed: {context['printed']}", new_x="LMARGIN", new_y="NEXT")
    emergency = context["emergency"]
    if emergency:
        pdf.cell(
            usable,
            6,
            f"{emergency['title_zh']} · {emergency['title_en']} — "
            f"开始于 · started {emergency['started_local']}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.set_font("cjk", size=13)
    pdf.cell(usable, 9, context["summary"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=11)
    if not context["rows"]:
        pdf.cell(
            usable, 8, "目前没有访客在场 · No visitors on site.", new_x="LMARGIN", new_y="NEXT"
        )
        return bytes(pdf.output())
    header = FontFace(emphasis=None, fill_color=(238, 241, 246))
    with pdf.table(
        col_widths=(22, 70, 22, 26, 20),
        text_align=("LEFT", "LEFT", "CENTER", "CENTER", "CENTER"),
        headings_style=header,
        line_height=8,
    ) as table:
        table.row(["房号 Unit", "姓名 Name", "人数 Party", "到达 Arrived", "已到 Here"])
        for row in context["rows"]:
            table.row([row["unit"], row["name"], str(row["party_size"]), row["arrived"], ""])
    return bytes(pdf.output())
