"""The kiosk's screens by name: the one place each name is written (the ScreenManager's
names). Which flow shows on which screen, and the class built for each, is the flow
registry's business (kiosk/flows.py)."""

from __future__ import annotations

HOME = "home"
HELP = "help"

VISITOR_PRIVACY = "visitor_privacy"
VISITOR_PHONE = "visitor_phone"
VISITOR_RETURNING = "visitor_returning"
VISITOR_NAME = "visitor_name"
VISITOR_UNIT = "visitor_unit"
VISITOR_PURPOSE = "visitor_purpose"
VISITOR_OUTCOME = "visitor_outcome"
SIGN_OUT = "visitor_sign_out"
PARCEL = "parcel_pickup"

REPAIR_UNIT = "repair_unit"
REPAIR_CATEGORY = "repair_category"
REPAIR_PROBLEM = "repair_problem"
REPAIR_URGENCY = "repair_urgency"
REPAIR_DETAILS = "repair_details"
REPAIR_DONE = "repair_done"
REPAIR_EMERGENCY = "repair_emergency"
REPAIR_SOS = "repair_sos"

TICKET_STATUS = "ticket_status"
TICKET_RESULT = "ticket_status_result"
TICKET_THANKS = "ticket_status_thanks"

INVITE_CONFIRM = "invitation_confirm"  # an invited visitor's pass, scanned at home
INVITE_RESULT = "invitation_result"
RESIDENT_LINK = "resident_link"
