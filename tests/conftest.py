"""Fixtures: a real console on real SQLite files, people using it, and a kiosk's store."""

from __future__ import annotations

import pytest

from kiosk.outbox import Outbox
from kiosk.store import KioskStore
from shared.clock import FrozenClock
from shared.coordination import Coordination, path_in
from tests.helpers import KioskCaller, StaffBrowser, add_staff, make_app, paired_kiosk


@pytest.fixture
def clock():
    """The one frozen instant every test starts at (a module needing another overrides
    this fixture); tests move it by hand."""
    return FrozenClock("2026-11-27T09:00:00+00:00")


@pytest.fixture
def store(tmp_path, clock):
    """A kiosk's own database (kiosk.db), on the test's clock."""
    store = KioskStore.open(tmp_path / "kiosk.db", clock)
    yield store
    store.close()


@pytest.fixture
def outbox(store):
    """The kiosk's outbox over `store`."""
    return Outbox(store)


@pytest.fixture
def coordinated(tmp_path):
    """This test's coordination.db, as one console process holds it (limits' state)."""
    opened = Coordination(path_in(tmp_path))
    yield opened
    opened.close()


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
