"""The building database's schema, as named migrations applied at every start.

Later features extend it by adding migrations at the end of this list; a
migration, once released, is never edited.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from shared import db as dbmod
from shared.clock import to_iso

migrations = Migrations("lobbydesk")
# PRAGMA application_id of a console database ("LbDk"): a restore refuses a file
# without it (or the console's schema), such as a kiosk's kiosk.db.
APPLICATION_ID = 0x4C62446B

_INITIAL = """
CREATE TABLE buildings (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    timezone TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    desk_phone TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}'          -- JSON: retention days, visitor options …
);

CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    building_id INTEGER NOT NULL REFERENCES buildings(id),
    number TEXT NOT NULL,                        -- as residents say it: '1203', '2-1203'
    floor INTEGER,
    UNIQUE (building_id, number)
);

CREATE TABLE residents (
    id INTEGER PRIMARY KEY,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    name TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    preferred_channel TEXT NOT NULL DEFAULT 'email',
    created_at TEXT NOT NULL
);
CREATE INDEX residents_unit ON residents(unit_id);

CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reception', 'manager', 'admin')),
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

-- Server-side sessions so a session can be revoked (SECURITY.md 4).
CREATE TABLE staff_sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at TEXT
);

CREATE TABLE kiosks (
    id INTEGER PRIMARY KEY,
    building_id INTEGER NOT NULL REFERENCES buildings(id),
    name TEXT NOT NULL,
    token_hash TEXT UNIQUE,                       -- SHA-256 of the bearer token
    pairing_code_hash TEXT UNIQUE,
    pairing_expires_at TEXT,
    paired_at TEXT,
    revoked_at TEXT,
    last_seen_at TEXT,
    outbox_depth INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE visits (
    id INTEGER PRIMARY KEY,
    kiosk_id INTEGER REFERENCES kiosks(id),
    unit_id INTEGER REFERENCES units(id),
    name TEXT NOT NULL,
    phone TEXT,
    purpose TEXT NOT NULL DEFAULT 'visit',
    party_size INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'confirmed', 'denied', 'signed_out')),
    created_at TEXT NOT NULL,                     -- the kiosk's clock
    received_at TEXT NOT NULL,                    -- the console's clock: this one rules
    decided_at TEXT,
    decided_by INTEGER REFERENCES staff(id),
    decision_method TEXT,
    deny_reason TEXT,
    signed_out_at TEXT,
    sign_out_method TEXT
);
CREATE INDEX visits_status ON visits(status, received_at);

CREATE TABLE parcels (
    id INTEGER PRIMARY KEY,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    tracking_number TEXT NOT NULL,
    carrier TEXT,
    shelf TEXT,
    status TEXT NOT NULL DEFAULT 'waiting'
        CHECK (status IN ('waiting', 'collected', 'returned')),
    pickup_code_hash TEXT,
    received_at TEXT NOT NULL,
    expires_at TEXT,
    collected_at TEXT,
    release_method TEXT,
    released_by INTEGER REFERENCES staff(id)
);
CREATE INDEX parcels_unit_status ON parcels(unit_id, status);
CREATE INDEX parcels_status_received ON parcels(status, received_at);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'repair' CHECK (kind IN ('repair', 'complaint')),
    kiosk_id INTEGER REFERENCES kiosks(id),
    unit_id INTEGER REFERENCES units(id),
    category TEXT NOT NULL,
    problem TEXT,
    urgency TEXT NOT NULL DEFAULT 'normal' CHECK (urgency IN ('normal', 'urgent', 'emergency')),
    description TEXT,
    status TEXT NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'assigned', 'in_progress', 'resolved', 'closed')),
    assigned_to TEXT,
    created_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    resolved_at TEXT,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5)
);
CREATE INDEX tickets_status ON tickets(status, received_at);

CREATE TABLE ticket_updates (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    at TEXT NOT NULL,
    staff_id INTEGER REFERENCES staff(id),
    resident_visible INTEGER NOT NULL DEFAULT 0,
    text TEXT NOT NULL
);

-- Anything that needs a person at the desk: help calls now; unknown units,
-- code lockouts and emergencies later. The S3 clock runs on received_at.
CREATE TABLE escalations (
    id INTEGER PRIMARY KEY,
    kiosk_id INTEGER REFERENCES kiosks(id),
    kind TEXT NOT NULL CHECK (kind IN ('help', 'unknown_unit', 'code_lockout', 'emergency')),
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'acknowledged', 'resolved')),
    language TEXT NOT NULL DEFAULT 'zh_CN',
    screen TEXT,
    created_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by INTEGER REFERENCES staff(id),
    resolved_at TEXT,
    resolved_by INTEGER REFERENCES staff(id),
    owner_id INTEGER REFERENCES staff(id),
    note TEXT,
    promised_at TEXT
);
CREATE INDEX escalations_status ON escalations(status, received_at);

