"""The building database for the console: one connection per request on `g`, and the
console's clock (a frozen one in tests, set as CLOCK in the app's config)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, g

from shared import coordination, schema
from shared.db import connect, make_private


def database_path(app) -> Path:
    return Path(app.config["DATA_DIR"]) / "lobbydesk.db"


def get_db():
    if "db" not in g:
        g.db = connect(database_path(current_app))
    return g.db


def coordination_of(app) -> coordination.Coordination:
    """This process's connection to the state its console processes share (limits,
    the live signal, leases): opened once per app, shared by its threads."""
    return app.extensions["lobbydesk.coordination"]


def get_coordination() -> coordination.Coordination:
    return coordination_of(current_app)


def get_clock():
    """The clock every page and API call reads "now" from: the app's, never datetime.now(),
    so a test can freeze or advance time for the whole console."""
    return current_app.extensions["lobbydesk.clock"]


def close_db(_error=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app) -> None:
    # Migrations run once at start, before the server takes requests.
    schema.open_building_db(database_path(app)).close()
    app.extensions["lobbydesk.coordination"] = coordination.Coordination(
        coordination.path_in(app.config["DATA_DIR"])
    )
    _make_data_private(app)
    app.teardown_appcontext(close_db)


def _make_data_private(app) -> None:
    """The data folder 0700; the database, its WAL/SHM, the secret and backups 0600,
    also when an older version or a loose umask made them readable by others."""
    from console.settings import secret_key_path
    from shared import backup

    data_dir = Path(app.config["DATA_DIR"])
    make_private(
        data_dir,
        databases=[database_path(app).name, coordination.FILE_NAME],
        files=[secret_key_path(data_dir).name],
    )
    backups = backup.folder(data_dir)
    make_private(backups, files=[item.name for item in backups.glob("*") if item.is_file()])
