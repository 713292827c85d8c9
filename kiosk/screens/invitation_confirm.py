"""An invited visitor's pass was scanned at home: "欢迎 张** · 拜访 1201" (or, offline,
the generic welcome), and 确认入场 · Sign in (kiosk/viewmodels/invitation.py)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk.screens.flow_base import FlowScreen, both
from kiosk.viewmodels import invitation as inv

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class InvitationConfirmScreen(FlowScreen):
    greeting_text = StringProperty("")
    greeting_english = StringProperty("")
    party_text = StringProperty("")
    ready = BooleanProperty(False)

    def show(self, vm, session, now) -> None:
        self.ready = vm.state == inv.CONFIRM
        if vm.state == inv.CHECKING:
            self.greeting_text, self.greeting_english = both(session, "invite.checking")
        elif vm.greeting_zh:
            # The console's own words, both languages (names stay masked: 张**).
            self.greeting_text = vm.greeting(session.language)
            self.greeting_english = vm.greeting("en") if session.language != "en" else ""
        else:
            self.greeting_text, self.greeting_english = both(session, vm.message_key)
        party = vm.party_size if self.ready and vm.greeting_zh and vm.party_size > 1 else 0
        self.party_text = session.text("invite.party", n=party) if party else ""
        # No "tap Sign in to finish" line: the green button says it, and reading it was
        # 2.6 s of a 15 s budget (bench/walk_in_klm.py).
