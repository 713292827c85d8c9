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
    assert admin.post("/admin/kiosks/1/revoke", confirm="yes").status_code == 302
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


def _pair(client, code="WRONG-CODE", address="192.0.2.10"):
    return client.post(
        "/api/v1/pair",
        json={"code": code, "device": "lobby-pc"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failed_pairings_are_limited_per_address_and_audited_in_aggregate(app, client, clock):
    failed = [_pair(client) for _ in range(10)]
    assert {f.status_code for f in failed} == {400}
    refused = [_pair(client) for _ in range(20)]
    assert {r.status_code for r in refused} == {429}
    assert 1 <= int(refused[0].headers["Retry-After"]) <= 600
    message = refused[0].json["error"]["message"]
    assert "配对失败次数太多" in message and "Too many failed pairings" in message
    # Even a good code waits at that address; another address pairs.
    admin = _admin(app, client)
    code = _new_kiosk_code(admin)
    assert _pair(client, code).status_code == 429
    assert _pair(client, code, address="192.0.2.11").status_code == 201
    # Thirty failures and refusals: two audit rows with the counts, not thirty.
    rows = list(
        building_db(app).query(
            "SELECT action, detail, device FROM audit_log WHERE action LIKE 'kiosk.pair_%'"
            " AND action != 'kiosk.pair' ORDER BY id"
        )
    )
    assert [r["action"] for r in rows] == ["kiosk.pair_failed", "kiosk.pair_limited"]
    assert {r["device"] for r in rows} == {"192.0.2.10"}


def test_behind_the_trusted_proxy_each_forwarded_address_is_limited_on_its_own(tmp_path, clock):
    """A real server (waitress): the forwarded address counts only from the trusted proxy."""
    import requests

    from console.server import ConsoleServer
    from tests.helpers import make_app

    def flood(url, forwarded):
        headers = {"X-Forwarded-For": forwarded}
        body = {"code": "WRONG-CODE", "device": "x"}
        return [
            requests.post(f"{url}/api/v1/pair", json=body, headers=headers, timeout=10).status_code
            for _ in range(11)
        ]

    trusted = ConsoleServer(make_app(tmp_path / "a", clock, TRUSTED_PROXY="127.0.0.1"))
    untrusted = ConsoleServer(make_app(tmp_path / "b", clock))
    try:
        trusted.start_in_background()
        untrusted.start_in_background()
        assert flood(trusted.url, "198.51.100.1") == [400] * 10 + [429]
        assert flood(trusted.url, "198.51.100.2") == [400] * 10 + [429]  # its own count
        # Without the setting the header is dropped: every request is the proxy's own.
        assert flood(untrusted.url, "198.51.100.1") == [400] * 10 + [429]
        assert flood(untrusted.url, "198.51.100.2") == [429] * 11
    finally:
        trusted.stop()
        untrusted.stop()
