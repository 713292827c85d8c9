"""0014: units and residents as buildings keep them, and the roster import."""

from __future__ import annotations

import sqlite_utils

from shared import phones
from shared.migrations.registry import migrations
from shared.residents.directory import write_search_keys
from shared.residents.fields import channel_kind_of

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
    _bring_in_existing_residents(db)


def _bring_in_existing_residents(db: sqlite_utils.Database) -> None:
    """Residents stored before the roster existed get E.164 phones, channels (their
    e-mail or apprise URL, consent as of their creation) and search keys. A phone that
    cannot be read is kept as a note on the unit, never dropped."""
    rows = list(db.query("SELECT * FROM residents"))
    for row in rows:
        phone = row["phone"]
        try:
            phone = phones.normalise(phone) if phone else None
        except phones.InvalidPhone:
            db.execute(
                "INSERT INTO unit_instructions (unit_id, kind, text, created_at, created_by)"
                " VALUES (?, 'note', ?, ?, 'migration')",
                (
                    row["unit_id"],
                    f"{row['name']} 原电话 · phone on file: {phone}"[:300],
                    row["created_at"],
                ),
            )
            phone = None
        db.execute(
            "UPDATE residents SET phone = ?, moved_in_on = substr(created_at, 1, 10),"
            " updated_at = created_at WHERE id = ?",
            (phone, row["id"]),
        )
        channels = []
        if row.get("notify_url"):
            channels.append((channel_kind_of(row["notify_url"]), row["notify_url"]))
        if row.get("email"):
            email_first = row.get("preferred_channel") != "apprise"
            channels.insert(0 if email_first else len(channels), ("email", row["email"]))
        for position, (kind, address) in enumerate(channels, start=1):
            db.execute(
                "INSERT INTO resident_channels (resident_id, kind, address, position, consent_at,"
                " consent_source) VALUES (?, ?, ?, ?, ?, 'migrated')",
                (row["id"], kind, address, position, row["created_at"]),
            )
        write_search_keys(db, row["id"], {**row, "phone": phone})
