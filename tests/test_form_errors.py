"""Refused forms come back as typed (never a password) with every error beside its
field (aria-invalid, aria-describedby) and status 422 (issue 4/9)."""

from __future__ import annotations

import re

from shared import emergency_broadcast
from tests.helpers import PASSWORD, building_db

NEW = "a long enough pass phrase"


def text(response) -> str:
    return response.get_data(as_text=True)


def error_beside(html: str, name: str) -> str:
    """The error under a field, after checking the field points at it."""
    field = re.search(rf'<(?:input|textarea)[^>]*name="{name}"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field and f'aria-describedby="{name}-error"' in field
    return re.search(rf'id="{name}-error">(.*?)</p>', html, re.S).group(1)


def test_a_refused_password_change_marks_each_box_and_sends_no_password_back(reception):
    response = reception.post(
        "/account/password",
        current_password=PASSWORD,
        new_password="short",
        new_password_again="shorter",
    )
    html = text(response)
    assert response.status_code == 422
    assert "Use at least 8 characters" in error_beside(html, "new_password")
    assert "The new passwords differ" in error_beside(html, "new_password_again")
    assert "aria-invalid" not in re.search(r'<input[^>]*name="current_password"[^>]*>', html)[0]
    assert PASSWORD not in html and "short" not in re.findall(r'value="([^"]*)"', html)


def test_a_wrong_current_password_is_said_beside_that_box(reception):
    response = reception.post(
        "/account/password", current_password="not it", new_password=NEW, new_password_again=NEW
    )
    assert response.status_code == 422
    assert "The current password is not right" in error_beside(text(response), "current_password")
    good = reception.post(
        "/account/password", current_password=PASSWORD, new_password=NEW, new_password_again=NEW
    )
    assert good.status_code == 302
    assert "Password changed" in text(reception.client.get(good.headers["Location"]))


def test_a_refused_emergency_keeps_what_was_typed_and_marks_both_boxes(app, reception):
    typed_zh = "请从东侧楼梯离开" + "字" * 600
    response = reception.post(
        "/emergency/start", kind="fire", instructions_zh=typed_zh, instructions_en="  "
    )
    html = text(response)
    assert response.status_code == 422
    assert "中文说明最多" in error_beside(html, "instructions_zh")
    assert "Give the English instructions" in error_beside(html, "instructions_en")
    assert "请从东侧楼梯离开" in html  # what was typed is there to shorten
    assert not list(building_db(app).query("SELECT id FROM emergencies"))
    fire = emergency_broadcast.KINDS["fire"]
    sent = reception.post("/emergency/start", kind="fire", **{
        k: fire[k] for k in ("instructions_zh", "instructions_en")})  # fmt: skip
    assert sent.status_code == 302
