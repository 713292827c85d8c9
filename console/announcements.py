"""Announcements for the kiosk idle screen (S9): managers publish, edit, withdraw;
reception sees what is showing.

Times are typed in building time and stored as UTC (shared/announcements.py).
Picture uploads may be larger than the console's usual 256 KiB body cap: the
limit is raised for the two form endpoints only, before anything reads the body.
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

from console import limits, live
from console.confirm import Confirmation, confirm_page, confirmed, refused
from console.db import get_clock, get_db
from console.security import role_required
from shared import announcements, building, image_work, terms
from shared.clock import local_time, to_iso
from shared.errors import LobbyDeskError, StaleState

bp = Blueprint("announcements", __name__, url_prefix="/announcements")
VIEW = ("reception", "manager")
EDIT = ("manager",)
FORM_FIELDS = ("title_zh", "title_en", "body_zh", "body_en", "priority", "starts_at", "ends_at")
UPLOAD_ENDPOINTS = {"announcements.create", "announcements.update"}


@bp.url_value_preprocessor
def allow_picture_uploads(endpoint, _values):
    # url_value_preprocessors run before every before_request hook, so the CSRF
    # check's read of the form already sees the raised limit.
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = announcements.IMAGE_MAX_BYTES + 64 * 1024


@bp.errorhandler(413)
def picture_too_large(_error):
    """A body over the raised limit is refused before it is read: say why, keep nothing."""
    too_large = announcements.ImageRejected(
        f"图片不能超过 {announcements.IMAGE_MAX_BYTES // (1024 * 1024)} MB · "
        f"The picture must be at most {announcements.IMAGE_MAX_BYTES // (1024 * 1024)} MB."
    )
    announcement = None
    if request.view_args and "announcement_id" in request.view_args:
        announcement = announcements.get(get_db(), request.view_args["announcement_id"])
    return _form_page({}, announcement=announcement, error=too_large, status=413)


def _decorate(rows: list[dict], timezone: str) -> list[dict]:
    for row in rows:
        row["starts_local"] = local_time(row["starts_at"], timezone)
        row["ends_local"] = local_time(row["ends_at"], timezone)
        row["withdrawn_local"] = local_time(row["withdrawn_at"], timezone)
        row["status_label"] = announcements.STATUS_LABELS[row["status"]]
    return rows


@bp.get("/")
@role_required(*VIEW)
def index():
    db = get_db()
    timezone = building.current(db)["timezone"]
    rows = _decorate(announcements.list_for_staff(db, get_clock().now()), timezone)
    return render_template(
        "announcements/index.html",
        rows=rows,
        may_edit=g.staff["role"] in ("manager", "admin"),
        timezone=timezone,
    )


def _form_page(form: dict, *, announcement=None, error=None, status: int = 200):
    return render_template(
        "announcements/form.html",
        form=form,
        announcement=announcement,
        error=error,
        error_field=getattr(error, "field", None),
        max_title_zh=announcements.MAX_TITLE_ZH,
        max_title_en=announcements.MAX_TITLE_EN,
        max_body=announcements.MAX_BODY,
        max_image_mb=announcements.IMAGE_MAX_BYTES // (1024 * 1024),
    ), status


def _busy(form: dict, busy: image_work.ImageBusy, announcement=None):
    """Pictures are decoded one at a time: 503 + Retry-After, the form kept as typed."""
    page, status = _form_page(form, announcement=announcement, error=busy, status=503)
    return page, status, {"Retry-After": str(busy.retry_after)}


def _posted_form() -> dict:
    return {name: request.form.get(name, "")[:2000] for name in FORM_FIELDS}


def _posted_image() -> bytes | None:
    upload = request.files.get("image")
    if upload is None or not upload.filename:
        return None
    return upload.read(announcements.IMAGE_MAX_BYTES + 1)


@bp.get("/new")
@role_required(*EDIT)
def new():
    timezone = building.current(get_db())["timezone"]
    starts = announcements.form_time(to_iso(get_clock().now()), timezone)
    return _form_page({"priority": "0", "starts_at": starts})[0]


@bp.post("/new")
@role_required(*EDIT)
def create():
    form = _posted_form()
    try:
        row = announcements.create(
            get_db(),
            get_clock(),
            form=form,
            image=_posted_image(),
            data_dir=current_app.config["DATA_DIR"],
            staff_id=g.staff["id"],
            run=limits.image_pool().run,
        )
    except image_work.ImageBusy as busy:
        return _busy(form, busy)
    except LobbyDeskError as error:
        return _form_page(form, error=error, status=400)
    live.hub(current_app).publish()  # kiosks long-polling their feed hear it now
    flash(f"已发布 · Published: {row['title_zh']} · {row['title_en']}", "ok")
    return redirect(url_for("announcements.index"))


def _form_of(row: dict, timezone: str) -> dict:
    form = {name: row[name] for name in ("title_zh", "title_en", "body_zh", "body_en")}
    form["priority"] = str(row["priority"])
    form["starts_at"] = announcements.form_time(row["starts_at"], timezone)
    form["ends_at"] = announcements.form_time(row["ends_at"], timezone)
    return form


@bp.get("/<int:announcement_id>/edit")
@role_required(*EDIT)
def edit(announcement_id: int):
    db = get_db()
    row = announcements.get(db, announcement_id)
    return _form_page(_form_of(row, building.current(db)["timezone"]), announcement=row)[0]


@bp.post("/<int:announcement_id>/edit")
@role_required(*EDIT)
def update(announcement_id: int):
    db = get_db()
    row = announcements.get(db, announcement_id)
    form = _posted_form()
    try:
        announcements.update(
            db,
            get_clock(),
            announcement_id,
            form=form,
            image=_posted_image(),
            remove_image=request.form.get("remove_image") == "1",
            data_dir=current_app.config["DATA_DIR"],
            staff_id=g.staff["id"],
            run=limits.image_pool().run,
        )
    except image_work.ImageBusy as busy:
        return _busy(form, busy, announcement=row)
    except LobbyDeskError as error:
        return _form_page(form, announcement=row, error=error, status=400)
    live.hub(current_app).publish()
    flash("已保存，终端将立即更新 · Saved; the kiosks update now.", "ok")
    return redirect(url_for("announcements.index"))


def _withdraw_confirmation(row: dict) -> Confirmation:
    return Confirmation(
        title_zh="撤回公告？",
        title_en="Withdraw this notice?",
        consequence="撤回后终端立即不再显示此公告，且不能恢复；如需再发请新建 · "
        "The kiosks stop showing it at once and it cannot be brought back; "
        "publish a new notice to show it again.",
        tick=f"确认撤回“{row['title_zh']}” · I confirm: withdraw “{row['title_en']}”",
        button="撤回 · Withdraw",
        cancel=url_for("announcements.index"),
        facts=(("标题 · Title", f"{row['title_zh']} · {row['title_en']}"),),
    )


@bp.get("/<int:announcement_id>/withdraw")
@role_required(*EDIT)
def confirm_withdraw(announcement_id: int):
    row = announcements.get(get_db(), announcement_id)
    return confirm_page(_withdraw_confirmation(row))


@bp.post("/<int:announcement_id>/withdraw")
@role_required(*EDIT)
def withdraw(announcement_id: int):
    if not confirmed():
        return refused(_withdraw_confirmation(announcements.get(get_db(), announcement_id)))
    try:
        row = announcements.withdraw(get_db(), get_clock(), announcement_id, staff_id=g.staff["id"])
    except StaleState as error:
        flash(str(error), "error")
        return redirect(url_for("announcements.index"))
    live.hub(current_app).publish()
    withdrawn = terms.term("announcement_status", "withdrawn")
    flash(f"{withdrawn}: {row['title_zh']} · {row['title_en']}", "ok")
    return redirect(url_for("announcements.index"))


@bp.get("/<int:announcement_id>/image")
@role_required(*VIEW)
def image(announcement_id: int):
    path = announcements.image_file(get_db(), current_app.config["DATA_DIR"], announcement_id)
    return Response(path.read_bytes(), mimetype="image/jpeg")
