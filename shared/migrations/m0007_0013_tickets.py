"""0007-0013: tickets, broadcasts, the shift handover, the KPI indexes, ratings."""

from __future__ import annotations

import sqlite_utils

from shared.migrations.registry import migrations

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
