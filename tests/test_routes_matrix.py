"""Every route × every kind of caller, from the declared policy (SECURITY.md 6-8).

The expected answer comes from what each view declares: PUBLIC_ENDPOINTS,
the kiosk API (bearer token), or `role_required(...)` (admin may do
everything). A new page without a declared policy fails here and is refused
at runtime, so nothing is open by accident.
"""

from __future__ import annotations

import re

import pytest

from console.security import PUBLIC_API_ENDPOINTS, PUBLIC_ENDPOINTS, role_required
from shared.protocol import API_PREFIX
from shared.tokens import new_idempotency_key
from tests.helpers import StaffBrowser, add_staff, building_db, make_app, paired_kiosk

ROLES = ("reception", "manager", "admin")
CALLERS = ("anonymous", "kiosk", *ROLES)
# ids that exist nowhere: the table must not disable or re-role its own callers
SAMPLE_ARGS = {"integer": 999, "default": "101", "string": "101", "path": "x"}


@pytest.fixture
def console(tmp_path, clock):
    app = make_app(tmp_path, clock)
    for role in ROLES:
        add_staff(app, username=role, role=role, display_name=role)
    _kiosk_id, token = paired_kiosk(app)
    return app, token


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            args = {
                name: SAMPLE_ARGS.get(type(conv).__name__.replace("Converter", "").lower(), "101")
                for name, conv in rule._converters.items()
            }
            if rule.endpoint == "static":
                args = {"filename": "style.css"}
            path = rule.build(args, append_unknown=False)[1]
            yield rule, method, path


def _policy(app, rule) -> str | tuple:
    """'public', 'kiosk' (bearer token) or the tuple of roles the view declares."""
    if rule.endpoint in PUBLIC_ENDPOINTS | PUBLIC_API_ENDPOINTS:
        return "public"
    if rule.rule.startswith(API_PREFIX + "/"):
        return "kiosk"
    roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
    return tuple(roles) if roles is not None else "undeclared"


def _expected_allowed(policy, caller: str) -> bool:
    if policy == "public":
        return True
    if policy == "kiosk":
        return caller == "kiosk"
    if policy == "undeclared":
        return False
    return caller == "admin" or caller in policy


def _login(app, role):
    browser = StaffBrowser(app.test_client())
    assert browser.login(role).status_code == 302
    return browser


def _call(app, token, caller, method, path, browsers):
    if caller in ROLES:
        # A fresh session for every state-changing request (sign-out, end
        # sessions, role changes must not spoil the next row of the table).
        browser = browsers[caller] if method == "GET" else _login(app, caller)
        client, data, headers = browser.client, {"csrf_token": browser.csrf}, {}
    else:
        client, data, headers = app.test_client(), {}, {}
        if caller == "kiosk":
            headers["Authorization"] = f"Bearer {token}"
    if path.startswith(API_PREFIX + "/") and method != "GET":
        headers["Idempotency-Key"] = new_idempotency_key()
        response = client.open(path, method=method, json={}, headers=headers)
    elif method == "GET":
        response = client.open(path, method=method, headers=headers, buffered=False)
    else:
        response = client.open(path, method=method, data=data, headers=headers)
    status, location = response.status_code, response.headers.get("Location", "")
    response.close()  # the event stream would run forever
    return status, location


def _refused(status: int, location: str) -> bool:
    # The guard's redirect carries ?next=; a page's own redirect to /login (sign-out) does not.
    return status in (401, 403) or (status == 302 and location.startswith("/login?next="))


def test_every_route_answers_every_caller_as_its_declared_policy_says(console):
    app, token = console
    browsers = {role: _login(app, role) for role in ROLES}
    wrong, rows = [], 0
    for rule, method, path in _routes(app):
        policy = _policy(app, rule)
        if policy == "public":
            continue  # open to everyone by declaration; its own answers (e.g. 401 for a bad password) are not refusals
        for caller in CALLERS:
            status, location = _call(app, token, caller, method, path, browsers)
            allowed = not _refused(status, location)
            rows += 1
            if allowed != _expected_allowed(policy, caller):
                wrong.append(f"{method} {path} as {caller}: {status} (policy {policy})")
    assert not wrong, "\n".join(wrong)
    assert rows >= 5 * 40  # the table really covered the console


