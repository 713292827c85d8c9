"""Staff sign-in and sign-out."""

from __future__ import annotations

import math
from urllib.parse import urlparse

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from console import limits
from console.db import get_db
from console.security import role_required
from shared import audit, login_guard, passwords, staff
from shared.db import write_transaction
from shared.errors import WeakPassword
from shared.terms import plural

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an attacker's ?next=https://evil must not bounce staff away.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlparse(target).netloc
    ):
        return target
    return url_for("queue.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        db = get_db()
        clock = current_app.extensions["lobbydesk.clock"]
        username = request.form.get("username", "")[:80]
        password = request.form.get("password", "")[:256]
        source_wait = limits.failures_wait("login_failure")
        if source_wait > 0:
            return _source_paused(db, username, source_wait)
        paused = None
        with write_transaction(db):
            try:
                member = staff.check_login(
                    db,
                    clock,
                    current_app.extensions["lobbydesk.hasher"],
                    username,
                    password,
                    device=request.remote_addr,
                )
            except login_guard.SignInPaused as error:
                member, paused = None, error  # the refused attempt is audited and committed
            if member is not None:
                token, _csrf = staff.start_session(db, clock, member["id"])
        if paused is not None:
            page = _login_page(username, str(paused))
            return page, 429, {"Retry-After": str(paused.retry_after)}
        if member is None:
            limits.count_failure("login_failure")
            return _login_page(username, "用户名或密码不正确 · Wrong username or password."), 401
        session.clear()
        session.permanent = True
        session["token"] = token
        return redirect(_safe_next(request.args.get("next")))
    if g.staff:
        return redirect(url_for("queue.index"))
    return _login_page("")


def _login_page(username: str, error: str | None = None) -> str:
    """The sign-in form; after a refusal the username stays and the cursor goes to the
    password (the part to retype), with the reason announced beside the form."""
    return render_template("auth/login.html", username=username, error=error)


def _source_paused(db, username: str, wait: float):
    """Too many failed sign-ins from this address (any usernames): no password is
    checked; 429 + Retry-After; refusals audited in aggregate (console/limits.py)."""
    address = limits.client_address()
    limits.audit_refusal(
        db, actor="anonymous", action="login.source_limited", key=address, device=address
    )
    minutes = max(1, math.ceil(wait / 60))
    page = _login_page(
        username,
        f"这台电脑登录失败次数太多，请 {minutes} 分钟后再试 · Too many failed sign-ins from "
        f"this computer: try again in {plural('minutes', minutes, 'en')}.",
    )
    return page, 429, {"Retry-After": str(max(1, math.ceil(wait)))}


@bp.post("/logout")
@role_required(*staff.ROLES)
def logout():
    db = get_db()
    clock = current_app.extensions["lobbydesk.clock"]
    with write_transaction(db):
        staff.end_session(db, clock, session.get("token", ""))
        audit.record(
            db, clock, actor=f"staff:{g.staff['id']}", action="logout", device=request.remote_addr
        )
    session.clear()
    return redirect(url_for("auth.login"))


def _new_password_errors(new: str, again: str) -> dict[str, str]:
    """What is wrong with the new password, each beside its box (checked before the
    current password, so a typo there does not count against the throttle)."""
    errors = {}
    try:
        passwords.check_rules(new)
    except WeakPassword as error:
        errors["new_password"] = str(error)
    if new != again:
        errors["new_password_again"] = "两次输入的新密码不一致 · The new passwords differ."  # noqa: S105 (a message, not a password)
    return errors


@bp.route("/account/password", methods=["GET", "POST"])
@role_required(*staff.ROLES)
def change_password():
    """A staff member changes their own password; their other sessions end.

    A refusal shows the form again (422) with every error beside its box; no password
    is ever sent back, so every box is empty again."""
    if request.method == "GET":
        return render_template("auth/password.html", errors={})
    new = request.form.get("new_password", "")[:256]
    errors = _new_password_errors(new, request.form.get("new_password_again", "")[:256])
    status = 422
    if not errors:
        try:
            ended = staff.change_own_password(
                get_db(),
                current_app.extensions["lobbydesk.clock"],
                current_app.extensions["lobbydesk.hasher"],
                g.staff,
                request.form.get("current_password", "")[:256],
                new,
            )
        except (WeakPassword, staff.WrongPassword, login_guard.SignInPaused) as error:
            errors["current_password"] = str(error)
            status = 429 if isinstance(error, login_guard.SignInPaused) else 422
    if errors:
        return render_template("auth/password.html", errors=errors), status
    flash(
        f"密码已更改，{plural('other_sessions', ended, 'zh')}已退出 · Password changed; "
        f"{plural('other_sessions', ended, 'en')} signed out.",
        "ok",
    )
    return redirect(url_for("auth.change_password"))
