"""A family moves in, their first parcel arrives, and the code from *their* message
opens the kiosk: the real kiosk window against the real console over HTTP, the
notice delivered by real SMTP on loopback. The family that moved out hears nothing.
"""

from __future__ import annotations

import re

import pytest

from kiosk.viewmodels import parcel as pv
from shared import parcels, residents, units
from shared.clock import SystemClock
from tests.helpers import add_resident, building_db
from tests.mailbox import Mailbox
from tests.test_parcels import log_parcel
from tests.ui.conftest import step, tap, wait_until
from tests.ui.test_parcel_pickup import open_pickup, parcel_screen, type_on_keypad


@pytest.fixture
def kiosk_clock():
    """Real time on both sides: the worker really sends."""
    return SystemClock()


def move_family_in(app, unit: str) -> None:
    """Managers record the move: the old owner out, a new household in, consent given."""
    db = building_db(app)
    consent = "2026-11-27T09:00:00.000000+00:00"
    residents.move_in(
        db,
        app.extensions["lobbydesk.clock"],
        units.lookup(db, unit)["id"],
        [
            {
                "name": "赵敏",
                "role": "tenant",
                "phone": "13900001111",
                "email": "zhao.min@example.com",
                "channels": [{"address": "zhao.min@example.com", "consent_at": consent}],
            }
        ],
        replace=True,
        actor="staff:1",
    )
    db.close()


def test_the_new_tenant_collects_with_the_code_from_their_notice(console, kiosk):
    app, _server, staff = console
    add_resident(app, "101", "王建国", email="wang@example.com")
    move_family_in(app, "101")
    assert log_parcel(staff, tracking="SF1234567890123").status_code == 201

    mailbox = Mailbox().start()
    try:
        db = building_db(app)
        parcels.deliver_notices(db, SystemClock(), app.config["SECRET_KEY"], mailbox.apprise_url)
        [mail] = mailbox.wait_for(1)
    finally:
        mailbox.stop()
    assert mail["to"] == ["zhao.min@example.com"]  # the new tenant, and only them
    text = mail["message"].get_body(preferencelist=("plain",)).get_content()
    code = re.search(r"取件码：(\d{6})", text).group(1)

    open_pickup(kiosk)
    type_on_keypad(kiosk, "101", code)
    tap(parcel_screen(kiosk).ids.submit)
    assert wait_until(lambda: kiosk.parcel.state == pv.COLLECT)
    step(2)
    assert parcel_screen(kiosk).ids.status.text == "找到 1 件快递"
    status = db.execute("SELECT status FROM parcels").fetchone()[0]
    assert status == "collected"
    db.close()