CREATE TABLE announcements (
    id INTEGER PRIMARY KEY,
    building_id INTEGER NOT NULL REFERENCES buildings(id),
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    body_zh TEXT NOT NULL DEFAULT '',
    body_en TEXT NOT NULL DEFAULT '',
    priority INTEGER NOT NULL DEFAULT 0,
    starts_at TEXT NOT NULL,
    ends_at TEXT,
    is_emergency INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES staff(id),
    created_at TEXT NOT NULL
);

-- What each kiosk learns by long-polling its feed, in order.
CREATE TABLE kiosk_events (
    id INTEGER PRIMARY KEY,
    kiosk_id INTEGER NOT NULL REFERENCES kiosks(id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX kiosk_events_kiosk ON kiosk_events(kiosk_id, id);

-- SECURITY.md 14: same key -> the original answer; kept as long as the record.
CREATE TABLE idempotency_records (
    kiosk_id INTEGER NOT NULL REFERENCES kiosks(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (kiosk_id, key)
);

-- Append-only: triggers refuse UPDATE and DELETE (SECURITY.md 12).
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,              -- 'staff:3', 'kiosk:2', 'cli'
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL DEFAULT '{}',
    device TEXT
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"""


@migrations(name="0001_initial")
def initial(db: sqlite_utils.Database) -> None:
    # Inside the migration's transaction sqlite-utils runs the script statement
    # by statement, so a failure leaves no half-made schema.
    db.executescript(_INITIAL)


_VISITORS = """
ALTER TABLE visits ADD COLUMN deny_match TEXT;            -- why the deny list matched, for staff
ALTER TABLE visits ADD COLUMN is_returning INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visits ADD COLUMN language TEXT NOT NULL DEFAULT 'zh_CN';
ALTER TABLE visits ADD COLUMN host_notified_at TEXT;
CREATE INDEX visits_phone ON visits(phone, id);
CREATE INDEX visits_unit ON visits(unit_id, id);
CREATE INDEX visits_received ON visits(received_at, id);

ALTER TABLE residents ADD COLUMN notify_url TEXT;          -- an apprise URL (SMS gateway, WeCom, DingTalk)

CREATE TABLE deny_list (
    id INTEGER PRIMARY KEY,
    name TEXT,
    phone TEXT,
    reason TEXT NOT NULL,
    created_by INTEGER REFERENCES staff(id),
    created_at TEXT NOT NULL,
    removed_at TEXT,
    removed_by INTEGER REFERENCES staff(id),
    CHECK (name IS NOT NULL OR phone IS NOT NULL)
);
CREATE INDEX deny_list_phone ON deny_list(phone) WHERE removed_at IS NULL;

-- Messages to residents, sent by the console's notifier thread with retries;
-- a failure stays visible to staff instead of vanishing.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                                    -- 'visitor.arrived', 'parcel.waiting' …
    channel TEXT NOT NULL CHECK (channel IN ('email', 'apprise')),
    recipient TEXT NOT NULL,                               -- an email address or an apprise URL
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    related TEXT,                                          -- 'visit:12'
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX notifications_due ON notifications(status, next_attempt_at);
"""


@migrations(name="0002_visitors")
def visitors(db: sqlite_utils.Database) -> None:
    db.executescript(_VISITORS)


_PARCELS = """
-- A unit's waiting parcels share one batch: one 6-digit code, one signed QR.
-- code_hash: HMAC-SHA-256 keyed with SECRET_KEY, bound to the unit (never a
-- plain hash: a 6-digit code falls to an offline search). code_sealed: the
-- code under an HMAC keystream, for the residents' messages; wiped on close.
CREATE TABLE parcel_batches (
    id INTEGER PRIMARY KEY,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    code_hash TEXT NOT NULL,
    code_sealed TEXT,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'collected', 'expired')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    closed_at TEXT,
    reminders_sent INTEGER NOT NULL DEFAULT 0,
    next_reminder_at TEXT
);
CREATE UNIQUE INDEX parcel_batches_open_unit ON parcel_batches(unit_id) WHERE status = 'open';
CREATE INDEX parcel_batches_unit_code ON parcel_batches(unit_id, code_hash);
CREATE INDEX parcel_batches_expiry ON parcel_batches(status, expires_at);
CREATE INDEX parcel_batches_reminder ON parcel_batches(status, next_reminder_at);

-- A kiosk pickup that the desk still has to hand over (the live queue).
CREATE TABLE parcel_handovers (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES parcel_batches(id),
    unit_id INTEGER NOT NULL REFERENCES units(id),
    kiosk_id INTEGER REFERENCES kiosks(id),
    method TEXT NOT NULL,
    shelves TEXT NOT NULL DEFAULT '',
    parcel_count INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    received_at TEXT NOT NULL,
    done_at TEXT,
    done_by INTEGER REFERENCES staff(id)
);
CREATE INDEX parcel_handovers_status ON parcel_handovers(status, received_at);

ALTER TABLE parcels ADD COLUMN batch_id INTEGER REFERENCES parcel_batches(id);
ALTER TABLE parcels ADD COLUMN received_by INTEGER REFERENCES staff(id);
ALTER TABLE parcels ADD COLUMN released_kiosk_id INTEGER REFERENCES kiosks(id);
ALTER TABLE parcels ADD COLUMN handover_id INTEGER REFERENCES parcel_handovers(id);
ALTER TABLE parcels ADD COLUMN handed_over_at TEXT;
ALTER TABLE parcels ADD COLUMN handed_over_by INTEGER REFERENCES staff(id);
CREATE INDEX parcels_batch ON parcels(batch_id, status);
CREATE INDEX parcels_tracking ON parcels(tracking_number);
CREATE INDEX parcels_status_id ON parcels(status, id);
CREATE INDEX parcels_handover ON parcels(handover_id);

-- Every code typed at a kiosk: 'wrong', 'ok', or 'reset' (a pause began or staff
-- lifted it). Counted in the database so a restart does not forget guesses.
CREATE TABLE parcel_code_attempts (
    id INTEGER PRIMARY KEY,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    kiosk_id INTEGER REFERENCES kiosks(id),
    outcome TEXT NOT NULL CHECK (outcome IN ('wrong', 'ok', 'reset')),
    at TEXT NOT NULL
);
CREATE INDEX parcel_code_attempts_unit ON parcel_code_attempts(unit_id, id);
CREATE INDEX parcel_code_attempts_kiosk ON parcel_code_attempts(kiosk_id, at) WHERE outcome = 'wrong';

CREATE TABLE parcel_code_pauses (
    id INTEGER PRIMARY KEY,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    kiosk_id INTEGER REFERENCES kiosks(id),
    paused_at TEXT NOT NULL,
    paused_until TEXT NOT NULL,
    escalation_id INTEGER REFERENCES escalations(id),
    lifted_at TEXT,
    lifted_by INTEGER REFERENCES staff(id)
);
CREATE INDEX parcel_code_pauses_unit ON parcel_code_pauses(unit_id, paused_until);

-- Messages to residents about a batch. The text is rendered when sent (it
-- lists every parcel then waiting), so no pickup code is ever stored here.
CREATE TABLE parcel_notices (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES parcel_batches(id),
    resident_id INTEGER NOT NULL REFERENCES residents(id),
    kind TEXT NOT NULL CHECK (kind IN ('parcel.waiting', 'parcel.reminder')),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'apprise')),
    recipient TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX parcel_notices_due ON parcel_notices(status, next_attempt_at);
CREATE INDEX parcel_notices_batch ON parcel_notices(batch_id, status);
"""


@migrations(name="0003_parcels")
def parcels(db: sqlite_utils.Database) -> None:
    db.executescript(_PARCELS)


_SECURITY = """
-- Failed sign-ins per account, so throttling survives a restart (SECURITY.md 3).
-- The account is the SHA-256 of the case-folded username: a password typed
-- into the username box by mistake is never stored.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    account_key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_account ON login_failures(account_key, at);
CREATE INDEX staff_sessions_staff ON staff_sessions(staff_id, ended_at);
CREATE INDEX audit_log_action ON audit_log(action, id);
CREATE INDEX visits_name ON visits(name, id);
CREATE INDEX notifications_related ON notifications(related);
"""


@migrations(name="0004_security")
def security(db: sqlite_utils.Database) -> None:
    db.executescript(_SECURITY)


_QUARANTINE = """
-- Writes from revoked kiosks, held for staff (accept / discard); one per key.
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    kiosk_id INTEGER NOT NULL REFERENCES kiosks(id),
    key TEXT NOT NULL,
    path TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'accepted', 'discarded')),
    decided_by INTEGER REFERENCES staff(id),
    decided_at TEXT,
    result TEXT,
    UNIQUE (kiosk_id, key)
);
CREATE INDEX quarantine_status ON quarantine(status, id);
"""


@migrations(name="0005_quarantine")
def quarantine(db: sqlite_utils.Database) -> None:
    db.executescript(_QUARANTINE)


_KIOSK_ALERTS = """
-- What a kiosk could not deliver (dead-lettered after N tries), reported to staff.
CREATE TABLE kiosk_alerts (
    id INTEGER PRIMARY KEY,
    kiosk_id INTEGER NOT NULL REFERENCES kiosks(id),
    kind TEXT NOT NULL,
    item_kind TEXT NOT NULL,
    error TEXT NOT NULL,
    created_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    dismissed_at TEXT,
    dismissed_by INTEGER REFERENCES staff(id)
);
CREATE INDEX kiosk_alerts_open ON kiosk_alerts(dismissed_at, kiosk_id);
"""


@migrations(name="0006_kiosk_alerts")
def kiosk_alerts(db: sqlite_utils.Database) -> None:
    db.executescript(_KIOSK_ALERTS)


_TICKETS = """
-- Repairs (S5) and complaints (S6): who reported, where, the SLA clock (time to
-- resolve, from received_at), the workflow times, the photo and the rating.
ALTER TABLE tickets ADD COLUMN reporter_name TEXT;
ALTER TABLE tickets ADD COLUMN reporter_phone TEXT;
ALTER TABLE tickets ADD COLUMN location TEXT;                 -- a unit number or a public place
ALTER TABLE tickets ADD COLUMN language TEXT NOT NULL DEFAULT 'zh_CN';
ALTER TABLE tickets ADD COLUMN source TEXT NOT NULL DEFAULT 'kiosk';   -- 'kiosk' | 'desk'
ALTER TABLE tickets ADD COLUMN assigned_staff_id INTEGER REFERENCES staff(id);
ALTER TABLE tickets ADD COLUMN assigned_at TEXT;
ALTER TABLE tickets ADD COLUMN started_at TEXT;
ALTER TABLE tickets ADD COLUMN closed_at TEXT;
ALTER TABLE tickets ADD COLUMN sla_due_at TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN reopened_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN photo_path TEXT;               -- file name under the photo folder
ALTER TABLE tickets ADD COLUMN rating_reasons TEXT;           -- JSON list of reason keys
ALTER TABLE tickets ADD COLUMN rating_comment TEXT;
ALTER TABLE tickets ADD COLUMN rated_at TEXT;
ALTER TABLE tickets ADD COLUMN rated_via TEXT;                -- 'kiosk' | 'link' | 'desk'
ALTER TABLE tickets ADD COLUMN escalation_id INTEGER REFERENCES escalations(id);
ALTER TABLE tickets ADD COLUMN incident_at TEXT;
ALTER TABLE tickets ADD COLUMN people_involved TEXT;
ALTER TABLE tickets ADD COLUMN forwarded_to TEXT;
ALTER TABLE tickets ADD COLUMN resident_told TEXT;

