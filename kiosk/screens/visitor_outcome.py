"""After submit: waiting for reception (live, with a clock), then welcome + pass QR,
"please see reception", or an honest offline / failed message."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, ObjectProperty, StringProperty

from kiosk import qr, theme
from kiosk.screens.flow_base import both, text_or_empty
from kiosk.screens.visitor_base import VisitorScreen
from kiosk.viewmodels import visitor as visit

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

ACCENTS = {
    visit.SAVING: theme.MUTED,
    visit.WAITING: theme.AMBER,
    visit.OFFLINE: theme.AMBER,
    visit.SENT: theme.VISITOR,
    visit.CONFIRMED: theme.GREEN,
    visit.DENIED: theme.RED,
    visit.FAILED: theme.RED,
}


class VisitorOutcomeScreen(VisitorScreen):
    state = StringProperty("")
    status_text = StringProperty("")
    status_english = StringProperty("")
    detail_text = StringProperty("")
    elapsed_text = StringProperty("")
    go_to_text = StringProperty("")
    directions_text = StringProperty("")
    confirmed = BooleanProperty(False)
    offer_call = BooleanProperty(False)
    done_key = StringProperty("nav.done")  # says what the button does (below)
    accent = ColorProperty(theme.MUTED)
    qr_texture = ObjectProperty(None, allownone=True)

    def show(self, vm, session, now) -> None:
        self.state = vm.state or ""
        if vm.step != visit.OUTCOME:
            self.status_text = self.status_english = self.detail_text = ""
            self.elapsed_text = self.go_to_text = self.directions_text = ""
            self.confirmed = self.offer_call = False
            self._token, self.qr_texture = None, None
            return
        self.status_text, self.status_english = both(session, vm.outcome_key(now))
        self.detail_text = text_or_empty(session, vm.outcome_detail_key(now))
        self.elapsed_text = (
            session.text("help.elapsed", seconds=vm.elapsed_seconds(now))
            if vm.shows_elapsed
            else ""
        )
        self.confirmed = vm.state == visit.CONFIRMED
        self.offer_call = vm.state in (visit.DENIED, visit.FAILED)
        # Waiting, it leaves without a pass; after a refusal it only goes back.
        self.done_key = (
            "visitor.outcome.leave"
            if vm.state in visit.UNDECIDED
            else "nav.done"
            if vm.state == visit.CONFIRMED
            else "nav.back_to_start"
        )
        self.accent = ACCENTS.get(vm.state, theme.MUTED)
        if self.confirmed:
            self.go_to_text = session.text("visitor.outcome.go_to", unit=vm.outcome_unit)
            language = "en" if session.language == "en" else "zh_CN"
            self.directions_text = vm.directions.get(language, "")
        else:
            self.go_to_text = self.directions_text = ""
        token = vm.pass_token if self.confirmed else None
        if token != getattr(self, "_token", None):
            self._token = token
            self.qr_texture = qr.pass_texture(token) if token else None
