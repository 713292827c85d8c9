"""Repair requests, the home emergency and ticket status: what their kv buttons call
(app.repair_action("pick_problem", …)) and how their screens follow the view-models.
A mixin of LobbyKioskApp (kiosk/app.py), which owns the view-models."""

from __future__ import annotations

from kiosk.screen_names import HOME, REPAIR_SCREENS, TICKET_SCREENS
from kiosk.viewmodels import repair as rep


class RepairDesk:
    def begin_repair(self) -> None:
        self.visitor.reset()
        self.sign_out.reset()
        self.parcel.reset()
        self.ticket_status.reset()
        self.repair.begin(self.store.get(rep.SETTINGS_KEY))
        self.refresh_visitor_settings()  # the answer also refreshes the repair settings
        self.show_repair(navigate=True)

    def begin_sos(self) -> None:
        """ "紧急求助 · Emergency" on home: the hazards, no unit (kiosk/viewmodels/sos.py)."""
        self.visitor.reset()
        self.sign_out.reset()
        self.parcel.reset()
        self.ticket_status.reset()
        self.repair.begin_sos()
        self.show_repair(navigate=True)

    def repair_action(self, action: str, *args, navigate: bool = True):
        """Run RepairViewModel.<action>(*args), carry out what it asks, show the result."""
        effect = getattr(self.repair, action)(*args)
        self._carry_out(self.repair, effect)
        self.show_repair(navigate=navigate)
        return effect

    def finish_repair(self) -> None:
        self.repair.reset()
        self.show_repair()
        self.root.current = HOME

    def begin_ticket_status(self) -> None:
        self.repair.reset()
        self.show_repair()
        self.ticket_status.begin()
        self.show_ticket_status(navigate=True)

    def ticket_action(self, action: str, *args):
        """Run TicketStatusViewModel.<action>(*args): scanner, keypad, look up, rate."""
        effect = getattr(self.ticket_status, action)(*args)
        self._carry_out(self.ticket_status, effect)
        self.show_ticket_status(navigate=True)
        return effect

    def finish_ticket_status(self) -> None:
        self.ticket_status.reset()
        self.show_ticket_status()
        self.root.current = HOME

    def show_repair(self, navigate: bool = False) -> None:
        """Show the repair flow; go to its current step if asked, or if already in it."""
        if self.root is None:
            return
        now = self.clock.now()
        for name in REPAIR_SCREENS.values():
            self.root.get_screen(name).show(self.repair, self.session, now)
        if navigate or self.root.current in REPAIR_SCREENS.values():
            self.root.current = REPAIR_SCREENS.get(self.repair.step, HOME)

    def show_ticket_status(self, navigate: bool = False) -> None:
        if self.root is None:
            return
        now = self.clock.now()
        for name in set(TICKET_SCREENS.values()):
            self.root.get_screen(name).show(self.ticket_status, self.session, now)
        if navigate or self.root.current in TICKET_SCREENS.values():
            self.root.current = TICKET_SCREENS.get(self.ticket_status.state, HOME)
