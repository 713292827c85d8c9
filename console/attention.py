"""The attention badge on every staff page: how many wait and for how long (S3).

Pages learn that something changed from the live queue's event stream
(`/queue/stream`, which holds no thread) and then fetch this small summary.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from console.db import get_db
from console.security import role_required
from shared import attention

bp = Blueprint("attention", __name__)
STAFF = ("reception", "manager")  # the same people as the live queue and its stream


@bp.get("/attention")
@role_required(*STAFF)
def summary():
    answer = jsonify(attention.summary(get_db(), current_app.extensions["lobbydesk.clock"]))
    answer.headers["Cache-Control"] = "no-store"  # a stale count must never look live
    return answer
