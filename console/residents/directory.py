"""The directory: residents by unit, name, pinyin initials or phone."""

from __future__ import annotations

from flask import render_template, request

from console.db import get_db
from console.residents import READ, bp
from console.security import role_required
from shared import residents


@bp.get("/")
@role_required(*READ)
def directory():
    query = request.args.get("q", "")[:40]
    rows = residents.search(get_db(), query) if query else []
    return render_template("residents/directory.html", query=query, rows=rows)
