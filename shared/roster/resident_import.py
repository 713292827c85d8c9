"""Importing a residents file: `preview` (writes nothing) and `apply` (all or
nothing, after checking everything again)."""

from __future__ import annotations

import sqlite_utils

from shared import residents
from shared.db import write_transaction
from shared.roster.changes import Preview, RosterHasProblems, finish, record_import
from shared.roster.formats import RESIDENT_COLUMNS, Problem
from shared.roster.reading import read_table
from shared.roster.resident_rows import Context, resident_row
from shared.terms import plural


def preview(db: sqlite_utils.Database, clock, content: bytes, filename: str) -> Preview:
    """What importing this residents file would do, row by row. Writes nothing."""
    result = Preview("residents")
    table = read_table(content, filename, RESIDENT_COLUMNS, (("unit",), ("name",)))
    result.problems.extend(table.problems)
    if not table.refused:
        context = Context(db, clock)
        context.consent_column = "consent" in table.keys
        if not context.consent_column:
            result.problems.append(
                Problem(
                    1,
                    "consent",
                    "没有“同意通知”列：不设置任何通知渠道（已有的保持不变）· No “Consent” column: "
                    "no contact channels are set from this file (existing ones stay as they are).",
                    "warning",
                )
            )
        for number, cells in table.rows:
            change = resident_row(context, number, cells, result.problems)
            if change:
                result.changes.append(change)
        left_alone = sum(
            1
            for people in context.people.values()
            for p in people
            if not p["moved_out_on"] and p["id"] not in context.matched
        )
        if left_alone:
            result.problems.append(
                Problem(
                    0,
                    "",
                    f"{plural('residents_left_alone', left_alone, 'zh')}（迁出请到其房号页面）· "
                    f"{plural('residents_left_alone', left_alone, 'en')} "
                    "(move people out on their unit's page).",
                    "warning",
                )
            )
        result.summary["left_alone"] = left_alone
    finish(result, len(table.rows))
    return result


def apply(db: sqlite_utils.Database, clock, content: bytes, filename: str, *, actor: str) -> dict:
    """Import the file: every row or none (RosterHasProblems carries the preview)."""
    with write_transaction(db):
        result = preview(db, clock, content, filename)  # again: the building may have changed
        if result.errors:
            raise RosterHasProblems(result)
        adds = [c for c in result.changes if c.action == "add"]
        ids = residents.insert_many(db, clock, [(c.unit_id, c.record) for c in adds])
        residents.update_many(
            db,
            clock,
            [(c.resident_id, c.record) for c in result.changes if c.resident_id and c.fields],
        )
        moves = [(new_id, c.moved_out_on) for new_id, c in zip(ids, adds, strict=True)]
        moves += [(c.resident_id, c.moved_out_on) for c in result.changes if c.resident_id]
        residents.move_out_many(db, clock, [(i, on) for i, on in moves if on])
        record_import(db, clock, result, filename, actor=actor)
    return result.summary
