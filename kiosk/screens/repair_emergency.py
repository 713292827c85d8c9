"""An emergency problem (burst pipe, smoke, someone trapped): a full red screen at once,
before any network, with the hazard's safety steps in both languages, the desk
phone, and whether reception has been alerted yet (the ticket goes through the
outbox; the console raises the emergency escalation)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk import icons
from kiosk.screens import repair_widgets  # noqa: F401
from kiosk.screens.flow_base import FlowScreen
from kiosk.screens.repair_urgency import what
from kiosk.viewmodels import repair

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


def numbered(steps: list[str]) -> str:
    return "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))


class RepairEmergencyScreen(FlowScreen):
    warning_icon = StringProperty("")
    phone_icon = StringProperty("")
    what_text = StringProperty("")
    status_text = StringProperty("")
    status_other = StringProperty("")
    steps_text = StringProperty("")
    steps_other = StringProperty("")
    phone_caption = StringProperty("")
    phone_text = StringProperty("")
    detail_text = StringProperty("")
    number_text = StringProperty("")
    alerted = BooleanProperty(False)
    wide = BooleanProperty(False)
    offer_call = BooleanProperty(False)

    def show(self, vm, session, now) -> None:
        if vm.step != repair.EMERGENCY:
            self.what_text = self.status_text = self.status_other = ""
            self.steps_text = self.steps_other = self.phone_text = self.phone_caption = ""
            self.detail_text = self.number_text = ""
            self.alerted = self.offer_call = False
            return
        first = "en" if session.language == "en" else "zh_CN"
        other = "zh_CN" if first == "en" else "en"
        self.warning_icon = icons.glyph("warning")
        self.phone_icon = icons.glyph("phone") if vm.desk_phone else ""
        self.what_text = f"{what(first, vm)}\n{what(other, vm)}"
        key = vm.outcome_key()
        self.status_text = session.text_in(first, key) if key else ""
        self.status_other = session.text_in(other, key) if key else ""
        self.steps_text = numbered(vm.instructions(first))
        self.steps_other = numbered(vm.instructions(other))
        self.phone_text = vm.desk_phone
        self.phone_caption = (
            " · ".join(
                session.text_in(lang, "repair.emergency.desk_phone") for lang in (first, other)
            )
            if vm.desk_phone
            else ""
        )
        detail = vm.outcome_detail_key()
        self.detail_text = (
            f"{session.text_in(first, detail)}\n{session.text_in(other, detail)}" if detail else ""
        )
        self.number_text = (
            " · ".join(
                session.text_in(lang, "repair.emergency.ticket", number=vm.number)
                for lang in (first, other)
            )
            if vm.number
            else ""
        )
        self.alerted = vm.state == repair.SENT
        self.offer_call = vm.state in (repair.FAILED, repair.OFFLINE) or (
            vm.state == repair.WAITING and not vm.online
        )
