"""Hostile input at the console's edge (docs/SECURITY.md, "Hostile input"): every
class an outside tester turned into a 500 now answers 400/404/413 with a reason
in both languages, and nothing is stored."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest

from console.edge import MAX_ID, MAX_JSON_DEPTH
from lobbydesk.cli import main
from shared import roster
from tests.helpers import StaffBrowser, add_staff, building_db

HUGE = 10**20
CJK = re.compile(r"[\u4e00-\u9fff]")


def _bilingual(message: str) -> bool:
    return bool(CJK.search(message)) and bool(re.search(r"[A-Za-z]{3}", message))


def _count(app, table: str) -> int:
    db = building_db(app)
    try:
        return db[table].count
    finally:
        db.close()


@pytest.fixture
def admin(app):
    add_staff(app, username="boss", role="admin", display_name="管理员")
    browser = StaffBrowser(app.test_client())
    assert browser.login("boss").status_code == 302
    return browser


# -- ids and cursors beyond SQLite's integer range --------------------------------------


def test_every_int_route_uses_the_bounded_id_converter(app):
    from console.edge import IdConverter

    ids = [
        converter
        for rule in app.url_map.iter_rules()
        for name, converter in rule._converters.items()
        if f"<int:{name}>" in rule.rule or isinstance(converter, IdConverter)
    ]
    assert len(ids) >= 60  # every <int:…> of the console (grep -c "<int:" console)
    assert all(isinstance(converter, IdConverter) for converter in ids)


def test_an_id_out_of_range_on_any_route_is_a_404_not_a_500(app, admin, kiosk):
    tried = 0
    for rule in app.url_map.iter_rules():
        if not rule.arguments or "int" not in str(rule):
            continue
        names = {name: HUGE for name in rule.arguments}
        path = rule.rule
        for name in names:
            path = re.sub(rf"<(?:\w+:)?{name}>", str(HUGE), path)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if path.startswith("/api/v1/"):
                response = kiosk.client.open(path, method=method, headers=kiosk.headers(), json={})
            elif method == "GET":
                response = admin.client.get(path)
            else:
                response = admin.client.open(path, method=method, data={"csrf_token": admin.csrf})
            assert response.status_code == 404, (method, path, response.status_code)
            tried += 1
    assert tried >= 60


@pytest.mark.parametrize("value", [str(HUGE), str(MAX_ID + 1), "1e20", "-1", "²", "٣"])
@pytest.mark.parametrize("path", ["/tickets/", "/visitors/", "/parcels/", "/admin/audit"])
def test_a_cursor_out_of_range_is_a_400_in_both_languages(admin, path, value):
    response = admin.client.get(path, query_string={"before": value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "before" in page and "必须是" in page and "whole number" in page


def test_the_largest_id_is_still_a_plain_404(admin):
    assert admin.client.get(f"/tickets/{MAX_ID}").status_code == 404


# -- JSON bodies --------------------------------------------------------------------------


DEEP = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize(
    ("path", "authorised"),
    [("/api/v1/pair", False), ("/api/v1/escalations", True), ("/api/v1/batch", True),
     ("/api/v1/visitors/lookup", True), ("/api/v1/tickets/lookup", True)],
)  # fmt: skip
def test_json_nested_1000_deep_is_a_400_everywhere(app, kiosk, path, authorised):
    headers = kiosk.headers() if authorised else {}
    response = kiosk.client.post(path, data=DEEP, content_type="application/json", headers=headers)
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert _bilingual(message) and "nested too deep" in message


def test_json_as_deep_as_allowed_is_read(app, kiosk):
    body = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    response = kiosk.client.post(
        "/api/v1/escalations", data=body, content_type="application/json", headers=kiosk.headers()
    )
    assert response.status_code == 400
    assert "JSON object" in response.get_json()["error"]["message"]  # read, then refused


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/escalations", '{"kind": "help", "created_at": "2026-11-27T08:59:58+00:00", "screen": "\\ud800"}'),
        ("/api/v1/visits", '{"name": "\\udfff", "unit": "101", "created_at": "2026-11-27T08:59:58+00:00"}'),
        ("/api/v1/visits", '{"\\ud800name": "张三", "unit": "101", "created_at": "2026-11-27T08:59:58+00:00"}'),
        ("/api/v1/pair", '{"code": "\\ud800\\ud800\\ud800\\ud800"}'),
    ],
)  # fmt: skip
def test_a_lone_surrogate_in_any_string_is_a_400_and_nothing_is_stored(app, kiosk, path, body):
    visits = _count(app, "visits")
    headers = kiosk.headers() if path != "/api/v1/pair" else {}
    response = kiosk.client.post(path, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert _bilingual(message) and "surrogate" in message
    assert _count(app, "visits") == visits


def test_a_proper_surrogate_pair_is_a_character_and_is_kept(app, kiosk):
    body = '{"name": "\\ud842\\udfb7田", "unit": "101", "created_at": "2026-11-27T08:59:58+00:00"}'
    response = kiosk.client.post(
        "/api/v1/visits", data=body, content_type="application/json", headers=kiosk.headers()
    )
    assert response.status_code == 201


@pytest.mark.parametrize("number", [str(HUGE), "1e400", "NaN", "-Infinity"])
def test_numbers_beyond_sqlite_or_not_numbers_are_a_400(kiosk, number):
    body = '{"kind": "help", "created_at": "2026-11-27T08:59:58+00:00", "screen": "home", "x": %s}'
    response = kiosk.client.post(
        "/api/v1/escalations",
        data=body % number,
        content_type="application/json",
        headers=kiosk.headers(),
    )
    assert response.status_code == 400


# -- kiosk times, headers, the 413 page ---------------------------------------------------


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_kiosk_time_that_cannot_be_placed_in_utc_is_kept_as_doubtful(app, kiosk, moment):
    visit = kiosk.client.post(
        "/api/v1/visits",
        json={"name": "张三", "unit": "101", "created_at": moment},
        headers=kiosk.headers(),
    )
    alert = kiosk.client.post(
        "/api/v1/alerts",
        json={"kind": "dead_letter", "item_kind": "visit", "error": "x", "created_at": moment},
        headers=kiosk.headers(),
    )
    call = kiosk.call_reception(created_at=moment)
    assert (visit.status_code, alert.status_code, call.status_code) == (201, 201, 201)
    db = building_db(app)
    try:
        assert db.execute("SELECT clock_doubtful FROM visits").fetchall() == [(1,)]
        assert db.execute("SELECT clock_doubtful FROM kiosk_alerts").fetchall() == [(1,)]
    finally:
        db.close()


@pytest.mark.parametrize("depth", ["²", "٣", "-1", "1e3", "12345678"])
def test_outbox_depth_must_be_ascii_digits(kiosk, depth):
    response = kiosk.client.get(
        "/api/v1/ping", headers=kiosk.headers(False, **{"X-Outbox-Depth": depth})
    )
    assert response.status_code == 400
    assert "X-Outbox-Depth" in response.get_json()["error"]["message"]


def test_too_large_a_body_is_a_413_in_both_languages(app, kiosk, admin):
    api = kiosk.client.post(
        "/api/v1/visits",
        data="x" * 300_000,
        content_type="application/json",
        headers=kiosk.headers(),
    )
    assert api.status_code == 413
    assert _bilingual(api.get_json()["error"]["message"])
    assert "256 KB" in api.get_json()["error"]["message"]
    page = admin.client.post("/visitors/", data={"csrf_token": admin.csrf, "name": "x" * 300_000})
    assert page.status_code == 413
    text = page.get_data(as_text=True)
    assert "内容太大" in text and "too large" in text


# -- the roster ---------------------------------------------------------------------------


HEADER = ["房号", "姓名", "身份", "手机", "邮箱", "语言", "入住日期", "通知地址", "同意通知"]
WANG = ["101", "王建国", "业主", "13812345678", "wang@example.com", "中文", "2026/3/1", "", "是"]


def _xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _problems(result) -> list[str]:
    return [problem.message for problem in result.problems]


def test_a_consent_date_in_year_1_is_a_problem_not_a_crash(app, clock):
    db = building_db(app)
    try:
        result = roster.preview(db, clock, _xlsx([HEADER, [*WANG[:8], "0001-01-01"]]), "r.xlsx")
    finally:
        db.close()
    assert any("consent date cannot be before" in m and "同意日期" in m for m in _problems(result))


def _rewrite(content: bytes, name: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, change(data) if item.filename == name else data)
    return out.getvalue()


def test_an_xlsx_pointing_past_its_shared_strings_is_refused(app, clock):
    content = _rewrite(
        _xlsx([HEADER, WANG]),
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(
            rb'<c r="B2" t="inlineStr">.*?</c>', b'<c r="B2" t="s"><v>99999</v></c>', xml
        ),
    )
    assert b"99999" in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    db = building_db(app)
    try:
        result = roster.preview(db, clock, content, "r.xlsx")
    finally:
        db.close()
    assert result.errors and any("Excel" in m for m in _problems(result))


def _zip_bomb() -> bytes:
    content = _xlsx([HEADER, WANG])
    huge = b"<!-- " + b"0" * (60 * 1024 * 1024) + b" -->"
    return _rewrite(content, "docProps/app.xml", lambda xml: xml + huge)


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unpacked(app, clock):
    bomb = _zip_bomb()
    assert len(bomb) < 1024 * 1024
    db = building_db(app)
    try:
        result = roster.preview(db, clock, bomb, "r.xlsx")
    finally:
        db.close()
    assert any("unpacks to more than" in m and "解压" in m for m in _problems(result))


def test_an_xlsx_cell_longer_than_a_roster_needs_is_refused(app, clock):
    db = building_db(app)
    try:
        result = roster.preview(db, clock, _xlsx([HEADER, ["101", "王" * 5000]]), "r.xlsx")
    finally:
        db.close()
    assert any("more than 1000" in m for m in _problems(result))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(lambda: _xlsx([HEADER, [*WANG[:8], "0001-01-01"]]), id="consent-year-1"),
        pytest.param(_zip_bomb, id="zip-bomb"),
    ],
)
def test_the_cli_import_says_no_with_a_non_zero_exit_code(app, tmp_path, capsys, content):
    path = tmp_path / "r.xlsx"
    path.write_bytes(content())
    code = main(["admin", "import-residents", str(path), "--data-dir", app.config["DATA_DIR"]])
    assert code != 0
    assert "nothing was imported" in capsys.readouterr().err
