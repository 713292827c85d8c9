"""Errors at the edge: JSON for the kiosk API, a plain page for staff.

Never a traceback to a user (SECURITY.md 11): the detail goes to the log.
A full disk is said plainly (SECURITY.md 31, "Disk full and I/O errors"): staff see
"存储空间已满 · The console's storage is full" (503), kiosks get 503 +
Retry-After with the code `storage_full` (retryable: the kiosk keeps the item
and waits), admins see a banner until a write succeeds again, and the WAL is
checkpointed (TRUNCATE) so it does not hold on to the space a freed disk has.
"""

from __future__ import annotations

import sqlite3
import time
from urllib.parse import urlsplit

from flask import current_app, g, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError

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

# What happened (the heading) and what to do next, for every status a page can end in.
_TITLES = {
    400: "请求无效 · Bad request",
    401: "请先登录 · Not signed in",
    403: "没有权限 · Not allowed",
    404: "找不到 · Not found",
    405: "无法这样操作 · Not possible this way",
    409: "已被改动 · Changed meanwhile",
    413: "内容太大 · Too large",
    422: "内容有误 · Cannot be saved as entered",
    429: "太频繁 · Too many tries",
    500: "出错了 · Something went wrong",
    503: "暂时无法使用 · Not available now",
}
_NEXT_STEP = {
    400: "请检查填写的内容后重试 · Check what you entered and try again.",
    401: "请登录后再打开此页 · Sign in, then open the page again.",
    403: "如需此权限，请联系经理或管理员 · Ask a manager or an admin if you need this.",
    404: "链接可能已过期或记录已被删除，请从下面的页面重新查找 · The link may be out of date "
    "or the record deleted: find it again from one of the pages below.",
    405: "请使用页面上的按钮，而不是直接打开这个地址 · Use the buttons on the page rather "
    "than opening this address directly.",
    409: "别人刚刚改动了它，请重新打开页面查看后再试 · Someone has just changed it: open the "
    "page again, check it, then retry.",
    413: "请缩小文件或内容后重试 · Make the file or text smaller and try again.",
    422: "请修改后重试 · Correct it and try again.",
    429: "请稍候再试 · Wait a little, then try again.",
    500: "请稍后重试；如果一再出现，请告诉管理员 · Try again in a moment; if it keeps "
    "happening, tell an admin.",
    503: "请稍后重试；如果一再出现，请告诉管理员 · Try again shortly; if it keeps "
    "happening, tell an admin.",
}
# A section's start page and name, for the "way back" links. Sections whose start
# page is `<blueprint>.index` need only a name here.
_SECTIONS = {
    "queue": ("queue.index", "实时队列 · Live queue"),
    "visitors": ("visitors.log", "访客记录 · Visitor log"),
    "residents": ("residents.directory", "住户 · Residents"),
    "parcels": ("parcels.intake_form", "快递 · Parcels"),
    "handover": ("handover.index", "交接班 · Handover"),
    "announcements": ("announcements.index", "公告 · Notices"),
    "emergency": ("emergency.index", "紧急广播 · Emergency"),
    "tickets": ("tickets.index", "报修投诉 · Repairs"),
    "dashboard": ("dashboard.index", "统计 · Dashboard"),
    "kiosks": ("kiosks.index", "终端 · Kiosks"),
    "admin": ("admin.index", "管理 · Admin"),
}
_MAX_REFERER = 2000


def _wants_json() -> bool:
    return request.path.startswith(API_PREFIX) or request.headers.get("X-Requested-With") == "fetch"


def _json_error(status: int, code: str, message: str):
    return {"error": {"code": code, "message": message}}, status


def _gettable(path: str) -> bool:
    """A page of this console that a GET can open (never the kiosk API)."""
    if path.startswith(API_PREFIX):
        return False
    try:
        current_app.url_map.bind(request.host).match(path, method="GET")
    except HTTPException:  # not found, not GET-able, or a redirect elsewhere
        return False
    return True


def _came_from() -> str | None:
    """The page the person came from, when it is safe to offer: this console's own
    page (same scheme and host), GET-able, and not the URL that just failed."""
    referer = request.referrer or ""
    if not referer or len(referer) > _MAX_REFERER:
        return None
    if not all("!" <= ch <= "~" for ch in referer):  # printable ASCII: no header tricks
        return None
    parts = urlsplit(referer)
    if parts.scheme != request.scheme or parts.netloc != request.host:
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    # The failing URL itself is never offered (on a 500, back would fail again).
    if path == request.path or not _gettable(path):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def _section() -> tuple[str, str] | None:
    """(url, name) of the failing page's section start page."""
    name = request.blueprint
    if name is None:  # no route matched: the section is the path's first segment
        first = "/" + request.path.strip("/").split("/", 1)[0]
        name = next((n for n, b in current_app.blueprints.items() if b.url_prefix == first), None)
    endpoint, label = _SECTIONS.get(name or "", (None, None))
    if endpoint is None or endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint), label
    except BuildError:
        return None


def way_back() -> list[dict]:
    """Links that work from an error page: where the person came from, the section's
    start page, the live queue; none of them the URL that failed, none twice."""
    links = []
    came_from = _came_from()
    if came_from:
        links.append({"url": came_from, "label": "返回上一页 · Back to the previous page"})
    section = _section()
    if section:
        links.append({"url": section[0], "label": section[1]})
    links.append({"url": url_for("queue.index"), "label": "实时队列 · Live queue"})
    seen, unique = {request.path}, []
    for link in links:
        path = link["url"].split("?", 1)[0]
        if path not in seen:
            seen.add(path)
            unique.append(link)
    return unique


def error_page(status: int, message: str):
    """The bilingual error page: what happened, what to do, and the way back."""
    try:
        links = way_back()
    except Exception:  # an error page must never fail in turn
        current_app.logger.exception("building the error page's links failed")
        links = []
    return render_template(
        "errors/error.html",
        status=status,
        title=_TITLES.get(status, _TITLES[500] if status >= 500 else _TITLES[400]),
        message=message,
        next_step=_NEXT_STEP.get(status, _NEXT_STEP[500] if status >= 500 else _NEXT_STEP[400]),
        links=links,
    )


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
    return (
        error_page(503, STORAGE_FULL_MESSAGE),
        503,
        {"Retry-After": str(STORAGE_FULL_RETRY_AFTER)},
    )


def init_app(app) -> None:
    @app.errorhandler(LobbyDeskError)
    def domain_error(error: LobbyDeskError):
        if _wants_json():
            return _json_error(error.http_status, error.code, str(error))
        return error_page(error.http_status, str(error)), error.http_status

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
        return error_page(error.code, message), error.code

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
        return error_page(
            500, "出错了，刚才的操作没有完成 · Something went wrong; that did not complete."
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
