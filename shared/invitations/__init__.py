"""Visitor invitations (访客预约): a resident, or the desk for them, invites a visitor
ahead; the visitor shows a signed pass at the kiosk (docs/INVITATIONS.md).

Plain Python, one path for every writer: the desk pages, the resident's page and the
kiosk API all call these.
"""

from shared.invitations.fields import (
    KIND_LABELS,
    KINDS,
    MAX_NOTE,
    MAX_RECURRING_DAYS,
    MAX_WINDOW_DAYS,
    PURPOSE_LABELS,
    WEEKDAY_LABELS,
    InvalidInvitation,
    valid_on,
)
from shared.invitations.redemption import PassNotToday, PassUsed, Scan, ScanLimited, redeem
from shared.invitations.store import (
    STATE_LABELS,
    building_today,
    create,
    expected_on,
    get,
    list_for_resident,
    pass_png,
    pass_text,
    purge_ended,
    revoke,
    revoked_ids,
    search,
    signing_key,
)

__all__ = [
    "KIND_LABELS",
    "KINDS",
    "MAX_NOTE",
    "MAX_RECURRING_DAYS",
    "MAX_WINDOW_DAYS",
    "PURPOSE_LABELS",
    "STATE_LABELS",
    "WEEKDAY_LABELS",
    "InvalidInvitation",
    "PassNotToday",
    "PassUsed",
    "Scan",
    "ScanLimited",
    "building_today",
    "create",
    "expected_on",
    "get",
    "list_for_resident",
    "pass_png",
    "pass_text",
    "purge_ended",
    "redeem",
    "revoke",
    "revoked_ids",
    "search",
    "signing_key",
    "valid_on",
]
