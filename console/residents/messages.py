"""Messages to residents and how each delivery went (stub: being built)."""

from __future__ import annotations

from flask import request

from console.residents import READ, bp
from console.security import role_required


@bp.get("/messages")
@role_required(*READ)
def messages():
    return {"unit_id": request.args.get("unit_id", "")}
