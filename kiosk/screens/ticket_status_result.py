"""A found repair ticket: its status (both languages), what it is about, the latest
update staff made visible and when; once resolved and found by its QR, five big
rating buttons, and for a low rating the reasons to choose from and a submit.
Found by number + unit, a resolved ticket asks for its QR instead (only the QR
rates): the USB scanner types into a focused field here too, as on the entry."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk import icons, theme
from kiosk.actions import Action
from kiosk.screens.flow_base import ScanningScreen, both
from kiosk.screens.repair_widgets import ChoiceCard, bilingual
from kiosk.viewmodels import ticket_status as ts

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

STATUS_COLOURS = {
    "new": theme.AMBER,
    "assigned": theme.VISITOR,
    "in_progress": theme.VISITOR,
    "resolved": theme.GREEN,
    "closed": theme.MUTED,
}


class RatingButton(ButtonBehavior, BoxLayout):
    stars = NumericProperty(0)
    icon = StringProperty("")
    selected = BooleanProperty(False)


class TicketStatusResultScreen(ScanningScreen):
    SCAN_ACTION = Action.TICKET_STATUS_SCANNED  # the QR on the ticket, to rate it

    title_text = StringProperty("")
    status_text = StringProperty("")
    status_english = StringProperty("")
    status_colour = ColorProperty(theme.INK)
    what_text = StringProperty("")
    latest_caption = StringProperty("")
    latest_text = StringProperty("")
    can_rate = BooleanProperty(False)
    asks_reasons = BooleanProperty(False)
    rating_note = StringProperty("")
    scan_to_rate = BooleanProperty(False)
    scan_text = StringProperty("")
    scan_error = StringProperty("")
    checking_qr = BooleanProperty(False)
    qr_icon = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        self.rating_buttons: dict[int, RatingButton] = {}
        for stars in range(1, 6):
            button = RatingButton(stars=stars)
            button.bind(on_release=self._rated)
            self.rating_buttons[stars] = button
            self.ids.ratings.add_widget(button)
        self.reason_chips: dict[str, ChoiceCard] = {}
        for key, _zh, _en in ts.reasons():
            chip = ChoiceCard(key=key, primary_size=38, bg_color=theme.AMBER)
            chip.bind(on_release=self._toggled)
            self.reason_chips[key] = chip
            self.ids.reasons.add_widget(chip)

    def _rated(self, button) -> None:
        self.act(Action.TICKET_STATUS_RATE, int(button.stars))

    def _toggled(self, chip) -> None:
        self.act(Action.TICKET_STATUS_TOGGLE_REASON, chip.key)

    def scan_ready(self) -> bool:
        return self.scan_to_rate and not self.checking_qr

    def show(self, vm, session, now) -> None:
        summary = vm.summary
        language = session.language
        self.scan_to_rate = vm.scan_to_rate
        self.checking_qr = vm.checking_qr
        self.qr_icon = icons.glyph("qrcode")
        if vm.checking_qr:
            self.scan_error = session.text("ticket.looking")
        else:
            primary, english = both(session, vm.error_key if vm.state == ts.FOUND else None)
            self.scan_error = f"{primary}\n{english}" if english else primary
        self.focus_scanner(self.scan_ready())
        if summary is None:
            self.title_text = self.status_text = self.status_english = ""
            self.what_text = self.latest_caption = self.latest_text = self.rating_note = ""
            self.scan_text = ""
            self.can_rate = self.asks_reasons = False
            return
        self.title_text = session.text("ticket.result.title", number=summary["number"])
        self.status_text = vm.status_words(language)
        self.status_english = vm.status_words("en") if language != "en" else ""
        self.status_colour = STATUS_COLOURS.get(summary["status"], theme.INK)
        self.what_text = vm.what(language)
        if language != "en":
            self.what_text += "\n" + vm.what("en")
        at = vm.latest_at
        self.latest_caption = session.text("ticket.latest", at=at) if vm.latest_text else ""
        self.latest_text = vm.latest_text or session.text("ticket.no_update")
        self.can_rate = vm.can_rate
        self.asks_reasons = vm.asks_reasons
        key, values = vm.rating_note()
        primary, english = both(session, key, **values)
        note = f"{primary}\n{english}" if english else primary
        # "To rate, scan the QR code on your ticket" stands out above the scan field
        self.scan_text = note if vm.scan_to_rate else ""
        self.rating_note = "" if vm.scan_to_rate else note
        star = icons.glyph("star")
        for stars, button in self.rating_buttons.items():
            button.icon = star
            button.selected = vm.rating == stars
        for key, zh, en in ts.reasons():
            chip = self.reason_chips[key]
            chip.primary, chip.secondary = bilingual(language, zh, en)
            chip.selected = key in vm.reasons
