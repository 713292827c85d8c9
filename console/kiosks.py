"""Kiosk administration: create, pair, see online state, revoke."""

from __future__ import annotations

import base64
import io

import qrcode
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from console import live
from console.confirm import Confirmation, confirm_page, confirmed, refused
from console.db import get_db
from console.security import role_required
from shared import kiosk_software, kiosks, quarantine, terms, tickets
from shared.clock import local_time, parse_utc
from shared.db import one
from shared.errors import LobbyDeskError

bp = Blueprint("kiosks", __name__, url_prefix="/admin/kiosks")
QUARANTINE_KINDS = {
    "/api/v1/escalations": terms.term("escalation_kind", "help"),
    "/api/v1/visits": "访客登记 · Visitor registration",
    "/api/v1/visits/sign-out": "访客签退 · Visitor sign-out",
    "/api/v1/parcels/pickup": "取件 · Parcel pickup",
    "/api/v1/tickets": "报修/投诉 · Repair or complaint",
    "/api/v1/tickets/rating": "报修评价 · Ticket rating",
}
HELD_BODY_SHOWN = 300  # characters of a held request's raw JSON when it has no summary


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _building():
    return one(get_db(), "SELECT * FROM buildings ORDER BY id LIMIT 1")


@bp.get("/")
@role_required("admin")
def index():
    clock = current_app.extensions["lobbydesk.clock"]
    window = current_app.config["KIOSK_ONLINE_WINDOW_SECONDS"]
    building = _building()
    timezone = building["timezone"] if building else "Asia/Shanghai"
    rows = []
    for kiosk in kiosks.list_all(get_db()):
        seen = kiosk["last_seen_at"]
        online = bool(
            seen
            and not kiosk["revoked_at"]
            and (clock.now() - parse_utc(seen)).total_seconds() <= window
        )
        rows.append(
            {
                **kiosk,
                **kiosk_software.describe(kiosk),
                "online": online,
                "last_seen_local": local_time(seen, timezone),
            }
        )
    held_count = quarantine.held_count(get_db())
    alerts = kiosks.open_alerts(get_db())
    return render_template(
        "kiosks/index.html",
        kiosks=rows,
        building=building,
        held_count=held_count,
        alerts=alerts,
        connections=live.connections(current_app),
        early_percent=live.EARLY_ANSWER_PERCENT,
    )


@bp.post("/alerts/<int:alert_id>/dismiss")
@role_required("admin")
def dismiss_alert(alert_id: int):
    kiosks.dismiss_alert(
        get_db(), current_app.extensions["lobbydesk.clock"], alert_id, staff_id=g.staff["id"]
    )
    return redirect(url_for("kiosks.index"))


@bp.post("/")
@role_required("admin")
def create():
    building = _building()
    if building is None:
        flash("先创建楼宇 · Create the building first (lobbydesk admin init-building).", "error")
        return redirect(url_for("kiosks.index"))
    name = request.form.get("name", "")
    try:
        created = kiosks.create(
            get_db(),
            current_app.extensions["lobbydesk.clock"],
            building_id=building["id"],
            name=name,
            actor=f"staff:{g.staff['id']}",
        )
    except ValueError:
        flash("请输入终端名称 · Give the kiosk a name.", "error")
        return redirect(url_for("kiosks.index"))
    return _show_pairing_code(created["id"], created["name"], created["pairing_code"])


@bp.post("/<int:kiosk_id>/pairing-code")
@role_required("admin")
def new_pairing_code(kiosk_id: int):
    code = kiosks.new_pairing_code(
        get_db(),
        current_app.extensions["lobbydesk.clock"],
        kiosk_id,
        actor=f"staff:{g.staff['id']}",
    )
    kiosk = one(get_db(), "SELECT name FROM kiosks WHERE id = ?", (kiosk_id,))
    return _show_pairing_code(kiosk_id, kiosk["name"], code)


