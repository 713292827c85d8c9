"""The kiosk redeems an invitation pass: POST /api/v1/invitations/redeem, GET /pass-key."""

from __future__ import annotations

from shared import invitations, pass_signing
from shared.db import one
from tests.helpers import KioskCaller, add_resident, building_db, make_app, paired_kiosk


def _invite(app, clock, **fields):
    resident_id = add_resident(app, unit="101", name="王建国", clock=clock)
    db = building_db(app)
    invitation_id = invitations.create(
        db,
        clock,
        host_resident_id=resident_id,
        fields={"name": "张先生", "kind": "once", "starts_on": "2026-11-27", **fields},
        actor="test",
    )
    text = invitations.pass_text(db, app.config["DATA_DIR"], invitation_id)
    db.close()
    return invitation_id, text


def _redeem(kiosk: KioskCaller, text, key=None, **extra):
    return kiosk.client.post(
        "/api/v1/invitations/redeem", json={"pass": text, **extra}, headers=kiosk.headers(key)
    )


def test_a_valid_pass_signs_the_visitor_in_and_tells_the_host(app, clock, kiosk):
    invitation_id, text = _invite(app, clock)
    check = _redeem(kiosk, text, confirm=False)
    assert check.status_code == 200
    assert check.json["greeting_zh"] == "欢迎 张** · 拜访 101"
    assert "张先生" not in check.get_data(as_text=True)  # only the masked name leaves

    answer = _redeem(kiosk, text)
    assert answer.status_code == 201, answer.json
    assert answer.json["outcome"] == "signed_in" and answer.json["pass_token"]
    db = building_db(app)
    visit = one(db, "SELECT * FROM visits WHERE id = ?", (answer.json["visit_id"],))
    assert visit["status"] == "confirmed" and visit["invitation_id"] == invitation_id
    note = one(db, "SELECT * FROM notifications WHERE related = ?", (f"visit:{visit['id']}",))
    assert note is not None and "张先生" in note["body"]
    assert one(db, "SELECT 1 FROM audit_log WHERE action = 'invitation.redeem'") is not None
    db.close()


def test_a_replayed_key_answers_the_same_and_signs_in_once(app, clock, kiosk):
    _id, text = _invite(app, clock)
    first = _redeem(kiosk, text, key="redeem-key-0000000001")
    again = _redeem(kiosk, text, key="redeem-key-0000000001")
    assert again.status_code == first.status_code == 201
    assert again.json == first.json
    db = building_db(app)
    assert db.execute("SELECT COUNT(*) FROM visits").fetchone()[0] == 1
    db.close()


def test_a_pass_used_twice_offline_becomes_an_escalation_for_the_desk(app, clock, kiosk):
    _id, text = _invite(app, clock)
    assert _redeem(kiosk, text, offline=True).status_code == 201
    second = _redeem(kiosk, text, offline=True)
    assert second.status_code == 409
    error = second.json["error"]
    assert error["code"] == "pass_used" and error["call_reception"]
    db = building_db(app)
    escalation = one(db, "SELECT * FROM escalations WHERE id = ?", (error["escalation_id"],))
    assert escalation["status"] == "open" and "离线" in escalation["note"]
    assert db.execute("SELECT COUNT(*) FROM visits").fetchone()[0] == 1
    db.close()


def test_a_revoked_pass_is_refused_and_kiosks_are_told(app, clock, kiosk):
    invitation_id, text = _invite(app, clock)
    db = building_db(app)
    invitations.revoke(db, clock, invitation_id, actor="staff:1")
    db.close()
    answer = _redeem(kiosk, text)
    assert answer.status_code == 410 and answer.json["error"]["code"] == "pass_revoked"
    assert "呼叫前台" in answer.json["error"]["message"]
    feed = kiosk.client.get("/api/v1/feed?after=0", headers=kiosk.headers(False)).json
    revoked = [e for e in feed["events"] if e["kind"] == "invitation.revoked"]
    assert revoked and revoked[0]["payload"] == {"invitation_id": invitation_id}
    key = kiosk.client.get("/api/v1/pass-key", headers=kiosk.headers(False)).json
    assert invitation_id in key["revoked"]


def test_a_tampered_pass_is_refused_with_a_reason_and_audited(app, clock, kiosk):
    _id, text = _invite(app, clock)
    tampered = text[:-3] + ("AAA" if not text.endswith("AAA") else "BBB")
    answer = _redeem(kiosk, tampered)
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "pass_invalid"
    assert answer.json["error"]["reason"] == "tampered"
    truncated = _redeem(kiosk, text[:60])
    assert truncated.json["error"]["reason"] == "truncated"
    db = building_db(app)
    reasons = [
        row["detail"]
        for row in db.query("SELECT detail FROM audit_log WHERE action = 'invitation.pass_refused'")
    ]
    assert len(reasons) == 2 and "pass_tampered" in reasons[0] and "pass_truncated" in reasons[1]
    db.close()


def test_an_expired_pass_is_refused(app, clock, kiosk):
    _id, text = _invite(app, clock)
    clock.advance(days=2)
    answer = _redeem(kiosk, text)
    assert answer.status_code == 410 and answer.json["error"]["code"] == "pass_expired"


def test_a_flood_of_scans_from_one_kiosk_is_throttled(tmp_path, clock):
    app = make_app(tmp_path, clock, PASS_SCAN_LIMIT=3, PASS_SCAN_WINDOW=60)
    kiosk = KioskCaller(app.test_client(), paired_kiosk(app)[1])
    statuses = [_redeem(kiosk, "LDI1:nonsense").status_code for _ in range(4)]
    assert statuses[:3] == [400, 400, 400]
    assert statuses[3] == 429
    limited = _redeem(kiosk, "LDI1:nonsense")
    assert int(limited.headers["Retry-After"]) >= 1
    assert "呼叫前台" in limited.json["error"]["message"]


def test_the_published_key_verifies_the_pass_offline(app, clock, kiosk):
    invitation_id, text = _invite(app, clock)
    published = kiosk.client.get("/api/v1/pass-key", headers=kiosk.headers(False)).json
    claims = pass_signing.verify(
        text, published["public_key"], building_id=published["building_id"], now=clock.now()
    )
    assert claims.invitation_id == invitation_id
    assert text.startswith(published["scheme"])


def test_a_deny_listed_guest_waits_for_staff(app, clock, kiosk):
    from shared import visitors

    _id, text = _invite(app, clock)
    db = building_db(app)
    visitors.add_to_deny_list(db, clock, name="张先生", phone="", reason="test", staff_id=None)
    db.close()
    answer = _redeem(kiosk, text)
    assert answer.status_code == 201 and answer.json["outcome"] == "see_staff"
    assert "pass_token" not in answer.json
    db = building_db(app)
    assert one(db, "SELECT status FROM visits")["status"] == "pending"
    db.close()
