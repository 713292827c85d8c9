"""Staff console security: throttling, sessions, cookies, staff administration,
the audit log and its viewer, logs, errors (SECURITY.md 1-5, 10-12)."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer

from console import create_app
from console.logs import SafeFormatter
from lobbydesk.cli import main
from shared import login_guard, staff
from shared.clock import to_iso
from shared.passwords import check_rules
from shared.tokens import hash_token, new_idempotency_key
from tests.helpers import PASSWORD, StaffBrowser, add_staff, building_db, make_app, paired_kiosk

NEW_PASSWORD = "a brand new pass phrase"


def _browser(app, username="wangfang", password=PASSWORD):
    browser = StaffBrowser(app.test_client())
    response = browser.login(username, password)
    return browser, response


def _audit(app, action_prefix=""):
    return list(
        building_db(app).query(
            "SELECT * FROM audit_log WHERE action LIKE ? ORDER BY id", (action_prefix + "%",)
        )
    )


def _same_app(app, clock):
    """The console restarted on the same data folder."""
    return create_app(
        {
            "TESTING": True,
            "DATA_DIR": app.config["DATA_DIR"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "CLOCK": clock,
        }
    )


# --- SECURITY.md 3: guessing --------------------------------------------------


def test_101_wrong_passwords_then_the_right_one_is_refused_even_after_a_restart(app, clock):
    add_staff(app)
    for _ in range(101):
        assert _browser(app, password="wrong guess 123")[1].status_code in (401, 429)
    browser, response = _browser(app)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) >= 1
    restarted = _same_app(app, clock)
    assert _browser(restarted)[1].status_code == 429  # the count is in the database
    clock.advance(hours=1, seconds=1)
    assert _browser(restarted)[1].status_code == 302


def test_while_paused_the_password_is_not_even_checked(app, clock, monkeypatch):
    add_staff(app)
    for _ in range(login_guard.FREE_FAILURES):
        assert _browser(app, password="wrong guess 123")[1].status_code == 401
    checked = []
    monkeypatch.setattr("shared.passwords.verify", lambda *a: checked.append(a) or True)
    assert _browser(app)[1].status_code == 429
    assert checked == []
    clock.advance(seconds=1)  # the first pause after 10 failures is 1 s, then 2, 4 … 60
    monkeypatch.undo()
    assert _browser(app)[1].status_code == 302


def test_an_attacker_going_as_fast_as_allowed_gets_at_most_100_guesses_an_hour(app, clock):
    db = building_db(app)
    guesses = []
    for _ in range(400):
        wait = login_guard.seconds_to_wait(db, clock, "wangfang")
        if wait:
            clock.advance(seconds=wait)
            continue
        guesses.append(clock.now())
        login_guard.record_failure(db, clock, "wangfang")
    assert clock.now() - guesses[0] > timedelta(hours=3)
    for i, start in enumerate(guesses):
        in_hour = [g for g in guesses[i:] if g - start < timedelta(hours=1)]
        assert len(in_hour) <= login_guard.HOURLY_LIMIT


def test_100_failures_within_the_hour_lock_the_account_until_the_oldest_leaves_it(app, clock):
    db = building_db(app)
    key = login_guard.account_key("wangfang")
    start = clock.now()
    db["login_failures"].insert_all(
        {"account_key": key, "at": to_iso(start + timedelta(seconds=30 * i))} for i in range(100)
    )
    clock.advance(seconds=30 * 99 + 120)  # well past the 60 s pause after the last failure
    assert login_guard.seconds_to_wait(db, clock, "WangFang ") == 3600 - (30 * 99 + 120)
    clock.advance(seconds=3600 - (30 * 99 + 120))
    assert login_guard.seconds_to_wait(db, clock, "wangfang") == 0


def test_unknown_and_known_usernames_are_throttled_alike(app):
    add_staff(app)
    answers = {}
    for name in ("wangfang", "nobody"):
        for _ in range(login_guard.FREE_FAILURES):
            assert _browser(app, name, "wrong guess 123")[1].status_code == 401
        response = _browser(app, name, "wrong guess 123")[1]
        page = response.get_data(as_text=True).replace(f'value="{name}"', 'value="…"')
        page = re.sub(r'name="csrf_token" value="[^"]+"', "", page)
        answers[name] = (response.status_code, page, response.headers["Retry-After"])
    assert answers["wangfang"] == answers["nobody"]
    assert answers["nobody"][0] == 429


def test_a_success_clears_the_count_and_a_password_in_the_username_box_is_not_kept(app):
    add_staff(app)
    for _ in range(5):
        _browser(app, "wangfang", "wrong guess 123")
    _browser(app, PASSWORD, "x")  # the password typed into the username box
    assert _browser(app)[1].status_code == 302
    db = building_db(app)
    assert db["login_failures"].count == 1  # only the other "account" still counts
    assert PASSWORD not in json.dumps(list(db.query("SELECT * FROM audit_log")))
    assert PASSWORD not in json.dumps(list(db.query("SELECT * FROM login_failures")))


# --- SECURITY.md 4 and 5: sessions and cookies --------------------------------


def _session_row(app):
    return building_db(app).query("SELECT * FROM staff_sessions ORDER BY id DESC LIMIT 1")


def test_every_sign_in_gets_a_new_session_id(app):
    add_staff(app)
    client = app.test_client()
    first = StaffBrowser(client)
    first.login()
    cookie_one = client.get_cookie("lobbydesk_session").value
    first.post("/logout")
    StaffBrowser(client).login()
    cookie_two = client.get_cookie("lobbydesk_session").value
    assert cookie_one != cookie_two
    rows = list(building_db(app).query("SELECT * FROM staff_sessions ORDER BY id"))
    assert len(rows) == 2 and rows[0]["ended_at"] and not rows[1]["ended_at"]


def test_a_session_cookie_from_before_sign_in_is_not_reused(app):
    add_staff(app)
    client = app.test_client()
    client.get("/login")
    before = client.get_cookie("lobbydesk_session").value
    StaffBrowser(client).login()
    assert client.get_cookie("lobbydesk_session").value != before


def test_idle_timeout_is_30_minutes(app, clock, reception):
    clock.advance(minutes=29)
    assert reception.client.get("/").status_code == 200  # activity moves the idle clock
    clock.advance(minutes=29)
    assert reception.client.get("/").status_code == 200
    clock.advance(minutes=30, seconds=1)
    assert reception.client.get("/").status_code == 302
    assert next(iter(_session_row(app)))["ended_at"]


def test_absolute_timeout_is_12_hours_even_for_a_busy_session(app, clock, reception):
    for _ in range(12 * 4 - 1):
        clock.advance(minutes=15)
        assert reception.client.get("/").status_code == 200
    clock.advance(minutes=15, seconds=1)
    assert reception.client.get("/").status_code == 302


def test_sign_out_ends_the_session_on_the_server(app, reception):
    cookie = reception.client.get_cookie("lobbydesk_session").value
    reception.post("/logout")
    stolen = app.test_client()
    stolen.set_cookie("lobbydesk_session", cookie)
    assert stolen.get("/").status_code == 302


def _admin(app):
    add_staff(app, username="admin", role="admin", display_name="管理员")
    return _browser(app, "admin")[0]


def test_disabling_an_account_ends_its_sessions_at_once(app, reception):
    admin = _admin(app)
    assert admin.post("/admin/staff/1/active", active="0", confirm="yes").status_code == 302
    assert reception.client.get("/").status_code == 302
    assert _browser(app)[1].status_code == 401  # and it cannot sign in again
    assert admin.post("/admin/staff/1/active", active="1").status_code == 302
    assert _browser(app)[1].status_code == 302
    assert [a["action"] for a in _audit(app, "staff.")][-2:] == ["staff.disable", "staff.enable"]


def test_an_admin_ends_a_staff_members_sessions_on_the_page(app, reception):
    other_desk = _browser(app)[0]
    admin = _admin(app)
    assert "<td>2</td>" in admin.client.get("/admin/staff").get_data(as_text=True)
    admin.post("/admin/staff/1/end-sessions")
    assert reception.client.get("/").status_code == 302
    assert other_desk.client.get("/").status_code == 302
    assert admin.client.get("/admin/staff").status_code == 200  # the admin's own goes on
    assert json.loads(_audit(app, "staff.sessions_ended")[0]["detail"]) == {"sessions_ended": 2}


def test_an_admin_ends_a_staff_members_sessions_from_the_cli(app, reception, capsys):
    code = main(
        ["admin", "end-sessions", "--data-dir", app.config["DATA_DIR"], "--username", "wangfang"]
    )
    assert code == 0 and "Ended 1 session" in capsys.readouterr().out
    assert reception.client.get("/").status_code == 302
    assert main(["admin", "end-sessions", "--data-dir", app.config["DATA_DIR"],
                 "--username", "nobody"]) == 2  # fmt: skip


def test_changing_your_password_ends_your_other_sessions_but_not_this_one(app, reception):
    elsewhere = _browser(app)[0]
    response = reception.post(
        "/account/password",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        new_password_again=NEW_PASSWORD,
    )
    assert response.status_code == 302
    assert reception.client.get("/").status_code == 200
    assert elsewhere.client.get("/").status_code == 302
    assert _browser(app)[1].status_code == 401
    assert _browser(app, password=NEW_PASSWORD)[1].status_code == 302
    assert _audit(app, "staff.password_change")[0]["actor"] == "staff:1"


@pytest.mark.parametrize(
    ("current", "new", "again", "status"),
    [
        ("wrong current", NEW_PASSWORD, NEW_PASSWORD, 422),
        (PASSWORD, "12345678", "12345678", 422),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", 422),
        (PASSWORD, "short", "short", 422),
    ],
)
def test_a_password_change_needs_the_current_password_and_a_good_new_one(
    app, reception, current, new, again, status
):
    response = reception.post(
        "/account/password", current_password=current, new_password=new, new_password_again=again
    )
    assert response.status_code == status
    assert _browser(app)[1].status_code == 302  # the old password still works


def test_wrong_current_passwords_count_against_the_throttle(app, reception):
    for _ in range(login_guard.FREE_FAILURES):
        reception.post(
            "/account/password",
            current_password="wrong",
            new_password=NEW_PASSWORD,
            new_password_again=NEW_PASSWORD,
        )
    assert _browser(app)[1].status_code == 429


def test_session_cookie_is_httponly_samesite_and_signed_with_sha256(app, client, reception):
    cookie = client.get_cookie("lobbydesk_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert not cookie.secure  # plain HTTP in tests; see the next test for TLS
    from hashlib import sha256

    serializer = URLSafeTimedSerializer(
        app.secret_key,
        salt="cookie-session",
        signer_kwargs={"key_derivation": "hmac", "digest_method": sha256},
    )
    assert "token" in serializer.loads(cookie.value)  # verifies only with SHA-256


def test_the_cookie_is_secure_when_the_console_is_behind_tls(tmp_path, clock, monkeypatch):
    monkeypatch.setenv("LOBBYDESK_SESSION_COOKIE_SECURE", "true")
    app = make_app(tmp_path, clock)
    add_staff(app)
    client = app.test_client()
    page = client.get("/login", base_url="https://desk.example")
    assert "Secure" in page.headers["Set-Cookie"]


def test_only_a_hash_of_the_session_token_is_stored(app, client, reception):
    from console.security import SessionInterface

    token = (
        SessionInterface()
        .get_signing_serializer(app)
        .loads(client.get_cookie("lobbydesk_session").value)["token"]
    )
    row = next(iter(_session_row(app)))
    assert row["token_hash"] == hash_token(token) and token not in json.dumps(row)


# --- SECURITY.md 1-2: staff administration -------------------------------------


def test_admin_creates_an_account_with_the_password_rules(app):
    admin = _admin(app)
    weak = admin.post(
        "/admin/staff", username="li", display_name="李", role="reception", password="password1"
    )
    assert weak.status_code == 422  # re-shown with the error beside the password
    page = weak.get_data(as_text=True)
    assert 'id="new-password-error">这是最常见的密码之一' in page and "most common" in page
    assert 'value="li"' in page and 'value="李"' in page  # what was typed is kept
    cjk = "门前大桥下游过一群鸭"
    admin.post("/admin/staff", username="li", display_name="李", role="reception", password=cjk)
    assert _browser(app, "li", cjk)[1].status_code == 302
    assert json.loads(_audit(app, "staff.create")[-1]["detail"]) == {
        "username": "li",
        "role": "reception",
    }


def test_admin_changes_a_role_and_the_old_rights_end_with_the_sessions(app, reception):
    admin = _admin(app)
    admin.post("/admin/staff/1/role", role="manager")
    assert reception.client.get("/").status_code == 302
    manager = _browser(app)[0]
    assert manager.client.get("/admin/audit").status_code == 200
    assert json.loads(_audit(app, "staff.role")[0]["detail"]) == {
        "from": "reception",
        "to": "manager",
    }


def test_admin_resets_a_password(app, reception):
    admin = _admin(app)
    admin.post("/admin/staff/1/password", password=NEW_PASSWORD, confirm="yes")
    assert reception.client.get("/").status_code == 302
    assert _browser(app, password=NEW_PASSWORD)[1].status_code == 302
    assert _audit(app, "staff.password_reset")[0]["target"] == "staff:1"


def test_the_last_admin_cannot_be_disabled_or_demoted(app):
    admin = _admin(app)
    admin.post("/admin/staff/1/active", active="0", confirm="yes")
    admin.post("/admin/staff/1/role", role="reception")
    member = building_db(app)["staff"].get(1)
    assert member["active"] == 1 and member["role"] == "admin"


@pytest.mark.parametrize(
    "password", ["门前大桥下游过一群鸭", "长" * 64, "correct horse battery", "Ünïcödé pässwörd"]
)
def test_long_and_cjk_passwords_are_accepted(password):
    check_rules(password)


@pytest.mark.parametrize("password", ["qwertyuiop", "P@ssw0rd", "woaini520", "Sunshine"])
def test_more_common_passwords_are_refused(password):
    from shared.errors import WeakPassword

    with pytest.raises(WeakPassword):
        check_rules(password)


# --- SECURITY.md 11: no tracebacks to users ----------------------------------------


def test_an_unexpected_error_shows_a_generic_page_and_logs_the_detail(tmp_path, clock, caplog):
    app = make_app(tmp_path, clock)

    def explode():
        raise RuntimeError("secret internal detail: table xyz")

    from console.security import role_required

    app.add_url_rule("/explode", "explode", role_required("reception")(explode))
    add_staff(app)
    browser = _browser(app)[0]
    with caplog.at_level(logging.ERROR):
        page = browser.client.get("/explode")
        api = browser.client.get("/explode", headers={"X-Requested-With": "fetch"})
    text = page.get_data(as_text=True)
    assert page.status_code == 500 and "Something went wrong" in text
    assert "Traceback" not in text and "secret internal detail" not in text
    assert "secret internal detail" not in api.get_data(as_text=True)
    assert api.json["error"]["code"] == "internal_error"
    logged = "\n".join(
        SafeFormatter().format(r) for r in caplog.records if r.name == app.logger.name
    )
    assert "RuntimeError: secret internal detail" in logged and "Traceback" in logged
    assert app.config["DEBUG"] is False


# --- log injection ----------------------------------------------------------------


def test_cr_lf_in_a_logged_value_cannot_forge_a_log_line():
    formatter = SafeFormatter()
    forged = "张三\r\n2026-11-27 09:00:00,000 INFO console: login.success admin"
    record = logging.LogRecord(
        "console", logging.WARNING, __file__, 1, "visitor %s", (forged,), None
    )
    line = formatter.format(record)
    assert "\n" not in line and "\r" not in line
    assert "\\r\\n2026-11-27" in line
    try:
        raise ValueError("bad\nINFO forged")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "console", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    lines = formatter.format(record).splitlines()
    assert all(line.startswith("    | ") for line in lines[1:])
    assert not any(line.startswith("INFO") for line in lines)


def test_the_console_logger_uses_the_safe_formatter(app):
    from flask.logging import default_handler

    assert isinstance(default_handler.formatter, SafeFormatter)


# --- SECURITY.md 12: audit log --------------------------------------------------


def _register(client, token, name="张三", phone="13812345678"):
    return client.post(
        "/api/v1/visits",
        json={
            "name": name,
            "phone": phone,
            "unit": "101",
            "created_at": "2026-11-27T08:59:00+00:00",
        },
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": new_idempotency_key()},
    )


def test_a_scripted_day_leaves_no_password_token_or_code_in_the_database_or_logs(
    app, clock, caplog
):
    """Passwords, session and kiosk tokens, pairing codes: not in the database
    files (raw bytes, WAL included), not in the audit log, not in any log line."""
    caplog.set_level(logging.DEBUG)
    secrets = [PASSWORD, NEW_PASSWORD, "门前大桥下游过一群鸭", "wrong guess 123"]
    admin = _admin(app)
    admin.post(
        "/admin/staff", username="li", display_name="李", role="reception", password=secrets[2]
    )
    page = admin.post("/admin/kiosks/", name="大堂 B").get_data(as_text=True)
    pairing_code = re.search(r'id="pairing-code">([A-Z0-9-]+)<', page).group(1)
    client = app.test_client()
    kiosk_token = client.post("/api/v1/pair", json={"code": pairing_code}).json["token"]
    _register(client, kiosk_token)
    add_staff(app)
    _browser(app, "wangfang", secrets[3])
    desk, _ = _browser(app)
    desk.post("/visitors/1/decide", decision="confirm_id")
    desk.post(
        "/account/password",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        new_password_again=NEW_PASSWORD,
    )
    admin.post("/admin/staff/2/password", password=PASSWORD, confirm="yes")
    admin.client.get("/admin/audit.csv")
    from console.security import SessionInterface

    session_tokens = [
        SessionInterface()
        .get_signing_serializer(app)
        .loads(b.client.get_cookie("lobbydesk_session").value)["token"]
        for b in (admin, desk)
    ]
    forbidden = [*secrets, kiosk_token, pairing_code, *session_tokens]
    raw = b"".join(path.read_bytes() for path in Path(app.config["DATA_DIR"]).glob("lobbydesk.db*"))
    audit_text = json.dumps(list(building_db(app).query("SELECT * FROM audit_log")))
    logs = "\n".join(SafeFormatter().format(r) for r in caplog.records)
    for secret in forbidden:
        assert secret.encode() not in raw, secret
        assert secret not in audit_text, secret
        assert secret not in logs, secret
    actions = {row["action"] for row in _audit(app)}
    assert {
        "staff.create",
        "kiosk.create",
        "kiosk.pair",
        "visit.register",
        "visit.confirm_id",
        "login.failure",
        "login.success",
        "staff.password_change",
        "staff.password_reset",
        "audit.export",
    } <= actions


def test_audit_rows_say_who_what_when_and_from_which_device(app):
    add_staff(app)
    _browser(app)
    row = _audit(app, "login.success")[0]
    assert row["actor"] == "staff:1" and row["at"].endswith("+00:00")
    assert row["device"] == "127.0.0.1"


def test_managers_filter_the_audit_log_and_export_it_formula_safe(app, clock):
    add_staff(app, username="mona", role="manager", display_name="Mona")
    add_staff(app)
    _browser(app, "wangfang", "=HYPERLINK(evil)")  # a failed sign-in
    _browser(app)
    manager = _browser(app, "mona")[0]
    page = manager.client.get("/admin/audit?actor=wangfang").get_data(as_text=True)
    assert "login.success" in page and "login.failure" in page and "staff.create" not in page
    page = manager.client.get("/admin/audit?action=staff.").get_data(as_text=True)
    assert "staff.create" in page and "login.success" not in page
    tomorrow = (clock.now() + timedelta(days=1)).date().isoformat()
    empty = manager.client.get(f"/admin/audit?from={tomorrow}").get_data(as_text=True)
    assert "Nothing matches" in empty
    assert manager.client.get("/admin/audit?from=yesterday").status_code == 400
    export = manager.client.get("/admin/audit.csv?action=staff.")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "编号 ID" and len(rows) == 3  # header + two staff.create
    assert export.headers["Cache-Control"] == "no-store"
    db = building_db(app)
    db.execute("INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)",
               (to_iso(clock.now()), "=cmd|' /C calc'!A0", "test.formula", "{}"))  # fmt: skip
    exported = manager.client.get("/admin/audit.csv?action=test.").get_data(as_text=True)
    assert "'=cmd" in exported and ",=cmd" not in exported
    assert _audit(app, "audit.export")[-1]["actor"] == "staff:1"  # mona


def test_reception_cannot_read_the_audit_log(app, reception):
    assert reception.client.get("/admin/audit").status_code == 403
    assert reception.client.get("/admin/audit.csv").status_code == 403


def test_settings_page_shows_console_settings_to_admins_with_secrets_hidden(app):
    app.config["NOTIFY_EMAIL_URL"] = "mailtos://desk:hunter2-smtp@smtp.example.com"
    admin = _admin(app)
    page = admin.client.get("/admin/settings").get_data(as_text=True)
    assert "LOBBYDESK_SECRET_KEY" in page and "••••••" in page
    assert app.config["SECRET_KEY"] not in page and "hunter2-smtp" not in page


def test_secrets_are_strong_and_never_defaulted(tmp_path, monkeypatch):
    from console import settings

    monkeypatch.delenv("LOBBYDESK_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="No secret key"):
        create_app({"DATA_DIR": str(tmp_path)})
    path = settings.create_secret_key(tmp_path)
    assert len(bytes.fromhex(path.read_text())) * 8 >= 128
    assert path.stat().st_mode & 0o077 == 0  # owner only
    assert "lobbydesk-data/" in Path(".gitignore").read_text().split()  # the default DATA_DIR


def test_staff_list_counts_only_live_sessions(app, clock, reception):
    db = building_db(app)
    assert staff.list_all(db, clock)[0]["sessions"] == 1
    clock.advance(minutes=31)
    assert staff.list_all(db, clock)[0]["sessions"] == 0


def test_kiosk_tokens_cannot_open_staff_pages(app):
    _kiosk_id, token = paired_kiosk(app)
    response = app.test_client().get("/visitors/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_console_command_logs_through_the_safe_formatter(monkeypatch):
    from console import logs

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    logs.configure()
    assert isinstance(root.handlers[0].formatter, SafeFormatter)
