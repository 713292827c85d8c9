"""After 确认入场 · Sign in: signed in (the host told, a sign-out pass QR), recorded
offline (honestly: the visit is saved, the desk told when the console is back),
"请到前台 · Please see the desk", or a refusal with "Call reception" at hand."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, ObjectProperty, StringProperty

from kiosk import qr, theme
from kiosk.screens.flow_base import FlowScreen, both, text_or_empty
from kiosk.viewmodels import invitation as inv

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

ACCENTS = {
    inv.SIGNED_IN: theme.GREEN,
    inv.RECORDED: theme.AMBER,
    inv.SEE_STAFF: theme.AMBER,
    inv.REFUSED: theme.RED,
}
DETAILS = {
    inv.SIGNED_IN: "invite.signed_in_detail",
    inv.RECORDED: "invite.recorded_detail",
    inv.SEE_STAFF: "invite.see_staff_detail",
    inv.REFUSED: "invite.refused_detail",
}


class InvitationResultScreen(FlowScreen):
    status_text = StringProperty("")
    status_english = StringProperty("")
    go_to_text = StringProperty("")
    detail_text = StringProperty("")
    signed_in = BooleanProperty(False)
    offer_call = BooleanProperty(False)
    accent = ColorProperty(theme.MUTED)
    qr_texture = ObjectProperty(None, allownone=True)

    def show(self, vm, session, now) -> None:
        self.status_text, self.status_english = both(session, vm.message_key)
        self.detail_text = text_or_empty(session, DETAILS.get(vm.state))
        self.signed_in = vm.state == inv.SIGNED_IN
        self.offer_call = vm.offer_call
        self.accent = ACCENTS.get(vm.state, theme.MUTED)
        self.go_to_text = (
            session.text("invite.go_to", unit=vm.unit) if self.signed_in and vm.unit else ""
        )
        token = vm.pass_token if self.signed_in else None
        if token != getattr(self, "_token", None):
            self._token = token
            self.qr_texture = qr.pass_texture(token) if token else None
