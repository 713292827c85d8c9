"""The building database's schema, as named migrations applied at every start
(shared/schema.py opens the database and applies them).

sqlite-utils applies migrations in the order they were registered, which is the
order the modules below are imported in: oldest first. Later features extend the
schema by adding a migration at the end, in the last module or a new one imported
last; a migration, once released, is never edited, renamed or reordered, since
databases in the field have its name recorded.
"""

from __future__ import annotations

# Imported for their registrations, in this order (see above).
from shared.migrations import (  # noqa: F401
    m0001_initial,
    m0002_0006_desk,
    m0007_0013_tickets,
    m0014_building_roster,
    m0015_0021_kiosks,
)
from shared.migrations.registry import migrations

__all__ = ["migrations"]
