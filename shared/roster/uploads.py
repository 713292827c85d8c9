"""Uploaded roster files, kept (roster_imports) until staff apply or discard
their preview."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import sqlite_utils

from shared.clock import to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest, NotFound, StaleState
from shared.roster.changes import KINDS, Preview
from shared.roster.formats import MAX_BYTES
from shared.roster.resident_import import apply, preview
from shared.roster.unit_import import apply_units, preview_units

_STALE_UPLOADS = timedelta(days=1)


def store(db, clock, *, kind: str, filename: str, content: bytes, staff_id: int | None) -> int:
    """Keep an uploaded file until staff apply or discard its preview; uploads left
    unconfirmed for a day are dropped (their content, not the record)."""
    if kind not in KINDS:
        raise InvalidRequest("请选择住户表或房号表 · Choose a residents or a units file.")
    if not content:
        raise InvalidRequest("请选择文件 · Choose a file.")
    if len(content) > MAX_BYTES:
        raise InvalidRequest(
            f"文件超过 {MAX_BYTES // (1024 * 1024)} MB · The file is larger than "
            f"{MAX_BYTES // (1024 * 1024)} MB."
        )
    now = clock.now()
    with write_transaction(db):
        db.execute(
            "UPDATE roster_imports SET content = NULL, status = 'discarded'"
            " WHERE status = 'previewed' AND uploaded_at < ?",
            (to_iso(now - _STALE_UPLOADS),),
        )
        cursor = db.execute(
            "INSERT INTO roster_imports (kind, filename, content, uploaded_by, uploaded_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (kind, Path(filename or "").name[:120] or "roster", content, staff_id, to_iso(now)),
        )
    return cursor.lastrowid


def get_upload(db: sqlite_utils.Database, import_id: int) -> dict:
    row = one(db, "SELECT * FROM roster_imports WHERE id = ?", (import_id,))
    if row is None:
        raise NotFound(f"没有这次导入 · No import {import_id}.")
    row["summary"] = json.loads(row["summary"] or "{}")
    return row


def preview_upload(db: sqlite_utils.Database, clock, upload: dict) -> Preview | None:
    """The preview of a stored upload; None once it is applied or discarded."""
    if upload["status"] != "previewed" or upload["content"] is None:
        return None
    check = preview if upload["kind"] == "residents" else preview_units
    return check(db, clock, upload["content"], upload["filename"])


def apply_upload(db: sqlite_utils.Database, clock, import_id: int, *, actor: str) -> dict:
    """Apply a stored upload once; a second try is refused (StaleState)."""
    with write_transaction(db):
        upload = get_upload(db, import_id)
        if upload["status"] != "previewed" or upload["content"] is None:
            raise StaleState(_closed_message(upload["status"]))
        do = apply if upload["kind"] == "residents" else apply_units
        summary = do(db, clock, upload["content"], upload["filename"], actor=actor)
        db.execute(
            "UPDATE roster_imports SET status = 'applied', applied_at = ?, content = NULL,"
            " summary = ? WHERE id = ?",
            (to_iso(clock.now()), json.dumps(summary), import_id),
        )
    return summary


def discard_upload(db: sqlite_utils.Database, clock, import_id: int) -> None:
    with write_transaction(db):
        upload = get_upload(db, import_id)
        if upload["status"] != "previewed":
            raise StaleState(_closed_message(upload["status"]))
        db.execute(
            "UPDATE roster_imports SET status = 'discarded', content = NULL WHERE id = ?",
            (import_id,),
        )


def _closed_message(status: str) -> str:
    if status == "applied":
        return "这个文件已经导入过了 · This file was already imported."
    return "这个文件已放弃或已过期，请重新上传 · This upload was discarded or expired: upload it again."


def recent_uploads(db: sqlite_utils.Database, limit: int = 10) -> list[dict]:
    rows = db.query(
        "SELECT i.id, i.kind, i.filename, i.uploaded_at, i.status, i.applied_at, i.summary,"
        " s.display_name AS uploaded_by_name FROM roster_imports i"
        " LEFT JOIN staff s ON s.id = i.uploaded_by ORDER BY i.id DESC LIMIT ?",
        (limit,),
    )
    return [{**row, "summary": json.loads(row["summary"] or "{}")} for row in rows]
