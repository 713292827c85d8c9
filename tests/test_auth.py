"""Staff sign-in: argon2id, roles, CSRF, no default account."""

import re

import pytest

from shared.errors import WeakPassword
from shared.passwords import check_rules, hasher
from tests.helpers import PASSWORD, StaffBrowser, add_staff, building_db


def test_a_fresh_console_has_no_account_to_sign_in_with(client):
    browser = StaffBrowser(client)
    assert browser.login("admin", "admin").status_code == 401
    assert client.get("/").status_code == 302  # pages need a signed-in staff member


def test_staff_sign_in_reaches_the_live_queue_and_sign_out_ends_the_session(app, client):
    add_staff(app)
    browser = StaffBrowser(client)
    assert browser.login().headers["Location"] == "/"
    page = client.get("/")
    assert "实时队列" in page.get_data(as_text=True) and "Live queue" in page.get_data(as_text=True)
    assert browser.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_answer(app, client):
    add_staff(app)
    wrong = StaffBrowser(client).login("wangfang", "not the password")
    unknown = StaffBrowser(client).login("nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password" in wrong.get_data(as_text=True)
    assert "Wrong username or password" in unknown.get_data(as_text=True)


def test_after_a_wrong_password_the_username_stays_and_the_password_has_the_focus(app, client):
    add_staff(app)
    page = StaffBrowser(client).login("wangfang", "not the password").get_data(as_text=True)
    assert re.search(r'role="alert" id="login-error">用户名或密码不正确 · Wrong username', page)
    username = re.search(r'<input name="username"[^>]*>', page).group(0)
    password = re.search(r'<input name="password"[^>]*>', page).group(0)
    assert 'value="wangfang"' in username and "autofocus" not in username
    assert "autofocus" in password and 'aria-describedby="login-error"' in password
    assert "not the password" not in page


def test_failed_and_successful_logins_are_audited_without_the_password(app, client):
    add_staff(app)
    StaffBrowser(client).login("wangfang", "bad-guess-123")
    StaffBrowser(client).login()
    rows = list(
        building_db(app).query("SELECT action, detail FROM audit_log WHERE action LIKE 'login%'")
    )
    assert [r["action"] for r in rows] == ["login.failure", "login.success"]
    assert all("bad-guess" not in r["detail"] and PASSWORD not in r["detail"] for r in rows)


def test_passwords_are_stored_as_argon2id(app):
    add_staff(app)
    stored = building_db(app)["staff"].get(1)["password_hash"]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_production_hasher_meets_owasp_minimum():
    params = hasher().hash("a long enough password").split("$")[3]
    assert params == "m=19456,t=2,p=1"


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("short", False),
        ("12345678", False),
        ("password1", False),
        ("x" * 129, False),
        ("门前大桥下游过一群鸭", True),
        ("correct horse battery", True),
    ],
)
def test_password_rules(password, ok):
    if ok:
        check_rules(password)
    else:
        with pytest.raises(WeakPassword):
            check_rules(password)


def test_a_post_without_csrf_token_is_refused(app, client, reception):
    response = client.post("/logout")
    assert response.status_code == 400
    assert client.get("/").status_code == 200  # still signed in: nothing happened


def test_login_form_needs_its_csrf_token(app, client):
    add_staff(app)
    client.get("/login")
    response = client.post("/login", data={"username": "wangfang", "password": PASSWORD})
    assert response.status_code == 400


def test_open_redirect_after_login_is_refused(app, client):
    add_staff(app)
    browser = StaffBrowser(client)
    page = client.get("/login?next=//evil.example/")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post(
        "/login?next=//evil.example/",
        data={"username": "wangfang", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"
    del browser


def test_reception_cannot_open_kiosk_administration(app, client, reception):
    assert client.get("/admin/kiosks/").status_code == 403


def test_security_headers_on_pages(client):
    response = client.get("/login")
    assert "object-src 'none'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _sign_in(client, username, password, address):
    page = client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failed_sign_ins_are_limited_per_address_across_usernames(app):
    add_staff(app)
    guesser, desk = app.test_client(), app.test_client()
    tries = [_sign_in(guesser, f"user{n}", "guess-password", "192.0.2.66") for n in range(30)]
    assert {t.status_code for t in tries} == {401}
    refused = _sign_in(guesser, "wangfang", PASSWORD, "192.0.2.66")  # not even checked
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 600
    page = refused.get_data(as_text=True)
    assert "登录失败次数太多" in page and "Too many failed sign-ins from this computer" in page
    # The desk's own computer signs in as usual.
    assert _sign_in(desk, "wangfang", PASSWORD, "192.0.2.20").status_code == 302
    rows = list(
        building_db(app).query("SELECT device FROM audit_log WHERE action = 'login.source_limited'")
    )
    assert rows == [{"device": "192.0.2.66"}]
