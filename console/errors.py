"""Errors at the edge: JSON for the kiosk API, a plain page for staff.

Never a traceback to a user (SECURITY.md 11): the detail goes to the log.
"""

from __future__ import annotations

from flask import render_template, request
from werkzeug.exceptions import HTTPException

from shared.errors import LobbyDeskError
from shared.protocol import API_PREFIX


def _wants_json() -> bool:
    return request.path.startswith(API_PREFIX) or request.headers.get("X-Requested-With") == "fetch"


def _json_error(status: int, code: str, message: str):
    return {"error": {"code": code, "message": message}}, status


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
        if _wants_json():
            return _json_error(error.code, code, error.description or error.name)
        return render_template(
            "errors/error.html", status=error.code, message=error.description
        ), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
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
