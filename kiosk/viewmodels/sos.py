""" "紧急求助 · Emergency" from the home screen (S8): no unit, two taps to the red screen.

A person stuck beside a broken lift, or who sees smoke or a burst pipe in the
lobby, has no unit number (and a visitor has none at all): the seven taps of
unit → category → problem were in the way. Here the hazard is picked from three
big buttons and the desk is alerted through the help-call path (POST
/api/v1/escalations, the one writer of a kiosk's call for a person) with the
screen named after the hazard, so the live queue shows it at once with the
60-second clock. The red screen is the repair flow's own (same steps, same
desk phone); it just has no ticket number to show.
"""

from __future__ import annotations

from kiosk.viewmodels import help_call
from kiosk.viewmodels.effects import Enqueue
from shared.clock import to_iso

SOS = "sos"  # the step: pick the hazard

# hazard → (category, problem) of the catalog: its label and its safety steps
HAZARDS = {
    "elevator": ("elevator", "trapped"),
    "fire": ("security", "fire"),
    "water": ("water", "burst_pipe"),
}


def alert_screen(hazard: str) -> str:
    """The help call's `screen` (^[a-z_]{1,32}$): what the desk reads in the queue."""
    return f"sos_{hazard}"


class SosEntry:
    """Mixin for RepairViewModel: the emergency button of the home screen."""

    def begin_sos(self) -> None:
        self.reset()
        self.step = SOS

    def pick_hazard(self, hazard: str, language: str) -> Enqueue | None:
        """One tap: the red instructions at once and the desk alerted (queued now)."""
        if self.step != SOS or hazard not in HAZARDS:
            return None
        from kiosk.viewmodels.repair import EMERGENCY, SAVING

        self.category_key, self.problem_key = HAZARDS[hazard]
        self.without_unit = True
        self.urgency, self.hazard = "emergency", hazard
        self.step, self.state = EMERGENCY, SAVING
        self.saved_at = self.clock.now()
        body = {
            "kind": "help",
            "created_at": to_iso(self.saved_at),
            "language": "en" if language == "en" else "zh_CN",
            "screen": alert_screen(hazard),
        }
        return Enqueue(help_call.KIND, help_call.PATH, body, help_call.METHOD)
