"""The building database for the console: one connection per request on `g`."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, g

from shared import schema
from shared.db import connect


def database_path(app) -> Path:
    return Path(app.config["DATA_DIR"]) / "lobbydesk.db"


def get_db():
    if "db" not in g:
        g.db = connect(database_path(current_app))
    return g.db


def close_db(_error=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app) -> None:
    # Migrations run once at start, before the server takes requests.
    schema.open_building_db(database_path(app)).close()
    app.teardown_appcontext(close_db)
