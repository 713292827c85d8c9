"""The visitor registration's step screens (VISITOR_STEPS in kiosk/flows.py). Every
other flow's screen is a FlowScreen (kiosk/screens/flow_base.py) directly."""

from __future__ import annotations

from kiosk.screens.flow_base import FlowScreen


class VisitorScreen(FlowScreen):
    """One step of the visitor flow: `show(vm, …)` gets the VisitorViewModel."""
