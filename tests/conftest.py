"""Fixtures: a real console on real SQLite files, and people using it."""

from __future__ import annotations

import pytest

from shared.clock import FrozenClock
from tests.helpers import KioskCaller, StaffBrowser, add_staff, make_app, paired_kiosk


@pytest.fixture
def clock():
    return FrozenClock("2026-11-27T09:00:00+00:00")


@pytest.fixture
def app(tmp_path, clock):
    return make_app(tmp_path, clock)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def reception(app, client):
    add_staff(app)
    browser = StaffBrowser(client)
    assert browser.login().status_code == 302
    return browser


@pytest.fixture
def kiosk(app, client):
    _kiosk_id, token = paired_kiosk(app)
    return KioskCaller(client, token)
