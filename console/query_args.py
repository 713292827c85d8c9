"""What several staff pages read from a query string alike: dates and a date range
(console/admin.py, handover.py, invitations.py, visitors.py)."""

from __future__ import annotations

from datetime import date

from flask import abort, request


def day(text: str) -> str:
    """A YYYY-MM-DD date as given, "" for none; anything else is a 400 saying the format."""
    if not text:
        return ""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        abort(400, description="日期格式应为 YYYY-MM-DD · Dates look like 2026-11-27.")


def day_range() -> dict:
    """?from=…&to=… as {"day_from", "day_to"}, the names the searches take."""
    return {
        "day_from": day(request.args.get("from", "")),
        "day_to": day(request.args.get("to", "")),
    }
