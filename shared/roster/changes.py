"""What a roster file would do, as the preview shows it: one Change per row, the
file's Problems, and the helpers both files (residents, units) check rows with."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared import audit
from shared.errors import InvalidRequest
from shared.roster.formats import RESIDENT_COLUMNS, UNIT_COLUMNS, Problem, parse_moment, word
from shared.terms import plural

KINDS = ("residents", "units")
FORMATS = ("csv", "xlsx")
ACTION_LABELS = {
    "add": "新增 · Add",
    "update": "更新 · Update",
    "move_out": "迁出 · Move out",
    "unchanged": "不变 · Unchanged",
}


@dataclass
class Change:
    """What importing one row does."""

    row: int
    action: str  # add, update, move_out, unchanged
    unit: str
    name: str
    fields: list[str] = field(default_factory=list)  # the column keys that change
    unit_id: int | None = None
    resident_id: int | None = None
    record: dict | None = None  # cleaned fields to write
    moved_out_on: str | None = None


@dataclass
class Preview:
    kind: str
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]


class RosterHasProblems(InvalidRequest):
    """The file has problems; nothing was imported. 文件有问题，未导入。"""

    code = "roster_has_problems"
    http_status = 422

    def __init__(self, preview: Preview):
        count = len(preview.errors)
        super().__init__(
            f"文件有 {plural('problems', count, 'zh')}，未导入任何内容 · "
            f"The file has {plural('problems', count, 'en')}; nothing was imported."
        )
        self.preview = preview


def column_label(kind: str, key: str) -> str:
    """The column a problem is about, as the export heads it ("手机 Phone")."""
    columns = RESIDENT_COLUMNS if kind == "residents" else UNIT_COLUMNS
    aliases = {"channels": "notify_url", "moved_out": "moved_out_on", "target": "number"}
    key = aliases.get(key, key)
    return next((c.header for c in columns if c.key == key), "")


def finish(result: Preview, rows: int) -> None:
    """One problem per row and column (the first: a formula hides the rest)."""
    kept, seen = [], set()
    for problem in result.problems:
        key = (problem.row, problem.field, problem.level)
        if key not in seen or not problem.field:
            seen.add(key)
            kept.append(problem)
    result.problems = sorted(kept, key=lambda p: (p.row, p.level != "error"))
    bad_rows = {p.row for p in result.errors}
    result.changes = [c for c in result.changes if c.row not in bad_rows]
    counts = {action: 0 for action in ACTION_LABELS}
    for change in result.changes:
        counts[change.action] += 1
    result.summary.update(
        rows=rows, errors=len(result.errors), warnings=len(result.warnings), **counts
    )


def typed_word(text: str, lookup: dict) -> str:
    """ "业主 Owner" → "owner"; anything else as typed, for the domain to refuse."""
    return (word(text, lookup) or text) if text else ""


def date_text(text: str) -> str:
    moment = parse_moment(text) if text else None
    return moment[0].isoformat() if moment else text  # else residents.clean says why


def every_problem(check, error_type, fields: dict, stand_ins: dict, number: int, problems):
    """Run a domain check until it passes, so that every wrong field of the row is
    reported (a check names only the first): each wrong value gets a stand-in."""
    trial, found = dict(fields), False
    for _attempt in range(len(fields) + 2):
        try:
            checked = check(trial)
        except error_type as error:
            problems.append(Problem(number, error.field, str(error)))
            found = True
            stand_in = stand_ins.get(error.field, "")
            if trial.get(error.field) == stand_in:
                return None
            trial[error.field] = stand_in
        else:
            return None if found else checked
    return None


def record_import(db, clock, result: Preview, filename: str, *, actor: str) -> None:
    """The one audit row for a whole applied file, residents or units (not one per row)."""
    audit.record(
        db,
        clock,
        actor=actor,
        action="roster.import",
        detail={"kind": result.kind, "file": filename, **result.summary},
    )
