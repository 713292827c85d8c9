"""Invitation passes: signed with the building's Ed25519 key, checked offline."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared import pass_signing
from shared.pass_signing import PassClaims

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def key():
    return Ed25519PrivateKey.generate()


def _pass(key, *, building=1, invitation=42, expires=NOW + timedelta(hours=12)):
    return pass_signing.sign(key, PassClaims(building, invitation, 7, expires))


def _verify(text, key, **kw):
    return pass_signing.verify(
        text, key, building_id=kw.pop("building_id", 1), now=kw.pop("now", NOW), **kw
    )


def test_a_pass_carries_ids_and_validity_only_and_fits_a_qr(key):
    text = _pass(key)
    assert text.startswith("LDI1:") and len(text) < 150
    claims = _verify(text, pass_signing.published(key)["public_key"])
    assert (claims.building_id, claims.invitation_id, claims.nonce) == (1, 42, 7)
    assert claims.expires_at == NOW + timedelta(hours=12)


def test_a_changed_character_is_tampering(key):
    text = _pass(key)
    body = text[len("LDI1:") :]
    changed = "LDI1:" + body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
    with pytest.raises(pass_signing.PassTampered):
        _verify(changed, key)


def test_a_pass_signed_by_another_key_is_refused(key):
    with pytest.raises(pass_signing.PassTampered):
        _verify(_pass(Ed25519PrivateKey.generate()), key)


@pytest.mark.parametrize("cut", [10, 50, 100, 106])
def test_a_pass_read_only_in_part_is_truncated(key, cut):
    with pytest.raises(pass_signing.PassTruncated):
        _verify(_pass(key)[:cut], key)


@pytest.mark.parametrize(
    "text",
    ["", "hello", "eyJ2IjoxfQ.abc", "LDI1:***", "LDI1:" + "A" * 150, None, 42, "LDI1:张三"],
)
def test_what_is_not_a_pass_is_malformed(key, text):
    with pytest.raises(pass_signing.PassMalformed):
        _verify(text, key)


def test_an_expired_pass_and_another_buildings_pass_are_told_apart(key):
    with pytest.raises(pass_signing.PassExpired):
        _verify(_pass(key), key, now=NOW + timedelta(hours=13))
    with pytest.raises(pass_signing.PassOtherBuilding):
        _verify(_pass(key, building=2), key)


def test_a_revoked_invitation_is_refused_offline(key):
    with pytest.raises(pass_signing.PassRevoked):
        _verify(_pass(key, invitation=42), key, revoked={41, 42})
    assert _verify(_pass(key, invitation=43), key, revoked={41, 42}).invitation_id == 43


def test_every_refusal_has_its_own_code_and_speaks_both_languages():
    classes = [
        pass_signing.PassMalformed,
        pass_signing.PassTruncated,
        pass_signing.PassTampered,
        pass_signing.PassExpired,
        pass_signing.PassOtherBuilding,
        pass_signing.PassRevoked,
    ]
    assert len({cls.code for cls in classes}) == len(classes)
    for cls in classes:
        message = str(cls())
        assert "呼叫前台" in message and "call reception" in message


def test_the_key_is_made_once_readable_by_the_owner_only(tmp_path):
    first = pass_signing.load_or_create_key(tmp_path)
    again = pass_signing.load_or_create_key(tmp_path)
    assert pass_signing.published(first) == pass_signing.published(again)
    mode = stat.S_IMODE(pass_signing.key_path(tmp_path).stat().st_mode)
    assert mode == 0o600


def test_many_threads_making_the_key_at_once_all_read_one_whole_key(tmp_path):
    import threading

    from cryptography.hazmat.primitives import serialization

    start, keys, errors = threading.Barrier(16), [], []

    def load():
        start.wait()
        try:
            keys.append(pass_signing.load_or_create_key(tmp_path))
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)

    threads = [threading.Thread(target=load) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    raw = {
        key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        for key in keys
    }
    assert len(keys) == 16 and len(raw) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [pass_signing.key_path(tmp_path).name]
