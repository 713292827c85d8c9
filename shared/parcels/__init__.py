"""Parcels (S4): desk intake, resident notification, pickup by code or QR, handover.

Batches. All of a unit's waiting parcels form one open *batch* with ONE
6-digit pickup code and one signed QR. A parcel logged while its unit has an
open batch joins it: same code, the batch's expiry moves out to the new
parcel's, and the residents get a fresh message listing everything waiting.
A new batch (after the last one was collected or its code expired) adopts
every parcel of the unit still waiting, so one code always collects them all.
A pickup releases every waiting parcel of the batch, exactly once: one UPDATE
guarded by status, inside `write_transaction`, with its row count checked.

Codes. From `secrets`, bound to the unit, stored as HMAC-SHA-256 keyed with the
console's SECRET_KEY (a plain SHA-256 of a 6-digit code falls to an offline
search of a million values). The resident's messages are rendered when sent,
so the code must be recoverable until then: it is kept *sealed* (XOR with an
HMAC-SHA-256 keystream under SECRET_KEY and a random nonce) and wiped when the
batch closes. Neither form is readable from the database alone; the code is
never written to the audit log or any log.

Guessing (SECURITY.md 17-18). Five wrong codes for a unit within 15 minutes
pause code entry for that unit for 15 minutes and put a `code_lockout`
escalation in the live queue. A kiosk spraying codes across units is slowed,
not shut: from its tenth wrong code within ten minutes each wrong code makes
the kiosk wait before its next one (10 s, doubling, at most 4 min; 429 with
Retry-After) and reception gets ONE "suspicious pickup attempts" escalation per
kiosk (updated with the count). During a wait one code for a unit with no recent
wrong codes is still checked — the resident who walks up after the sprayer
left is served — but only one per wait, so the sprayer gains at most one extra
try per wait (≤ 2 tries per 4 minutes at the cap). A unit with no parcels
answers exactly like a wrong code, so nobody learns who has parcels waiting.

The parts, in the order a parcel meets them: tracking (numbers, carriers, units), codes,
batches, intake, notices, jobs (expiry, reminders), guessing (pauses and throttles),
pickup (kiosk), handover (kiosk pickups at the desk), desk (handing over at the desk),
lists. Callers use `from shared import parcels; parcels.x(...)`: every public name is
here.
"""

from __future__ import annotations

# Callers catch it as parcels.InvalidRequest, as when it was imported into parcels.py.
from shared.errors import InvalidRequest
from shared.parcels.batches import (
    get,
    get_batch,
)
from shared.parcels.codes import (
    CODE_DIGITS,
    code_hash,
    new_code,
    pickup_token,
    qr_png,
    seal_code,
    unseal_code,
)
from shared.parcels.desk import (
    DESK_CHECKS,
    MAX_COLLECTOR_NAME,
    CollectorNameMissing,
    DeskCheckRefused,
    DeskCodeRefused,
    check_collector,
    collector_candidates,
    hand_over_at_desk,
    hand_over_by_qr,
    parcel_instructions,
    record_rejected_qr,
)
from shared.parcels.guessing import (
    KIOSK_FIRST_WAIT,
    KIOSK_MAX_WAIT,
    KIOSK_WINDOW,
    KIOSK_WRONG_LIMIT,
    UNIT_PAUSE,
    UNIT_WINDOW,
    UNIT_WRONG_LIMIT,
    CodeEntryPaused,
    PickupThrottled,
    WrongCode,
    active_pause,
    active_pauses,
    lift_pause,
)
from shared.parcels.handover import (
    complete_handover,
    open_handovers,
)
from shared.parcels.intake import (
    intake,
)
from shared.parcels.jobs import (
    expire_codes,
    queue_reminders,
    run_jobs,
)
from shared.parcels.lists import (
    VIEWS,
    recent_intake,
    search,
    waiting_for_unit,
)
from shared.parcels.notices import (
    NOTICE_BATCH,
    QR_FILENAME,
    deliver_notices,
    render_notice,
    retry_notice,
    troubled_notices,
)
from shared.parcels.pickup import (
    RELEASE_METHODS,
    AlreadyCollected,
    CodeExpired,
    InvalidCodeFormat,
    PickupOutcome,
    batch_from_token,
    pickup,
    pickup_answer,
    release,
    validate_pickup,
)
from shared.parcels.tracking import (
    CARRIER_LABELS,
    CARRIERS,
    MAX_SEARCH_LENGTH,
    MAX_SHELF_LENGTH,
    DuplicateTracking,
    InvalidShelf,
    InvalidTracking,
    UnitNotResolved,
    carrier_label,
    check_tracking,
    clean_shelf,
    earlier_with_tracking,
    guess_carrier,
    normalise_tracking,
    pinyin_keys,
    resolve_unit,
    search_units,
    staff_ref,
    tracking_tail,
)

__all__ = [
    "InvalidRequest",
    "AlreadyCollected",
    "CARRIERS",
    "CARRIER_LABELS",
    "CODE_DIGITS",
    "CodeEntryPaused",
    "CodeExpired",
    "CollectorNameMissing",
    "DESK_CHECKS",
    "DeskCheckRefused",
    "DeskCodeRefused",
    "DuplicateTracking",
    "InvalidCodeFormat",
    "InvalidShelf",
    "InvalidTracking",
    "KIOSK_FIRST_WAIT",
    "KIOSK_MAX_WAIT",
    "KIOSK_WINDOW",
    "KIOSK_WRONG_LIMIT",
    "MAX_COLLECTOR_NAME",
    "MAX_SEARCH_LENGTH",
    "MAX_SHELF_LENGTH",
    "NOTICE_BATCH",
    "PickupOutcome",
    "PickupThrottled",
    "QR_FILENAME",
    "RELEASE_METHODS",
    "UNIT_PAUSE",
    "UNIT_WINDOW",
    "UNIT_WRONG_LIMIT",
    "UnitNotResolved",
    "VIEWS",
    "WrongCode",
    "active_pause",
    "active_pauses",
    "batch_from_token",
    "carrier_label",
    "check_collector",
    "check_tracking",
    "clean_shelf",
    "code_hash",
    "collector_candidates",
    "complete_handover",
    "deliver_notices",
    "earlier_with_tracking",
    "expire_codes",
    "get",
    "get_batch",
    "guess_carrier",
    "hand_over_at_desk",
    "hand_over_by_qr",
    "intake",
    "lift_pause",
    "new_code",
    "normalise_tracking",
    "open_handovers",
    "parcel_instructions",
    "pickup",
    "pickup_answer",
    "pickup_token",
    "pinyin_keys",
    "qr_png",
    "queue_reminders",
    "recent_intake",
    "record_rejected_qr",
    "release",
    "render_notice",
    "resolve_unit",
    "retry_notice",
    "run_jobs",
    "seal_code",
    "search",
    "search_units",
    "staff_ref",
    "tracking_tail",
    "troubled_notices",
    "unseal_code",
    "validate_pickup",
    "waiting_for_unit",
]
