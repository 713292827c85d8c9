"""Invitations at the desk (访客预约): expected today, search, invite on a resident's
behalf, show/print the pass, revoke, and match a walk-in's pass (docs/INVITATIONS.md).

The domain (shared/invitations/) validates, audits and redeems; this module only turns
its named errors into messages beside the fields.
"""

from __future__ import annotations

from datetime import date

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

from console import confirm, live, query_args
from console.db import get_clock, get_db
from console.security import role_required
from shared import building, invitations, pass_signing, units
from shared.db import write_transaction
from shared.errors import LobbyDeskError, StaleState

bp = Blueprint("invitations", __name__, url_prefix="/invitations")
STAFF = ("reception", "manager")
FORM_FIELDS = ("unit", "resident_id", "name", "phone", "party_size", "purpose", "kind",
               "starts_on", "ends_on", "note")  # fmt: skip


def signing_key():
    """The building's pass-signing key, made in DATA_DIR on first use, read once (the
    kiosk API signs and checks with the same one)."""
    key = current_app.extensions.get("lobbydesk.pass_key")
    if key is None:
        key = current_app.extensions.setdefault(
            "lobbydesk.pass_key", pass_signing.load_or_create_key(current_app.config["DATA_DIR"])
        )
    return key


def _labels() -> dict:
    return {
        "kind_labels": invitations.KIND_LABELS,
        "purpose_labels": invitations.PURPOSE_LABELS,
        "state_labels": invitations.STATE_LABELS,
        "weekday_labels": invitations.WEEKDAY_LABELS,
    }


@bp.get("/")
@role_required(*STAFF)
def index():
    """Expected today (or ?day=), and the search (?q= unit, visitor or host name)."""
    db = get_db()
    today = invitations.building_today(db, get_clock())
    day = query_args.day(request.args.get("day", "")) or today.isoformat()
    text = request.args.get("q", "")[:40]
    expected = invitations.expected_on(db, date.fromisoformat(day))
    found = invitations.search(db, text=text) if text.strip() else None
    return render_template(
        "invitations/index.html",
        day=day,
        is_today=day == today.isoformat(),
        expected=expected,
        found=found,
        q=text,
        **_labels(),
    )


def _host(db, form: dict) -> int:
    """The inviting resident: the one chosen, else the unit's first (owner first)."""
    try:
        unit = units.lookup(db, form.get("unit", ""))
    except LobbyDeskError:
        raise invitations.InvalidInvitation(
            "没有这个房号 · There is no such unit.", "unit"
        ) from None
    hosts = building.residents_of(db, unit["id"])
    if not hosts:
        raise invitations.InvalidInvitation(
            "这个房号没有在住的住户 · No one lives in this unit now.", "unit"
        )
    chosen = str(form.get("resident_id") or "")
    for host in hosts:
        if str(host["id"]) == chosen:
            return host["id"]
    return hosts[0]["id"]


def _form_page(form: dict, *, errors: dict | None = None, status: int = 200):
    db = get_db()
    hosts = []
    if form.get("unit"):
        try:
            hosts = building.residents_of(db, units.lookup(db, form["unit"])["id"])
        except LobbyDeskError:
            hosts = []
    page = render_template(
        "invitations/form.html",
        form=form,
        errors=errors or {},
        hosts=hosts,
        today=invitations.building_today(db, get_clock()).isoformat(),
        **_labels(),
    )
    return page, status


@bp.get("/new")
@role_required(*STAFF)
def new():
    form = {name: request.args.get(name, "") for name in FORM_FIELDS}
    form["weekdays"] = []
    return _form_page(form)


@bp.post("/new")
@role_required(*STAFF)
def create():
    form = {name: request.form.get(name, "")[:400] for name in FORM_FIELDS}
    form["weekdays"] = request.form.getlist("weekdays")[:7]
    db = get_db()
    try:
        invitation_id = invitations.create(
            db,
            get_clock(),
            host_resident_id=_host(db, form),
            fields=form,
            actor=f"staff:{g.staff['id']}",
        )
    except invitations.InvalidInvitation as error:
        return _form_page(form, errors={error.field: str(error)}, status=422)
    flash("已创建预约 · Invitation created.", "ok")
    return redirect(url_for("invitations.show", invitation_id=invitation_id))


@bp.get("/<int:invitation_id>")
@role_required(*STAFF)
def show(invitation_id: int):
    db = get_db()
    invitation = invitations.get(db, invitation_id)
    text = invitations.pass_text(db, signing_key(), invitation_id)
    return render_template(
        "invitations/show.html", invitation=invitation, pass_text=text, **_labels()
    )


@bp.get("/<int:invitation_id>/pass.png")
@role_required(*STAFF)
def pass_image(invitation_id: int):
    png = invitations.pass_png(get_db(), signing_key(), invitation_id)
    return Response(png, mimetype="image/png")


def _revoke_confirmation(invitation: dict) -> confirm.Confirmation:
    who = invitation["visitor_name"] or "访客 · Guest"
    return confirm.Confirmation(
        title_zh="取消预约",
        title_en="Revoke the invitation",
        consequence="通行证将立即失效，终端离线时也会拒绝 · The pass stops working at once, "
        "also at kiosks that are offline.",
        tick="确认取消这条预约 · I confirm: revoke this invitation",
        button="取消预约 · Revoke",
        cancel=url_for("invitations.show", invitation_id=invitation["id"]),
        facts=(
            ("访客 · Visitor", who),
            ("房号 · Unit", invitation["unit_number"]),
            ("日期 · Dates", f"{invitation['starts_on']} – {invitation['ends_on']}"),
        ),
    )


@bp.route("/<int:invitation_id>/revoke", methods=["GET", "POST"])
@role_required(*STAFF)
def revoke(invitation_id: int):
    db = get_db()
    invitation = invitations.get(db, invitation_id)
    confirmation = _revoke_confirmation(invitation)
    if request.method == "GET":
        return confirm.confirm_page(confirmation)
    if not confirm.confirmed():
        return confirm.refused(confirmation)
    try:
        invitations.revoke(db, get_clock(), invitation_id, actor=f"staff:{g.staff['id']}")
    except StaleState as error:
        flash(str(error), "error")
    else:
        flash("已取消预约 · Invitation revoked.", "ok")
    return redirect(url_for("invitations.show", invitation_id=invitation_id))


@bp.route("/match", methods=["GET", "POST"])
@role_required(*STAFF)
def match():
    """A walk-in holds a pass: paste or scan its text here; the same redeem as a kiosk."""
    if request.method == "GET":
        return render_template("invitations/match.html", answer=None, text="")
    text = request.form.get("pass", "")[: pass_signing.MAX_PASS_LENGTH + 1]
    db = get_db()
    scan = invitations.Scan(text, actor=f"staff:{g.staff['id']}", confirm=True)
    with write_transaction(db):
        answer, status = invitations.redeem(
            db, get_clock(), signing_key(), scan, secret_key=current_app.config["SECRET_KEY"]
        )
    live.hub(current_app).publish()
    page = render_template("invitations/match.html", answer=answer, text=text)
    return page, (200 if status < 400 else 422)
