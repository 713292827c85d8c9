"""The flow registry: every flow of the kiosk in one table.

Each flow binds its view-model factory, the screens that show it (the class built for
each, imported with the window) and which screen shows each of its steps. The app
builds its screens, view-models and navigation from this table (kiosk/app.py,
kiosk/app_flows.py); what a screen may ask of a flow is kiosk/actions.py, and the ways
into a flow are `Entry` below. A new flow is a row here, not new methods on the app.

No Kivy here: screen classes are named, not imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum

from kiosk import store as keys
from kiosk.screen_names import (
    HELP,
    HOME,
    INVITE_CONFIRM,
    INVITE_RESULT,
    PARCEL,
    REPAIR_CATEGORY,
    REPAIR_DETAILS,
    REPAIR_DONE,
    REPAIR_EMERGENCY,
    REPAIR_PROBLEM,
    REPAIR_SOS,
    REPAIR_UNIT,
    REPAIR_URGENCY,
    RESIDENT_LINK,
    SIGN_OUT,
    TICKET_RESULT,
    TICKET_STATUS,
    TICKET_THANKS,
    VISITOR_NAME,
    VISITOR_OUTCOME,
    VISITOR_PHONE,
    VISITOR_PRIVACY,
    VISITOR_PURPOSE,
    VISITOR_RETURNING,
    VISITOR_UNIT,
)
from kiosk.viewmodels import invitation as inv
from kiosk.viewmodels import repair as rep
from kiosk.viewmodels import ticket_status as tstat
from kiosk.viewmodels import visitor as visit
from kiosk.viewmodels.contract import FlowViewModel
from kiosk.viewmodels.help_call import HelpCallViewModel
from kiosk.viewmodels.invitation import InvitationViewModel
from kiosk.viewmodels.parcel import ParcelViewModel
from kiosk.viewmodels.repair import RepairViewModel
from kiosk.viewmodels.resident_link import ResidentLinkViewModel
from kiosk.viewmodels.sign_out import SignOutViewModel
from kiosk.viewmodels.ticket_status import TicketStatusViewModel
from kiosk.viewmodels.visitor import VisitorViewModel


class FlowName(StrEnum):
    """A flow, by the name of the app's attribute holding its view-model (app.visitor)."""

    HELP = "help_call"
    VISITOR = "visitor"
    SIGN_OUT = "sign_out"
    PARCEL = "parcel"
    REPAIR = "repair"  # with the home screen's emergency (SOS): the same view-model
    TICKET_STATUS = "ticket_status"
    INVITATION = "invitation"  # an invited visitor's pass, scanned at home
    RESIDENT_LINK = "resident_link"


def _by_step(table: Mapping[str, str]) -> Callable[[FlowViewModel], str]:
    """The screen of the view-model's current step; home when it has none (idle)."""
    return lambda vm: table.get(vm.current_step, HOME)


def _invitation_screen(vm: InvitationViewModel) -> str:
    if vm.state == inv.IDLE:
        return HOME
    return INVITE_RESULT if vm.finished else INVITE_CONFIRM


@dataclass(frozen=True)
class Flow:
    name: FlowName
    make: Callable  # (clock, store) → the flow's view-model (kiosk/viewmodels/contract.py)
    screens: Mapping[str, str]  # screen name → its class, "module:Class"
    # The screen for the view-model's step: after an action the app goes there (or when
    # already on one of the flow's screens). None: one screen, actions stay on it.
    step_screen: Callable[[FlowViewModel], str] | None = None
    live: frozenset[str] = field(default_factory=frozenset)  # redrawn every second (a clock)


VISITOR_STEPS = {
    visit.PRIVACY: VISITOR_PRIVACY,
    visit.PHONE: VISITOR_PHONE,
    visit.RETURNING: VISITOR_RETURNING,
    visit.NAME: VISITOR_NAME,
    visit.UNIT: VISITOR_UNIT,
    visit.PURPOSE: VISITOR_PURPOSE,
    visit.OUTCOME: VISITOR_OUTCOME,
}
REPAIR_STEPS = {
    rep.UNIT: REPAIR_UNIT,
    rep.CATEGORY: REPAIR_CATEGORY,
    rep.PROBLEM: REPAIR_PROBLEM,
    rep.URGENCY: REPAIR_URGENCY,
    rep.DETAILS: REPAIR_DETAILS,
    rep.DONE: REPAIR_DONE,
    rep.EMERGENCY: REPAIR_EMERGENCY,
    rep.SOS: REPAIR_SOS,
}
TICKET_STEPS = {
    tstat.ENTRY: TICKET_STATUS,
    tstat.LOOKING: TICKET_STATUS,
    tstat.FOUND: TICKET_RESULT,
    tstat.RATING: TICKET_THANKS,
    tstat.THANKS: TICKET_THANKS,
    tstat.FAILED: TICKET_THANKS,
}

HOME_SCREEN = "kiosk.screens.home:HomeScreen"
_S = "kiosk.screens."

