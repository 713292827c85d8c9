"""The roster the property already has: import (preview, then all or nothing), export,
the console's upload → preview → import pages and the command line, with real
files: XLSX written by openpyxl, CSV bytes as Excel writes them (GBK, UTF-8 BOM)."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from lobbydesk.cli import main
from shared import residents, roster, units
from shared.roster import MAX_BYTES
from tests.helpers import StaffBrowser, add_staff, building_db

HEADER = ["房号", "姓名", "身份", "手机", "邮箱", "语言", "入住日期", "通知地址", "同意通知"]
WANG = ["101", "王建国", "业主", "13812345678", "wang@example.com", "中文", "2026/3/1", "", "是"]
LI = ["101", "李梅", "家庭成员", "13912345678", "", "English", "", "", ""]
CHEN = ["102", "陈静", "租户", "13712345678", "", "", "2026-05-20", "wecombot://abc123", "2026-05-20"]  # fmt: skip


def xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.fixture
def db(app):
    database = building_db(app)
    yield database
    database.close()


def people(db) -> list[dict]:
    return list(db.query("SELECT * FROM residents ORDER BY id"))


def audit_rows(db) -> int:
    return db.execute("SELECT count(*) FROM audit_log").fetchone()[0]


def problems_of(result) -> set[tuple[int, str]]:
    return {(p.row, p.field) for p in result.errors}


# --- preview: every problem, by row; nothing written -------------------------------------


def test_a_roster_with_problems_lists_each_by_row_and_writes_nothing(db, clock):
    units.retire(db, clock, units.lookup(db, "104")["id"], actor="test")
    content = xlsx(
        [
            HEADER,
            WANG,
            LI,
            WANG,  # row 4: the same person again
            ["999", "张三", "租户", "13612345678", "", "", "", "", ""],
            ["102", "赵六", "业主", "12345", "", "", "", "", ""],
            ["103", "钱七", "业主", "010-12345678", "bad@", "", "", "", ""],
            ["201", '=CONCAT("孙","八")', "业主", "13512345678", "", "", "", "", ""],
            ["104", "周九", "业主", "13412345678", "", "", "", "", ""],
        ]
    )
    before = audit_rows(db)
    result = roster.preview(db, clock, content, "roster.xlsx")
    assert problems_of(result) == {
        (4, ""),
        (5, "unit"),
        (6, "phone"),
        (7, "phone"),
        (7, "email"),
        (8, "name"),
        (9, "unit"),
    }
    messages = {(p.row, p.field): p.message for p in result.errors}
    assert "第 2 行" in messages[(4, "")] and "row 2" in messages[(4, "")]
    assert "No unit 999" in messages[(5, "unit")]
    assert "固定电话" in messages[(7, "phone")] and "landline" in messages[(7, "phone")]
    assert "公式" in messages[(8, "name")] and "paste values only" in messages[(8, "name")]
    assert "retired" in messages[(9, "unit")]
    assert result.summary["add"] == 2  # the two good rows
    with pytest.raises(roster.RosterHasProblems):
        roster.apply(db, clock, content, "roster.xlsx", actor="test")
    assert people(db) == [] and audit_rows(db) == before


def test_csv_cells_that_a_spreadsheet_would_run_are_problems(db, clock):
    content = csv_bytes([HEADER, ["101", "@SUM(1)", "", "13812345678"], ["102", "=1+1"]])
    assert problems_of(roster.preview(db, clock, content, "r.csv")) == {(2, "name"), (3, "name")}


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_as_excel_writes_it_is_read_in_any_of_its_encodings(db, clock, encoding):
    content = csv_bytes([HEADER, WANG, LI], encoding)
    summary = roster.apply(db, clock, content, "名单.csv", actor="test")
    assert summary["add"] == 2
    assert [p["name"] for p in people(db)] == ["王建国", "李梅"]


def test_a_file_mixing_encodings_is_refused_with_how_to_save_it(db, clock):
    content = csv_bytes([HEADER, WANG], "utf-8") + csv_bytes([LI], "gbk")
    result = roster.preview(db, clock, content, "r.csv")
    [problem] = result.errors
    assert problem.row == 0 and "UTF-8" in problem.message and "GBK" in problem.message


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"PK\x03\x04" + b"\x00junk" * (MAX_BYTES // 5), "10 MB"),
        (bytes(range(256)) * 100, "not a CSV or Excel"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, ".xls"),
        (b"PK\x03\x04 not really a zip", "not a valid Excel"),
        (b"", "empty"),
    ],
    ids=["over 10 MB", "binary junk", "old xls", "broken xlsx", "empty"],
)
def test_junk_is_one_clear_problem_and_nothing_is_written(db, clock, content, says):
    result = roster.preview(db, clock, content, "roster.csv")
    [problem] = result.problems
    assert problem.row == 0 and says in problem.message and " · " in problem.message
    with pytest.raises(roster.RosterHasProblems):
        roster.apply(db, clock, content, "roster.csv", actor="test")
    assert people(db) == []


def test_more_than_20000_rows_is_refused(db, clock):
    rows = [HEADER] + [["101", f"住户{n}"] for n in range(20_001)]
    [problem] = roster.preview(db, clock, csv_bytes(rows), "big.csv").problems
    assert "20,000" in problem.message


def test_unknown_and_missing_headers_are_named(db, clock):
    result = roster.preview(db, clock, csv_bytes([["房号", "姓名", "微信号"], WANG[:2]]), "r.csv")
    [problem] = result.errors
    assert problem.row == 1 and "微信号" in problem.message


def test_a_missing_name_or_unit_column_is_one_problem_not_one_per_row(db, clock):
    rows = [["房号", "手机"]] + [["101", f"1381234{n:04d}"] for n in range(50)]
    [problem] = roster.preview(db, clock, csv_bytes(rows), "r.csv").errors
    assert problem.row == 1 and "姓名 Name" in problem.message


def test_a_phone_excel_wrote_in_scientific_notation_says_how_to_fix_it(db, clock):
    result = roster.preview(db, clock, csv_bytes([HEADER, [*WANG[:3], "1.38123E+10"]]), "r.csv")
    [problem] = result.errors
    assert problem.field == "phone" and "Text" in problem.message


@pytest.mark.parametrize(
    "header",
    [
        ["房间号", "姓名", "电话", "电子邮箱"],
        ["Unit", "Name", "Phone", "Email"],
        ["房号 Unit", "姓名 · Name", "手机/Phone", "邮箱（Email）"],
        ["unit no.", "NAME", "Mobile", "E-mail"],
    ],
)
def test_headers_in_chinese_or_english_and_their_usual_variants(db, clock, header):
    content = csv_bytes([header, ["101", "王建国", "138 1234 5678", "wang@example.com"]])
    roster.apply(db, clock, content, "r.csv", actor="test")
    [person] = people(db)
    assert (person["phone"], person["email"]) == ("+8613812345678", "wang@example.com")


# --- apply, re-import ------------------------------------------------------------------------


def test_a_fixed_file_imports_and_importing_it_again_changes_nothing(db, clock):
    content = xlsx([HEADER, WANG, LI, CHEN])
    preview = roster.preview(db, clock, content, "roster.xlsx")
    assert preview.errors == [] and preview.summary["add"] == 3
    assert people(db) == []  # a preview writes nothing
    before = audit_rows(db)
    roster.apply(db, clock, content, "roster.xlsx", actor="staff:1")
    assert audit_rows(db) == before + 1  # one audit row for the whole file
    wang, li, chen = people(db)
    assert (wang["role"], wang["moved_in_on"], wang["language"]) == ("owner", "2026-03-01", "zh_CN")
    assert (li["role"], li["language"], li["moved_in_on"]) == ("household", "en", "2026-11-27")
    assert [c["address"] for c in residents.channels_of(db, wang["id"])] == ["wang@example.com"]
    assert residents.channels_of(db, li["id"]) == []  # no consent, no channels
    [wecom] = residents.channels_of(db, chen["id"])
    assert wecom["kind"] == "wecom" and wecom["consent_at"].startswith("2026-05-19T16:00")
    assert [r["name"] for r in residents.search(db, "wjg")] == ["王建国"]

    again = roster.apply(db, clock, content, "roster.xlsx", actor="staff:1")
    assert (again["add"], again["update"], again["unchanged"]) == (0, 0, 3)
    assert len(people(db)) == 3


def test_a_changed_email_updates_that_resident_and_keeps_the_others(db, clock):
    roster.apply(db, clock, xlsx([HEADER, WANG, LI]), "roster.xlsx", actor="test")
    changed = [*WANG[:4], "jianguo@example.com", *WANG[5:]]
    result = roster.preview(db, clock, xlsx([HEADER, changed]), "roster.xlsx")
    [change] = [c for c in result.changes if c.action == "update"]
    assert change.fields == ["email", "notify_url"]
    assert "not in the file" in result.warnings[-1].message  # 李梅 is left alone
    roster.apply(db, clock, xlsx([HEADER, changed]), "roster.xlsx", actor="test")
    wang, li = people(db)
    assert wang["email"] == "jianguo@example.com" and li["moved_out_on"] is None
    assert [c["address"] for c in residents.channels_of(db, wang["id"])] == ["jianguo@example.com"]


def test_empty_cells_keep_what_is_on_record(db, clock):
    roster.apply(db, clock, xlsx([HEADER, WANG]), "roster.xlsx", actor="test")
    result = roster.apply(
        db, clock, csv_bytes([["房号", "姓名", "身份", "手机"], WANG[:4]]), "r.csv", actor="test"
    )
    assert result["unchanged"] == 1
    [wang] = people(db)
    assert (wang["email"], wang["moved_in_on"]) == ("wang@example.com", "2026-03-01")
    assert len(residents.channels_of(db, wang["id"])) == 1


def test_a_move_out_date_moves_the_resident_out(db, clock):
    roster.apply(db, clock, xlsx([HEADER, WANG, LI]), "roster.xlsx", actor="test")
    header = [*HEADER, "迁出日期"]
    result = roster.apply(
        db, clock, xlsx([header, [*LI, "2026-11-27"]]), "roster.xlsx", actor="test"
    )
    assert result["move_out"] == 1
    assert people(db)[1]["moved_out_on"] == "2026-11-27"
    before_move_in = roster.preview(db, clock, xlsx([header, [*WANG, "2026-02-01"]]), "r.xlsx")
    assert problems_of(before_move_in) == {(2, "moved_out_on")}
    future = roster.preview(db, clock, xlsx([header, [*WANG, "2027-01-01"]]), "r.xlsx")
    assert problems_of(future) == {(2, "moved_out_on")}


@pytest.mark.parametrize(
    ("consent", "expected"),
    [
        ("yes", "2026-11-27T09:00"),
        ("Y", "2026-11-27T09:00"),
        ("2026/3/1 08:30", "2026-03-01T00:30"),
    ],
)
def test_consent_is_yes_or_when_the_resident_agreed(db, clock, consent, expected):
    roster.apply(db, clock, xlsx([HEADER, [*WANG[:8], consent]]), "r.xlsx", actor="test")
    [channel] = residents.channels_of(db, people(db)[0]["id"])
    assert channel["consent_at"].startswith(expected) and channel["consent_source"] == "import"


def test_a_consent_that_is_not_yes_no_or_a_past_date_is_a_problem(db, clock):
    rows = [HEADER, [*WANG[:8], "maybe"], [*LI[:8], "2027-01-01"]]
    assert problems_of(roster.preview(db, clock, xlsx(rows), "r.xlsx")) == {
        (2, "consent"),
        (3, "consent"),
    }


def test_apply_checks_again_what_changed_since_the_preview(db, clock):
    content = xlsx([HEADER, CHEN])
    assert roster.preview(db, clock, content, "r.xlsx").errors == []
    units.retire(db, clock, units.lookup(db, "102")["id"], actor="test")
    with pytest.raises(roster.RosterHasProblems) as refused:
        roster.apply(db, clock, content, "r.xlsx", actor="test")
    assert problems_of(refused.value.preview) == {(2, "unit")}
    assert people(db) == []


# --- export --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_reads_back_as_the_same_roster(db, clock, fmt):
    header = [*HEADER, "备用电话", "迁出日期"]
    rows = [
        header,
        [*WANG, "+14155550123", ""],
        [*LI, "", "2026-11-01"],
        [*CHEN[:4], "chen@example.com", *CHEN[5:], "", ""],
        ["103", "Emily Carter", "tenant", "+61412345678", "", "en", "", "", "", "", ""],
    ]
    roster.apply(db, clock, xlsx(rows), "r.xlsx", actor="test")
    exported = roster.export(db, clock, fmt, include_moved_out=True, actor="test")
    result = roster.preview(db, clock, exported, f"residents.{fmt}")
    assert result.errors == []
    assert (result.summary["unchanged"], result.summary["rows"]) == (4, 4)
    # and into an empty building it makes the same people
    other = building_db_copy(db, clock)
    roster.apply(other, clock, exported, f"residents.{fmt}", actor="test")
    assert _people_view(other) == _people_view(db)


def building_db_copy(db, clock):
    from shared.demo import create_building
    from shared.schema import open_building_db

    path = db.execute("PRAGMA database_list").fetchone()[2].replace(".db", "-other.db")
    other = open_building_db(path)
    create_building(other, clock, name="另一座", name_en="Other", floors=3)
    return other


def _people_view(db):
    keys = ("name", "role", "phone", "alt_phone", "email", "language", "moved_in_on")
    return [
        (
            *(p[k] for k in keys),
            p["moved_out_on"],
            [(c["kind"], c["address"]) for c in residents.channels_of(db, p["id"])],
        )
        for p in people(db)
    ]


def test_the_export_neutralises_what_a_spreadsheet_would_run(db, clock):
    roster.apply(db, clock, xlsx([HEADER, WANG]), "r.xlsx", actor="test")
    db.execute("UPDATE residents SET name = '=HYPERLINK(1)', phone = '+14155550123'")
    text = roster.export(db, clock, "csv", actor="test").decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and "'+14155550123" in text
    sheet = openpyxl.load_workbook(io.BytesIO(roster.export(db, clock, "xlsx", actor="test")))
    cells = [c for row in sheet.active.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)


def test_moved_out_residents_are_exported_only_when_asked(db, clock):
    roster.apply(db, clock, xlsx([HEADER, WANG, LI]), "r.xlsx", actor="test")
    residents.move_out(db, clock, [people(db)[1]["id"]], actor="test")
    assert "李梅" not in roster.export(db, clock, "csv", actor="test").decode("utf-8-sig")
    both = roster.export(db, clock, "csv", include_moved_out=True, actor="test")
    assert "李梅" in both.decode("utf-8-sig")


# --- units files ----------------------------------------------------------------------------


def test_a_units_file_adds_units_all_or_nothing(db, clock):
    header = ["楼栋", "单元", "房间", "类型", "门牌码"]
    rows = [header, ["3", "1", "1201", "住宅", ""], ["A", "", "1202", "商铺", ""]]
    result = roster.apply_units(db, clock, xlsx(rows), "units.xlsx", actor="test")
    assert result["add"] == 2
    assert units.lookup(db, "3-1-1201")["keypad"] == "311201"
    assert units.lookup(db, "A座1202")["kind"] == "shop"
    again = roster.preview_units(db, clock, xlsx(rows), "units.xlsx")
    assert again.summary["unchanged"] == 2 and again.errors == []

    bad = [header, ["3", "2", "1301", "车库", ""], ["3", "2", "1302", "", "311201"], ["", "", ""]]
    bad.append(["5", "1", "0801", "", "1"])
    result = roster.preview_units(db, clock, csv_bytes(bad), "units.csv")
    assert problems_of(result) == {(2, "kind"), (3, "keypad")}
    count = db.execute("SELECT count(*) FROM units").fetchone()[0]
    with pytest.raises(roster.RosterHasProblems):
        roster.apply_units(db, clock, csv_bytes(bad), "units.csv", actor="test")
    assert db.execute("SELECT count(*) FROM units").fetchone()[0] == count


# --- the console ------------------------------------------------------------------------------


@pytest.fixture
def manager(app, client):
    add_staff(app, username="lina", role="manager", display_name="李娜")
    browser = StaffBrowser(client)
    assert browser.login("lina").status_code == 302
    return browser


def upload(browser, content, filename="roster.xlsx", kind="residents"):
    """The form as a browser sends it, multipart, built in memory (the test client would
    spool a large body to a temporary file it does not close)."""
    boundary, body = encode_multipart(
        {
            "csrf_token": browser.csrf,
            "kind": kind,
            "file": FileStorage(io.BytesIO(content), filename),
        }
    )
    return browser.client.post(
        "/residents/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_a_manager_uploads_previews_and_imports_a_roster(app, manager, db):
    response = upload(manager, xlsx([HEADER, WANG, ["999", "张三"]]))
    assert response.status_code == 302
    page = manager.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "有 1 处问题" in page and "No unit 999" in page and "/apply" not in page

    response = upload(manager, xlsx([HEADER, WANG, LI]))
    preview_url = response.headers["Location"]
    page = manager.client.get(preview_url).get_data(as_text=True)
    assert "可以导入" in page and "/apply" in page
    import_id = int(re.search(r"/import/(\d+)", preview_url).group(1))

    applied = manager.post(f"/residents/import/{import_id}/apply")
    assert applied.status_code == 302
    page = manager.client.get(applied.headers["Location"]).get_data(as_text=True)
    assert "已导入 · Imported: 新增 2" in page and 'href="/residents/"' in page
    assert [p["name"] for p in people(db)] == ["王建国", "李梅"]
    row = db.execute("SELECT status, content FROM roster_imports WHERE id = ?", (import_id,))
    assert tuple(row.fetchone()) == ("applied", None)  # the file is not kept

    again = manager.post(f"/residents/import/{import_id}/apply")
    assert again.status_code == 409 and "已经导入过了" in again.get_data(as_text=True)
    assert len(people(db)) == 2


def test_an_upload_over_10_mb_is_refused_and_not_kept(manager, db):
    response = upload(manager, b"x" * (MAX_BYTES + 300 * 1024), "huge.csv")
    assert response.status_code == 413
    assert "10 MB" in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM roster_imports").fetchone()[0] == 0


def test_a_discarded_upload_drops_its_file(manager, db):
    location = upload(manager, csv_bytes([HEADER, WANG]), "r.csv").headers["Location"]
    import_id = int(location.rsplit("/", 1)[1])
    assert manager.post(f"/residents/import/{import_id}/discard").status_code == 302
    row = db.execute("SELECT status, content FROM roster_imports").fetchone()
    assert tuple(row) == ("discarded", None)
    assert manager.post(f"/residents/import/{import_id}/apply").status_code == 409


def test_a_units_file_goes_through_the_same_pages(manager, db):
    content = csv_bytes([["房号 Unit", "类型 Kind"], ["S-03", "商铺"], ["S-04", "车位"]], "gbk")
    location = upload(manager, content, "units.csv", kind="units").headers["Location"]
    page = manager.client.get(location).get_data(as_text=True)
    assert "房号表" in page and "类型 Kind" in page and "/apply" not in page
    fixed = csv_bytes([["房号 Unit", "类型 Kind"], ["S-03", "商铺"]], "gbk")
    location = upload(manager, fixed, "units.csv", kind="units").headers["Location"]
    assert manager.post(location + "/apply").status_code == 302
    assert units.lookup(db, "S-03")["kind"] == "shop"


def test_managers_export_the_roster(manager, db, clock):
    roster.apply(db, clock, xlsx([HEADER, WANG]), "r.xlsx", actor="test")
    as_csv = manager.client.get("/residents/export.csv")
    assert as_csv.status_code == 200 and "王建国" in as_csv.get_data().decode("utf-8-sig")
    as_xlsx = manager.client.get("/residents/export.xlsx")
    assert as_xlsx.data.startswith(b"PK") and "attachment" in as_xlsx.headers["Content-Disposition"]


def test_reception_may_not_import_or_export(reception):
    assert reception.client.get("/residents/import").status_code == 403
    assert upload(reception, xlsx([HEADER, WANG])).status_code == 403
    assert reception.client.get("/residents/export.csv").status_code == 403


# --- the command line --------------------------------------------------------------------------


def test_the_cli_checks_with_dry_run_then_imports(app, db, tmp_path, capsys):
    data_dir = app.config["DATA_DIR"]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([HEADER, WANG, ["101", "赵六", "", "010-12345678"]], "gbk"))
    assert main(["admin", "import-residents", str(bad), "--data-dir", data_dir]) == 1
    out = capsys.readouterr()
    assert "row 3" in out.out and "landline" in out.out and "nothing was imported" in out.err

    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx([HEADER, WANG, LI]))
    args = ["admin", "import-residents", str(good), "--data-dir", data_dir]
    assert main([*args, "--dry-run"]) == 0
    assert "2 added" in capsys.readouterr().out and people(db) == []
    assert main(args) == 0
    assert "2 added" in capsys.readouterr().out and len(people(db)) == 2
    actor = db.execute("SELECT actor FROM audit_log WHERE action = 'roster.import'").fetchone()
    assert actor[0] == "cli"

    out_file = tmp_path / "out.xlsx"
    assert main(["admin", "export-residents", str(out_file), "--data-dir", data_dir]) == 0
    assert main([*args[:2], str(out_file), "--data-dir", data_dir, "--dry-run"]) == 0
    assert "0 added, 0 updated, 0 moved out, 2 unchanged" in capsys.readouterr().out


def test_the_cli_imports_units(app, db, tmp_path, capsys):
    units_file = tmp_path / "units.csv"
    units_file.write_bytes(csv_bytes([["房号", "类型"], ["S-03", "商铺"]], "gbk"))
    args = ["admin", "import-units", str(units_file), "--data-dir", app.config["DATA_DIR"]]
    assert main(args) == 0
    assert units.lookup(db, "S-03")["kind"] == "shop"
