"""The building's people and units on the console: the directory, unit pages,
move-in and move-out, the roster import/export and residents' messages.

Reception reads; managers (and admins) edit; every change goes through
shared/residents/ and shared/units.py and is audited there.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("residents", __name__, url_prefix="/residents")
READ = ("reception", "manager")  # role_required lets admin in too
EDIT = ("manager",)

# The pages register their routes on bp when imported.
from console.residents import (  # noqa: E402, F401
    directory,
    messages,
    page_link,
    people,
    roster,
    unit_pages,
)
