"""What a screen may ask of a flow: one Enum, each member a (flow, view-model method).

The .kv files and screens call `app.act(Action.REPAIR_BACK)`; the app runs that method
of the flow's view-model, carries out the effect it returns and redraws the flow
(kiosk/app_flows.py). A name not declared here fails at once (AttributeError in kv, a
TypeError from app.act for anything that is not an Action), and
tests/test_kiosk_actions.py checks that every action used is declared, every one
declared is used, and each names a method its view-model has.
"""

from __future__ import annotations

from enum import Enum

from kiosk.flows import FlowName


class Action(Enum):
    # visitor registration (kiosk/viewmodels/visitor.py)
    VISITOR_AGREE = (FlowName.VISITOR, "agree")
    VISITOR_BACK = (FlowName.VISITOR, "back")
    VISITOR_CHANGE_PARTY = (FlowName.VISITOR, "change_party")
    VISITOR_CONFIRM_RETURNING = (FlowName.VISITOR, "confirm_returning")
    VISITOR_DONE = (FlowName.VISITOR, "done")
    VISITOR_LETTER = (FlowName.VISITOR, "letter")
    VISITOR_NAME_NEXT = (FlowName.VISITOR, "name_next")
    VISITOR_PHONE_KEY_AND_GO = (FlowName.VISITOR, "phone_key_and_go")
    VISITOR_PHONE_NEXT = (FlowName.VISITOR, "phone_next")
    VISITOR_PICK_PURPOSE = (FlowName.VISITOR, "pick_purpose")
    VISITOR_PICK_SURNAME = (FlowName.VISITOR, "pick_surname")
    VISITOR_PICK_TITLE_AND_GO = (FlowName.VISITOR, "pick_title_and_go")
    VISITOR_SAME_AS_LAST = (FlowName.VISITOR, "same_as_last")
    VISITOR_SET_FULL_NAME = (FlowName.VISITOR, "set_full_name")
    VISITOR_SET_NAME_MODE = (FlowName.VISITOR, "set_name_mode")
    VISITOR_SHOW_PRIVACY = (FlowName.VISITOR, "show_privacy")
    VISITOR_SKIP_PHONE = (FlowName.VISITOR, "skip_phone")
    VISITOR_SUBMIT = (FlowName.VISITOR, "submit")
    VISITOR_UNIT_KEY = (FlowName.VISITOR, "unit_key")
    VISITOR_UNIT_NEXT = (FlowName.VISITOR, "unit_next")
    VISITOR_UNIT_SUBMIT = (FlowName.VISITOR, "unit_submit")
    # signing out (kiosk/viewmodels/sign_out.py)
    SIGN_OUT_KEY = (FlowName.SIGN_OUT, "key")
    SIGN_OUT_PHONE_SUBMIT = (FlowName.SIGN_OUT, "phone_submit")
    SIGN_OUT_RETRY = (FlowName.SIGN_OUT, "retry")
    SIGN_OUT_SCANNED = (FlowName.SIGN_OUT, "scanned")
    # parcel pickup (kiosk/viewmodels/parcel.py)
    PARCEL_KEY = (FlowName.PARCEL, "key")
    PARCEL_SCANNED = (FlowName.PARCEL, "scanned")
    PARCEL_SELECT = (FlowName.PARCEL, "select")
    PARCEL_SUBMIT = (FlowName.PARCEL, "submit")
    # a repair request, and the home emergency (kiosk/viewmodels/repair.py)
    REPAIR_ADD_DETAILS = (FlowName.REPAIR, "add_details")
    REPAIR_BACK = (FlowName.REPAIR, "back")
    REPAIR_PICK_CATEGORY = (FlowName.REPAIR, "pick_category")
    REPAIR_PICK_HAZARD = (FlowName.REPAIR, "pick_hazard")
    REPAIR_PICK_PROBLEM = (FlowName.REPAIR, "pick_problem")
    REPAIR_PICK_URGENCY = (FlowName.REPAIR, "pick_urgency")
    REPAIR_SET_NOTE = (FlowName.REPAIR, "set_note")
    REPAIR_SUBMIT = (FlowName.REPAIR, "submit")
    REPAIR_SUBMIT_DETAILS = (FlowName.REPAIR, "submit_details")
    REPAIR_TOGGLE_PLACE = (FlowName.REPAIR, "toggle_place")
    REPAIR_UNIT_KEY = (FlowName.REPAIR, "unit_key")
    REPAIR_UNIT_NEXT = (FlowName.REPAIR, "unit_next")
    # a ticket's progress and its rating (kiosk/viewmodels/ticket_status.py)
    TICKET_STATUS_BACK = (FlowName.TICKET_STATUS, "back")
    TICKET_STATUS_KEY = (FlowName.TICKET_STATUS, "key")
    TICKET_STATUS_RATE = (FlowName.TICKET_STATUS, "rate")
    TICKET_STATUS_SCANNED = (FlowName.TICKET_STATUS, "scanned")
    TICKET_STATUS_SELECT = (FlowName.TICKET_STATUS, "select")
    TICKET_STATUS_SUBMIT = (FlowName.TICKET_STATUS, "submit")
    TICKET_STATUS_SUBMIT_RATING = (FlowName.TICKET_STATUS, "submit_rating")
    TICKET_STATUS_TOGGLE_REASON = (FlowName.TICKET_STATUS, "toggle_reason")
    # an invited visitor's pass (kiosk/viewmodels/invitation.py)
    INVITATION_CONFIRM = (FlowName.INVITATION, "confirm")
    INVITATION_SCANNED = (FlowName.INVITATION, "scanned")
    # the resident page's link, asked again (kiosk/viewmodels/resident_link.py)
    RESIDENT_LINK_KEY = (FlowName.RESIDENT_LINK, "key")
    RESIDENT_LINK_SELECT = (FlowName.RESIDENT_LINK, "select")
    RESIDENT_LINK_SEND = (FlowName.RESIDENT_LINK, "send")

    @property
    def flow(self) -> FlowName:
        return self.value[0]

    @property
    def method(self) -> str:
        """The view-model's method that this action runs."""
        return self.value[1]
