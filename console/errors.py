"""Errors at the edge: JSON for the kiosk API, a plain page for staff.

Never a traceback to a user (SECURITY.md 11): the detail goes to the log.
A full disk is said plainly (docs/SECURITY.md, "Full disk"): staff see
"存储空间已满 · The console's storage is full" (503), kiosks get 503 +
Retry-After with the code `storage_full` (retryable: the kiosk keeps the item
and waits), admins see a banner until a write succeeds again, and the WAL is
checkpointed (TRUNCATE) so it does not hold on to the space a freed disk has.
"""

from __future__ import annotations

import sqlite3
import time

from flask import current_app, g, render_template, request
from werkzeug.exceptions import HTTPException

from shared.db import is_storage_full
from shared.errors import LobbyDeskError
from shared.protocol import API_PREFIX

STORAGE_FULL_RETRY_AFTER = 60
STORAGE_FULL_MESSAGE = (
    "存储空间已满，刚才的操作没有保存；请管理员释放磁盘空间后重试 · "
    "The console's storage is full: that was not saved. Ask an admin to free disk space, "
    "then try again."
)
_FULL_SINCE = "lobbydesk.storage_full_since"

# Werkzeug's default descriptions are English only; ours say the same in both languages.
_BILINGUAL = {
    400: "请求无效 · The request is not valid.",
    401: "请先登录 · Sign in first.",
    403: "没有权限 · You may not do this.",
    404: "找不到该页面或记录 · Not found.",
    405: "不支持此操作 · This method is not allowed here.",
}


def _wants_json() -> bool:
    return request.path.startswith(API_PREFIX) or request.headers.get("X-Requested-With") == "fetch"


def _json_error(status: int, code: str, message: str):
    return {"error": {"code": code, "message": message}}, status


def _too_large_message() -> str:
    limit = request.max_content_length or current_app.config.get("MAX_CONTENT_LENGTH")
    size = f"{limit // 1024:,} KB" if limit else ""
    return (
        f"内容太大（最多 {size}）· The request is too large (at most {size})."
        if size
        else "内容太大 · The request is too large."
    )


def storage_full_since(app) -> float | None:
    return app.extensions.get(_FULL_SINCE)


def _after_storage_full() -> None:
    """Roll back what the request left open and give the WAL's space back."""
    current_app.extensions[_FULL_SINCE] = current_app.extensions.get(_FULL_SINCE) or time.time()
    db = g.get("db")
    if db is None:
        return
    try:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error:
        current_app.logger.warning("WAL checkpoint after a full disk did not complete")


def _storage_full():
    current_app.logger.error("storage full on %s %s", request.method, request.path)
    _after_storage_full()
    if _wants_json():
        body, status = _json_error(503, "storage_full", STORAGE_FULL_MESSAGE)
        body["error"]["retry_after"] = STORAGE_FULL_RETRY_AFTER
        return body, status, {"Retry-After": str(STORAGE_FULL_RETRY_AFTER)}
    page = render_template("errors/error.html", status=503, message=STORAGE_FULL_MESSAGE)
    return page, 503, {"Retry-After": str(STORAGE_FULL_RETRY_AFTER)}


def init_app(app) -> None:
    @app.errorhandler(LobbyDeskError)
    def domain_error(error: LobbyDeskError):
        if _wants_json():
            return _json_error(error.http_status, error.code, str(error))
        return render_template(
            "errors/error.html", status=error.http_status, message=str(error)
        ), error.http_status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = {413: "body_too_large", 404: "not_found", 405: "method_not_allowed"}.get(
            error.code, (error.name or "error").lower().replace(" ", "_")
        )
        message = error.description or error.name
        if error.code == 413:
            message = _too_large_message()
        elif error.code in _BILINGUAL and message == type(error).description:
            message = _BILINGUAL[error.code]
        if _wants_json():
            return _json_error(error.code, code, message)
        return render_template("errors/error.html", status=error.code, message=message), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if is_storage_full(error):
            return _storage_full()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return _json_error(
                500,
                "internal_error",
                "The console had a problem; the request was not applied. Try again.",
            )
        return render_template(
            "errors/error.html",
            status=500,
            message="出错了，请重试 · Something went wrong; please try again.",
        ), 500

    @app.after_request
    def storage_back(response):
        # A write that went through: the disk has room again, the banner goes.
        if request.method == "POST" and response.status_code < 400:
            app.extensions.pop(_FULL_SINCE, None)
        return response

    @app.context_processor
    def storage_banner():
        return {"storage_full": storage_full_since(app) is not None}
