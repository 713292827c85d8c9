"""Staff sign-in and sign-out."""

from __future__ import annotations

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

from console.db import get_db
from shared import audit, staff
from shared.db import write_transaction

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
        with write_transaction(db):
            member = staff.check_login(
                db,
                clock,
                current_app.extensions["lobbydesk.hasher"],
                username,
                password,
                device=request.remote_addr,
            )
            if member is not None:
                token, _csrf = staff.start_session(db, clock, member["id"])
        if member is None:
            flash("用户名或密码不正确 · Wrong username or password.", "error")
            return render_template("auth/login.html", username=username), 401
        session.clear()
        session.permanent = True
        session["token"] = token
        return redirect(_safe_next(request.args.get("next")))
    if g.staff:
        return redirect(url_for("queue.index"))
    return render_template("auth/login.html", username="")


@bp.post("/logout")
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
