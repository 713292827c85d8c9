""" "紧急求助 · Emergency" from home: three big hazards, no unit (kiosk/viewmodels/sos.py)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

from kiosk.screens.flow_base import FlowScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class RepairSosScreen(FlowScreen):
    def show(self, vm, session, now) -> None:
        """Nothing personal to show: the texts follow the language in kv."""
