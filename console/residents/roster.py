"""The roster the property already has, for managers: upload a residents or units
file, read the preview (every problem by row and column, or what will change),
import it all at once; export the roster as CSV or XLSX in the import's format.

A roster file may be far larger than the console's usual 256 KiB body cap: the
limit is raised for the upload endpoint only, before anything reads the body.
"""

from __future__ import annotations

from flask import (
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from console.db import get_clock, get_db
from console.residents import EDIT, bp
from console.security import role_required
from shared import building, roster, terms
from shared.clock import local_time
from shared.errors import InvalidRequest, StaleState
from shared.roster import MAX_BYTES, MAX_ROWS, RESIDENT_COLUMNS, UNIT_COLUMNS

UPLOAD_ENDPOINT = "residents.roster_upload"
SHOWN_PROBLEMS = 500
SHOWN_CHANGES = 200
_MB = MAX_BYTES // (1024 * 1024)
TOO_LARGE = (
    f"文件超过 {_MB} MB，未保存；请分成几个文件 · "
    f"The file is larger than {_MB} MB and was not kept: split it into several files."
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _actor() -> str:
    return f"staff:{g.staff['id']}"


@bp.url_value_preprocessor
def allow_roster_uploads(endpoint, _values):
    # url_value_preprocessors run before every before_request hook, so the CSRF
    # check's read of the form already sees the raised limit.
    if endpoint == UPLOAD_ENDPOINT and request.method == "POST":
        request.max_content_length = MAX_BYTES + 256 * 1024


@bp.errorhandler(413)
def roster_too_large(error):
    """A body over the raised limit is refused before it is read: nothing is kept."""
    if request.endpoint == UPLOAD_ENDPOINT:
        return _upload_page(error=TOO_LARGE, status=413)
    return render_template("errors/error.html", status=413, message=error.description), 413


def _upload_page(*, error: str | None = None, kind: str = "residents", status: int = 200):
    db = get_db()
    timezone = building.current(db)["timezone"]
    uploads = roster.recent_uploads(db)
    for upload in uploads:
        upload["uploaded_local"] = local_time(upload["uploaded_at"], timezone)
    return render_template(
        "residents/import.html",
        error=error,
        kind=kind,
        uploads=uploads,
        resident_columns=RESIDENT_COLUMNS,
        unit_columns=UNIT_COLUMNS,
        max_mb=_MB,
        max_rows=MAX_ROWS,
    ), status


@bp.get("/import")
@role_required(*EDIT)
def roster_form():
    return _upload_page(kind=request.args.get("kind", "residents"))


@bp.post("/import")
@role_required(*EDIT)
def roster_upload():
    kind = request.form.get("kind", "residents")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _upload_page(error="请选择文件 · Choose a file.", kind=kind, status=400)
    content = upload.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        return _upload_page(error=TOO_LARGE, kind=kind, status=413)
    try:
        import_id = roster.store(
            get_db(),
            get_clock(),
            kind=kind,
            filename=upload.filename,
            content=content,
            staff_id=g.staff["id"],
        )
    except InvalidRequest as error:
        return _upload_page(error=str(error), kind=kind, status=400)
    return redirect(url_for("residents.roster_preview", import_id=import_id))


def _preview_page(import_id: int, *, error: str | None = None, status: int = 200):
    db = get_db()
    upload = roster.get_upload(db, import_id)
    result = roster.preview_upload(db, get_clock(), upload)
    problems, changes = [], []
    if result is not None:
        problems = [
            {
                "row": p.row,
                "column": roster.column_label(upload["kind"], p.field),
                "message": p.message,
                "level": p.level,
            }
            for p in result.problems[:SHOWN_PROBLEMS]
        ]
        changes = [
            {
                "row": c.row,
                "action": roster.ACTION_LABELS[c.action],
                "unit": c.unit,
                "name": c.name,
                "columns": "、".join(roster.column_label(upload["kind"], f) for f in c.fields),
            }
            for c in result.changes
            if c.action != "unchanged"
        ][:SHOWN_CHANGES]
    return render_template(
        "residents/import_preview.html",
        upload=upload,
        result=result,
        summary=result.summary if result is not None else upload["summary"],
        problems=problems,
        more_problems=len(result.problems) - len(problems) if result else 0,
        changes=changes,
        shown_changes=SHOWN_CHANGES,
        error=error,
    ), status


@bp.get("/import/<int:import_id>")
@role_required(*EDIT)
def roster_preview(import_id: int):
    return _preview_page(import_id)


@bp.post("/import/<int:import_id>/apply")
@role_required(*EDIT)
def roster_apply(import_id: int):
    try:
        summary = roster.apply_upload(get_db(), get_clock(), import_id, actor=_actor())
    except roster.RosterHasProblems as error:
        # the building changed since the preview: the page now shows why
        flash(str(error), "error")
        return redirect(url_for("residents.roster_preview", import_id=import_id))
    except StaleState as error:
        return _preview_page(import_id, error=str(error), status=409)
    flash(
        f"{terms.term('import_status', 'applied')}: 新增 {summary['add']} · added, 更新 {summary['update']} · updated, "
        f"迁出 {summary['move_out']} · moved out, 不变 {summary['unchanged']} · unchanged.",
        "ok",
    )
    return redirect(url_for("residents.roster_preview", import_id=import_id))


@bp.post("/import/<int:import_id>/discard")
@role_required(*EDIT)
def roster_discard(import_id: int):
    try:
        roster.discard_upload(get_db(), get_clock(), import_id)
    except StaleState as error:
        return _preview_page(import_id, error=str(error), status=409)
    flash("已放弃，文件已删除 · Discarded; the file is deleted.", "ok")
    return redirect(url_for("residents.roster_form"))


def _export(fmt: str) -> Response:
    content = roster.export(
        get_db(),
        get_clock(),
        fmt,
        include_moved_out=request.args.get("moved_out") == "1",
        actor=_actor(),
    )
    return Response(
        content,
        mimetype=XLSX_TYPE if fmt == "xlsx" else "text/csv",
        headers={"Content-Disposition": f"attachment; filename=residents.{fmt}"},
    )


@bp.get("/export.csv")
@role_required(*EDIT)
def roster_export_csv():
    return _export("csv")


@bp.get("/export.xlsx")
@role_required(*EDIT)
def roster_export_xlsx():
    return _export("xlsx")
