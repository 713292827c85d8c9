"""0002-0006: visitors, parcels, the login guard, held kiosk writes, kiosk alerts."""

from __future__ import annotations

import sqlite_utils

from shared.migrations.registry import migrations

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