ALTER TABLE ticket_updates ADD COLUMN kind TEXT NOT NULL DEFAULT 'note';
ALTER TABLE ticket_updates ADD COLUMN status_from TEXT;
ALTER TABLE ticket_updates ADD COLUMN status_to TEXT;

ALTER TABLE escalations ADD COLUMN ticket_id INTEGER REFERENCES tickets(id);

CREATE INDEX tickets_received ON tickets(received_at, id);
CREATE INDEX tickets_category ON tickets(category, received_at);
CREATE INDEX tickets_urgency ON tickets(urgency, received_at);
CREATE INDEX tickets_kind ON tickets(kind, received_at);
CREATE INDEX tickets_sla_open ON tickets(sla_due_at, received_at)
    WHERE status IN ('new', 'assigned', 'in_progress');
CREATE INDEX tickets_unit ON tickets(unit_id, id);
CREATE INDEX ticket_updates_ticket ON ticket_updates(ticket_id, id);
CREATE INDEX escalations_ticket ON escalations(ticket_id) WHERE ticket_id IS NOT NULL;
"""


@migrations(name="0007_tickets")
def tickets(db: sqlite_utils.Database) -> None:
    db.executescript(_TICKETS)


_BROADCASTS = """
-- Emergency broadcasts (S8): one at a time; every kiosk shows it full-screen until ended.
CREATE TABLE emergencies (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('fire', 'power', 'water', 'other')),
    instructions_zh TEXT NOT NULL,
    instructions_en TEXT NOT NULL,
    started_at TEXT NOT NULL,
    started_by INTEGER REFERENCES staff(id),
    ended_at TEXT,
    ended_by INTEGER REFERENCES staff(id)
);
-- At most one emergency without an end: the expression is 1 for every such row.
CREATE UNIQUE INDEX emergencies_one_active ON emergencies((ended_at IS NULL))
    WHERE ended_at IS NULL;

