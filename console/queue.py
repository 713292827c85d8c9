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
from shared import building, escalations, parcels, phones, quarantine, tickets, visitors
from shared.clock import local_time, to_iso

bp = Blueprint("queue", __name__)
STAFF = ("reception", "manager")


def _rows_context() -> dict:
    """Escalations and pending visitors, oldest first, each with its S3 clock."""
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
        waited = escalations.waiting_seconds(item, clock)
        item.update(
            waited=int(waited),
            clock_state=escalations.clock_state(waited),
            received_local=local_time(item["received_at"], timezone, "%H:%M:%S"),
        )
    items.sort(key=lambda item: (item["received_at"], item["type"], item["id"]))
    return {
        "items": items,
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
    return render_template("queue/index.html", **_rows_context())


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
                yield ": keep-alive\n\n"
            else:
                seen = version
                yield f"event: queue\ndata: {version}\n\n"

    return Response(events(), mimetype="text/event-stream", headers={"X-Accel-Buffering": "no"})


def _act(action, escalation_id: int):
    from shared.errors import StaleState

    clock = current_app.extensions["lobbydesk.clock"]
    try:
        action(get_db(), clock, escalation_id, staff_id=g.staff["id"])
    except StaleState as error:
        if request.headers.get("X-Requested-With") == "fetch":
            return {"error": {"code": error.code, "message": str(error)}}, 409
    live.hub(current_app).publish()
    if request.headers.get("X-Requested-With") == "fetch":
        return {"ok": True}
    return redirect(url_for("queue.index"))


@bp.post("/queue/escalations/<int:escalation_id>/acknowledge")
@role_required(*STAFF)
def acknowledge(escalation_id: int):
    return _act(escalations.acknowledge, escalation_id)


@bp.post("/queue/escalations/<int:escalation_id>/resolve")
@role_required(*STAFF)
def resolve(escalation_id: int):
    return _act(escalations.resolve, escalation_id)


def _decided(done: str, failed: str, decide):
    """Run a decision on a refused request; answer the page's fetch with JSON (its
    script shows a refusal) or, without script, with a message and the queue."""
    from shared.errors import LobbyDeskError, NotFound

    fetched = request.headers.get("X-Requested-With") == "fetch"
    try:
        decide(get_db(), current_app.extensions["lobbydesk.clock"], g.staff["id"])
    except LobbyDeskError as error:
        message = f"{failed}: {error}"
        if fetched:
            status = 404 if isinstance(error, NotFound) else 422
            return {"error": {"code": error.code, "message": message}}, status
        flash(message, "error")
        return redirect(url_for("queue.index"))
    live.hub(current_app).publish()
    if fetched:
        return {"ok": True, "message": done}
    flash(done, "success")
    return redirect(url_for("queue.index"))


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
