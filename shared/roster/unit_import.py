"""Importing a units file: new units only; a unit already there with other details
is a problem (it is renamed on its page, not by a file)."""

from __future__ import annotations

import sqlite_utils

from shared import units
from shared.db import write_transaction
from shared.roster.changes import (
    Change,
    Preview,
    RosterHasProblems,
    every_problem,
    finish,
    record_import,
    typed_word,
)
from shared.roster.formats import KIND_WORDS, UNIT_COLUMNS, Problem
from shared.roster.reading import read_table


def preview_units(db: sqlite_utils.Database, clock, content: bytes, filename: str) -> Preview:
    """What importing this units file would add; a unit already there with the same
    details is unchanged, with other details it is a problem (rename it on its page)."""
    result = Preview("units")
    table = read_table(content, filename, UNIT_COLUMNS, (("number", "room"),))
    result.problems.extend(table.problems)
    if not table.refused:
        existing = {u["number"].casefold(): u for u in db.query("SELECT * FROM units")}
        keypads = {u["keypad"]: u for u in existing.values() if not u["retired_at"]}
        seen: dict[str, int] = {}
        for number, cells in table.rows:
            change = _unit_row(number, cells, existing, keypads, seen, result.problems)
            if change:
                result.changes.append(change)
    finish(result, len(table.rows))
    return result


def _unit_row(number, cells, existing, keypads, seen, problems) -> Change | None:
    fields = {**cells, "kind": typed_word(cells.get("kind", ""), KIND_WORDS)}
    unit = every_problem(units.clean, units.InvalidUnit, fields, {}, number, problems)
    if unit is None:
        return None
    label = unit["number"]
    for key, what in ((label.casefold(), "房号 · unit"), ("#" + unit["keypad"], "门牌码 · keypad")):
        if key in seen:
            problems.append(
                Problem(
                    number,
                    "number" if key[0] != "#" else "keypad",
                    f"{what} 与第 {seen[key]} 行相同 · Same {what.split(' · ')[1]} as row "
                    f"{seen[key]}.",
                )
            )
            return None
        seen[key] = number
    change = Change(number, "add", label, "", record=unit)
    before = existing.get(label.casefold())
    if before is not None:
        same = not before["retired_at"] and all(before[k] == unit[k] for k in unit)
        if same:
            change.action = "unchanged"
            return change
        retired = "（已停用）" if before["retired_at"] else ""
        problems.append(
            Problem(
                number,
                "number",
                f"已有房号 {label}{retired}，信息不同；请在房号页面修改 · Unit {label} already "
                "exists with other details: change it on its page.",
            )
        )
        return None
    holder = keypads.get(unit["keypad"])
    if holder is not None:
        problems.append(
            Problem(
                number,
                "keypad",
                f"门牌码 {unit['keypad']} 已属于 {holder['number']} · Keypad code "
                f"{unit['keypad']} already belongs to {holder['number']}.",
            )
        )
        return None
    return change


def apply_units(db: sqlite_utils.Database, clock, content: bytes, filename: str, *, actor: str):
    """Add the file's new units through units.add_many: all of them or none."""
    with write_transaction(db):
        result = preview_units(db, clock, content, filename)
        if result.errors:
            raise RosterHasProblems(result)
        units.add_many(
            db, clock, [c.record for c in result.changes if c.action == "add"], actor=actor
        )
        record_import(db, clock, result, filename, actor=actor)
    return result.summary