-- Announcements (S9): an optional picture (a file name under DATA_DIR/announcements),
-- edits and withdrawal.
ALTER TABLE announcements ADD COLUMN image_path TEXT;
ALTER TABLE announcements ADD COLUMN updated_at TEXT;
ALTER TABLE announcements ADD COLUMN updated_by INTEGER REFERENCES staff(id);
ALTER TABLE announcements ADD COLUMN withdrawn_at TEXT;
ALTER TABLE announcements ADD COLUMN withdrawn_by INTEGER REFERENCES staff(id);
CREATE INDEX announcements_live ON announcements(withdrawn_at, ends_at);
"""


@migrations(name="0008_broadcasts")
def broadcasts(db: sqlite_utils.Database) -> None:
    db.executescript(_BROADCASTS)


_HANDOVER = """
-- The shift handover log (交接班记录): notes written during a shift.
CREATE TABLE handover_notes (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES staff(id),
    text TEXT NOT NULL,
    category TEXT CHECK (category IN ('todo', 'visitor', 'parcel', 'repair', 'other')),
    unit_id INTEGER REFERENCES units(id),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at TEXT NOT NULL,
    done_at TEXT,
    done_by INTEGER REFERENCES staff(id)
);
CREATE INDEX handover_notes_status ON handover_notes(status, id);

