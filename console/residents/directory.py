"""The directory (residents by unit, name, pinyin initials or phone) and the units list."""

from __future__ import annotations

from flask import render_template, request

from console.db import get_db
from console.residents import READ, bp, present
from console.security import role_required
from shared import residents, units

MAX_QUERY = 40


def _counts(db) -> dict:
    """The building at a glance, for the empty directory."""
    return {
        "units": db.execute("SELECT count(*) FROM units WHERE retired_at IS NULL").fetchone()[0],
        "residents": db.execute(
            "SELECT count(*) FROM residents WHERE moved_out_on IS NULL AND erased_at IS NULL"
        ).fetchone()[0],
    }


@bp.get("/")
@role_required(*READ)
def directory():
    db = get_db()
    query = " ".join(request.args.get("q", "").split())[:MAX_QUERY]
    moved_out = request.args.get("moved_out") == "1"
    tz = present.timezone(db)
    rows = []
    if query:
        rows = [
            present.resident_view(db, row, tz)
            for row in residents.search(db, query, include_moved_out=moved_out)
        ]
    return render_template(
        "residents/directory.html",
        query=query,
        moved_out=moved_out,
        rows=rows,
        counts=None if query else _counts(db),
        limit_reached=len(rows) >= 50,
    )


@bp.get("/units")
@role_required(*READ)
def units_list():
    db = get_db()
    include_retired = request.args.get("retired") == "1"
    rows = units.listing(db, include_retired=include_retired)
    names = {row["id"]: row["number"] for row in rows}  # merged units are retired: listed too
    for row in rows:
        row["kind_label"] = units.KIND_LABELS.get(row["kind"], row["kind"])
        row["merged_into_label"] = names.get(row["merged_into"], "")
    return render_template(
        "residents/units.html",
        rows=rows,
        include_retired=include_retired,
        may_edit=present.may_edit(),
    )
