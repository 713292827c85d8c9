"""The migrations keep the names and the order databases in the field recorded
(shared/migrations/): the modules there register them in import order."""

from __future__ import annotations

from shared.schema import known_migrations, migrations

RELEASED = [
    "0001_initial",
    "0002_visitors",
    "0003_parcels",
    "0004_security",
    "0005_quarantine",
    "0006_kiosk_alerts",
    "0007_tickets",
    "0008_broadcasts",
    "0009_handover",
    "0010_ticket_list_indexes",
    "0011_kpi_indexes",
    "0012_kpi_more_indexes",
    "0013_ticket_ratings",
    "0014_building_roster",
    "0015_kiosk_clock",
    "0016_feed_epoch",
    "0017_refused_items",
    "0018_handover_open_items",
    "0019_kiosk_software",
    "0021_invitations",
]


def test_released_migrations_keep_their_names_and_order():
    registered = [migration.name for migration in migrations._migrations]
    assert registered[: len(RELEASED)] == RELEASED


def test_a_new_migration_comes_after_the_released_ones_in_name_order():
    registered = [migration.name for migration in migrations._migrations]
    assert registered == sorted(registered)
    assert known_migrations() == set(registered)