-- A shift ended: the notes written since the previous handover (id > the previous
-- last_note_id) and every note still open, listed in handover_items.
CREATE TABLE handovers (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES staff(id),
    created_at TEXT NOT NULL,
    last_note_id INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX handovers_created ON handovers(created_at, id);

CREATE TABLE handover_items (
    handover_id INTEGER NOT NULL REFERENCES handovers(id),
    note_id INTEGER NOT NULL REFERENCES handover_notes(id),
    status_then TEXT NOT NULL CHECK (status_then IN ('open', 'done')),
    carried INTEGER NOT NULL DEFAULT 0,           -- written in an earlier shift, still open
    PRIMARY KEY (handover_id, note_id)
);
CREATE INDEX handover_items_note ON handover_items(note_id);

-- Who acknowledged a handover ("已阅 · Read") and when.
CREATE TABLE handover_reads (
    handover_id INTEGER NOT NULL REFERENCES handovers(id),
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    read_at TEXT NOT NULL,
    PRIMARY KEY (handover_id, staff_id)
);
"""


@migrations(name="0009_handover")
def handover(db: sqlite_utils.Database) -> None:
    db.executescript(_HANDOVER)


_TICKET_LIST_INDEXES = """
-- The staff ticket list (console/tickets.py) filters "open" with a category, an
-- urgency or a kind. Without ANALYZE statistics SQLite walks the whole category
-- (or urgency, kind) index for those, ~25,000 rows at 100,000 tickets; these
-- partial indexes hold only the open tickets, in list order (bench/ticket_list.py).
CREATE INDEX tickets_open_category ON tickets(category, received_at)
    WHERE status IN ('new', 'assigned', 'in_progress');
CREATE INDEX tickets_open_urgency ON tickets(urgency, received_at)
    WHERE status IN ('new', 'assigned', 'in_progress');
CREATE INDEX tickets_open_kind ON tickets(kind, received_at)
    WHERE status IN ('new', 'assigned', 'in_progress');
"""


@migrations(name="0010_ticket_list_indexes")
def ticket_list_indexes(db: sqlite_utils.Database) -> None:
    db.executescript(_TICKET_LIST_INDEXES)


_KPI_INDEXES = """
-- The manager's dashboard (shared/kpi.py) reads date ranges. Each index covers
-- its range scan, so a year of data is read from the index alone.
CREATE INDEX visits_kpi ON visits(received_at, decided_at, decided_by, party_size);
CREATE INDEX escalations_kpi ON escalations(received_at, acknowledged_at, acknowledged_by);
CREATE INDEX parcel_handovers_kpi ON parcel_handovers(received_at, done_at, done_by);
CREATE INDEX parcels_received_kpi ON parcels(received_at);
CREATE INDEX parcels_collected_kpi ON parcels(collected_at, received_at)
    WHERE collected_at IS NOT NULL;
CREATE INDEX tickets_received_kpi ON tickets(received_at, kind, urgency);
CREATE INDEX tickets_resolved_kpi ON tickets(resolved_at, received_at, kind, urgency)
    WHERE resolved_at IS NOT NULL;
CREATE INDEX tickets_rated_kpi ON tickets(rated_at) WHERE rated_at IS NOT NULL;
"""


@migrations(name="0011_kpi_indexes")
def kpi_indexes(db: sqlite_utils.Database) -> None:
    db.executescript(_KPI_INDEXES)


_KPI_MORE_INDEXES = """
-- The dashboard over long ranges (shared/kpi.py, bench/dashboard.py).
-- Answer and shelf times in milliseconds, in order of length: read in this order the
-- percentiles need no sorting. With each, the minute it was received (Unix time / 60).
-- The expressions are shared/kpi.py's, word for word (SQLite then reads the stored
-- value instead of computing it).
CREATE INDEX visits_answer_kpi ON visits(
    round((julianday(decided_at) - julianday(received_at)) * 86400000), received_at, decided_by,
    CAST(strftime('%s', received_at) AS INTEGER) / 60
) WHERE decided_at IS NOT NULL;
CREATE INDEX escalations_answer_kpi ON escalations(
    round((julianday(acknowledged_at) - julianday(received_at)) * 86400000), received_at,
    acknowledged_by, CAST(strftime('%s', received_at) AS INTEGER) / 60
) WHERE acknowledged_at IS NOT NULL;
CREATE INDEX parcel_handovers_answer_kpi ON parcel_handovers(
    round((julianday(done_at) - julianday(received_at)) * 86400000), received_at, done_by,
    CAST(strftime('%s', received_at) AS INTEGER) / 60
) WHERE done_at IS NOT NULL;
CREATE INDEX parcels_dwell_kpi ON parcels(
    round((julianday(collected_at) - julianday(received_at)) * 86400000), collected_at
) WHERE collected_at IS NOT NULL;
-- Requests not answered yet: a handful of rows, found without walking the range.
CREATE INDEX visits_waiting_kpi ON visits(received_at) WHERE decided_at IS NULL;
CREATE INDEX escalations_waiting_kpi ON escalations(received_at) WHERE acknowledged_at IS NULL;
CREATE INDEX parcel_handovers_waiting_kpi ON parcel_handovers(received_at) WHERE done_at IS NULL;
-- Counts per hour of day: each UTC hour of day ('HH') is one range, in time order.
CREATE INDEX visits_hour_kpi ON visits(substr(received_at, 12, 2), received_at, party_size);
CREATE INDEX escalations_hour_kpi ON escalations(substr(received_at, 12, 2), received_at);
CREATE INDEX parcels_received_hour_kpi ON parcels(substr(received_at, 12, 2), received_at);
CREATE INDEX parcels_collected_hour_kpi ON parcels(substr(collected_at, 12, 2), collected_at)
    WHERE collected_at IS NOT NULL;
