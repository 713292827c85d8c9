"""Administration: staff accounts, the audit log, privacy settings, person
requests and backups (SECURITY.md 2-4, 12, 25, 26, 30).

Who may do what: staff accounts and backups are for admins; the audit log,
retention settings and person requests are for managers (and admins, who may
do everything).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from console import query_args
from console import settings as console_settings
from console.confirm import Confirmation, confirm_page, confirmed, refused
from console.db import database_path, get_clock, get_db
from console.exports import csv_response
from console.security import role_required
from shared import (
    audit,
    backup,
    building,
    passwords,
    retention,
    staff,
)
from shared.clock import local_time, to_iso
from shared.db import write_transaction
from shared.errors import LobbyDeskError
from shared.terms import term

bp = Blueprint("admin", __name__, url_prefix="/admin")
MANAGERS = ("manager",)
ADMINS = ("admin",)
AUDIT_PAGE_SIZE = 100
AUDIT_EXPORT_LIMIT = 100_000


def _actor() -> str:
    return f"staff:{g.staff['id']}"


def _timezone() -> str:
    try:
        return building.current(get_db())["timezone"]
    except LobbyDeskError:
        return "Asia/Shanghai"


@bp.get("/")
@role_required(*MANAGERS)
def index():
    return render_template("admin/index.html")


# --- staff accounts (admin) -------------------------------------------------


def _staff_page(form: dict | None = None, errors: dict | None = None, status: int = 200):
    members = staff.list_all(get_db(), get_clock())
    for member in members:
        member["created_local"] = local_time(member["created_at"], _timezone())
    return render_template(
        "admin/staff.html",
        members=members,
        roles=staff.ROLES,
        form=form or {"username": "", "display_name": "", "role": "reception"},
        errors=errors or {},
    ), status


@bp.get("/staff")
@role_required(*ADMINS)
def staff_list():
    return _staff_page()


@bp.post("/staff")
@role_required(*ADMINS)
def staff_create():
    # What was typed comes back on a refusal (the password never does).
    form = {
        "username": request.form.get("username", "")[:80],
        "display_name": request.form.get("display_name", "")[:80],
        "role": request.form.get("role", ""),
    }
    password = request.form.get("password", "")[:256]
    db = get_db()
    errors = staff.new_account_errors(db, **form, password=password)
    if not errors:
        try:
            staff.create(
                db,
                get_clock(),
                current_app.extensions["lobbydesk.hasher"],
                **form,
                password=password,
                actor=_actor(),
            )
        except (ValueError, LobbyDeskError):
            # Taken between the check and the write: the only rule left to break.
            errors = staff.new_account_errors(db, **form, password=password) or {
                "username": "用户名已被使用 · That username is taken."
            }
    if errors:
        return _staff_page(form, errors, 422)
    flash("账号已创建 · Account created.", "ok")
    return redirect(url_for("admin.staff_list"))


def _staff_action(action, *args, done: str):
    try:
        action(*args)
    except LobbyDeskError as error:
        flash(str(error), "error")
    else:
        flash(done, "ok")
    return redirect(url_for("admin.staff_list"))


def _staff_confirmation(staff_id: int, *, reset: bool) -> Confirmation:
    """Disabling signs the person out at once; a reset also ends every session and the
    old password stops working: both say so on a page of their own first."""
    member = staff.get(get_db(), staff_id)
    who = f"{member['display_name']} ({member['username']})"
    if reset:
        return Confirmation(
            title_zh="重置密码？",
            title_en="Reset this password?",
            consequence="旧密码立即失效，此人的所有会话结束；请当面告知新密码 · The old password "
            "stops working at once and every session of this person ends; tell them the new "
            "one in person.",
            tick=f"确认重置 {who} 的密码 · I confirm: reset the password of {who}",
            button="重置密码 · Reset password",
            cancel=url_for("admin.staff_list"),
            facts=(("账号 · Account", who), ("角色 · Role", term("role", member["role"]))),
            password=True,
        )
    return Confirmation(
        title_zh="停用账号？",
        title_en="Disable this account?",
        consequence="停用后此人立即退出所有会话，不能再登录，直到管理员重新启用 · The person is "
        "signed out everywhere at once and cannot sign in until an admin enables the account.",
        tick=f"确认停用 {who} · I confirm: disable {who}",
        button="停用 · Disable",
        cancel=url_for("admin.staff_list"),
        facts=(("账号 · Account", who), ("角色 · Role", term("role", member["role"]))),
        hidden={"active": "0"},
    )


@bp.get("/staff/<int:staff_id>/active")
@role_required(*ADMINS)
def staff_confirm_disable(staff_id: int):
    return confirm_page(_staff_confirmation(staff_id, reset=False))


@bp.post("/staff/<int:staff_id>/active")
@role_required(*ADMINS)
def staff_set_active(staff_id: int):
    active = request.form.get("active") == "1"
    if not active and not confirmed():
        return refused(_staff_confirmation(staff_id, reset=False))

    def act():
        staff.set_active(get_db(), get_clock(), staff_id, active, actor=_actor())

    return _staff_action(
        act,
        done="已启用，可以登录 · Enabled; the person can sign in."
        if active
        else "已停用，会话已结束 · Disabled; signed out everywhere.",
    )


@bp.post("/staff/<int:staff_id>/role")
@role_required(*ADMINS)
def staff_set_role(staff_id: int):
    def act():
        staff.set_role(
            get_db(), get_clock(), staff_id, request.form.get("role", ""), actor=_actor()
        )

    return _staff_action(act, done="角色已更改 · Role changed.")


@bp.get("/staff/<int:staff_id>/password")
@role_required(*ADMINS)
def staff_confirm_reset(staff_id: int):
    return confirm_page(_staff_confirmation(staff_id, reset=True))


@bp.post("/staff/<int:staff_id>/password")
@role_required(*ADMINS)
def staff_reset_password(staff_id: int):
    password = request.form.get("password", "")[:256]
    errors = {}
    try:
        passwords.check_rules(password)
    except LobbyDeskError as error:
        errors["password"] = str(error)
    if errors or not confirmed():
        # Every problem at once, each beside its box; the typed password is not sent back.
        confirmation = _staff_confirmation(staff_id, reset=True)
        return (
            refused(confirmation, errors) if not confirmed() else confirm_page(confirmation, errors)
        )

    def act():
        staff.set_password(
            get_db(),
            get_clock(),
            current_app.extensions["lobbydesk.hasher"],
            staff_id,
            password,
            actor=_actor(),
        )

    return _staff_action(
        act, done="密码已重置，会话已结束 · Password reset; signed out everywhere."
    )


@bp.post("/staff/<int:staff_id>/end-sessions")
@role_required(*ADMINS)
def staff_end_sessions(staff_id: int):
    def act():
        staff.end_all_sessions(get_db(), get_clock(), staff_id, actor=_actor())

    return _staff_action(act, done="会话已结束 · Signed out everywhere.")


# --- audit log (manager) ------------------------------------------------------


def _audit_filters() -> dict:
    return {
        "actor": request.args.get("actor", "").strip()[:60],
        "action": request.args.get("action", "").strip()[:60],
        "target": request.args.get("target", "").strip()[:60],
        **query_args.day_range(),
    }


def audit_search(db, filters: dict, *, timezone: str, before_id=None, limit=AUDIT_PAGE_SIZE):
    """Audit rows newest first; keyset paging by id. Actor may be a username."""
    where, params = [], []
    actor = filters["actor"]
    if actor:
        member = next(iter(db.query("SELECT id FROM staff WHERE username = ?", (actor,))), None)
        where.append("actor = ?")
        params.append(f"staff:{member['id']}" if member else actor)
    if filters["action"]:
        where.append("action LIKE ? ESCAPE '\\'")
        escaped = filters["action"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(escaped + "%")
    if filters["target"]:
        where.append("target = ?")
        params.append(filters["target"])
    zone = ZoneInfo(timezone)
    if filters["day_from"]:
        where.append("at >= ?")
        params.append(to_iso(datetime.fromisoformat(filters["day_from"]).replace(tzinfo=zone)))
    if filters["day_to"]:
        where.append("at < ?")
        end = datetime.fromisoformat(filters["day_to"]).replace(tzinfo=zone) + timedelta(days=1)
        params.append(to_iso(end))
    if before_id:
        where.append("id < ?")
        params.append(before_id)
    where_sql = " WHERE " + " AND ".join(where) if where else ""
    # The clauses are fixed strings; every value is a parameter.
    sql = f"SELECT * FROM audit_log{where_sql} ORDER BY id DESC LIMIT ?"  # noqa: S608
    rows = list(db.query(sql, [*params, limit]))
    usernames = {
        f"staff:{r['id']}": r["username"] for r in db.query("SELECT id, username FROM staff")
    }
    for row in rows:
        row["at_local"] = local_time(row["at"], timezone, "%Y-%m-%d %H:%M:%S")
        row["actor_name"] = usernames.get(row["actor"], "")
    return rows


@bp.get("/audit")
@role_required(*MANAGERS)
def audit_log():
    filters = _audit_filters()
    before = request.args.get("before", type=int)
    rows = audit_search(
        get_db(), filters, timezone=_timezone(), before_id=before, limit=AUDIT_PAGE_SIZE + 1
    )
    more = len(rows) > AUDIT_PAGE_SIZE
    return render_template(
        "admin/audit.html",
        rows=rows[:AUDIT_PAGE_SIZE],
        filters=filters,
        older_url=url_for(
            "admin.audit_log",
            **{**request.args.to_dict(), "before": rows[AUDIT_PAGE_SIZE - 1]["id"]},
        )
        if more
        else None,
        export_url=url_for("admin.audit_export", **request.args.to_dict()),
    )


AUDIT_COLUMNS = (
    ("id", "编号 ID"),
    ("at", "时间 (UTC) Time"),
    ("at_local", "本地时间 Local time"),
    ("actor", "操作者 Actor"),
    ("actor_name", "用户名 Username"),
    ("action", "操作 Action"),
    ("target", "对象 Target"),
    ("detail", "详情 Detail"),
    ("device", "设备 Device"),
)


@bp.get("/audit.csv")
@role_required(*MANAGERS)
def audit_export():
    db = get_db()
    filters = _audit_filters()
    rows = audit_search(db, filters, timezone=_timezone(), limit=AUDIT_EXPORT_LIMIT)
    with write_transaction(db):
        audit.record(
            db,
            get_clock(),
            actor=_actor(),
            action="audit.export",
            detail={"rows": len(rows), **filters},
            device=request.remote_addr,
        )
    return csv_response(rows, AUDIT_COLUMNS, "audit-log.csv")


# --- settings (manager: retention; admin: console settings, redacted) -------


@bp.get("/settings")
@role_required(*MANAGERS)
def settings_page():
    try:
        current = building.current(get_db())["settings"]
    except LobbyDeskError:
        current = building.SETTING_DEFAULTS
    config = console_settings.redacted(current_app.config) if g.staff["role"] == "admin" else None
    return render_template(
        "admin/settings.html",
        building_settings=current,
        console_settings=config,
        help={s.name: s.help for s in console_settings.SETTINGS},
    )


@bp.post("/settings/retention")
@role_required(*MANAGERS)
def settings_retention():
    try:
        retention.set_periods(
            get_db(),
            get_clock(),
            visit_days=request.form.get("visit_retention_days", ""),
            photo_days=request.form.get("photo_retention_days", ""),
            # absent from an older form: left as it is
            resident_days=request.form.get("resident_retention_days"),
            actor=_actor(),
        )
    except (ValueError, LobbyDeskError) as error:
        flash(f"保存失败 · Not saved: {error}", "error")
    else:
        flash("保存成功 · Saved.", "ok")
    return redirect(url_for("admin.settings_page"))


# --- backups (admin) -----------------------------------------------------------


@bp.get("/backups")
@role_required(*ADMINS)
def backups():
    timezone = _timezone()
    rows = backup.list_backups(backup.folder(current_app.config["DATA_DIR"]))
    for row in rows:
        row["taken_local"] = local_time(to_iso(row["taken_at"]), timezone, "%Y-%m-%d %H:%M:%S")
    return render_template(
        "admin/backups.html",
        backups=rows,
        interval=current_app.config["BACKUP_INTERVAL_HOURS"],
        kept=current_app.config["BACKUPS_KEPT"],
    )


@bp.post("/backups")
@role_required(*ADMINS)
def backup_now():
    db = get_db()
    path = backup.create_from_file(
        database_path(current_app),
        backup.folder(current_app.config["DATA_DIR"]),
        reason="manual",
        now=get_clock().now(),
        keep=current_app.config["BACKUPS_KEPT"],
    )
    with write_transaction(db):
        audit.record(
            db, get_clock(), actor=_actor(), action="backup.create", detail={"file": path.name}
        )
    flash(f"备份完成 · Backed up: {path.name}", "ok")
    return redirect(url_for("admin.backups"))


# Person requests live in their own module, on this blueprint.
from console import admin_person  # noqa: E402, F401