# In this order: the screens are built so, and every flow hears the worker's news so.
FLOWS: dict[FlowName, Flow] = {
    flow.name: flow
    for flow in (
        Flow(
            FlowName.HELP,
            lambda clock, store: HelpCallViewModel(clock),
            {HELP: _S + "help:HelpScreen"},
            live=frozenset({HELP}),  # the waiting clock
        ),
        Flow(
            FlowName.VISITOR,
            lambda clock, store: VisitorViewModel(clock, store.get(keys.VISITOR_SETTINGS)),
            {
                VISITOR_PRIVACY: _S + "visitor_privacy:VisitorPrivacyScreen",
                VISITOR_PHONE: _S + "visitor_phone:VisitorPhoneScreen",
                VISITOR_RETURNING: _S + "visitor_returning:VisitorReturningScreen",
                VISITOR_NAME: _S + "visitor_name:VisitorNameScreen",
                VISITOR_UNIT: _S + "visitor_unit:VisitorUnitScreen",
                VISITOR_PURPOSE: _S + "visitor_purpose:VisitorPurposeScreen",
                VISITOR_OUTCOME: _S + "visitor_outcome:VisitorOutcomeScreen",
            },
            _by_step(VISITOR_STEPS),
            live=frozenset({VISITOR_OUTCOME}),  # "waiting 0:42" while reception decides
        ),
        Flow(
            FlowName.SIGN_OUT,
            lambda clock, store: SignOutViewModel(clock),
            {SIGN_OUT: _S + "visitor_sign_out:VisitorSignOutScreen"},
        ),
        Flow(
            FlowName.PARCEL,
            lambda clock, store: ParcelViewModel(clock),
            {PARCEL: _S + "parcel_pickup:ParcelPickupScreen"},
            live=frozenset({PARCEL}),  # the answer's few seconds
        ),
        Flow(
            FlowName.REPAIR,
            lambda clock, store: RepairViewModel(clock, store.get(rep.SETTINGS_KEY)),
            {
                REPAIR_UNIT: _S + "repair_unit:RepairUnitScreen",
                REPAIR_CATEGORY: _S + "repair_category:RepairCategoryScreen",
                REPAIR_PROBLEM: _S + "repair_problem:RepairProblemScreen",
                REPAIR_URGENCY: _S + "repair_urgency:RepairUrgencyScreen",
                REPAIR_DETAILS: _S + "repair_details:RepairDetailsScreen",
                REPAIR_DONE: _S + "repair_done:RepairDoneScreen",
                REPAIR_EMERGENCY: _S + "repair_emergency:RepairEmergencyScreen",
                REPAIR_SOS: _S + "repair_sos:RepairSosScreen",
            },
            _by_step(REPAIR_STEPS),
        ),
        Flow(
            FlowName.TICKET_STATUS,
            lambda clock, store: TicketStatusViewModel(clock),
            {
                TICKET_STATUS: _S + "ticket_status:TicketStatusScreen",
                TICKET_RESULT: _S + "ticket_status_result:TicketStatusResultScreen",
                TICKET_THANKS: _S + "ticket_status_thanks:TicketStatusThanksScreen",
            },
            _by_step(TICKET_STEPS),
        ),
        Flow(
            FlowName.INVITATION,
            lambda clock, store: InvitationViewModel(clock),
            {
                INVITE_CONFIRM: _S + "invitation_confirm:InvitationConfirmScreen",
                INVITE_RESULT: _S + "invitation_result:InvitationResultScreen",
            },
            _invitation_screen,
        ),
        Flow(
            FlowName.RESIDENT_LINK,
            lambda clock, store: ResidentLinkViewModel(clock),
            {RESIDENT_LINK: _S + "resident_link:ResidentLinkScreen"},
        ),
    )
}


@dataclass(frozen=True)
class Way:
    """How a flow is started: its view-model's `start` method, given the settings cached
    under `settings_key` (the app then asks the console for fresh ones) when there is one."""

    flow: FlowName
    start: str = "begin"
    settings_key: str | None = None


class Entry(Enum):
    """The ways into a flow a screen offers (app.begin(Entry.SOS))."""

    VISITOR = Way(FlowName.VISITOR, settings_key=keys.VISITOR_SETTINGS)
    SIGN_OUT = Way(FlowName.SIGN_OUT)
    PARCEL = Way(FlowName.PARCEL)
    REPAIR = Way(FlowName.REPAIR, settings_key=rep.SETTINGS_KEY)
    SOS = Way(FlowName.REPAIR, start="begin_sos")  # 紧急求助 on home: hazards, no unit
    TICKET_STATUS = Way(FlowName.TICKET_STATUS)
    RESIDENT_LINK = Way(FlowName.RESIDENT_LINK)


# The home tiles, by the service name their words are keyed by (kiosk/viewmodels/home.py).
SERVICES = {"visitor": Entry.VISITOR, "parcel": Entry.PARCEL, "repair": Entry.REPAIR}


def all_screens() -> list[tuple[str, str]]:
    """(screen name, "module:Class") of every screen, home first."""
    return [(HOME, HOME_SCREEN)] + [
        screen for flow in FLOWS.values() for screen in flow.screens.items()
    ]