CREATE INDEX tickets_received_hour_kpi ON tickets(substr(received_at, 12, 2), received_at, kind);
"""


@migrations(name="0012_kpi_more_indexes")
def kpi_more_indexes(db: sqlite_utils.Database) -> None:
    db.executescript(_KPI_MORE_INDEXES)


_TICKET_RATINGS = """
-- Every rating a resident gave, kept when a ticket is reopened: tickets.rating is
-- the current resolution's, this is the history the satisfaction KPI counts, so
-- reopening a ticket cannot make a bad rating disappear.
CREATE TABLE ticket_ratings (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    resolution INTEGER NOT NULL,                  -- tickets.reopened_count when rated
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    reasons TEXT NOT NULL DEFAULT '[]',           -- JSON list of reason keys
    comment TEXT,
    via TEXT NOT NULL,
    rated_at TEXT NOT NULL,
    UNIQUE (ticket_id, resolution)
);
CREATE INDEX ticket_ratings_rated ON ticket_ratings(rated_at, rating);
INSERT INTO ticket_ratings (ticket_id, resolution, rating, reasons, comment, via, rated_at)
    SELECT id, reopened_count, rating, coalesce(rating_reasons, '[]'), rating_comment,
           coalesce(rated_via, 'kiosk'), rated_at
    FROM tickets WHERE rating IS NOT NULL AND rated_at IS NOT NULL;
"""


@migrations(name="0013_ticket_ratings")
def ticket_ratings(db: sqlite_utils.Database) -> None:
    db.executescript(_TICKET_RATINGS)


_BUILDING_ROSTER = """
-- Units as buildings name them. `number` is the label people say and print
-- ("3-1-1201", "A座1201", "商铺 S-03"); `keypad` the digits typed at the kiosk
-- (unique among units in use). A retired or merged unit keeps its row, so the
-- visits, parcels and tickets that point at it keep their history.
ALTER TABLE units ADD COLUMN tower TEXT NOT NULL DEFAULT '';
ALTER TABLE units ADD COLUMN entrance TEXT NOT NULL DEFAULT '';
ALTER TABLE units ADD COLUMN room TEXT NOT NULL DEFAULT '';
ALTER TABLE units ADD COLUMN kind TEXT NOT NULL DEFAULT 'home';   -- home, shop, office
ALTER TABLE units ADD COLUMN keypad TEXT;
ALTER TABLE units ADD COLUMN retired_at TEXT;
ALTER TABLE units ADD COLUMN merged_into INTEGER REFERENCES units(id);
ALTER TABLE units ADD COLUMN created_at TEXT;
UPDATE units SET room = number,
    keypad = CASE WHEN number NOT GLOB '*[^0-9]*' AND length(number) <= 8 THEN number END;
CREATE UNIQUE INDEX units_keypad_in_use ON units(keypad)
    WHERE retired_at IS NULL AND keypad IS NOT NULL;
CREATE INDEX units_number_nocase ON units(number COLLATE NOCASE);

-- People of a unit. Active while moved_out_on is NULL; a moved-out resident
-- keeps the row (their history) until retention erases it.
ALTER TABLE residents ADD COLUMN role TEXT NOT NULL DEFAULT 'owner';   -- owner, tenant, household
ALTER TABLE residents ADD COLUMN alt_phone TEXT;
ALTER TABLE residents ADD COLUMN language TEXT NOT NULL DEFAULT 'zh_CN';
ALTER TABLE residents ADD COLUMN moved_in_on TEXT;                     -- YYYY-MM-DD, building time
ALTER TABLE residents ADD COLUMN moved_out_on TEXT;
ALTER TABLE residents ADD COLUMN updated_at TEXT;
ALTER TABLE residents ADD COLUMN erased_at TEXT;
CREATE INDEX residents_active_unit ON residents(unit_id) WHERE moved_out_on IS NULL;
CREATE INDEX residents_phone ON residents(phone);
CREATE INDEX residents_moved_out ON residents(moved_out_on) WHERE moved_out_on IS NOT NULL;

-- How a resident agreed to be told (PIPL): each channel with its consent time,
-- tried in `position` order (the fallback order).
CREATE TABLE resident_channels (
    id INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL REFERENCES residents(id),
    kind TEXT NOT NULL CHECK (kind IN ('email', 'sms', 'wecom', 'dingtalk', 'feishu', 'webhook')),
    address TEXT NOT NULL,                      -- an e-mail address, or an apprise URL
    position INTEGER NOT NULL,
    consent_at TEXT NOT NULL,
    consent_source TEXT NOT NULL,               -- 'form', 'import', 'paper', 'migrated'
    withdrawn_at TEXT
);
CREATE INDEX resident_channels_resident ON resident_channels(resident_id, position);

-- Standing instructions for the desk ("do not admit …", "parcels may go to 李阿姨").
CREATE TABLE unit_instructions (
    id INTEGER PRIMARY KEY,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    kind TEXT NOT NULL CHECK (kind IN ('do_not_admit', 'parcels', 'note')),
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    removed_at TEXT,
    removed_by TEXT
);
CREATE INDEX unit_instructions_unit ON unit_instructions(unit_id) WHERE removed_at IS NULL;

