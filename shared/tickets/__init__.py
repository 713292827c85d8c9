"""Repair requests (S5) and complaints (S6): one ticket, one follow-up trail.

A resident reports at the kiosk in taps (unit → category → common problem →
urgency → optional text and photo) or reception records it at the desk. The
SLA is the time to *resolve*, counted from `received_at` (the console's clock)
by urgency; a ticket still open past `sla_due_at` is overdue. Emergencies (S8)
raise an emergency escalation in the same transaction, so the live queue shows
them at once.

Workflow: new → assigned → in_progress → resolved → closed, with shortcuts and a
reopen (see TRANSITIONS). Every change is guarded by the status it expects, is
written to ticket_updates (the trail staff see; some updates are visible to the
resident) and to the audit log, and queues a bilingual message to the unit's
residents. A resolved ticket asks for a rating (1-5, reasons when ≤ 3) once per
resolution: at the kiosk, or through a signed link in the message.

Photos are decoded, opened and checked by Pillow, then re-encoded as a JPEG of
at most 1600 px a side with no metadata (GPS, camera …): the original bytes are
never stored (SECURITY.md 15). The API does that before its write transaction
(prepare_kiosk_report), so a photo never holds the database's write lock.

Looking a ticket up by number + unit is throttled per kiosk (ticket numbers are
sequential): each miss is audited, and after LOOKUP_MISS_LIMIT misses in
LOOKUP_WINDOW the kiosk gets 429 until the oldest ages out. Rating at the kiosk
needs the ticket's signed QR; the number + unit alone never rate a ticket.

The package, by seam (callers use `from shared import tickets; tickets.create_at_desk(…)`;
every public name is re-exported here):

- model: statuses, urgencies, TRANSITIONS, limits, errors, text/time checks, the SLA
  rule and the trail row (ticket_updates) every change writes
- photos: a kiosk photo checked and re-encoded, where photos live
- create: a report from the kiosk, a ticket recorded at the desk
- queries: one ticket, its trail, the resident's summary, the staff list, counts
- lookups: the signed QR and rating link, the kiosk's (throttled) status check
- rating: the resident's rating, once per resolution
- workflow: triage, assign, status, notes, the complaint record
- settings: the SLA minutes and departments a manager keeps
"""

from shared.tickets.create import (
    create_at_desk,
    create_from_kiosk,
    prepare_kiosk_report,
    validate_kiosk_body,
)
from shared.tickets.lookups import lookup, rating_link_token, rating_url, ticket_qr
from shared.tickets.model import (
    DEFAULT_PAGE_SIZE,
    EARLIEST_TIME,
    KIND_LABELS,
    KINDS,
    LOOKUP_MISS_LIMIT,
    LOOKUP_MISSED,
    LOOKUP_WINDOW,
    MAX_COMMENT,
    MAX_DESCRIPTION,
    MAX_NOTE,
    MAX_PAGE_SIZE,
    MAX_PALETTE_PIXELS,
    MAX_PEOPLE,
    MAX_PHOTO_BYTES,
    MAX_PHOTO_PIXELS,
    MAX_PHOTO_SIDE,
    MAX_SHORT_TEXT,
    OPEN_STATUSES,
    PHOTO_FOLDER,
    QR_VALID_FOR,
    RATED_VIA,
    RATING_LINK_VALID_FOR,
    SOURCES,
    STATUS_LABELS,
    STATUSES,
    TICKET_QR,
    TICKET_RATING,
    TIME_SLACK,
    TRANSITIONS,
    URGENCIES,
    URGENCY_LABELS,
    AlreadyRated,
    LookupThrottled,
    NotResolved,
    PhotoRejected,
    RatingLinkOutdated,
    RatingNeedsQr,
    TicketNotFound,
    TransitionRefused,
    assignee_label,
    clean_text,
    contacts,
    is_overdue,
    is_triaged,
    kind_label,
    next_action,
    sla_minutes,
    status_label,
    urgency_label,
)
from shared.tickets.photos import photo_folder, prepare_photo
from shared.tickets.queries import counts, get, resident_summary, search, timeline
from shared.tickets.rating import check_rating_link, rate, rate_by_link, rate_by_qr
from shared.tickets.settings import (
    MAX_SLA_MINUTES,
    SettingsInvalid,
    check_sla,
    mask_url,
    save_settings,
)
from shared.tickets.workflow import add_note, assign, record_complaint, set_status, triage

__all__ = [
    "AlreadyRated",
    "DEFAULT_PAGE_SIZE",
    "EARLIEST_TIME",
    "KINDS",
    "KIND_LABELS",
    "LOOKUP_MISSED",
    "LOOKUP_MISS_LIMIT",
    "LOOKUP_WINDOW",
    "LookupThrottled",
    "MAX_COMMENT",
    "MAX_DESCRIPTION",
    "MAX_NOTE",
    "MAX_PAGE_SIZE",
    "MAX_PALETTE_PIXELS",
    "MAX_PEOPLE",
    "MAX_PHOTO_BYTES",
    "MAX_PHOTO_PIXELS",
    "MAX_PHOTO_SIDE",
    "MAX_SHORT_TEXT",
    "MAX_SLA_MINUTES",
    "NotResolved",
    "OPEN_STATUSES",
    "PHOTO_FOLDER",
    "PhotoRejected",
    "QR_VALID_FOR",
    "RATED_VIA",
    "RATING_LINK_VALID_FOR",
    "RatingLinkOutdated",
    "RatingNeedsQr",
    "SOURCES",
    "STATUSES",
    "STATUS_LABELS",
    "SettingsInvalid",
    "TICKET_QR",
    "TICKET_RATING",
    "TIME_SLACK",
    "TRANSITIONS",
    "TicketNotFound",
    "TransitionRefused",
    "URGENCIES",
    "URGENCY_LABELS",
    "add_note",
    "assign",
    "assignee_label",
    "check_rating_link",
    "check_sla",
    "clean_text",
    "contacts",
    "counts",
    "create_at_desk",
    "create_from_kiosk",
    "get",
    "is_overdue",
    "is_triaged",
    "kind_label",
    "lookup",
    "mask_url",
    "next_action",
    "photo_folder",
    "prepare_kiosk_report",
    "prepare_photo",
    "rate",
    "rate_by_link",
    "rate_by_qr",
    "rating_link_token",
    "rating_url",
    "record_complaint",
    "resident_summary",
    "save_settings",
    "search",
    "set_status",
    "sla_minutes",
    "status_label",
    "ticket_qr",
    "timeline",
    "triage",
    "urgency_label",
    "validate_kiosk_body",
]
