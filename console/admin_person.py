"""Person requests (SECURITY.md 26), on the admin blueprint: find, export, delete.

The name and phone asked about travel in POST bodies only, never in a URL or an
access log. So that the browser's Back works (no "resubmit the form?" dead end),
a search answers with a redirect to GET /admin/person, which shows the results of
this session's last search: the criteria wait in the console's memory, keyed by
the session, for SEARCH_KEPT_SECONDS (a restart forgets them: the empty form).
"""

from __future__ import annotations

import threading
import time

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from console.admin import MANAGERS, _actor, _timezone, bp
from console.db import get_clock, get_db
from console.exports import csv_safe
from console.security import role_required
from shared import delivery, person, phones, residents, ticket_catalog, tickets
from shared.clock import local_time
from shared.errors import LobbyDeskError
from shared.terms import plural

SEARCH_KEPT_SECONDS = 15 * 60
_SEARCHES = "lobbydesk.person_searches"
_LOCK = threading.Lock()
CONFIRM_DELETE = (
    "请先勾选“确认删除所勾选的记录” · Tick “I confirm: delete the ticked records” first."
)
CONFIRM_ERASE = (
    "请先勾选“确认删除所勾选住户的个人信息” · Tick “I confirm: erase the ticked residents' "
    "personal data” first."
)


def _person_criteria() -> dict:
    return person.criteria(request.form.get("name", "")[:80], request.form.get("phone", "")[:40])


def _remember(criteria: dict | None) -> None:
    """Keep (or with None, forget) this session's last search, in memory only."""
    key = session.get("token")
    if not key:
        return
    now = time.monotonic()
    with _LOCK:
        store = current_app.extensions.setdefault(_SEARCHES, {})
        for old in [k for k, (at, _c) in store.items() if now - at > SEARCH_KEPT_SECONDS]:
            del store[old]
        if criteria is None:
            store.pop(key, None)
        else:
            store[key] = (now, criteria)


def _remembered() -> dict | None:
    with _LOCK:
        kept = current_app.extensions.get(_SEARCHES, {}).get(session.get("token"))
    if kept is None or time.monotonic() - kept[0] > SEARCH_KEPT_SECONDS:
        return None
    return kept[1]


def _person_page(criteria: dict | None, *, errors=None, typed=None, ticked=None, status=200):
    """The form, and when there are criteria every record found (each showing audited)."""
    found = counts = None
    if criteria is not None:
        db = get_db()
        found = person.find(db, **criteria)
        person.audit_request(db, get_clock(), action="person.find", actor=_actor(), found=found)
        _decorate_found(found, _timezone())
        counts = person.counts(found)
    return render_template(
        "admin/person.html",
        found=found,
        criteria=criteria,
        counts=counts,
        errors=errors or {},
        typed=typed or criteria or {},
        ticked=ticked or {},  # the boxes of a re-shown form as they were sent
    ), status


def _decorate_found(found: dict, timezone: str) -> None:
    for visit in found["visits"]:
        visit["received_local"] = local_time(visit["received_at"], timezone)
        visit["phone_display"] = phones.display(visit["phone"])
    for ticket in found["tickets"]:
        ticket["received_local"] = local_time(ticket["received_at"], timezone)
        ticket["phone_display"] = phones.display(ticket["reporter_phone"])
        ticket["kind_text"] = tickets.kind_label(ticket["kind"])
        ticket["status_text"] = tickets.status_label(ticket["status"])
        ticket["what"] = ticket_catalog.bilingual(
            f"{ticket['category']}.{ticket['problem']}" if ticket["problem"] else ticket["category"]
        )
    _decorate_residents(found, timezone)


@bp.get("/person")
@role_required(*MANAGERS)
def person_form():
    return _person_page(_remembered())


@bp.post("/person")
@role_required(*MANAGERS)
def person_find():
    typed = {"name": request.form.get("name", "")[:80], "phone": request.form.get("phone", "")[:40]}
    try:
        criteria = _person_criteria()
    except LobbyDeskError as error:
        return _person_page(None, errors={"criteria": str(error)}, typed=typed, status=422)
    _remember(criteria)
    return redirect(url_for("admin.person_form"))


