"""Who may do what, CSRF, and the headers every response carries.

Deny by default: every endpoint needs a signed-in staff member unless it is
listed in PUBLIC_ENDPOINTS or belongs to the kiosk API (which has its own
bearer-token check). Roles are checked on the server for each route.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from flask import abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from console.db import get_clock
from shared import staff
from shared.protocol import API_PREFIX

PUBLIC_ENDPOINTS = {"auth.login", "static", "rating.form", "rating.submit", "health.healthz"}
# Answered without reading the session: a health probe must not fail in the
# session lookup before it can say the database is down (console/health.py).
SESSIONLESS_ENDPOINTS = {"health.healthz"}
# The resident's page: the signed link is the permission (console/resident_page/).
PUBLIC_ENDPOINTS |= {
    "resident_page." + name
    for name in (
        "home",
        "add_collector",
        "remove_collector",
        "withdraw_channel",
        "invite",
        "revoke_invitation",
        "invitation_png",
    )
}
# Kiosk API endpoints answered without a kiosk token (console/api.py skips the
# bearer check for exactly these; tests/test_routes_matrix.py holds it to that).
PUBLIC_API_ENDPOINTS = {"api.pair", "api.openapi_document"}


def _is_api_request() -> bool:
    # By path, not blueprint: a 404/405 under /api/v1 has no blueprint yet
    # still belongs to the kiosk API (bearer token, no cookies, no CSRF).
    return request.path.startswith(API_PREFIX + "/")


class SessionInterface(SecureCookieSessionInterface):
    """The cookie holds only the server-side session's token, signed with
    HMAC-SHA-256 (Flask's default is SHA-1; SECURITY.md 10)."""

    digest_method = staticmethod(hashlib.sha256)

    def should_set_cookie(self, app, session) -> bool:
        """A page's background reads (the badge's and queue's fetches, the event stream)
        never rewrite the cookie unless they changed the session. A permanent session is
        otherwise re-sent on every response, and a background read that set out before a
        form's POST would, landing after it, put back the cookie it read and drop the
        message the POST left for the next page ("紧急广播已结束 …")."""
        if request.method == "GET" and (
            request.headers.get("X-Requested-With") == "fetch"
            or "text/event-stream" in request.headers.get("Accept", "")
        ):
            return session.modified
        return super().should_set_cookie(app, session)


def init_app(app) -> None:
    from console import logs

    app.session_interface = SessionInterface()
    logs.init_app(app)
    app.before_request(load_signed_in_staff)
    app.before_request(require_login)
    app.before_request(check_csrf)
    app.after_request(set_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token


def load_signed_in_staff() -> None:
    g.staff = None
    if _is_api_request() or request.endpoint in SESSIONLESS_ENDPOINTS:
        return
    from console.db import get_db

    g.staff = staff.session_user(get_db(), get_clock(), session.get("token"))
    if g.staff is None and "token" in session:
        session.clear()


def require_login():
    if _is_api_request() or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.endpoint is None:
        return None  # unknown URL: let the 404 handler answer
    if g.staff is None:
        if request.method == "GET" and request.headers.get("X-Requested-With") != "fetch":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(401)
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "allowed_roles", None) is None:
        # Deny by default: a page that declares no roles is open to no one.
        current_app.logger.error("endpoint %s declares no roles: refused", request.endpoint)
        abort(403)
    return None


def csrf_token() -> str:
    if g.get("staff"):
        return g.staff["csrf_token"]
    # Before login the token lives in the (signed) cookie session.
    if "login_csrf" not in session:
        from shared.tokens import new_token

        session["login_csrf"] = new_token()
    return session["login_csrf"]


def check_csrf():
    if request.method in ("GET", "HEAD", "OPTIONS") or _is_api_request():
        return None
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = g.staff["csrf_token"] if g.get("staff") else session.get("login_csrf", "")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(
            400,
            description="The form expired or did not come from this console. Reload the page and try again.",
        )
    return None


def role_required(*roles: str):
    """Allow only these roles; admin may do everything."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if g.staff is None:
                abort(401)
            if g.staff["role"] not in roles and g.staff["role"] != "admin":
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def set_security_headers(response):
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "static":
        # Staff pages and API answers carry personal data: never cached.
        response.headers["Cache-Control"] = "no-store"
    return response
