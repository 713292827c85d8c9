"""The visitor registration's screens (VISITOR_STEPS in kiosk/flows.py): what they
share beyond any flow's screen is where their actions go."""

from __future__ import annotations

from kiosk.screens.flow_base import FlowScreen, both, text_or_empty  # noqa: F401


class VisitorScreen(FlowScreen):
    """One step of the visitor flow: `show(vm, …)` gets the VisitorViewModel."""
