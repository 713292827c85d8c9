"""InvitationViewModel and ResidentLinkViewModel with no window: a pass scanned at home,
verified with the stored key, checked by the console, signed in through the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk import pass_keys
from kiosk.client import PERMANENT, RETRYABLE, SUCCESS, Result, classify
from kiosk.refusals import Refusal
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from kiosk.viewmodels import invitation as inv
from kiosk.viewmodels import resident_link as rl
from kiosk.viewmodels.effects import Enqueue, Query
from shared import i18n, pass_signing

BUILDING = 7


@pytest.fixture
def signer():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def key(signer):
    """What the kiosk keeps from GET /pass-key."""
    return {
        "public_key": pass_signing.published(signer)["public_key"],
        "building_id": BUILDING,
        "revoked": [],
    }


def make_pass(signer, clock, invitation=41, building=BUILDING, days=1):
    claims = pass_signing.PassClaims(building, invitation, 1234, clock.now() + timedelta(days=days))
    return pass_signing.sign(signer, claims)


def vm_for(clock, online=True):
    model = inv.InvitationViewModel(clock)
    model.on_online(online)
    return model


def refused(status, code, reason=None):
    error = {"code": code, "message": "…", "call_reception": True}
    if reason:
        error["reason"] = reason
    return Result(PERMANENT, status, {"error": error}, code)


def shown(model, language="en"):
    return i18n.text("kiosk", model.message_key, language)


# -- online: the console says whom it is for, then the sign-in goes through the outbox --
def test_online_scan_shows_the_consoles_greeting_and_signs_in(clock, signer, key):
    model = vm_for(clock)
    text = make_pass(signer, clock)
    query = model.scanned(text, key, "zh_CN")
    assert isinstance(query, Query) and query.call == "check_pass"
    assert query.args == (text, "zh_CN") and model.state == inv.CHECKING
    answer = {"outcome": "valid", "greeting_zh": "欢迎 张** · 拜访 1201",
              "greeting_en": "Welcome 张** · visiting 1201", "unit": "1201", "party_size": 2}  # fmt: skip
    assert model.on_checked(query.generation, Result(SUCCESS, 200, answer))
    assert model.state == inv.CONFIRM
    assert model.greeting("zh_CN") == "欢迎 张** · 拜访 1201" and model.party_size == 2
    write = model.confirm("zh_CN")
    assert isinstance(write, Enqueue) and write.kind == inv.KIND and write.path == inv.PATH
    assert write.body["pass"] == text and write.body["confirm"] is True
    assert write.body["offline"] is False
    model.on_saved(5)
    assert model.state == inv.WAITING and model.scanned_text is None  # not kept once queued
    assert model.on_acked(5, {"outcome": "signed_in", "pass_token": "tok", "unit": "1201"})
    assert model.state == inv.SIGNED_IN and model.pass_token == "tok"
    assert shown(model) == "You are signed in. Welcome!"


def test_a_flagged_guest_goes_to_staff(clock, signer, key):
    model = vm_for(clock)
    query = model.scanned(make_pass(signer, clock), key, "en")
    model.on_checked(
        query.generation, Result(SUCCESS, 200, {"greeting_zh": "欢迎 访客 · 拜访 1201"})
    )
    model.confirm("en")
    model.on_saved(9)
    assert model.on_acked(9, {"outcome": "see_staff", "visit_id": 3})
    assert model.state == inv.SEE_STAFF and model.offer_call and model.pass_token is None
    assert i18n.text("kiosk", model.message_key, "zh_CN") == "请到前台"
    assert shown(model) == "Please see the desk"


# -- every refusal code: its own message, "call reception" at hand -------------------
@pytest.mark.parametrize(
    ("answer", "code", "english"),
    [
        (refused(410, "pass_expired"), "pass_expired", "This pass has expired"),
        (refused(410, "pass_revoked"), "pass_revoked", "This pass was cancelled"),
        (refused(409, "pass_used"), "pass_used", "already used today"),
        (refused(403, "pass_not_today"), "pass_not_today", "not valid today"),
        (refused(403, "pass_other_building"), "pass_other_building", "another building"),
        (refused(400, "pass_invalid", "tampered"), "pass_tampered", "signature does not match"),
        (refused(400, "pass_invalid", "truncated"), "pass_truncated", "scan it again"),
        (refused(400, "pass_invalid", "malformed"), "pass_malformed", "not a visitor pass"),
        (Result(RETRYABLE, 429, {}, "rate_limited", retry_after=30), "throttled", "Too many scans"),
    ],
)
def test_each_console_refusal_has_its_own_message(clock, signer, key, answer, code, english):
    model = vm_for(clock)
    query = model.scanned(make_pass(signer, clock), key, "en")
    assert model.on_checked(query.generation, answer)
    assert model.state == inv.REFUSED and model.refusal == code
    assert english in shown(model)
    assert i18n.text("kiosk", model.message_key, "zh_CN")  # both languages
    assert model.offer_call
    assert model.confirm("en") is None  # nothing to sign in with


def _tamper(text: str) -> str:
    body = text[len("LDI1:") :]
    swapped = "A" if body[30] != "A" else "B"
    return "LDI1:" + body[:30] + swapped + body[31:]


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda s, c: make_pass(s, c, days=-1), "pass_expired"),
        (lambda s, c: make_pass(s, c, building=BUILDING + 1), "pass_other_building"),
        (lambda s, c: _tamper(make_pass(s, c)), "pass_tampered"),
        (lambda s, c: make_pass(s, c)[:-7], "pass_truncated"),
        (lambda s, c: "https://example.com/not-a-pass", "pass_malformed"),
        (lambda s, c: make_pass(Ed25519PrivateKey.generate(), c), "pass_tampered"),
    ],
)
@pytest.mark.parametrize("online", [True, False])
def test_bad_passes_are_refused_at_the_kiosk_and_sent_for_the_audit(
    clock, signer, key, make, code, online
):
    model = vm_for(clock, online=online)
    effect = model.scanned(make(signer, clock), key, "zh_CN")
    assert model.state == inv.REFUSED and model.refusal == code
    # not asked of the console as a check: queued for its audit, online or not
    assert isinstance(effect, Enqueue) and effect.kind == inv.CHECK_KIND
    assert effect.body["confirm"] is False
    assert model.message_key == f"invite.refused.{code}" and model.offer_call


# -- offline: verified with the stored key alone ------------------------------------
def test_offline_scan_is_verified_with_the_stored_key_and_queued_offline(clock, signer, key):
    model = vm_for(clock, online=False)
    text = make_pass(signer, clock)
    assert model.scanned(text, key, "zh_CN") is None  # nothing to ask anyone
    assert model.state == inv.CONFIRM
    assert i18n.text("kiosk", model.message_key, "zh_CN") == "欢迎，已验证访客码"
    assert shown(model) == "Welcome, your pass is valid"
    write = model.confirm("zh_CN")
    assert write.body["offline"] is True and write.body["pass"] == text
    model.on_saved(3)
    assert model.state == inv.RECORDED
    assert "desk told" in i18n.text("kiosk", "invite.recorded_detail", "en")
    # delivered later: the screen already said what it could; a refusal is shown
    assert model.on_dead(3, Refusal("pass_used", "HTTP 409 pass_used: …"))
    assert model.state == inv.REFUSED and model.refusal == "pass_used"


def test_a_console_that_goes_away_during_the_check_falls_back_to_offline(clock, signer, key):
    model = vm_for(clock)
    query = model.scanned(make_pass(signer, clock), key, "en")
    assert model.on_checked(query.generation, Result(RETRYABLE, None, message="refused"))
    assert model.state == inv.CONFIRM and model.offline
    assert model.confirm("en").body["offline"] is True


def test_no_stored_key_offline_cannot_check(clock, signer):
    model = vm_for(clock, online=False)
    assert model.scanned(make_pass(signer, clock), None, "en") is None
    assert model.refusal == "no_key" and model.offer_call


def test_an_answer_for_the_previous_visitor_is_ignored(clock, signer, key):
    model = vm_for(clock)
    query = model.scanned(make_pass(signer, clock), key, "en")
    model.reset()
    assert not model.on_checked(query.generation, Result(SUCCESS, 200, {"greeting_zh": "x"}))
    assert model.state == inv.IDLE


def test_a_flood_of_scans_is_slowed_at_the_kiosk_too(clock, signer, key):
    model = vm_for(clock, online=False)
    text = make_pass(signer, clock)
    for _ in range(inv.SCAN_LIMIT):
        model.scanned(text, key, "en")
        assert model.state == inv.CONFIRM
    model.scanned(text, key, "en")
    assert model.refusal == "throttled"
    clock.advance(seconds=inv.SCAN_WINDOW)
    model.scanned(text, key, "en")
    assert model.state == inv.CONFIRM


# -- the stored key and the feed's revocations ---------------------------------------
class _KeyClient:
    def __init__(self, body):
        self.body = body

    def pass_key(self):
        return Result(SUCCESS, 200, self.body)


def test_a_revocation_from_the_feed_refuses_the_pass_offline(tmp_path, clock, signer):
    store = KioskStore.open(tmp_path / "kiosk.db", clock)
    published = {**pass_signing.published(signer), "building_id": BUILDING, "revoked": [3]}
    worker = SyncWorker(store, _KeyClient(published), clock=clock)
    assert worker.refresh_pass_key().ok
    assert pass_keys.verifying_key(store)["revoked"] == [3]
    text = make_pass(signer, clock, invitation=41)
    model = vm_for(clock, online=False)
    model.scanned(text, pass_keys.verifying_key(store), "en")
    assert model.state == inv.CONFIRM  # valid before the revocation
    event = {"id": 9, "kind": "invitation.revoked", "payload": {"invitation_id": 41}}
    assert pass_keys.keep_revocation(store, event)
    model.reset()
    model.scanned(text, pass_keys.verifying_key(store), "en")
    assert model.refusal == "pass_revoked"
    assert shown(model) == "This pass was cancelled"
    store.save_pairing({"token": "t"})  # paired to another console: its key is not kept
    assert pass_keys.verifying_key(store) is None
    store.close()


def test_an_update_needed_answer_is_reported_once(tmp_path, clock):
    class Answer:
        status_code, reason, headers = 426, "Upgrade Required", {}

        def json(self):
            return {"error": {"code": "update_required", "message": "update the kiosk"}}

    seen = []
    store = KioskStore.open(tmp_path / "kiosk.db", clock)
    worker = SyncWorker(store, _KeyClient({}), clock=clock, on_update_needed=seen.append)
    result = classify(Answer())
    assert result.update_needed
    worker._note_update(result)
    worker._note_update(result)
    worker._note_update(Result(SUCCESS, 200, {}))
    assert seen == [True, False]
    assert i18n.text("kiosk", "status.update_needed", "zh_CN") == "需要更新"
    store.close()


# -- the resident's page link ---------------------------------------------------------
def test_resident_link_sends_unit_and_last_four_and_answers_neutrally():
    model = rl.ResidentLinkViewModel()
    model.on_online(True)
    model.begin()
    assert model.send() is None and model.error_key == "rlink.error_unit"
    for digit in "1201":
        model.key(digit)
    model.select(rl.PHONE)
    for digit in "567":
        model.key(digit)
    assert model.send() is None and model.error_key == "rlink.error_phone"
    model.key("8")
    write = model.send()
    assert write == Enqueue(rl.KIND, rl.PATH, {"unit": "1201", "phone": "5678"})
    assert model.entry.digits == {rl.UNIT: "", rl.PHONE: ""}  # not kept on screen
    model.on_saved(4)
    assert (
        i18n.text("kiosk", model.message_key, "en") == "If the details match, a link has been sent"
    )
    assert model.on_acked(4, {"message": "…"}) and model.state == rl.DONE


def test_resident_link_offline_says_it_is_saved():
    model = rl.ResidentLinkViewModel()
    model.begin()
    model.entry.digits = {rl.UNIT: "1201", rl.PHONE: "5678"}
    model.send()
    model.on_saved(4)
    assert model.state == rl.QUEUED
    assert "sent when the connection is back" in i18n.text("kiosk", model.message_key, "en")
    assert (
        model.on_dead(4, Refusal("invalid_request", "HTTP 400 invalid_request: …"))
        and model.state == rl.FAILED
    )
