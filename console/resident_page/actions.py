"""What a resident changes on their page: who may collect their parcels, and how they
agree to be contacted. Every write goes through shared/residents/ (the same
validation and audit as the desk's), as "resident:<id>"; ids in a form are only ever
looked up inside the link's own unit or resident, so a form cannot reach another
unit. A refused form comes back with the message beside its field and what was typed
still there (422); a done one redirects back to the page (303) with a notice."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from console.db import get_db
from console.resident_page import bp, clock, language, open_link, pick
from console.resident_page.views import render_home
from shared import parcels, residents
from shared.errors import LobbyDeskError, StaleState

MAX_TYPED = 100  # longer than any field takes; cut before validation so nothing huge echoes


def _actor(scope: dict) -> str:
    return f"resident:{scope['resident']['id']}"


def _back(token: str, notice: str):
    flash(pick(notice), "ok")
    lang = language()
    return redirect(
        url_for("resident_page.home", token=token, lang=lang if lang == "en" else None), 303
    )


def _refill(token, scope, field: str, message: str, typed: dict | None = None):
    return render_home(scope, token, errors={field: pick(message)}, typed=typed, status=422)


# --- who may collect ----------------------------------------------------------------------


def _chosen_parcel(scope: dict, raw: str) -> dict | None:
    """The one waiting parcel of this unit the resident named, None for "all of them";
    ValueError for anything else (another unit's parcel, a collected one, junk)."""
    if raw in ("", "all"):
        return None
    waiting = {str(p["id"]): p for p in parcels.waiting_for_unit(get_db(), scope["unit"]["id"])}
    if raw not in waiting:
        raise ValueError(raw)
    return waiting[raw]


def _note(parcel: dict | None) -> str:
    # The domain has no one-parcel authorisation: the unit proxy is used, and its note
    # tells the desk who added it and which parcel it was for.
    if parcel is None:
        return "住户页授权 · Added on the resident page"
    ref = parcels.staff_ref(parcel["id"])
    return f"住户页授权，为 {ref} · Added on the resident page for {ref}"


@bp.post("/<token>/collectors", endpoint="add_collector")
def add_collector(token: str):
    scope, refused = open_link(token)
    if refused:
        return refused
    typed = {k: request.form.get(k, "")[:MAX_TYPED] for k in ("name", "phone", "parcel")}
    try:
        parcel = _chosen_parcel(scope, typed["parcel"])
    except ValueError:
        return _refill(
            token,
            scope,
            "parcel",
            "请选择一件待取快递 · Choose one of your parcels waiting.",
            typed,
        )
    fields = {"name": typed["name"], "phone": typed["phone"], "note": _note(parcel)}
    try:
        residents.add_proxy(get_db(), clock(), scope["unit"]["id"], fields, actor=_actor(scope))
    except residents.InvalidResident as error:
        field = {"proxy_name": "name", "proxy_phone": "phone"}.get(error.field, "name")
        return _refill(token, scope, field, str(error), typed)
    return _back(
        token,
        f"已授权 {fields['name'].strip()} 代领 · {fields['name'].strip()} may now collect your parcels.",
    )


@bp.post("/<token>/collectors/<int:proxy_id>/remove", endpoint="remove_collector")
def remove_collector(token: str, proxy_id: int):
    scope, refused = open_link(token)
    if refused:
        return refused
    ours = {p["id"] for p in residents.proxies_of(get_db(), scope["unit"]["id"])}
    if proxy_id not in ours:
        return _refill(token, scope, "proxies", StaleState.__doc__)
    residents.remove_standing(get_db(), clock(), "parcel_proxies", proxy_id, actor=_actor(scope))
    return _back(token, "已取消代领授权 · They may no longer collect your parcels.")


# --- contact channels and consent ---------------------------------------------------------


def _fields_without(resident: dict, channels: list[dict], channel_id: int) -> dict:
    """The resident as residents.update takes it, with one channel left out."""
    keep = [
        {k: c[k] for k in ("kind", "address", "consent_at", "consent_source")}
        for c in channels
        if c["id"] != channel_id
    ]
    names = ("name", "role", "phone", "alt_phone", "email", "language", "moved_in_on")
    return {**{k: resident[k] for k in names}, "channels": keep}


@bp.post("/<token>/channels/<int:channel_id>/withdraw", endpoint="withdraw_channel")
def withdraw_channel(token: str, channel_id: int):
    scope, refused = open_link(token)
    if refused:
        return refused
    db, resident = get_db(), scope["resident"]
    channels = residents.channels_of(db, resident["id"])
    if channel_id not in {c["id"] for c in channels}:
        return _refill(token, scope, "channels", StaleState.__doc__)
    if len(channels) == 1 and request.form.get("confirm") != "1":
        return _refill(
            token,
            scope,
            f"channel_{channel_id}",
            "这是您唯一的通知渠道：移除后您将收不到任何通知（包括新的住户页链接）。如确定，请勾选确认 · "
            "This is your only channel: without it you get no messages at all, not even a new "
            "link to this page. Tick the box to confirm.",
        )
    try:
        residents.update(
            db,
            clock(),
            resident["id"],
            _fields_without(resident, channels, channel_id),
            actor=f"resident:{resident['id']}",
        )
    except LobbyDeskError as error:
        return _refill(token, scope, f"channel_{channel_id}", str(error))
    return _back(
        token,
        "已撤回同意，不再通过该渠道通知您 · Consent withdrawn: we no longer use that channel.",
    )
