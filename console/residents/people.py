"""Managers' forms for the people of a unit: add or edit a resident (with consented
contact channels), move one out, or move a household in (optionally replacing the
people living there now).

A wrong field is shown next to itself with what was typed, answered 422: every
check is the domain's (shared/residents/), which also audits each change.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from console.db import get_db
from console.residents import EDIT, bp, present
from console.security import role_required
from shared import residents, units
from shared.clock import to_iso
from shared.errors import StaleState

PERSON_FIELDS = ("name", "role", "phone", "alt_phone", "email", "language", "moved_in_on")
CHANNEL_ROWS = 3
MOVE_IN_ROWS = 6
MAX_FIELD = 200


def _channel_rows(stored: list[dict]) -> list[dict]:
    rows = [
        {"kind": c["kind"], "address": c["address"], "consent": True} for c in stored[:CHANNEL_ROWS]
    ]
    return rows + [{"kind": "", "address": "", "consent": False}] * (CHANNEL_ROWS - len(rows))


def _posted_channels(stored: list[dict]) -> tuple[list[dict], list[dict], list[int]]:
    """The channel rows as typed, the channels to save and each one's row on the form.

    Consent is the ticked box: a channel already on file keeps the time the resident
    agreed; a new one is consented now, at this desk."""
    on_file = {(c["kind"], c["address"]): c for c in stored}
    now = to_iso(present.clock().now())
    typed, channels, rows = [], [], []
    for row in range(1, CHANNEL_ROWS + 1):
        kind = request.form.get(f"channel_{row}_kind", "").strip().lower()[:20]
        address = request.form.get(f"channel_{row}_address", "").strip()[: residents.MAX_URL + 1]
        agreed = request.form.get(f"channel_{row}_consent") == "1"
        typed.append({"kind": kind, "address": address, "consent": agreed})
        if not address:
            continue  # an empty row: no channel (clearing an address withdraws it)
        known = on_file.get((kind or residents.channel_kind_of(address), address))
        channels.append(
            {
                "kind": kind,
                "address": address,
                "consent_at": (known["consent_at"] if known else now) if agreed else None,
                "consent_source": known["consent_source"] if known else "console",
            }
        )
        rows.append(row)
    return typed, channels, rows


def _on_form(error: residents.InvalidResident, rows: list[int]) -> residents.InvalidResident:
    """The domain numbers the channels it was given; the form numbers its rows."""
    if error.field.startswith("channel_") and error.field[8:].isdigit():
        position = int(error.field[8:])
        if 1 <= position <= len(rows):
            error.field = f"channel_{rows[position - 1]}"
    return error


def _resident_form(unit, form, channel_rows, *, resident=None, error=None, status=200):
    page = render_template(
        "residents/resident_form.html",
        unit=unit,
        resident=resident,
        form=form,
        channel_rows=channel_rows,
        error=error,
        error_field=getattr(error, "field", None),
        role_labels=residents.ROLE_LABELS,
        language_labels=present.LANGUAGE_LABELS,
        channel_labels=residents.CHANNEL_LABELS,
    )
    return page, status


def _posted_person() -> dict:
    return {name: request.form.get(name, "")[:MAX_FIELD] for name in PERSON_FIELDS}


@bp.get("/units/<int:unit_id>/residents/new")
@role_required(*EDIT)
def new_resident(unit_id: int):
    db = get_db()
    unit = units.get(db, unit_id)
    form = {
        "role": "owner",
        "language": "zh_CN",
        "moved_in_on": residents.today(db, present.clock()),
    }
    return _resident_form(unit, form, _channel_rows([]))


@bp.post("/units/<int:unit_id>/residents/new")
@role_required(*EDIT)
def add_resident(unit_id: int):
    db = get_db()
    unit = units.get(db, unit_id)
    form = _posted_person()
    typed, channels, rows = _posted_channels([])
    try:
        residents.create(
            db, present.clock(), unit_id, {**form, "channels": channels}, actor=present.actor()
        )
    except residents.InvalidResident as error:
        return _resident_form(unit, form, typed, error=_on_form(error, rows), status=422)
    present.changed()
    flash(f"已登记住户 · Resident added: {form['name'].strip()} ({unit['number']})", "ok")
    return redirect(url_for("residents.unit_page", unit_id=unit_id))


def _current_resident(db, resident_id: int):
    """The resident and their unit, or a redirect when they have moved out."""
    resident = residents.get(db, resident_id)
    unit = units.get(db, resident["unit_id"])
    if resident["moved_out_on"] or resident["erased_at"]:
        flash("这位住户已迁出，不能再编辑 · This resident has moved out: no more edits.", "error")
        return resident, unit, redirect(url_for("residents.unit_page", unit_id=unit["id"]))
    return resident, unit, None


def _as_typed(e164: str) -> str:
    """A Chinese mobile as people write it (13912345678); others in E.164. A stored
    value that is not a phone is shown as stored, for the manager to correct."""
    return e164[3:] if e164.startswith("+86") and len(e164) == 14 else e164


@bp.get("/<int:resident_id>/edit")
@role_required(*EDIT)
def edit_resident(resident_id: int):
    resident, unit, gone = _current_resident(get_db(), resident_id)
    if gone:
        return gone
    form = {name: resident[name] or "" for name in PERSON_FIELDS}
    form["phone"], form["alt_phone"] = _as_typed(form["phone"]), _as_typed(form["alt_phone"])
    return _resident_form(unit, form, _channel_rows(resident["channels"]), resident=resident)


@bp.post("/<int:resident_id>/edit")
@role_required(*EDIT)
def update_resident(resident_id: int):
    db = get_db()
    resident, unit, gone = _current_resident(db, resident_id)
    if gone:
        return gone
    form = _posted_person()
    typed, channels, rows = _posted_channels(resident["channels"])
    try:
        residents.update(
            db, present.clock(), resident_id, {**form, "channels": channels}, actor=present.actor()
        )
    except residents.InvalidResident as error:
        error = _on_form(error, rows)
        return _resident_form(unit, form, typed, resident=resident, error=error, status=422)
    present.changed()
    flash(f"已保存 · Saved: {form['name'].strip()}", "ok")
    return redirect(url_for("residents.unit_page", unit_id=unit["id"]))


@bp.post("/<int:resident_id>/move-out")
@role_required(*EDIT)
def move_out(resident_id: int):
    db = get_db()
    resident = residents.get(db, resident_id)
    on = request.form.get("on", "")[:20]
    try:
        moved = residents.move_out(db, present.clock(), [resident_id], on=on, actor=present.actor())
    except residents.InvalidResident as error:
        flash(f"{resident['name']} 未迁出 · not moved out: {error}", "error")
    else:
        present.changed()
        if moved:
            flash(f"已迁出 · Moved out: {resident['name']}", "ok")
        else:
            flash(f"{resident['name']} 早已迁出 · had already moved out.", "error")
    return redirect(url_for("residents.unit_page", unit_id=resident["unit_id"]))


# --- a household moves in -----------------------------------------------------------------


def _move_in_rows() -> list[dict]:
    rows = []
    for row in range(1, MOVE_IN_ROWS + 1):
        rows.append(
            {
                name: request.form.get(f"p{row}_{name}", "")[:MAX_FIELD]
                for name in ("name", "role", "phone", "email", "language")
            }
            | {"consent": request.form.get(f"p{row}_consent") == "1"}
        )
    return rows


def _filled(typed: dict) -> bool:
    return any(typed[k].strip() for k in ("name", "phone", "email"))


def _person(typed: dict, now: str) -> dict:
    """One row of the move-in form as the domain takes it: a ticked box is the
    resident's consent to e-mail notices at the address given."""
    email = typed["email"].strip()
    channels = []
    if email and typed["consent"]:
        channels.append(
            {"kind": "email", "address": email, "consent_at": now, "consent_source": "console"}
        )
    return {**typed, "channels": channels}


