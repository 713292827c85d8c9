"""The resident's page itself: parcels waiting and who may collect them, the unit's
tickets (with a rating link for a resolved one), the resident's contact channels and
consent, and their visitor invitations. Read-only here; the forms are actions.py."""

from __future__ import annotations

from flask import get_flashed_messages, render_template

from console.db import get_db
from console.resident_page import (
    audit_use,
    bp,
    clock,
    invitations,
    language,
    open_link,
    secret_key,
)
from console.residents import present
from shared import building, parcels, phones, residents, tickets
from shared import ticket_catalog as catalog
from shared.terms import term

TICKET_ROWS = 20  # the unit's latest tickets: a year of a busy flat's repairs


def _parcels(db, unit_id: int, tz: str) -> list[dict]:
    shown = []
    for row in parcels.waiting_for_unit(db, unit_id):
        shown.append(
            {
                "id": row["id"],
                "ref": parcels.staff_ref(row["id"]),
                # Masked as on the kiosk: the carrier and the tracking number's last 4 only.
                "carrier": parcels.carrier_label(row["carrier"]),
                "tail": parcels.tracking_tail(row["tracking_number"]),
                "received": present.local(row["received_at"], tz),
            }
        )
    return shown


def _proxies(db, unit_id: int) -> list[dict]:
    return [
        {**p, "phone_shown": phones.mask(p["phone"]) if p["phone"] else ""}
        for p in residents.proxies_of(db, unit_id)
    ]


def _tickets(db, unit_id: int, tz: str, lang: str) -> list[dict]:
    rows = db.query(
        "SELECT * FROM tickets WHERE unit_id = ? ORDER BY received_at DESC, id DESC LIMIT ?",
        (unit_id, TICKET_ROWS),
    )
    now, shown = clock().now(), []
    for row in rows:
        key = f"{row['category']}.{row['problem']}" if row["problem"] else row["category"]
        may_rate = row["status"] in ("resolved", "closed") and row["rating"] is None
        shown.append(
            {
                "id": row["id"],
                "what": catalog.label(key, "en" if lang == "en" else "zh_CN"),
                "kind": term("ticket_kind", row["kind"], lang),
                "status": row["status"],
                "status_text": term("ticket_status", row["status"], lang),
                "received": present.local(row["received_at"], tz, "%Y-%m-%d"),
                "rating": row["rating"],
                "rate_token": tickets.rating_link_token(secret_key(), row, now)
                if may_rate
                else None,
            }
        )
    return shown


def _channels(db, resident_id: int, tz: str) -> list[dict]:
    return [present.channel_view(c, tz) for c in residents.channels_of(db, resident_id)]


def render_home(scope: dict, token: str, *, errors=None, typed=None, status: int = 200):
    """The whole page; `errors` by field name, beside their fields; `typed` refills them."""
    db = get_db()
    current = building.current(db)
    tz, lang = current["timezone"], language()
    resident, unit = scope["resident"], scope["unit"]
    page = render_template(
        "resident_page/home.html",
        token=token,
        building=current,
        resident=resident,
        unit=unit,
        parcels=_parcels(db, unit["id"], tz),
        candidates=parcels.collector_candidates(db, unit["id"]),
        proxies=_proxies(db, unit["id"]),
        tickets=_tickets(db, unit["id"], tz, lang),
        channels=_channels(db, resident["id"], tz),
        invitations=invitations.section(scope, tz),
        errors=errors or {},
        typed=typed or {},
        notices=get_flashed_messages(with_categories=True),
        max_name=40,
    )
    return page, status


@bp.get("/<token>", endpoint="home")
def home(token: str):
    scope, refused = open_link(token)
    if refused:
        return refused
    audit_use(scope, "resident_page.view")
    return render_home(scope, token)
