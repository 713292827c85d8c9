"""The one migration set of the console's database, in its own module so that every
migration module can register into it without importing the package itself."""

from __future__ import annotations

from sqlite_utils.migrations import Migrations

# The set's name is recorded beside every applied migration in _sqlite_migrations.
migrations = Migrations("lobbydesk")