def _check_rows(db, rows: list[dict], now: str) -> dict[int, residents.InvalidResident]:
    """Every row's first error, so that all of them are shown at once."""
    today = residents.today(db, present.clock())
    errors = {}
    for number, typed in enumerate(rows, start=1):
        if not _filled(typed):
            continue
        try:
            residents.clean(_person(typed, now), today=today)
        except residents.InvalidResident as error:
            errors[number] = error
    return errors


def _move_in_page(unit, form, rows, *, errors=None, error=None, status=200):
    db = get_db()
    page = render_template(
        "residents/move_in.html",
        unit=unit,
        current=residents.active_of(db, unit["id"]),
        form=form,
        rows=rows,
        errors=errors or {},
        error=error,
        role_labels=residents.ROLE_LABELS,
        language_labels=present.LANGUAGE_LABELS,
    )
    return page, status


@bp.get("/units/<int:unit_id>/move-in")
@role_required(*EDIT)
def move_in_form(unit_id: int):
    db = get_db()
    unit = units.get(db, unit_id)
    blank = {"name": "", "phone": "", "email": "", "language": "zh_CN", "consent": False}
    rows = [dict(blank, role="owner" if row == 0 else "household") for row in range(MOVE_IN_ROWS)]
    form = {"on": residents.today(db, present.clock()), "replace": False}
    return _move_in_page(unit, form, rows)


@bp.post("/units/<int:unit_id>/move-in")
@role_required(*EDIT)
def move_in(unit_id: int):
    db = get_db()
    unit = units.get(db, unit_id)
    form = {"on": request.form.get("on", "")[:20], "replace": request.form.get("replace") == "1"}
    rows, now = _move_in_rows(), to_iso(present.clock().now())
    errors = _check_rows(db, rows, now)
    people = [_person(typed, now) for typed in rows if _filled(typed)]
    if errors:
        return _move_in_page(unit, form, rows, errors=errors, status=422)
    try:
        ids = residents.move_in(
            db,
            present.clock(),
            unit_id,
            people,
            replace=form["replace"],
            on=form["on"],
            actor=present.actor(),
        )
    except (residents.InvalidResident, StaleState) as error:
        return _move_in_page(unit, form, rows, error=error, status=error.http_status)
    present.changed()
    flash(f"已办理入住 · Moved in: {len(ids)} 人 · people ({unit['number']})", "ok")
    return redirect(url_for("residents.unit_page", unit_id=unit_id))