def _decorate_residents(found: dict, timezone: str) -> None:
    """Residents with their channels (addresses masked on screen; the export has them
    whole) and every message to them, for the person page."""
    for resident in found["residents"]:
        resident["phone_display"] = phones.display(resident["phone"])
        resident["channels"] = [
            {
                "label": residents.CHANNEL_LABELS.get(c["kind"], c["kind"]),
                "address": delivery.mask_address(c["address"]),
                "withdrawn": bool(c["withdrawn_at"]),
            }
            for c in found["resident_channels"]
            if c["resident_id"] == resident["id"]
        ]
    names = {r["id"]: r["name"] for r in found["residents"]}
    shown = [{**m, "source": "parcel_notice"} for m in found["parcel_notices"]] + [
        {**m, "source": "notification"} for m in found["notifications"]
    ]
    for message in shown:
        message["created_local"] = local_time(message["created_at"], timezone)
        message["kind_text"] = delivery.KIND_LABELS.get(message["kind"], message["kind"])
        message["state_text"] = delivery.STATE_LABELS[
            delivery.state(message["status"], message["last_error"])
        ]
        message["resident_name"] = names.get(message.get("resident_id"), "")
    found["messages_shown"] = sorted(shown, key=lambda m: m["created_at"], reverse=True)


@bp.post("/person/export")
@role_required(*MANAGERS)
def person_export():
    criteria = _person_criteria()
    db = get_db()
    found = person.find(db, **criteria)
    as_csv = request.form.get("format") == "csv"
    person.audit_request(
        db,
        get_clock(),
        action="person.export_csv" if as_csv else "person.export_json",
        actor=_actor(),
        found=found,
    )
    if as_csv:
        return Response(
            "\ufeff" + person.to_csv(found, cell=csv_safe),
            mimetype="text/csv",
            headers={"Content-Disposition": "attachment; filename=person-records.csv"},
        )
    return Response(
        person.to_json(found),
        mimetype="application/json",
        headers={"Content-Disposition": "attachment; filename=person-records.json"},
    )


def _ticked(*keys: str) -> dict:
    return {key: set(request.form.getlist(key, type=int)) for key in keys}


@bp.post("/person/delete")
@role_required(*MANAGERS)
def person_delete():
    criteria = _person_criteria()
    if request.form.get("confirm") != "yes":
        # Not a bare 400: the same records again, the ticks as they were, the error
        # beside the confirmation box.
        errors = {"confirm_delete": CONFIRM_DELETE}
        return _person_page(
            criteria, errors=errors, ticked=_ticked("visit_id", "deny_id", "ticket_id"), status=422
        )
    removed = person.delete(
        get_db(),
        get_clock(),
        **criteria,
        visit_ids=request.form.getlist("visit_id", type=int),
        deny_ids=request.form.getlist("deny_id", type=int),
        ticket_ids=request.form.getlist("ticket_id", type=int),
        actor=_actor(),
        data_dir=current_app.config["DATA_DIR"],
    )
    flash(
        f"已删除 {plural('visits', removed['visits'], 'zh')}、"
        f"{plural('deny_list_entries', removed['deny_list'], 'zh')}，"
        f"已抹去 {plural('tickets', removed['tickets'], 'zh')}中的个人信息 · "
        f"Deleted {plural('visits', removed['visits'], 'en')} and "
        f"{plural('deny_list_entries', removed['deny_list'], 'en')}; "
        f"erased the person from {plural('tickets', removed['tickets'], 'en')}.",
        "ok",
    )
    _remember(criteria)  # the page after shows what is left of this person's records
    return redirect(url_for("admin.person_form"))


@bp.post("/person/erase-residents")
@role_required(*MANAGERS)
def person_erase_residents():
    criteria = _person_criteria()
    if request.form.get("confirm") != "yes":
        errors = {"confirm_erase": CONFIRM_ERASE}
        return _person_page(criteria, errors=errors, ticked=_ticked("resident_id"), status=422)
    try:
        erased = person.erase_residents(
            get_db(),
            get_clock(),
            **criteria,
            resident_ids=request.form.getlist("resident_id", type=int),
            actor=_actor(),
        )
    except LobbyDeskError as error:
        flash(str(error), "error")
    else:
        flash(
            f"已删除 {plural('moved_out_residents', erased['residents'], 'zh')}的个人信息 · "
            f"Erased the personal data of {plural('moved_out_residents', erased['residents'], 'en')}.",
            "ok",
        )
    _remember(criteria)
    return redirect(url_for("admin.person_form"))
