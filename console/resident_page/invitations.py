"""The page's visitor invitations: list, create, forward (the pass), revoke.

shared/invitations.py is built on another branch at the same time (signed QR passes,
desk pages), so it is imported lazily: until it is merged the section says so and
the routes answer with the page and a notice, never a 500. Written against its
announced functions: create(db, clock, *, host_resident_id, fields, actor) -> id,
revoke(db, clock, invitation_id, *, actor), list_for_resident(db, resident_id),
pass_text(...), pass_png(...). The form's field names and the pass_text/pass_png
arguments are this side's guess: check them at the merge (tests come with it).
An invitation id from a form is only ever looked up among the link's resident's own.
"""

from __future__ import annotations

import importlib

from flask import Response, request

from console.db import get_db
from console.resident_page import bp, clock, open_link, pick, secret_key
from shared.errors import LobbyDeskError

FIELDS = ("visitor_name", "visitor_phone", "starts_on", "ends_on", "note")
MAX_TYPED = 200
WEEKDAYS = (
    ("mon", "周一", "Mon"),
    ("tue", "周二", "Tue"),
    ("wed", "周三", "Wed"),
    ("thu", "周四", "Thu"),
    ("fri", "周五", "Fri"),
    ("sat", "周六", "Sat"),
    ("sun", "周日", "Sun"),
)
NOT_YET = "访客邀请即将开放，请先联系前台 · Visitor invitations are coming soon: please ask the desk for now."


def _domain():
    """shared.invitations, or None while it is not part of this console yet."""
    try:
        return importlib.import_module("shared.invitations")
    except ModuleNotFoundError:
        return None


def section(scope: dict, tz: str) -> dict:
    """What the page shows of the resident's invitations."""
    domain = _domain()
    if domain is None:
        return {"available": False, "rows": [], "weekdays": WEEKDAYS}
    rows = [
        # The words to forward to the visitor, with the pass (check the call at the merge).
        {**row, "forward": domain.pass_text(get_db(), clock(), secret_key(), row["id"])}
        for row in domain.list_for_resident(get_db(), scope["resident"]["id"])
    ]
    return {"available": True, "rows": rows, "weekdays": WEEKDAYS}


def _own(domain, scope: dict, invitation_id: int) -> bool:
    rows = domain.list_for_resident(get_db(), scope["resident"]["id"])
    return any(row.get("id") == invitation_id for row in rows)


def _answer(token, scope, field: str, message: str, typed=None, status: int = 422):
    from console.resident_page.views import render_home

    return render_home(scope, token, errors={field: pick(message)}, typed=typed, status=status)


def _typed() -> dict:
    typed = {k: request.form.get(k, "")[:MAX_TYPED] for k in FIELDS}
    typed["weekdays"] = [
        d for d in request.form.getlist("weekdays") if d in dict.fromkeys(w[0] for w in WEEKDAYS)
    ]
    return typed


@bp.post("/<token>/invitations", endpoint="invite")
def invite(token: str):
    from console.resident_page.actions import _back

    scope, refused = open_link(token)
    if refused:
        return refused
    domain, typed = _domain(), _typed()
    if domain is None:
        return _answer(token, scope, "invitation", NOT_YET, typed, 503)
    try:
        domain.create(
            get_db(),
            clock(),
            host_resident_id=scope["resident"]["id"],
            fields=typed,
            actor=f"resident:{scope['resident']['id']}",
        )
    except LobbyDeskError as error:
        field = getattr(error, "field", None) or "invitation"
        return _answer(token, scope, field, str(error), typed)
    return _back(token, "邀请已创建 · Invitation created.")


@bp.post("/<token>/invitations/<int:invitation_id>/revoke", endpoint="revoke_invitation")
def revoke_invitation(token: str, invitation_id: int):
    from console.resident_page.actions import _back

    scope, refused = open_link(token)
    if refused:
        return refused
    domain = _domain()
    if domain is None:
        return _answer(token, scope, "invitation", NOT_YET, status=503)
    if not _own(domain, scope, invitation_id):
        return _answer(token, scope, "invitations", "找不到这条邀请 · No such invitation.")
    try:
        domain.revoke(get_db(), clock(), invitation_id, actor=f"resident:{scope['resident']['id']}")
    except LobbyDeskError as error:
        return _answer(token, scope, "invitations", str(error))
    return _back(token, "通行证已作废 · The pass was revoked.")


@bp.get("/<token>/invitations/<int:invitation_id>/pass.png", endpoint="invitation_png")
def invitation_png(token: str, invitation_id: int):
    """The pass's QR, to save and forward to the visitor."""
    scope, refused = open_link(token)
    if refused:
        return refused
    domain = _domain()
    if domain is None or not _own(domain, scope, invitation_id):
        return _answer(
            token, scope, "invitations", "找不到这条邀请 · No such invitation.", status=404
        )
    png = domain.pass_png(get_db(), clock(), secret_key(), invitation_id)  # check at the merge
    return Response(png, mimetype="image/png")
