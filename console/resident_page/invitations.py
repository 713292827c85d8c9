"""The page's visitor invitations: list, create, forward (the pass's QR), revoke.

Every write goes through shared/invitations (the same rules and audit as the desk's
pages), as "resident:<id>". An invitation id from a form or a URL is only ever looked
up among the link's resident's own invitations. The form's inputs are named inv_*
so that their errors and refills never mix with the collector form's.
"""

from __future__ import annotations

from flask import Response, request

from console.db import get_db
from console.resident_page import bp, clock, language, open_link, pick
from shared import invitations
from shared.errors import LobbyDeskError

FIELDS = ("name", "phone", "kind", "starts_on", "ends_on", "party_size", "note")
MAX_TYPED = invitations.MAX_NOTE + 1


def _signing_key():
    from console.invitations import signing_key  # the desk's: one key per console

    return signing_key()


def _row_view(row: dict, lang: str) -> dict:
    days = [invitations.WEEKDAY_LABELS[int(d)] for d in (row["weekdays"] or "").split(",") if d]
    return {
        **row,
        "kind_text": pick(invitations.KIND_LABELS.get(row["kind"], row["kind"]), lang),
        "days_text": "、".join(pick(d, lang) for d in days),
        "active": row["status"] == "active",
    }


def section(scope: dict, tz: str) -> dict:
    """What the page shows of the resident's invitations, newest first."""
    lang = language()
    rows = invitations.list_for_resident(get_db(), scope["resident"]["id"])
    return {
        "available": True,
        "rows": [_row_view(row, lang) for row in rows],
        "kinds": invitations.KIND_LABELS,
        "weekdays": invitations.WEEKDAY_LABELS,
        "today": invitations.building_today(get_db(), clock()).isoformat(),
    }


def _own(scope: dict, invitation_id: int) -> dict | None:
    rows = invitations.list_for_resident(get_db(), scope["resident"]["id"])
    return next((row for row in rows if row["id"] == invitation_id), None)


def _answer(token, scope, field: str, message: str, typed=None, status: int = 422):
    from console.resident_page.views import render_home

    return render_home(scope, token, errors={field: pick(message)}, typed=typed, status=status)


def _typed() -> dict:
    typed = {f"inv_{k}": request.form.get(f"inv_{k}", "")[:MAX_TYPED] for k in FIELDS}
    typed["inv_weekdays"] = [d for d in request.form.getlist("inv_weekdays") if d in "1234567"][:7]
    return typed


@bp.post("/<token>/invitations", endpoint="invite")
def invite(token: str):
    from console.resident_page.actions import _back

    scope, refused = open_link(token)
    if refused:
        return refused
    typed = _typed()
    fields = {k.removeprefix("inv_"): v for k, v in typed.items()}
    try:
        invitations.create(
            get_db(),
            clock(),
            host_resident_id=scope["resident"]["id"],
            fields=fields,
            actor=f"resident:{scope['resident']['id']}",
        )
    except LobbyDeskError as error:
        field = "inv_" + (getattr(error, "field", None) or "kind")
        return _answer(token, scope, field, str(error), typed)
    return _back(token, "邀请已创建，可把通行证转发给访客 · Invitation created: forward the pass.")


@bp.post("/<token>/invitations/<int:invitation_id>/revoke", endpoint="revoke_invitation")
def revoke_invitation(token: str, invitation_id: int):
    from console.resident_page.actions import _back

    scope, refused = open_link(token)
    if refused:
        return refused
    if _own(scope, invitation_id) is None:
        return _answer(token, scope, "invitations", "找不到这条邀请 · No such invitation.")
    try:
        invitations.revoke(
            get_db(), clock(), invitation_id, actor=f"resident:{scope['resident']['id']}"
        )
    except LobbyDeskError as error:
        return _answer(token, scope, "invitations", str(error))
    return _back(token, "通行证已作废 · The pass was revoked.")


@bp.get("/<token>/invitations/<int:invitation_id>/pass.png", endpoint="invitation_png")
def invitation_png(token: str, invitation_id: int):
    """The pass's QR, to save and forward to the visitor (a revoked one is refused)."""
    scope, refused = open_link(token)
    if refused:
        return refused
    row = _own(scope, invitation_id)
    if row is None or row["status"] != "active":
        return _answer(
            token, scope, "invitations", "找不到这条邀请 · No such invitation.", status=404
        )
    png = invitations.pass_png(get_db(), _signing_key(), invitation_id)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})
