"""Kiosk software on the wire: every kiosk request says its protocol and version, the
console records them for the kiosks page, and a protocol it does not serve gets 426
with a clear message, while the kiosk keeps the item queued until it is updated."""

from __future__ import annotations

import logging

import pytest

from console.server import ConsoleServer
from kiosk import client as kiosk_client
from kiosk.client import ConsoleClient
from kiosk.outbox import ACKED, READY, Outbox
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared import protocol
from shared.version import __version__
from tests.helpers import (
    KioskCaller,
    StaffBrowser,
    add_staff,
    building_db,
    make_app,
    paired_kiosk,
)

HELP = {"kind": "help", "created_at": "2026-11-27T08:59:58+00:00", "language": "zh_CN"}


@pytest.fixture
def admin(app, client):
    add_staff(app, "guanli", role="admin", display_name="管理员")
    browser = StaffBrowser(client)
    assert browser.login("guanli").status_code == 302
    return browser


def _software(protocol_number, version="0.5.0"):
    headers = {protocol.PROTOCOL_HEADER: str(protocol_number)}
    if version is not None:
        headers[protocol.VERSION_HEADER] = version
    return headers


def _call(kiosk: KioskCaller, **headers):
    return kiosk.client.post(
        "/api/v1/escalations", json={**HELP, "screen": "home"}, headers=kiosk.headers(**headers)
    )


def _kiosk_row(admin: StaffBrowser) -> str:
    page = admin.client.get("/admin/kiosks/").get_data(as_text=True)
    return page.split('data-kiosk-id="1"')[1].split("</tr>")[0]


def _help_calls(app) -> int:
    return building_db(app).execute("SELECT count(*) FROM escalations").fetchone()[0]


def test_a_kiosk_from_before_the_headers_is_served_as_protocol_1(app, kiosk, admin):
    assert _call(kiosk).status_code == 201
    row = _kiosk_row(admin)
    assert "未报告版本（协议 1）" in row and "Version not reported (protocol 1)" in row
    assert "Update needed" not in row


def test_an_old_protocol_gets_426_update_required_and_the_kiosks_page_says_so(
    app, kiosk, admin, monkeypatch
):
    answer = _call(kiosk, **_software(0, "0.5.0"))
    assert answer.status_code == 426
    error = answer.get_json()["error"]
    assert error["code"] == "update_required"
    assert "0.5.0" in error["message"] and "protocol 0" in error["message"]
    assert f"console {__version__} needs protocol 1 or newer" in error["message"]
    assert "需要更新终端" in error["message"]
    assert _help_calls(app) == 0  # nothing half-understood was stored
    row = _kiosk_row(admin)
    assert "需要更新：终端版本 0.5.0 使用协议 0，控制台需要 ≥ 1" in row
    assert "Update needed: kiosk version 0.5.0 speaks protocol 0" in row
    assert 'role="status"' in row  # said in words, not by a colour

    # The kiosk is updated: the same request now goes through and the line goes.
    assert _call(kiosk, **_software(1, "0.6.0")).status_code == 201
    row = _kiosk_row(admin)
    assert "0.6.0（协议 1）· 0.6.0 (protocol 1)" in row and "Update needed" not in row


def test_a_newer_protocol_than_the_console_gets_426_console_too_old(app, kiosk, admin):
    answer = kiosk.client.get("/api/v1/ping", headers=kiosk.headers(False, **_software(2)))
    assert answer.status_code == 426
    error = answer.get_json()["error"]
    assert error["code"] == "console_too_old"
    assert "Upgrade the console" in error["message"] and "升级控制台" in error["message"]
    assert error["console_protocol"] == protocol.PROTOCOL_VERSION
    row = _kiosk_row(admin)
    assert "控制台需要升级" in row and "Upgrade the console: kiosk version 0.5.0" in row


