"""A unit's page: who lives there, what the desk must know (standing instructions,
people who may collect parcels) and what happened there lately, including in units
merged into it. Managers add, rename, retire and merge units here.

Every write goes through shared/units.py or shared/residents/, which validate
and audit it; this module only turns their named errors into messages on the page.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from console.confirm import CONFIRM_FIRST, Confirmation, confirm_page, confirmed, refused
from console.db import get_db
from console.residents import EDIT, READ, bp, present
from console.security import role_required
from shared import parcels, residents, ticket_catalog, tickets, units
from shared.building import UnknownUnit
from shared.errors import LobbyDeskError, StaleState
from shared.terms import term

UNIT_FIELDS = ("number", "tower", "entrance", "room", "keypad", "kind", "floor")
HISTORY_ROWS = 15  # per list: enough to answer "did anyone come for 1201 this week?"
MAX_FIELD = 200


# --- reading ---------------------------------------------------------------------------


def _recent(db, sql: str, family: list[int]) -> list[dict]:
    marks = ",".join("?" * len(family))
    return list(db.query(sql.format(marks=marks), (*family, HISTORY_ROWS)))


def _history(db, family: list[int], tz: str) -> dict:
    """The latest visits, parcels and tickets of the unit and the units merged into it."""
    visits = _recent(
        db,
        "SELECT v.id, v.name, v.purpose, v.party_size, v.status, v.received_at,"
        " u.number AS unit_number FROM visits v JOIN units u ON u.id = v.unit_id"
        " WHERE v.unit_id IN ({marks}) ORDER BY v.received_at DESC, v.id DESC LIMIT ?",
        family,
    )
    for row in visits:
        row["when"] = present.local(row["received_at"], tz)
        row["status_label"] = term("visit_status", row["status"])
    parcel_rows = _recent(
        db,
        "SELECT p.id, p.tracking_number, p.carrier, p.shelf, p.status, p.received_at,"
        " p.collected_at, u.number AS unit_number FROM parcels p JOIN units u ON u.id = p.unit_id"
        " WHERE p.unit_id IN ({marks}) ORDER BY p.received_at DESC, p.id DESC LIMIT ?",
        family,
    )
    for row in parcel_rows:
        row["when"] = present.local(row["received_at"], tz)
        row["collected_when"] = present.local(row["collected_at"], tz)
        row["carrier_label"] = parcels.CARRIER_LABELS.get(row["carrier"] or "", row["carrier"])
        row["status_label"] = term("parcel_status", row["status"])
    ticket_rows = _recent(
        db,
        "SELECT t.id, t.kind, t.category, t.problem, t.status, t.received_at,"
        " u.number AS unit_number FROM tickets t JOIN units u ON u.id = t.unit_id"
        " WHERE t.unit_id IN ({marks}) ORDER BY t.received_at DESC, t.id DESC LIMIT ?",
        family,
    )
    for row in ticket_rows:
        row["when"] = present.local(row["received_at"], tz)
        path = f"{row['category']}.{row['problem']}" if row["problem"] else row["category"]
        row["what"] = " · ".join(
            dict.fromkeys(ticket_catalog.label(path, lang) for lang in ("zh_CN", "en"))
        )
        row["kind_label"] = tickets.kind_label(row["kind"])
        row["status_label"] = tickets.status_label(row["status"])
    return {"visits": visits, "parcels": parcel_rows, "tickets": ticket_rows}


def _former(db, family: list[int], tz: str) -> list[dict]:
    marks = ",".join("?" * len(family))
    rows = db.query(
        "SELECT r.*, u.number AS unit_number FROM residents r JOIN units u ON u.id = r.unit_id"  # noqa: S608
        f" WHERE r.unit_id IN ({marks}) AND r.moved_out_on IS NOT NULL AND r.erased_at IS NULL"
        " ORDER BY r.moved_out_on DESC, r.id DESC LIMIT 50",
        family,
    )
    return [present.resident_view(db, row, tz) for row in rows]


def _standing(db, unit_id: int, tz: str) -> dict:
    instructions = residents.instructions_of(db, unit_id)
    for row in instructions:
        row["kind_label"] = residents.INSTRUCTION_LABELS.get(row["kind"], row["kind"])
        row["when"] = present.local(row["created_at"], tz, "%Y-%m-%d")
    proxies = residents.proxies_of(db, unit_id)
    for row in proxies:
        row["phone_display"] = present.phone(row["phone"])
    return {"instructions": instructions, "proxies": proxies}


def _unit_view(db, unit: dict, tz: str) -> dict:
    target = units.get(db, unit["merged_into"]) if unit["merged_into"] else None
    merged_from = list(
        db.query(
            "SELECT id, number FROM units WHERE merged_into = ? ORDER BY number", (unit["id"],)
        )
    )
    return {
        **unit,
        "kind_label": units.KIND_LABELS.get(unit["kind"], unit["kind"]),
        "retired_local": present.local(unit["retired_at"], tz, "%Y-%m-%d"),
        "target": target,
        "merged_from": merged_from,
    }


def _unit_page(unit_id: int, *, error=None, typed=None, status: int = 200):
    db = get_db()
    tz = present.timezone(db)
    unit = _unit_view(db, units.get(db, unit_id), tz)
    family = units.family(db, unit_id)
    page = render_template(
        "residents/unit.html",
        unit=unit,
        current=[present.resident_view(db, r, tz) for r in residents.active_of(db, unit_id)],
        former=_former(db, family, tz),
        history=_history(db, family, tz),
        today=residents.today(db, present.clock()),
        instruction_labels=residents.INSTRUCTION_LABELS,
        may_edit=present.may_edit() and not unit["retired_at"],
        error=error,
        error_field=getattr(error, "field", None),
        typed=typed or {},
        **_standing(db, unit_id, tz),
    )
    return page, status


@bp.get("/units/<int:unit_id>")
@role_required(*READ)
def unit_page(unit_id: int):
    return _unit_page(unit_id)


# --- adding, renaming, retiring, merging -----------------------------------------------


def _posted_unit() -> dict:
    return {name: request.form.get(name, "")[:MAX_FIELD] for name in UNIT_FIELDS}


def _unit_form(form: dict, *, unit=None, error=None, status: int = 200):
    page = render_template(
        "residents/unit_form.html",
        form=form,
        unit=unit,
        error=error,
        error_field=getattr(error, "field", None),
        kind_labels=units.KIND_LABELS,
        max_keypad=units.MAX_KEYPAD,
    )
    return page, status


@bp.get("/units/new")
@role_required(*EDIT)
def new_unit():
    return _unit_form({"kind": "home"})


@bp.post("/units/new")
@role_required(*EDIT)
def add_unit():
    form = _posted_unit()
    try:
        unit_id = units.add(get_db(), present.clock(), form, actor=present.actor())
    except units.InvalidUnit as error:
        return _unit_form(form, error=error, status=422)
    flash(f"已添加房号 · Unit added: {units.get(get_db(), unit_id)['number']}", "ok")
    return redirect(url_for("residents.unit_page", unit_id=unit_id))


def _form_of(unit: dict) -> dict:
    return {name: "" if unit[name] is None else str(unit[name]) for name in UNIT_FIELDS}


@bp.get("/units/<int:unit_id>/edit")
@role_required(*EDIT)
def edit_unit(unit_id: int):
    unit = units.get(get_db(), unit_id)
    return _unit_form(_form_of(unit), unit=unit)


@bp.post("/units/<int:unit_id>/edit")
@role_required(*EDIT)
def update_unit(unit_id: int):
    db = get_db()
    unit, form = units.get(db, unit_id), _posted_unit()
    try:
        saved = units.update(db, present.clock(), unit_id, form, actor=present.actor())
    except (units.InvalidUnit, StaleState) as error:
        return _unit_form(form, unit=unit, error=error, status=error.http_status)
    present.changed()
    if saved["number"] != unit["number"]:
        flash(f"已改名 · Renamed: {unit['number']} → {saved['number']}", "ok")
    else:
        flash(f"已保存 · Saved: {saved['number']}", "ok")
    return redirect(url_for("residents.unit_page", unit_id=unit_id))


def _danger_refused(unit: dict, field: str, message: str, typed_target: str = ""):
    """Retire or merge refused: the edit page again (422), the error beside its box."""
    error = units.InvalidUnit(message, field=field)
    form = {**_form_of(unit), "merge_target": typed_target}
    return _unit_form(form, unit=unit, error=error, status=422)


@bp.post("/units/<int:unit_id>/retire")
@role_required(*EDIT)
def retire_unit(unit_id: int):
    db = get_db()
    unit = units.get(db, unit_id)
    if request.form.get("confirm") != "1":
        return _danger_refused(unit, "confirm_retire", CONFIRM_FIRST)
    try:
        units.retire(db, present.clock(), unit_id, actor=present.actor())
    except StaleState as error:
        return _danger_refused(
            unit, "confirm_retire", f"{unit['number']} 未停用 · not retired: {error}"
        )
    present.changed()
    flash(
        f"已停用，终端不再接受此房号 · Retired; the kiosks no longer accept it: {unit['number']}",
        "ok",
    )
    return redirect(url_for("residents.unit_page", unit_id=unit_id))


@bp.post("/units/<int:unit_id>/merge")
@role_required(*EDIT)
def merge_unit(unit_id: int):
    db = get_db()
    unit = units.get(db, unit_id)
    typed = request.form.get("target", "")[: units.MAX_LABEL + 1]
    if request.form.get("confirm") != "1":
        return _danger_refused(unit, "confirm_merge", CONFIRM_FIRST, typed)
    try:
        target = units.lookup(db, typed)
        units.merge(db, present.clock(), unit_id, target["id"], actor=present.actor())
    except UnknownUnit:
        message = f"没有在用的房号“{typed}” · No unit in use called “{typed}”."
        return _danger_refused(unit, "merge_target", message, typed)
    except (units.InvalidUnit, StaleState) as error:
        message = f"{unit['number']} 未合并 · not merged: {error}"
        return _danger_refused(unit, "merge_target", message, typed)
    present.changed()
    flash(f"已合并 · Merged: {unit['number']} → {target['number']}", "ok")
    return redirect(url_for("residents.unit_page", unit_id=target["id"]))


# --- standing instructions and parcel proxies --------------------------------------------


@bp.post("/units/<int:unit_id>/instructions")
@role_required(*EDIT)
def add_instruction(unit_id: int):
    db = get_db()
    units.get(db, unit_id)
    typed = {
        "instruction_kind": request.form.get("kind", "")[:20],
        "instruction_text": request.form.get("text", "")[: residents.MAX_INSTRUCTION + 1],
    }
    try:
        residents.add_instruction(
            db,
            present.clock(),
            unit_id,
            typed["instruction_kind"],
            typed["instruction_text"],
            actor=present.actor(),
        )
    except residents.InvalidResident as error:
        error.field = f"instruction_{error.field}"
        return _unit_page(unit_id, error=error, typed=typed, status=422)
    present.changed()
    flash("已添加前台须知 · Instruction added.", "ok")
    return redirect(url_for("residents.unit_page", unit_id=unit_id, _anchor="standing"))


@bp.post("/units/<int:unit_id>/proxies")
@role_required(*EDIT)
def add_proxy(unit_id: int):
    db = get_db()
    units.get(db, unit_id)
    typed = {name: request.form.get(name, "")[:MAX_FIELD] for name in ("name", "phone", "note")}
    try:
        residents.add_proxy(db, present.clock(), unit_id, typed, actor=present.actor())
    except residents.InvalidResident as error:
        typed = {f"proxy_{k}": v for k, v in typed.items()}
        return _unit_page(unit_id, error=error, typed=typed, status=422)
    flash(f"已添加代收人 · May collect parcels: {typed['name']}", "ok")
    return redirect(url_for("residents.unit_page", unit_id=unit_id, _anchor="standing"))


# Removing is kept for the audit but cannot be undone from the console: each removal
# is confirmed on a page of its own (console/confirm.py).
_STANDING = {
    "unit_instructions": (
        residents.instructions_of,
        "移除前台须知？",
        "Remove this instruction for the desk?",
        "移除后前台不再看到这条须知 · The desk will no longer see this instruction.",
    ),
    "parcel_proxies": (
        residents.proxies_of,
        "移除快递代收人？",
        "Remove this parcel proxy?",
        "移除后此人不能再代领该房号的快递 · This person may no longer collect the unit's "
        "parcels at the desk.",
    ),
}


def _standing_confirmation(unit_id: int, table: str, row_id: int) -> Confirmation:
    db = get_db()
    unit = units.get(db, unit_id)
    listed, title_zh, title_en, consequence = _STANDING[table]
    row = next((r for r in listed(db, unit_id) if r["id"] == row_id), None)
    if row is None:
        abort(404, description="已被移除 · It was already removed.")
    what = row["text"] if table == "unit_instructions" else row["name"]
    return Confirmation(
        title_zh=title_zh,
        title_en=title_en,
        consequence=consequence,
        tick=f"确认移除“{what}” · I confirm: remove “{what}”",
        button="移除 · Remove",
        cancel=url_for("residents.unit_page", unit_id=unit_id, _anchor="standing"),
        facts=(("房号 · Unit", unit["number"]), ("内容 · Entry", what)),
    )


def _remove(unit_id: int, table: str, row_id: int):
    confirmation = _standing_confirmation(unit_id, table, row_id)
    if request.method == "GET":
        return confirm_page(confirmation)
    if not confirmed():
        return refused(confirmation)
    try:
        residents.remove_standing(get_db(), present.clock(), table, row_id, actor=present.actor())
    except LobbyDeskError as error:
        flash(str(error), "error")
    else:
        present.changed()
        flash(f"已移除 · Removed: {dict(confirmation.facts)['内容 · Entry']}", "ok")
    return redirect(url_for("residents.unit_page", unit_id=unit_id, _anchor="standing"))


@bp.route("/units/<int:unit_id>/instructions/<int:instruction_id>/remove", methods=["GET", "POST"])
@role_required(*EDIT)
def remove_instruction(unit_id: int, instruction_id: int):
    return _remove(unit_id, "unit_instructions", instruction_id)


@bp.route("/units/<int:unit_id>/proxies/<int:proxy_id>/remove", methods=["GET", "POST"])
@role_required(*EDIT)
def remove_proxy(unit_id: int, proxy_id: int):
    return _remove(unit_id, "parcel_proxies", proxy_id)
