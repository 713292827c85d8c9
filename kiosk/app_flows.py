"""What screens ask of the flows, dispatched through the flow registry (kiosk/flows.py):
`act(Action…)`, `begin(Entry…)`, `finish(FlowName…)`, and `show()`, which copies a
flow's state into its screens and follows its step. The effects the view-models return
are carried out here (a console read on the query worker, a write through the outbox).
A mixin of LobbyKioskApp (kiosk/app.py), which owns the view-models (`self.models`).
"""

from __future__ import annotations

import logging
import sqlite3

from kiosk import outbox_policy, pass_keys
from kiosk import store as keys
from kiosk.actions import Action
from kiosk.client import RETRYABLE, Result
from kiosk.flows import FLOWS, SERVICES, Entry, FlowName
from kiosk.screen_names import HELP, HOME
from kiosk.viewmodels import home as tiles
from kiosk.viewmodels import repair as rep
from kiosk.viewmodels import visitor as visit
from kiosk.viewmodels.effects import Enqueue, Query

log = logging.getLogger("kiosk.app")

_NO_ANSWER = Result(RETRYABLE, message="no query worker")


class FlowDesk:
    # -- what screens ask ----------------------------------------------------
    def act(self, action: Action, *args, navigate: bool = True):
        """Run the action's view-model method, carry out what it asks, show the result."""
        if not isinstance(action, Action):
            raise TypeError(f"not a kiosk action: {action!r}")  # a typo fails at once
        model = self.models[action.flow]
        effect = getattr(model, action.method)(*args)
        self._carry_out(model, effect)
        self.show(action.flow, navigate=navigate)
        return effect

    def begin(self, entry: Entry) -> None:
        """Start a flow afresh. Every other flow is left (a help call under way stays)."""
        way = entry.value
        for name, model in self.models.items():
            if name not in (way.flow, FlowName.HELP):
                model.reset()
        start = getattr(self.models[way.flow], way.start)
        if way.settings_key is None:
            start()
        else:
            start(self.store.get(way.settings_key))
            self.refresh_visitor_settings()  # the answer refreshes the repair settings too
        self.refresh()
        flow = FLOWS[way.flow]
        if flow.step_screen is None:
            self.root.current = next(iter(flow.screens))  # its one screen
        self.show(way.flow, navigate=True)

    def open_service(self, service: str) -> None:
        """A home tile ("visitor", "parcel", "repair")."""
        if service not in SERVICES:
            raise ValueError(f"no such service: {service}")
        if not tiles.available(service, self.online):
            return  # the greyed tile already says why; nothing to type in vain
        self.begin(SERVICES[service])

    def finish(self, flow: FlowName) -> None:
        """ "Done" / "Home" at the end of a flow: nothing of it stays behind."""
        self.models[flow].reset()
        self.withdraw_from_outbox()  # e.g. a parcel pickup nobody waits for now
        self.show(flow)
        self.root.current = HOME

    def invite_scanned(self, text: str):
        """A pass scanned at home: verified with the stored key (one small row), then
        by the console."""
        for name, model in self.models.items():
            if name not in (FlowName.INVITATION, FlowName.HELP):
                model.reset()
        key = pass_keys.verifying_key(self.store)
        return self.act(Action.INVITATION_SCANNED, text, key, self.language)

    def go_home(self) -> None:
        if self.help_call.state in ("resolved", "failed"):
            self.help_call.reset()
        # Leaving a flow abandons it: nothing of it stays behind.
        for name, model in self.models.items():
            if name != FlowName.HELP:
                model.reset()
        self.withdraw_from_outbox()
        self.root.current = HOME
        self.refresh()

    # -- drawing -------------------------------------------------------------
    def show(self, name: FlowName, navigate: bool = False) -> None:
        """Copy a flow's state into its screens; go to the screen of its step if asked,
        or if already on one of its screens."""
        if self.root is None:
            return
        flow, model, now = FLOWS[name], self.models[name], self.clock.now()
        for screen in flow.screens:
            self.root.get_screen(screen).show(model, self.session, now)
        if flow.step_screen is not None and (navigate or self.root.current in flow.screens):
            self.root.current = flow.step_screen(model)

    def refresh(self) -> None:
        """Copy every flow's state into its screens (after a change or a language switch)."""
        for name in FLOWS:
            self.show(name)

    def show_live_screen(self) -> None:
        """Each second: the screen on show, if it carries a clock."""
        current = self.root.current if self.root is not None else None
        for flow in FLOWS.values():
            if current in flow.live:
                self.show(flow.name)

    # -- effects ---------------------------------------------------------------
    def _carry_out(self, model, effect) -> None:
        if isinstance(effect, Query):
            if self.queries is None:
                getattr(model, effect.then)(effect.generation, _NO_ANSWER)
                return
            self.queries.submit(
                effect.call, effect.args, lambda result: self._answered(model, effect, result)
            )
        elif isinstance(effect, Enqueue):
            self._enqueue(model, effect.kind, effect.path, effect.body, effect.method)

    def _enqueue(self, model, kind: str, path: str, body: dict, method: str) -> int | None:
        """Durable before the screen says "saved" (SECURITY.md 29)."""
        try:
            outbox_id = self.outbox.enqueue(kind, path, body, method)
        except sqlite3.Error:
            log.exception("could not save %s", kind)
            model.on_save_failed()
            return None
        self.storage_desk.wrote()
        model.on_saved(outbox_id)
        if self.worker is not None:
            self.worker.wake()
        return outbox_id

    def _answered(self, model, effect: Query, result) -> None:
        if getattr(model, effect.then)(effect.generation, result):
            follow_up = getattr(model, "follow_up", None)  # e.g. "Register" once the unit is in
            if follow_up is not None:
                self._carry_out(model, follow_up())
            self.refresh()

    def call_reception(self, screen: str) -> int | None:
        """Queue one help call; the screen says "saved" only after the commit."""
        order = self.help_call.start(self.language, screen)
        self.root.current = HELP
        self.show(FlowName.HELP)
        if order is None:  # a call is already under way: show it, queue nothing
            return None
        outbox_id = self._enqueue(
            self.help_call, order["kind"], order["path"], order["body"], order["method"]
        )
        self.show(FlowName.HELP)
        return outbox_id

    def withdraw_from_outbox(self, starting: bool = False) -> None:
        """What must not wait for the worker's retries (kiosk/outbox_policy.py), told to
        the flows as if the console had refused it."""
        now = self.clock.now()
        withdrawn = outbox_policy.withdraw_stale_pickups(self.outbox, self.parcel, now, starting)
        for item in withdrawn:
            self.sync_dead(item.outbox_id, item.kind, item.refusal)

    def withdraw_refused_ratings(self) -> None:
        for item in outbox_policy.withdraw_refused_ratings(self.outbox):
            self.sync_dead(item.outbox_id, item.kind, item.refusal)

    # -- the building's settings -----------------------------------------------
    def refresh_visitor_settings(self) -> None:
        """Fetch the building's visitor settings; cache them for offline use."""
        if self.queries is not None:
            self.queries.submit("get_settings", (), self._settings_answered)

    def _settings_answered(self, result) -> None:
        if not result.ok or not isinstance(result.body, dict):
            return  # offline: the cached copy (or the defaults) stays
        settings = visit.settings_from(result.body)
        repair_settings = rep.settings_from(result.body)
        # Cached for offline use; on a full disk they still apply until the restart.
        self.storage_desk.save(
            **{keys.VISITOR_SETTINGS: settings, rep.SETTINGS_KEY: repair_settings}
        )
        self.repair.apply_settings(repair_settings)
        self.show(FlowName.REPAIR)
        self.visitor.apply_settings(settings)
        self.show(FlowName.VISITOR)
