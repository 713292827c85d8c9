"""The kiosk's screens by name, and which screen shows each step of each flow (the
ScreenManager's names; kiosk/app.py builds the screens under these names)."""

from __future__ import annotations

from kiosk.viewmodels import repair as rep
from kiosk.viewmodels import ticket_status as tstat
from kiosk.viewmodels import visitor as visit

HOME = "home"
HELP = "help"
VISITOR_SCREENS = {
    visit.PRIVACY: "visitor_privacy",
    visit.PHONE: "visitor_phone",
    visit.RETURNING: "visitor_returning",
    visit.NAME: "visitor_name",
    visit.UNIT: "visitor_unit",
    visit.PURPOSE: "visitor_purpose",
    visit.OUTCOME: "visitor_outcome",
}
SIGN_OUT = "visitor_sign_out"
PARCEL = "parcel_pickup"
REPAIR_SCREENS = {
    rep.UNIT: "repair_unit",
    rep.CATEGORY: "repair_category",
    rep.PROBLEM: "repair_problem",
    rep.URGENCY: "repair_urgency",
    rep.DETAILS: "repair_details",
    rep.DONE: "repair_done",
    rep.EMERGENCY: "repair_emergency",
    rep.SOS: "repair_sos",
}
TICKET_SCREENS = {
    tstat.ENTRY: "ticket_status",
    tstat.LOOKING: "ticket_status",
    tstat.FOUND: "ticket_status_result",
    tstat.RATING: "ticket_status_thanks",
    tstat.THANKS: "ticket_status_thanks",
    tstat.FAILED: "ticket_status_thanks",
}
INVITE_CONFIRM = "invitation_confirm"  # an invited visitor's pass, scanned at home
INVITE_RESULT = "invitation_result"
RESIDENT_LINK = "resident_link"
