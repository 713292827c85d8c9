"""The roster a property already has: residents and units files in, the roster out.

`preview` reads a file and says, row by row, what is wrong and what importing
it would do, writing nothing. `apply` does it all or nothing in one write
transaction, after checking everything again: the building may have changed
since the preview. Every resident goes through `residents.clean`, the same
validation as the console's forms.

Re-importing a file updates the residents it matches (same unit and phone, or
same unit and name when the row has no phone) instead of adding them twice.
Residents absent from the file are left alone, and an empty cell leaves what is
on record: a file adds and corrects, it never erases. Consent (PIPL) is per
row: without it, the row sets no contact channels.

The modules: `formats` and `reading` (the files themselves), `changes` (what a
preview holds), `resident_rows`, `resident_import` and `unit_import` (checking
and applying), `uploads` (files kept for their preview), `exporting`.
"""

from __future__ import annotations

from shared.roster.changes import (
    ACTION_LABELS,
    FORMATS,
    KINDS,
    Change,
    Preview,
    RosterHasProblems,
    column_label,
)
from shared.roster.exporting import export, safe_cell, write_csv, write_xlsx
from shared.roster.formats import (
    MAX_BYTES,
    MAX_ROWS,
    RESIDENT_COLUMNS,
    UNIT_COLUMNS,
    Column,
    FileRefused,
    Problem,
)
from shared.roster.reading import decode_text, read_table
from shared.roster.resident_import import apply, preview
from shared.roster.unit_import import apply_units, preview_units
from shared.roster.uploads import (
    apply_upload,
    discard_upload,
    get_upload,
    preview_upload,
    recent_uploads,
    store,
)

__all__ = [
    "ACTION_LABELS",
    "FORMATS",
    "KINDS",
    "MAX_BYTES",
    "MAX_ROWS",
    "RESIDENT_COLUMNS",
    "UNIT_COLUMNS",
    "Change",
    "Column",
    "FileRefused",
    "Preview",
    "Problem",
    "RosterHasProblems",
    "apply",
    "apply_units",
    "apply_upload",
    "column_label",
    "decode_text",
    "discard_upload",
    "export",
    "get_upload",
    "preview",
    "preview_units",
    "preview_upload",
    "read_table",
    "recent_uploads",
    "safe_cell",
    "store",
    "write_csv",
    "write_xlsx",
]