-- People who may collect a unit's parcels at the desk.
CREATE TABLE parcel_proxies (
    id INTEGER PRIMARY KEY,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    name TEXT NOT NULL,
    phone TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    removed_at TEXT,
    removed_by TEXT
);
CREATE INDEX parcel_proxies_unit ON parcel_proxies(unit_id) WHERE removed_at IS NULL;

-- What the directory matches a search against: name, given name, pinyin and its
-- initials, phone digits and last four: one indexed prefix range per search.
CREATE TABLE resident_search (
    resident_id INTEGER NOT NULL REFERENCES residents(id),
    key TEXT NOT NULL
);
CREATE INDEX resident_search_key ON resident_search(key, resident_id);
CREATE INDEX resident_search_resident ON resident_search(resident_id);

-- Which resident a message is for, and which of their channels it is on now
-- (a failing channel falls back to the next one in the resident's order).
ALTER TABLE notifications ADD COLUMN resident_id INTEGER REFERENCES residents(id);
ALTER TABLE notifications ADD COLUMN channel_id INTEGER REFERENCES resident_channels(id);
ALTER TABLE parcel_notices ADD COLUMN channel_id INTEGER REFERENCES resident_channels(id);
CREATE INDEX notifications_resident ON notifications(resident_id, status);
CREATE INDEX parcel_notices_resident ON parcel_notices(resident_id, status);

-- Every try to deliver a message to a resident, on which channel, and how it went:
-- the delivery status staff see per message.
CREATE TABLE notification_attempts (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL CHECK (source IN ('notification', 'parcel_notice')),
    message_id INTEGER NOT NULL,
    channel_id INTEGER REFERENCES resident_channels(id),
    channel_kind TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'failed')),
    error TEXT,
    at TEXT NOT NULL
);
CREATE INDEX notification_attempts_message ON notification_attempts(source, message_id, id);

-- A roster or units file uploaded for preview; applied (all or nothing) only when
-- staff confirm the clean preview. The content is dropped once applied or old.
CREATE TABLE roster_imports (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('residents', 'units')),
    filename TEXT NOT NULL,
    content BLOB,
    uploaded_by INTEGER REFERENCES staff(id),
    uploaded_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'previewed' CHECK (status IN ('previewed', 'applied', 'discarded')),
    applied_at TEXT,
    summary TEXT                                  -- JSON: rows added, updated, moved out …
);
"""


@migrations(name="0014_building_roster")
def building_roster(db: sqlite_utils.Database) -> None:
    db.executescript(_BUILDING_ROSTER)
    from shared import residents

    residents.migrate_existing(db)


_KIOSK_CLOCK = """
-- A kiosk's time outside the plausible window is kept and flagged, never refused
-- (shared/kiosk_time.py); staff see the flag beside the item.
ALTER TABLE visits ADD COLUMN clock_doubtful INTEGER NOT NULL DEFAULT 0;
ALTER TABLE escalations ADD COLUMN clock_doubtful INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN clock_doubtful INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kiosk_alerts ADD COLUMN clock_doubtful INTEGER NOT NULL DEFAULT 0;
"""


@migrations(name="0015_kiosk_clock")
def kiosk_clock(db: sqlite_utils.Database) -> None:
    db.executescript(_KIOSK_CLOCK)


_FEED_EPOCH = """
-- The identity of this database's feed history (shared/feed.py): random text and
-- the kiosk_events id it started after. One row; a restore replaces it.
CREATE TABLE feed_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch TEXT NOT NULL,
    base INTEGER NOT NULL,
    started_at TEXT NOT NULL
);
"""


@migrations(name="0016_feed_epoch")
def feed_epoch(db: sqlite_utils.Database) -> None:
    from shared import feed

    db.executescript(_FEED_EPOCH)
    feed.start_epoch(db, to_iso(datetime.now(UTC)))


_REFUSED_ITEMS = """
-- A request the console refused reaches the desk whole, beside the writes of revoked
-- kiosks: staff resend it (once the cause is fixed) or discard it (shared/quarantine.py).
ALTER TABLE quarantine ADD COLUMN reason TEXT NOT NULL DEFAULT 'revoked'
    CHECK (reason IN ('revoked', 'refused'));
