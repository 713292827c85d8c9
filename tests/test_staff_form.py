"""The new-account form: every error at once beside its field, what was typed kept."""

from __future__ import annotations

import re

from tests.helpers import StaffBrowser, add_staff, building_db


def _admin(app):
    add_staff(app, username="root", role="admin", display_name="管理员")
    browser = StaffBrowser(app.test_client())
    assert browser.login("root").status_code == 302
    return browser


def _field(page: str, name: str) -> str:
    """The <input>/<select> tag of one field of the new-account form."""
    form = page[page.index('class="card new-account"') :]
    return re.search(rf'<(?:input|select) name="{name}"[^>]*>', form).group(0)


def test_every_error_is_shown_beside_its_field_at_once(app):
    admin = _admin(app)
    response = admin.post(
        "/admin/staff", username="li ming", display_name="  ", role="owner", password="1234567"
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "correct the 4 fields marked below" in page
    for name, message in (
        ("username", "A username cannot contain spaces."),
        ("display_name", "Enter the name colleagues know this person by."),
        ("role", "Pick a role from the list."),
        ("password", "Use at least 8 characters."),
    ):
        assert re.search(rf'id="new-{name}-error">[^<]*{re.escape(message)}', page), name
        tag = _field(page, name)
        assert 'aria-invalid="true"' in tag and f'aria-describedby="new-{name}-error"' in tag
    assert 'value="li ming"' in _field(page, "username")
    assert "autofocus" in _field(page, "username")  # the first error gets the cursor
    assert "1234567" not in page  # a password is never sent back
    assert building_db(app)["staff"].count == 1


def test_a_taken_username_keeps_the_display_name_and_role(app):
    admin = _admin(app)
    response = admin.post(
        "/admin/staff",
        username="root",
        display_name="李明",
        role="manager",
        password="correct horse battery",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The username “root” is taken." in page
    assert 'value="李明"' in _field(page, "display_name")
    assert '<option value="manager" selected>' in page
    assert "aria-invalid" not in _field(page, "display_name")


def test_a_good_account_is_created_and_the_answer_is_a_redirect(app):
    admin = _admin(app)
    response = admin.post(
        "/admin/staff",
        username="liming",
        display_name="李明",
        role="reception",
        password="correct horse battery",
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/staff"
    assert "liming" in admin.client.get("/admin/staff").get_data(as_text=True)
