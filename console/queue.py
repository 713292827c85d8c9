"""The live queue: everything at the kiosks that needs a person, with the S3 clock."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from console import live
from console.db import get_db
from console.security import role_required
from shared import (
    building,
    escalations,
    names,
    parcels,
    phones,
    quarantine,
    queue_order,
    tickets,
    visit_undo,
    visitors,
)
from shared.clock import local_time, to_iso
from shared.errors import LobbyDeskError, NotFound, StaleState

bp = Blueprint("queue", __name__)
STAFF = ("reception", "manager")


def _rows_context() -> dict:
    """Everything waiting, emergencies first then the longest wait (shared/queue_order.py),
    each with its S3 clock."""
    db = get_db()
    clock = current_app.extensions["lobbydesk.clock"]
    timezone = building.current(db)["timezone"]
    items = [{**row, "type": "escalation"} for row in escalations.live_queue(db)]
    items += [{**row, "type": "visit", "acknowledged_at": None} for row in visitors.pending(db)]
    items += [
        {**r, "type": "handover", "acknowledged_at": None} for r in parcels.open_handovers(db)
    ]
    items += _refused_items(db)
    for item in items:
        if item["type"] == "handover":
            # Whom the desk checks the person against: the residents, then the proxies.
            item["collectors"] = parcels.collector_candidates(db, item["unit_id"])
        waited = escalations.waiting_seconds(item, clock)
        item.update(
            waited=int(waited),
            clock_state=escalations.clock_state(waited),
            received_local=local_time(item["received_at"], timezone, "%H:%M:%S"),
        )
    return {
        "items": queue_order.in_order(items),
        "refused_more": max(0, quarantine.refused_count(db) - quarantine.REFUSED_SHOWN),
        "server_now": to_iso(clock.now()),
        "standard_seconds": escalations.RESPONSE_STANDARD_SECONDS,
        "warning_seconds": escalations.WARNING_FROM_SECONDS,
        "purpose_labels": visitors.PURPOSE_LABELS,
        "display_phone": phones.display,
    }


_REFUSAL_PREFIX = re.compile(r"^HTTP \d{3} [a-z_]+: ")  # the kiosk's log form of an answer


def _refused_items(db) -> list[dict]:
    """Requests the console refused, sent back whole by their kiosk: the oldest few, in
    words, with the reason, and whether the desk can resend them."""
    secret, now = current_app.config["SECRET_KEY"], current_app.extensions["lobbydesk.clock"].now()
    return [
        {
            **row,
            "type": "refused",
            "acknowledged_at": None,
            "summary": quarantine.summary(row, secret_key=secret, now=now),
            "resendable": row["path"] in quarantine.ACCEPTABLE_PATHS,
            "reason": _REFUSAL_PREFIX.sub("", row["error"] or ""),
        }
        for row in quarantine.refused_waiting(db)
    ]


@bp.get("/")
@role_required(*STAFF)
def index():
    clock = current_app.extensions["lobbydesk.clock"]
    undo_offers = [
        {
            "message": decision_message(visit),
            "url": url_for("queue.undo", visit_id=visit["id"]),
            "until": visit_undo.undo_until(visit),
        }
        for visit in visit_undo.offers(get_db(), clock, g.staff["id"])
    ]
    return render_template(
        "queue/index.html",
        undo_offers=undo_offers,
        keepalive_seconds=current_app.config["STREAM_KEEPALIVE_SECONDS"],
        **_rows_context(),
    )


@bp.get("/queue/rows")
@role_required(*STAFF)
def rows():
    """Only the live part of the page, fetched by the page when the stream says so."""
    return render_template("queue/_rows.html", **_rows_context())


@bp.get("/queue/stream")
@role_required(*STAFF)
def stream():
    """Server-sent events: one 'queue' event whenever anything in the queue changes."""
    hub = live.hub(current_app)
    keepalive = current_app.config["STREAM_KEEPALIVE_SECONDS"]
    front = request.environ.get("lobbydesk.front")
    if front is not None:
        # Served by console/server.py: its event loop writes the events, holding no
        # thread; this answer gives it the headers (and any cookie) to start with.
        front.update(stream=True, version=hub.version, keepalive=keepalive)
        return Response("", mimetype="text/event-stream", headers={"X-Accel-Buffering": "no"})

    @stream_with_context
    def events():
        seen = hub.version
        yield "retry: 2000\n\n"
        while not hub.closed:
            version = hub.wait_for_change(seen, timeout=keepalive)
            if version == seen:
                # an event, not a comment: the page's EventSource sees it and knows the stream lives
                yield "event: keepalive\ndata: 1\n\n"
            else:
                seen = version
                yield f"event: queue\ndata: {version}\n\n"

    return Response(events(), mimetype="text/event-stream", headers={"X-Accel-Buffering": "no"})


def _fetched() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _answer(message: str, **extra):
    """After a queue action: the page's script gets the message (and any undo) as JSON
    for its live region; without script, a flash on the queue (POST-redirect-GET)."""
    live.hub(current_app).publish()
    if _fetched():
        return {"ok": True, "message": message, **extra}
    flash(message, "success")
    return redirect(url_for("queue.index"))


def _refusal(failed: str, error: LobbyDeskError, status: int | None = None):
    message = f"{failed}: {error}"
    if _fetched():
        status = 404 if isinstance(error, NotFound) else status or error.http_status
        return {"error": {"code": error.code, "message": message}}, status
    flash(message, "error")
    return redirect(url_for("queue.index"))


def _act(action, escalation_id: int, done: str):
    clock = current_app.extensions["lobbydesk.clock"]
    try:
        action(get_db(), clock, escalation_id, staff_id=g.staff["id"])
    except StaleState as error:
        # Someone at another desk was quicker: say so, and show the queue as it is.
        return _refusal("未能操作 · Not done", error)
    return _answer(done)


@bp.post("/queue/escalations/<int:escalation_id>/acknowledge")
@role_required(*STAFF)
def acknowledge(escalation_id: int):
    return _act(
        escalations.acknowledge,
        escalation_id,
        "已响应：终端显示您正在前往 · On the way: the kiosk says you are coming.",
    )


@bp.post("/queue/escalations/<int:escalation_id>/resolve")
@role_required(*STAFF)
def resolve(escalation_id: int):
    return _act(
        escalations.resolve, escalation_id, "已处理，已移出队列 · Done: removed from the queue."
    )


def decision_message(visit: dict) -> str:
    who = names.mask(visit["name"] or "")
    if visit["status"] == "denied":
        return f"已拒绝 {who} 入内 · {who} denied entry — the kiosk says see reception."
    return f"已确认 {who} 入内 · {who} confirmed — let in."


@bp.post("/queue/visits/<int:visit_id>/decide")
@role_required(*STAFF)
def decide(visit_id: int):
    """The queue's confirm / deny: the visitor's new state in words, with an undo."""
    try:
        visit = visitors.decide(
            get_db(),
            current_app.extensions["lobbydesk.clock"],
            visit_id,
            decision=request.form.get("decision", ""),
            staff_id=g.staff["id"],
            secret_key=current_app.config["SECRET_KEY"],
            reason=request.form.get("reason", ""),
        )
    except LobbyDeskError as error:
        return _refusal("未能保存决定 · The decision was not saved", error)
    undo = {
        "url": url_for("queue.undo", visit_id=visit_id),
        "until": visit_undo.undo_until(visit),
        "seconds": visit_undo.UNDO_SECONDS,
    }
    return _answer(decision_message(visit), undo=undo)


@bp.post("/queue/visits/<int:visit_id>/undo")
@role_required(*STAFF)
def undo(visit_id: int):
    clock = current_app.extensions["lobbydesk.clock"]
    try:
        visit = visit_undo.undo_decision(get_db(), clock, visit_id, staff_id=g.staff["id"])
    except LobbyDeskError as error:
        return _refusal("未能撤销 · Could not undo", error)
    who = names.mask(visit["name"] or "")
    message = f"已撤销：{who} 重新待核实 · Undone: {who} is waiting for a decision again."
    if visit["host_told"]:
        message += " 住户可能已收到到访通知 · The host may already have been told."
    return _answer(message)


def _decided(done: str, failed: str, decide):
    """Run a decision on a refused request; answer the page's fetch with JSON (its
    script shows a refusal) or, without script, with a message and the queue."""
    try:
        decide(get_db(), current_app.extensions["lobbydesk.clock"], g.staff["id"])
    except LobbyDeskError as error:
        return _refusal(failed, error, 422)
    return _answer(done)


@bp.post("/queue/refused/<int:item_id>/resend")
@role_required(*STAFF)
def resend_refused(item_id: int):
    """Apply a refused request again, as the kiosk sent it (after fixing the cause,
    e.g. adding the unit); a second refusal keeps it waiting and says why."""
    photo_dir = tickets.photo_folder(current_app.config["DATA_DIR"])
    secret = current_app.config["SECRET_KEY"]

    def resend(db, clock, staff_id):
        quarantine.refused_item(db, item_id)
        quarantine.accept(
            db, clock, item_id, staff_id=staff_id, photo_dir=photo_dir, secret_key=secret
        )

    return _decided(
        "已重新提交 · Resent: it is recorded now.", "未能重新提交 · Could not resend", resend
    )


@bp.post("/queue/refused/<int:item_id>/discard")
@role_required(*STAFF)
def discard_refused(item_id: int):
    def discard(db, clock, staff_id):
        quarantine.refused_item(db, item_id)
        quarantine.discard(db, clock, item_id, staff_id=staff_id)

    return _decided(
        "已放弃该请求 · The request was discarded.", "未能放弃 · Could not discard", discard
    )
