"""Repairs and complaints for reception (S5, S6): the list, the desk form, the
ticket page with its workflow forms, the work order and the SLA settings.

Every change goes through shared.tickets (which audits it). A form with bad
input is shown again with the error and everything typed; a good one
redirects (post/redirect/get).

The package, by seam: present (labels, times, the SLA clock, messages after a
change), forms (what the forms send, checked), routes (list, desk form, photo,
work order, the queue's emergency rows), page (a ticket's page and its workflow
forms), settings (the manager's SLA and departments page).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tickets", __name__, url_prefix="/tickets")
STAFF = ("reception", "manager")
MANAGERS = ("manager",)

# The routes register on bp when imported; the names below are the package's words.
from console.tickets import page, routes, settings  # noqa: E402, F401
from console.tickets.forms import FormInvalid, parse_contacts, parse_sla  # noqa: E402
from console.tickets.present import (  # noqa: E402
    KIND_LABELS,
    STATUS_LABELS,
    URGENCY_LABELS,
    message_for,
    sla_clock,
)

__all__ = [
    "KIND_LABELS",
    "MANAGERS",
    "STAFF",
    "STATUS_LABELS",
    "URGENCY_LABELS",
    "FormInvalid",
    "bp",
    "message_for",
    "parse_contacts",
    "parse_sla",
    "sla_clock",
]