ALTER TABLE quarantine ADD COLUMN item_kind TEXT;
ALTER TABLE quarantine ADD COLUMN error TEXT;
ALTER TABLE quarantine ADD COLUMN language TEXT;
CREATE INDEX quarantine_reason ON quarantine(reason, status, id);
"""


@migrations(name="0017_refused_items")
def refused_items(db: sqlite_utils.Database) -> None:
    db.executescript(_REFUSED_ITEMS)


_HANDOVER_OPEN_ITEMS = """
-- What was still waiting or open when the shift ended (shared/handover.py open_items):
-- JSON, written once with the handover so the next shift sees what was passed on.
ALTER TABLE handovers ADD COLUMN open_items TEXT;
"""


@migrations(name="0018_handover_open_items")
def handover_open_items(db: sqlite_utils.Database) -> None:
    db.executescript(_HANDOVER_OPEN_ITEMS)


_KIOSK_SOFTWARE = """
-- What each kiosk last said it runs (shared/kiosk_software.py): its version and the
-- kiosk <-> console protocol (shared/protocol.py). NULL: not heard since the upgrade.
ALTER TABLE kiosks ADD COLUMN software_version TEXT;
ALTER TABLE kiosks ADD COLUMN protocol INTEGER;
"""


@migrations(name="0019_kiosk_software")
def kiosk_software(db: sqlite_utils.Database) -> None:
    db.executescript(_KIOSK_SOFTWARE)


class DatabaseFromNewerVersion(RuntimeError):
    """The database has migrations this version does not know: a downgrade. Opening
    it would run old code on a schema it was not written for, so it is refused."""

    def __init__(self, unknown: list[str]):
        from shared.version import __version__

        names = ", ".join(unknown)
        super().__init__(
            f"数据库由更新版本的 Lobby Desk 使用过（含 {__version__} 不认识的迁移 {names}）："
            f"请重新安装那个版本，或恢复 {__version__} 制作的备份 · This database was last "
            f"used by a newer Lobby Desk (it has migration {names} that {__version__} does not "
            f"know). Install that version again or restore a backup made by {__version__}."
        )
        self.unknown = unknown


def applied_in_file(path: str | Path) -> list[str]:
    """The migrations recorded in the database file at `path`, read without writing
    anything to it (empty for a new or foreign file)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return []
    # No -wal file: everything is in the main file, read as immutable so not even an
    # empty -wal/-shm is left beside it. Otherwise the WAL may hold the newest commits.
    wal = Path(f"{path}-wal")
    mode = "ro" if wal.exists() and wal.stat().st_size else "ro&immutable=1"
    conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "_sqlite_migrations" not in tables:  # where sqlite-utils records what it applied
            return []
        query = "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid"
        return [row[0] for row in conn.execute(query, (migrations.name,))]
    finally:
        conn.close()


def refuse_newer(applied: list[str] | set[str]) -> None:
    """DatabaseFromNewerVersion when `applied` holds a migration this version lacks."""
    known = known_migrations()
    unknown = sorted(name for name in applied if name not in known)
    if unknown:
        raise DatabaseFromNewerVersion(unknown)


_INVITATIONS = """
-- Visitors invited ahead by a resident (or the desk for them): shared/invitations/.
-- Dates are the building's dates; weekdays (recurring) are ISO numbers, "2" or "2,4".
-- nonce goes into the signed pass (shared/pass_signing.py): a pass is tied to it.
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    host_resident_id INTEGER REFERENCES residents(id),
    visitor_name TEXT,
    visitor_phone TEXT,
    party_size INTEGER NOT NULL DEFAULT 1,
    purpose TEXT NOT NULL DEFAULT 'visit',
    kind TEXT NOT NULL CHECK (kind IN ('once', 'window', 'recurring')),
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    weekdays TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    nonce INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT
);
CREATE INDEX invitations_dates ON invitations(ends_on, starts_on);
CREATE INDEX invitations_unit ON invitations(unit_id, id);
CREATE INDEX invitations_host ON invitations(host_resident_id, id);

-- One use per invitation and building date: the UNIQUE is what makes a pass single use
-- even when two kiosks sync the same pass at once.
CREATE TABLE invitation_uses (
    id INTEGER PRIMARY KEY,
    invitation_id INTEGER NOT NULL REFERENCES invitations(id),
    day TEXT NOT NULL,
    visit_id INTEGER REFERENCES visits(id),
    kiosk_id INTEGER REFERENCES kiosks(id),
    actor TEXT NOT NULL,
    used_at TEXT NOT NULL,
    UNIQUE (invitation_id, day)
);

ALTER TABLE visits ADD COLUMN invitation_id INTEGER REFERENCES invitations(id);
"""


@migrations(name="0021_invitations")
def invitations(db: sqlite_utils.Database) -> None:
    db.executescript(_INVITATIONS)


def open_building_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the console's database and migrate it.

    A database a newer version has migrated is refused before anything touches it
    (a downgrade: DatabaseFromNewerVersion). An existing database is backed up with
    the SQLite backup API before any pending migration touches it (SECURITY.md 30).
    """
    from shared import backup

    refuse_newer(applied_in_file(path))
    db = dbmod.connect(path)
    if migrations.applied(db) and migrations.pending(db):
        backup.create(db, backup.folder(Path(path).parent), reason="pre-migration")
    # BEGIN IMMEDIATE around the lot: a second process starting at the same
    # moment (a CLI command beside the console) waits its turn instead of
    # failing on a read-to-write lock upgrade; each migration is a savepoint.
    with dbmod.write_transaction(db):
        migrations.apply(db)
        if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    return db


def known_migrations() -> set[str]:
    """The names of every migration this version knows (a restore checks a backup's)."""
    return {migration.name for migration in migrations.pending(sqlite_utils.Database(memory=True))}
