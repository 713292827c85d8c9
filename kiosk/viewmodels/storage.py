"""What the kiosk says about its own storage (plain Python, tested with no window).

Two things can need saying, on every screen, in both languages:

- the storage is failing now (a full disk, an I/O error): from the first failed
  write, whichever thread met it, until a write succeeds again;
- kiosk.db was found damaged at start and salvaged (kiosk/salvage.py): how many
  waiting items were recovered and how many could not be read. Shown until the
  console has the alert, and for at least INCIDENT_SECONDS, so people near the
  kiosk and staff walking by can read it.
"""

from __future__ import annotations

from datetime import datetime

from kiosk.storage_health import FULL, IO_ERROR
from shared.clock import parse_utc

INCIDENT_SECONDS = 15 * 60
_PROBLEM_KEYS = {FULL: "storage.full", IO_ERROR: "storage.io_error"}


class StorageNoticeModel:
    def __init__(self, incident: dict | None = None):
        self.problem: str | None = None
        self.incident = incident if isinstance(incident, dict) else None

    # -- what happened ------------------------------------------------------
    def on_write_failed(self, problem: str) -> bool:
        """A write met a full disk or an I/O error. True if the notice changed."""
        if problem not in _PROBLEM_KEYS or problem == self.problem:
            return False
        self.problem = problem
        return True

    def on_write_succeeded(self) -> bool:
        """A write went through: the storage takes writes again."""
        changed, self.problem = self.problem is not None, None
        return changed

    def on_acked(self, outbox_id: int) -> bool:
        """The console acknowledged an item: the salvage alert, perhaps."""
        incident = self.incident
        if incident is None or incident.get("delivered") or incident.get("alert_id") != outbox_id:
            return False
        incident["delivered"] = True
        return True

    def incident_over(self, now: datetime) -> bool:
        """The console knows and the notice has been up long enough: forget it."""
        incident = self.incident
        if incident is None or not incident.get("delivered"):
            return False
        try:
            shown = (now - parse_utc(incident.get("at"))).total_seconds()
        except (TypeError, ValueError):
            shown = INCIDENT_SECONDS
        if shown < INCIDENT_SECONDS:
            return False
        self.incident = None
        return True

    # -- what the screen shows ---------------------------------------------
    @property
    def needs_probe(self) -> bool:
        return self.problem is not None

    def messages(self) -> list[tuple[str, dict]]:
        """(translation key, values) for each line, the most urgent first."""
        lines = []
        if self.problem is not None:
            lines.append((_PROBLEM_KEYS[self.problem], {}))
        if self.incident is not None:
            lines.append(salvage_message(self.incident))
        return lines


def salvage_message(incident: dict) -> tuple[str, dict]:
    """The salvage line: recovered, and lost (counted, or only perhaps)."""
    values = {"n": int(incident.get("salvaged") or 0), "lost": int(incident.get("lost") or 0)}
    if values["lost"] and incident.get("uncertain"):
        return "storage.salvaged.lost_and_maybe_more", values
    if values["lost"]:
        return "storage.salvaged.lost", values
    if incident.get("uncertain"):
        return "storage.salvaged.maybe_lost", values
    return "storage.salvaged", values
