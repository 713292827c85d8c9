"""What the app expects of every flow's view-model (`FlowViewModel`, a Protocol), and
`FlowModel`, the small base class with the life cycle most of them share.

A view-model is a plain state machine: the app calls its actions (kiosk/actions.py),
carries out the effect an action returns (kiosk/viewmodels/effects.py), and hands it
the outbox's and the feed's news through the `on_*` methods; each answers True when
the news was about it (the app then redraws). No I/O, no Kivy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from kiosk.refusals import Refusal
from shared.clock import SystemClock

IDLE = "idle"  # every flow starts and ends here: nothing of anyone is kept
ENTRY = "entry"  # the first step of the flows that start on one entry screen
SAVING = "saving"  # an Enqueue returned, the outbox not yet committed
WAITING = "waiting"  # committed, the console reachable: its answer is awaited
OFFLINE = "offline"  # committed while offline: sent when the connection is back
FAILED = "failed"


@runtime_checkable
class FlowViewModel(Protocol):
    online: bool

    @property
    def is_reset(self) -> bool:
        """Nothing of the last person left (the idle reset has nothing to forget)."""

    def reset(self) -> None: ...

    def holds_screen(self, now: datetime | None = None) -> bool:
        """An answer is on its way that the person must see: no idle reset under it."""

    def on_saved(self, outbox_id: int) -> None: ...

    def on_save_failed(self) -> None: ...

    def on_acked(self, outbox_id: int, response: dict | None) -> bool: ...

    def on_dead(self, outbox_id: int, refusal: Refusal) -> bool: ...

    def on_feed_event(self, event: dict) -> bool: ...

    def on_online(self, online: bool) -> None: ...


class FlowModel:
    """The shared life cycle: `reset()` forgets everything and makes any answer still
    on its way stale (`generation`), `begin()` opens the entry step, and the outbox's
    news is matched against the one item this flow waits for (`outbox_id`).

    Subclasses extend `reset()` (calling this one first), and set WAITING_STATES: the
    states in which their outbox item may still be refused (`on_dead` → FAILED)."""

    STEP_ATTRIBUTE = "state"  # the attribute naming the current step (the app follows it)
    WAITING_STATES: tuple[str, ...] = ()

    def __init__(self, clock=None):
        self.clock = clock or SystemClock()
        self.online = False
        self.generation = 0
        self.reset()

    def reset(self) -> None:
        self.generation += 1  # answers to earlier queries are now ignored
        self.state: str | None = IDLE
        self.outbox_id: int | None = None
        self.failure_code: str | None = None

    @property
    def current_step(self) -> str | None:
        return getattr(self, self.STEP_ATTRIBUTE)

    @property
    def is_reset(self) -> bool:
        return self.current_step == IDLE

    def holds_screen(self, now: datetime | None = None) -> bool:
        return False

    def begin(self) -> None:
        self.reset()
        self.state = ENTRY

    def is_ours(self, outbox_id: int, states) -> bool:
        """This outbox news is about the item this flow waits for, in one of `states`."""
        return outbox_id == self.outbox_id and self.state in states

    # -- the outbox's and the feed's news ------------------------------------
    def on_save_failed(self) -> None:
        if self.state == SAVING:
            self.state = FAILED
            self.failure_code = "not_saved"

    def on_dead(self, outbox_id: int, refusal: Refusal) -> bool:
        if not self.is_ours(outbox_id, self.WAITING_STATES):
            return False
        self.state = FAILED
        self.failure_code = refusal.code or "refused"
        return True

    def on_feed_event(self, event: dict) -> bool:
        return False

    def on_online(self, online: bool) -> None:
        self.online = online


class StepFlowModel(FlowModel):
    """A flow of several steps with the building's settings (visitor, repair): `step`
    is where the person is, `state` the outcome of what they sent (None before)."""

    STEP_ATTRIBUTE = "step"
    FIRST_STEP = ""  # where begin() opens the flow

    @staticmethod
    def settings_from(body: dict | None) -> dict:
        return dict(body or {})

    def __init__(self, clock=None, settings: dict | None = None):
        self.settings = self.settings_from(settings)
        super().__init__(clock)

    def reset(self) -> None:
        super().reset()
        self.step = IDLE
        self.state = None
        self.error_key: str | None = None
        self.error_values: dict = {}
        self.saved_at: datetime | None = None

    def begin(self, settings: dict | None = None) -> None:
        """A fresh flow at its first step, with the settings cached at the kiosk."""
        self.reset()
        if settings is not None:
            self.settings = self.settings_from(settings)
        self.step = self.FIRST_STEP

    def apply_settings(self, body: dict | None) -> None:
        self.settings = self.settings_from(body)

    def on_saved(self, outbox_id: int) -> None:
        if self.state != SAVING:
            return
        self.outbox_id = outbox_id
        self.state = WAITING if self.online else OFFLINE
        self.saved_at = self.clock.now()
        self._clear_personal()  # the outbox has it now, until the console acknowledges

    def _clear_personal(self) -> None:
        """Forget what the person typed that the outbox now holds."""