def _show_pairing_code(kiosk_id: int, name: str, code: str):
    # Shown once, never stored in clear: only its hash is in the database.
    console_url = request.host_url.rstrip("/")
    return render_template(
        "kiosks/pairing.html",
        kiosk_id=kiosk_id,
        name=name,
        code=code,
        console_url=console_url,
        qr=_qr_data_uri(f"lobbydesk-pair:{console_url}#{code}"),
        minutes=int(kiosks.PAIRING_VALID_FOR.total_seconds() // 60),
    )


def _revoke_confirmation(kiosk_id: int) -> Confirmation:
    kiosk = next((k for k in kiosks.list_all(get_db()) if k["id"] == kiosk_id), None)
    if kiosk is None or kiosk["revoked_at"]:
        abort(404, description="没有这台终端或已停用 · That kiosk does not exist or is revoked.")
    return Confirmation(
        title_zh="停用终端？",
        title_en="Revoke this kiosk?",
        consequence="停用后它的下一个请求即被拒绝，之后发来的登记进入隔离区；不能恢复，"
        "如需再用须作为新终端配对 · Its next request is refused and what it sends after that "
        "waits in quarantine. This cannot be undone: to use it again, pair it as a new kiosk.",
        tick=f"确认停用“{kiosk['name']}” · I confirm: revoke “{kiosk['name']}”",
        button="停用 · Revoke",
        cancel=url_for("kiosks.index"),
        facts=(("终端 · Kiosk", kiosk["name"]),),
    )


@bp.get("/<int:kiosk_id>/revoke")
@role_required("admin")
def confirm_revoke(kiosk_id: int):
    return confirm_page(_revoke_confirmation(kiosk_id))


@bp.post("/<int:kiosk_id>/revoke")
@role_required("admin")
def revoke(kiosk_id: int):
    if not confirmed():
        return refused(_revoke_confirmation(kiosk_id))
    try:
        kiosks.revoke(
            get_db(),
            current_app.extensions["lobbydesk.clock"],
            kiosk_id,
            actor=f"staff:{g.staff['id']}",
        )
    except LobbyDeskError as error:
        flash(str(error), "error")
    else:
        flash("终端已停用 · Kiosk revoked: its next request is refused.", "ok")
    return redirect(url_for("kiosks.index"))


@bp.get("/quarantine")
@role_required("admin", "manager")
def quarantine_list():
    after = request.args.get("after", 0, type=int)  # range-checked at the edge
    items, more = quarantine.held_page(get_db(), after=after)
    now = current_app.extensions["lobbydesk.clock"].now()
    for item in items:
        item["kind"] = QUARANTINE_KINDS.get(item["path"], item["path"])
        item["acceptable"] = item["path"] in quarantine.ACCEPTABLE_PATHS
        item["summary"] = quarantine.summary(
            item, secret_key=current_app.config["SECRET_KEY"], now=now
        )
        # A repair report's base64 photo is up to 2.7 MB: never put it in the page.
        item["body"] = "" if item["summary"] else item["body"][:HELD_BODY_SHOWN]
    return render_template(
        "kiosks/quarantine.html",
        items=items,
        next_after=items[-1]["id"] if more else None,
        held_count=quarantine.held_count(get_db()),
        first_page=after == 0,
    )


@bp.post("/quarantine/<int:item_id>/accept")
@role_required("admin", "manager")
def quarantine_accept(item_id: int):
    def accept(db, clock, item_id, *, staff_id):
        return quarantine.accept(
            db,
            clock,
            item_id,
            staff_id=staff_id,
            photo_dir=tickets.photo_folder(current_app.config["DATA_DIR"]),
            secret_key=current_app.config["SECRET_KEY"],
        )

    return _decide(accept, item_id, _accepted)


def _accepted(result: dict) -> str:
    done = "已补录 · Accepted into the live data."
    if "rating" in result:
        number = result["ticket_id"]
        return f"{done} 评价已记入报修单 {number} · Rating added to ticket {number}."
    if "ticket_id" in result:
        number = result["ticket_id"]
        return f"{done} 报修单号 {number} · Ticket number {number}."
    return done


@bp.post("/quarantine/<int:item_id>/discard")
@role_required("admin", "manager")
def quarantine_discard(item_id: int):
    return _decide(quarantine.discard, item_id, lambda _result: "已丢弃 · Discarded.")


def _decide(decision, item_id: int, done):
    try:
        result = decision(
            get_db(), current_app.extensions["lobbydesk.clock"], item_id, staff_id=g.staff["id"]
        )
        flash(done(result or {}), "ok")
    except LobbyDeskError as error:
        flash(str(error), "error")
    live.hub(current_app).publish()
    return redirect(url_for("kiosks.quarantine_list"))
