"""Kiosk pairing: a one-time code for a per-kiosk token; revocation at once."""

import re

from shared import kiosks
from shared.tokens import hash_token
from tests.helpers import StaffBrowser, add_staff, building_db


def _admin(app, client):
    add_staff(app, username="admin", role="admin", display_name="管理员")
    browser = StaffBrowser(client)
    browser.login("admin")
    return browser


def _new_kiosk_code(browser, name="大堂 A"):
    page = browser.post("/admin/kiosks/", name=name).get_data(as_text=True)
    assert "data:image/png;base64," in page  # the pairing QR is shown with the code
    return re.search(r'id="pairing-code">([A-Z0-9-]+)<', page).group(1)


def test_admin_creates_a_kiosk_and_the_kiosk_pairs_with_the_code(app, client):
    code = _new_kiosk_code(_admin(app, client))
    response = client.post("/api/v1/pair", json={"code": code.lower(), "device": "lobby-pc"})
    assert response.status_code == 201
    token = response.json["token"]
    assert len(token) >= 43  # 256 bits, url-safe base64
    assert response.json["building"]["name"] == "测试大厦"
    row = building_db(app)["kiosks"].get(1)
    assert row["token_hash"] == hash_token(token) and token not in str(row)
    assert (
        client.get("/api/v1/ping", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


def test_a_used_code_is_refused_with_a_clear_message(app, client):
    code = _new_kiosk_code(_admin(app, client))
    assert client.post("/api/v1/pair", json={"code": code}).status_code == 201
    again = client.post("/api/v1/pair", json={"code": code})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "pairing_code_used"
    assert "already used" in again.json["error"]["message"]


def test_an_expired_code_is_refused(app, client, clock):
    code = _new_kiosk_code(_admin(app, client))
    clock.advance(minutes=16)
    response = client.post("/api/v1/pair", json={"code": code})
    assert response.status_code == 410
    assert response.json["error"]["code"] == "pairing_code_expired"


def test_an_unknown_code_is_refused(client):
    response = client.post("/api/v1/pair", json={"code": "ABCDE-FGHJK"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "pairing_code_invalid"


def test_a_revoked_kiosk_gets_401_on_its_next_request(app, client):
    admin = _admin(app, client)
    token = client.post("/api/v1/pair", json={"code": _new_kiosk_code(admin)}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/ping", headers=headers).status_code == 200
    assert admin.post("/admin/kiosks/1/revoke").status_code == 302
    response = client.get("/api/v1/ping", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "kiosk_not_authorised"


def test_missing_or_forged_token_gets_401(client):
    assert client.get("/api/v1/ping").status_code == 401
    forged = client.get("/api/v1/ping", headers={"Authorization": "Bearer " + "A" * 43})
    assert forged.status_code == 401 and forged.is_json


def test_kiosk_page_shows_online_state_and_outbox_depth(app, client, clock):
    admin = _admin(app, client)
    token = client.post("/api/v1/pair", json={"code": _new_kiosk_code(admin)}).json["token"]
    client.get("/api/v1/ping", headers={"Authorization": f"Bearer {token}", "X-Outbox-Depth": "3"})
    page = client.get("/admin/kiosks/").get_data(as_text=True)
    assert "在线 · Online" in page and "<td>3</td>" in page
    clock.advance(minutes=5)
    assert "离线 · Offline" in client.get("/admin/kiosks/").get_data(as_text=True)


def test_repairing_a_kiosk_invalidates_its_old_token(app):
    db = building_db(app)
    clock = app.extensions["lobbydesk.clock"]
    created = kiosks.create(db, clock, building_id=1, name="B", actor="test")
    old = kiosks.pair(db, clock, created["pairing_code"])["token"]
    code = kiosks.new_pairing_code(db, clock, created["id"], actor="test")
    new = kiosks.pair(db, clock, code)["token"]
    assert kiosks.authenticate(db, new)["id"] == created["id"]
    import pytest

    from shared.errors import KioskNotAuthorised

    with pytest.raises(KioskNotAuthorised):
        kiosks.authenticate(db, old)
