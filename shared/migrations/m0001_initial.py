"""0001: the building database as Lobby Desk 0.1 created it."""

from __future__ import annotations

import sqlite_utils

from shared.migrations.registry import migrations

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
