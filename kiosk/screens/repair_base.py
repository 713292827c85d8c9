"""The repair flow's and the ticket lookup's screens by name (one module + .kv each)."""

from __future__ import annotations


def repair_screens() -> dict:
    """Screen name → class (imported here: loading .kv needs Kivy)."""
    from kiosk.screens.repair_category import RepairCategoryScreen
    from kiosk.screens.repair_details import RepairDetailsScreen
    from kiosk.screens.repair_done import RepairDoneScreen
    from kiosk.screens.repair_emergency import RepairEmergencyScreen
    from kiosk.screens.repair_problem import RepairProblemScreen
    from kiosk.screens.repair_sos import RepairSosScreen
    from kiosk.screens.repair_unit import RepairUnitScreen
    from kiosk.screens.repair_urgency import RepairUrgencyScreen
    from kiosk.screens.ticket_status import TicketStatusScreen
    from kiosk.screens.ticket_status_result import TicketStatusResultScreen
    from kiosk.screens.ticket_status_thanks import TicketStatusThanksScreen

    return {
        "repair_unit": RepairUnitScreen,
        "repair_category": RepairCategoryScreen,
        "repair_problem": RepairProblemScreen,
        "repair_urgency": RepairUrgencyScreen,
        "repair_details": RepairDetailsScreen,
        "repair_done": RepairDoneScreen,
        "repair_emergency": RepairEmergencyScreen,
        "repair_sos": RepairSosScreen,
        "ticket_status": TicketStatusScreen,
        "ticket_status_result": TicketStatusResultScreen,
        "ticket_status_thanks": TicketStatusThanksScreen,
    }
