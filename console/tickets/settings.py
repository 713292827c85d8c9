"""The manager's ticket settings page: minutes to resolve by urgency and the
departments tickets go to (stored by shared.tickets.save_settings, audited)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from console.db import get_clock, get_db
from console.security import role_required
from console.tickets import MANAGERS, bp
from console.tickets.forms import MAX_CONTACTS, parse_contacts, parse_sla
from console.tickets.present import URGENCY_LABELS, current_building
from shared import building, tickets
from shared.errors import LobbyDeskError


def _settings_page(form: dict | None = None, *, error=None, status: int = 200):
    settings = current_building()["settings"]
    if form is None:
        form = {f"sla_{u}": str(m) for u, m in settings["ticket_sla_minutes"].items()}
        for n, contact in enumerate(settings["ticket_contacts"]):
            form[f"contact_{n}_key"] = contact["key"]
            form[f"contact_{n}_zh"] = contact["name_zh"]
            form[f"contact_{n}_en"] = contact["name_en"]
    stored_urls = {
        c["key"]: tickets.mask_url(c.get("notify_url", "")) for c in settings["ticket_contacts"]
    }
    filled = [n for n in range(MAX_CONTACTS) if form.get(f"contact_{n}_key")]
    rows = max(filled, default=-1) + 3  # two blank rows for new departments
    return render_template(
        "tickets/settings.html",
        form=form,
        error=error,
        rows=min(rows, MAX_CONTACTS),
        stored_urls=stored_urls,
        urgencies=tickets.URGENCIES,
        urgency_labels=URGENCY_LABELS,
    ), status


@bp.get("/settings")
@role_required(*MANAGERS)
def settings_page():
    return _settings_page()[0]


@bp.post("/settings")
@role_required(*MANAGERS)
def save_settings_form():
    typed = {key: value[:600] for key, value in request.form.items() if key != "csrf_token"}
    db = get_db()
    try:
        stored = building.current(db)["settings"]["ticket_contacts"]
        tickets.save_settings(
            db,
            get_clock(),
            sla=parse_sla(typed),
            contacts=parse_contacts(typed, stored),
            actor=f"staff:{g.staff['id']}",
        )
    except LobbyDeskError as error:
        return _settings_page(typed, error=error, status=error.http_status)
    flash("保存成功 · Saved.", "ok")
    return redirect(url_for("tickets.settings_page"))
