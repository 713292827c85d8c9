"""The desk's "send resident page link" button: a fresh link to the resident's page,
through the resident's own first channel (staff never see it), throttled per
resident and audited (shared/resident_links.py)."""

from __future__ import annotations

from flask import current_app, flash, redirect, url_for

from console import settings
from console.db import get_db
from console.resident_page import throttle
from console.residents import READ, bp, present
from console.security import role_required
from shared import resident_links, residents


@bp.post("/<int:resident_id>/page-link")
@role_required(*READ)
def send_page_link(resident_id: int):
    db, clock = get_db(), present.clock()
    resident = residents.get(db, resident_id)
    back = redirect(url_for("residents.unit_page", unit_id=resident["unit_id"]))
    try:
        throttle().resident_send(resident_id, clock.now().timestamp())
        queued = resident_links.send(
            db,
            clock,
            current_app.config["SECRET_KEY"],
            settings.public_url(current_app.config),
            resident_id,
            actor=present.actor(),
            via="desk",
        )
    except (resident_links.TooMany, resident_links.LinkRefused) as error:
        flash(str(error), "error")
        return back
    if queued is None:
        flash(
            f"{resident['name']} 没有通知渠道，无法发送链接 · {resident['name']} has no contact "
            "channel: the link cannot be sent.",
            "error",
        )
    else:
        flash(
            f"已将住户页链接发给 {resident['name']} · Resident page link sent to {resident['name']}.",
            "ok",
        )
    return back