def test_every_page_declares_who_may_use_it(console):
    app, _token = console
    undeclared = [
        rule.endpoint for rule in app.url_map.iter_rules() if _policy(app, rule) == "undeclared"
    ]
    assert not undeclared, f"add @role_required(...) or PUBLIC_ENDPOINTS: {undeclared}"


def test_a_page_without_declared_roles_is_refused_even_to_an_admin(tmp_path, clock):
    app = make_app(tmp_path, clock)
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret staff data")
    app.add_url_rule("/declared", "declared", role_required("manager")(lambda: "ok"))
    add_staff(app, username="admin", role="admin")
    add_staff(app, username="rita", role="reception")
    admin = _login(app, "admin")
    assert admin.client.get("/forgotten").status_code == 403
    assert admin.client.get("/declared").status_code == 200
    assert _login(app, "rita").client.get("/declared").status_code == 403


def _dump(app) -> list[str]:
    return list(building_db(app).conn.iterdump())


def test_every_state_changing_page_refuses_a_request_without_the_csrf_token(console):
    """SECURITY.md 6: walk the url_map; every non-GET page route, signed in as an
    admin (who may do everything), refuses the request and changes nothing."""
    app, _token = console
    walked = []
    for rule, method, path in _routes(app):
        if method == "GET" or rule.rule.startswith(API_PREFIX + "/"):
            continue
        admin = _login(app, "admin")
        before = _dump(app)
        for sent in ({}, {"csrf_token": "forged-" + admin.csrf[7:]}):
            response = admin.client.open(path, method=method, data=sent)
            assert response.status_code == 400, (method, path, response.status_code)
        assert _dump(app) == before, f"{method} {path} changed the database"
        walked.append(path)
    assert len(walked) >= 15 and "/logout" in walked and "/login" in walked


def test_no_get_route_outside_the_api_changes_state_except_audited_exports(console):
    """SECURITY.md 6: a GET never changes a record (exports only add an audit row)."""
    app, _token = console
    admin = _login(app, "admin")
    for rule, method, path in _routes(app):
        if method != "GET" or rule.rule.startswith(API_PREFIX + "/"):
            continue
        before = [line for line in _dump(app) if "audit_log" not in line]
        admin.client.get(path, buffered=False).close()
        after = [line for line in _dump(app) if "audit_log" not in line]
        assert after == before, path


CSP_PARTS = ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self'")


def test_every_response_carries_the_security_headers(console):
    """SECURITY.md 8, on every GET page (as admin), API answers and error pages."""
    app, token = console
    admin = _login(app, "admin")
    responses = []
    for rule, method, path in _routes(app):
        if method != "GET":
            continue
        headers = {"Authorization": f"Bearer {token}"} if path.startswith(API_PREFIX) else {}
        response = admin.client.get(path, headers=headers, buffered=False)
        responses.append((path, response))
        response.close()
    responses.append(("404", admin.client.get("/no-such-page")))
    responses.append(("api 401", app.test_client().get(f"{API_PREFIX}/ping")))
    for path, response in responses:
        csp = response.headers.get("Content-Security-Policy", "")
        assert all(part in csp for part in CSP_PARTS), path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer"), path
        if not path.startswith("/static/"):
            assert response.headers["Cache-Control"] == "no-store", path


def test_pages_escape_what_visitors_typed(console):
    """SECURITY.md 9: a name with markup is shown as text everywhere staff see it."""
    app, token = console
    client = app.test_client()
    client.post(
        f"{API_PREFIX}/visits",
        json={"name": "Eve", "unit": "101", "created_at": "2026-11-27T08:59:00+00:00"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": new_idempotency_key()},
    )
    db = building_db(app)
    db.execute("UPDATE visits SET name = ?", ("<script>alert(1)</script>",))
    admin = _login(app, "admin")
    for path in ("/", "/visitors/", "/admin/audit"):
        page = admin.client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in page, path
    assert "&lt;script&gt;" in admin.client.get("/visitors/").get_data(as_text=True)
    assert not re.search(r"<script>(?!\s*</script>)", "")  # sanity of the pattern itself
