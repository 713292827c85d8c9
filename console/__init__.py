"""The reception console: staff pages and the kiosk API, one Flask app."""

from __future__ import annotations

from flask import Flask

from console import db, edge, live, security, settings
from shared import terms
from shared.clock import SystemClock
from shared.passwords import hasher
from shared.version import __version__


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    _configure(app, test_config)
    edge.init_app(app)  # before any route is added: ids, JSON and numbers checked at the edge
    db.init_app(app)
    live.init_app(app)
    security.init_app(app)
    _register_features(app)
    _template_helpers(app)
    return app


def _configure(app: Flask, test_config: dict | None) -> None:
    app.config.update(settings.from_environment())
    if test_config:
        app.config.update(test_config)
    _configure_secret(app)
    app.config.update(
        MAX_CONTENT_LENGTH=256 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="lobbydesk_session",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
    )
    app.extensions["lobbydesk.clock"] = app.config.get("CLOCK") or SystemClock()
    # Cheap hashing exists only for the test suite; production always pays argon2id's cost.
    app.extensions["lobbydesk.hasher"] = hasher(cheap=bool(app.config.get("TESTING")))


def _register_features(app: Flask) -> None:
    """Every feature's blueprint, then the error pages over them all."""
    from console import (
        admin,
        announcements,
        api,
        attention,
        auth,
        dashboard,
        emergency,
        errors,
        handover,
        health,
        invitations,
        kiosk_commands,
        kiosks,
        parcels,
        queue,
        rating,
        resident_page,
        residents,
        tickets,
        visitors,
    )

    for feature in (
        health,
        auth,
        queue,
        attention,
        kiosks,
        kiosk_commands,
        visitors,
        invitations,
        parcels,
        residents,
        tickets,
        rating,
        resident_page,
        announcements,
        emergency,
        handover,
        dashboard,
        api,
        admin,
    ):
        app.register_blueprint(feature.bp)
    errors.init_app(app)


def _template_helpers(app: Flask) -> None:
    # One source for the words of statuses, urgencies and roles: {{ term('role', r) }},
    # and for counts: {{ plural('fields', n, 'en') }} (docs/WORDS.md)
    app.jinja_env.globals["term"] = terms.term
    app.jinja_env.globals["labels"] = terms.labels
    app.jinja_env.globals["plural"] = terms.plural
    app.jinja_env.globals["lobbydesk_version"] = __version__  # footer and kiosks page
    app.jinja_env.filters["term"] = lambda value, group, language=None: terms.term(
        group, value, language
    )


def _configure_secret(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.load_secret_key(app.config["DATA_DIR"])
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "No secret key: set LOBBYDESK_SECRET_KEY or run `lobbydesk console --init` "
            f"to create {settings.secret_key_path(app.config['DATA_DIR'])}"
        )


def clock(app):
    return app.extensions["lobbydesk.clock"]