def test_pairing_an_old_kiosk_is_refused_before_the_code_is_used(app, client):
    from shared import kiosks

    db = building_db(app)
    created = kiosks.create(
        db, app.extensions["lobbydesk.clock"], building_id=1, name="大堂 B", actor="test"
    )
    db.close()
    pair = {"code": created["pairing_code"], "device": "old"}
    old = client.post("/api/v1/pair", json=pair, headers={protocol.PROTOCOL_HEADER: "0"})
    assert old.status_code == 426 and old.get_json()["error"]["code"] == "update_required"
    new = client.post(
        "/api/v1/pair",
        json=pair,
        headers={protocol.PROTOCOL_HEADER: "1", protocol.VERSION_HEADER: "0.6.0"},
    )
    assert new.status_code == 201  # the code still works for the updated kiosk
    row = building_db(app).execute("SELECT software_version, protocol FROM kiosks WHERE id = ?",
                                   (created["id"],)).fetchone()  # fmt: skip
    assert tuple(row) == ("0.6.0", 1)


def test_a_malformed_protocol_header_is_a_clear_400(kiosk):
    answer = _call(kiosk, **{protocol.PROTOCOL_HEADER: "one"})
    assert answer.status_code == 400
    message = answer.get_json()["error"]["message"]
    assert "应为整数" in message and "must be a whole number" in message


def test_the_kiosk_client_sends_its_protocol_and_version_with_every_request(app, admin):
    _, token = paired_kiosk(app)
    server = ConsoleServer(app).start_in_background()
    try:
        assert ConsoleClient(server.url, token).ping(0).ok
    finally:
        server.stop()
    row = _kiosk_row(admin)
    assert f"{__version__}（协议 {protocol.PROTOCOL_VERSION}）" in row


def test_a_kiosk_told_to_update_keeps_its_items_and_delivers_them_once_updated(
    tmp_path, monkeypatch, caplog
):
    """The console now serves protocol 2 only; the kiosk speaks 1. Its help call and
    visits wait (never dead-lettered); the kiosk is updated; each arrives once."""
    app = make_app(tmp_path / "console")
    _, token = paired_kiosk(app)
    store = KioskStore.open(tmp_path / "kiosk.db")
    store.save_pairing({"token": token, "kiosk": {"id": 1, "name": "大堂 A"}})
    outbox = Outbox(store)
    ids = [
        outbox.enqueue("escalation.help", "/api/v1/escalations", {**HELP, "screen": s})
        for s in ("home", "visitor", "parcel")
    ]
    monkeypatch.setattr(protocol, "PROTOCOL_VERSION", 2)
    monkeypatch.setattr(protocol, "OLDEST_KIOSK_PROTOCOL", 2)
    monkeypatch.setattr(kiosk_client, "_update_logged_at", {})  # its log line not yet written
    dead = []
    server = ConsoleServer(app).start_in_background()
    try:
        worker = SyncWorker(store, ConsoleClient(server.url, token), on_dead=dead.append)
        with caplog.at_level(logging.ERROR, logger="kiosk.client"):
            wait = worker.drain_once(outbox)  # three waiting: sent as one batch
        assert wait is not None and wait > 0  # tried again later, with backoff
        assert [outbox.get(i).state for i in ids] == [READY] * 3 and not dead
        assert "update_required" in outbox.get(ids[0]).last_error
        assert "需要更新 · Update needed" in caplog.text
        worker.drain_once(outbox)  # still the old kiosk: sent alone or again, still kept
        assert [outbox.get(i).state for i in ids] == [READY] * 3 and not dead
        assert _help_calls(app) == 0

        monkeypatch.setattr(kiosk_client, "PROTOCOL_VERSION", 2)  # the kiosk is updated
        worker._retry_now = True  # skip the backoff wait: the kiosk retries after it
        for _ in range(10):
            if worker.drain_once(outbox) is None:
                break
            worker._retry_now = True
    finally:
        server.stop()
    assert [outbox.get(i).state for i in ids] == [ACKED] * 3 and not dead
    assert _help_calls(app) == 3
    store.close()
