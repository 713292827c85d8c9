"""0015-0021: kiosk clocks, the feed epoch, refused items, handover open items,
kiosk software, invitations. No migration is named 0020: the names stand as databases
recorded them."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlite_utils

from shared.clock import to_iso
from shared.migrations.registry import migrations

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
