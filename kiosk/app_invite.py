"""Invited visitors (a pass scanned at home) and the resident-page link asked for at the
kiosk: what their kv buttons call and how their screens follow the view-models. A mixin
of LobbyKioskApp (kiosk/app.py), which owns the view-models and carries out effects."""

from __future__ import annotations

from kivy.properties import BooleanProperty

from kiosk import pass_keys
from kiosk.screen_names import HOME, INVITE_CONFIRM, INVITE_RESULT, RESIDENT_LINK
from kiosk.viewmodels import invitation as inv


class InviteDesk:
    update_needed = BooleanProperty(False)  # the console answered 426: the status line says so

    def add_invite_screens(self, manager) -> None:
        from kiosk.screens.invitation_confirm import InvitationConfirmScreen
        from kiosk.screens.invitation_result import InvitationResultScreen
        from kiosk.screens.resident_link import ResidentLinkScreen

        manager.add_widget(InvitationConfirmScreen(name=INVITE_CONFIRM))
        manager.add_widget(InvitationResultScreen(name=INVITE_RESULT))
        manager.add_widget(ResidentLinkScreen(name=RESIDENT_LINK))

    # -- the pass scanned at home (the scanner types into home's hidden field) ---
    def invite_scanned(self, text: str):
        """Verified with the stored key (read here: one small row), then the console."""
        for flow in self.flows:
            if flow is not self.invitation and flow is not self.help_call:
                flow.reset()
        key = pass_keys.verifying_key(self.store)
        return self.invite_action("scanned", text, key, self.language)

    def invite_action(self, action: str, *args):
        """Run InvitationViewModel.<action>(*args), carry out its effect, show it."""
        effect = getattr(self.invitation, action)(*args)
        self._carry_out(self.invitation, effect)
        self.show_invitation(navigate=True)
        return effect

    def finish_invitation(self) -> None:
        self.invitation.reset()
        self.show_invitation()
        self.root.current = HOME

    def show_invitation(self, navigate: bool = False) -> None:
        if self.root is None:
            return
        now, vm = self.clock.now(), self.invitation
        for name in (INVITE_CONFIRM, INVITE_RESULT):
            self.root.get_screen(name).show(vm, self.session, now)
        if navigate or self.root.current in (INVITE_CONFIRM, INVITE_RESULT):
            if vm.state == inv.IDLE:
                self.root.current = HOME
            else:
                self.root.current = INVITE_RESULT if vm.finished else INVITE_CONFIRM

    # -- the resident's page link (from the parcel screen) -------------------
    def begin_resident_link(self) -> None:
        self.parcel.reset()
        self.show_parcel()
        self.resident_link.begin()
        self.show_resident_link()
        self.root.current = RESIDENT_LINK

    def resident_link_action(self, action: str, *args):
        effect = getattr(self.resident_link, action)(*args)
        self._carry_out(self.resident_link, effect)
        self.show_resident_link()
        return effect

    def finish_resident_link(self) -> None:
        self.resident_link.reset()
        self.show_resident_link()
        self.root.current = HOME

    def show_resident_link(self) -> None:
        if self.root is not None:
            self.root.get_screen(RESIDENT_LINK).show(
                self.resident_link, self.session, self.clock.now()
            )

    # -- the sync worker's "update needed" (already on the main thread) ------
    def sync_update_needed(self, needed: bool) -> None:
        self.update_needed = needed
