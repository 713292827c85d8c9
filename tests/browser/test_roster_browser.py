"""A manager sets up the building's people in Chromium: imports the roster the property
already keeps (three bad rows first), then a family moves out and another moves in;
the next visitor for that unit shows the new host on the live queue."""

from __future__ import annotations

from datetime import UTC, datetime

from openpyxl import Workbook
from playwright.sync_api import expect

from shared.tokens import new_idempotency_key
from tests.browser.actions import SCREENSHOTS, sign_in
from tests.helpers import add_staff

HEADER = ["房号 Unit", "姓名 Name", "身份 Role", "手机 Phone", "邮箱 Email", "同意通知 Consent"]
GOOD = [
    ["101", "王建国", "业主", "13800138001", "wang@example.com", "是"],
    ["101", "王小明", "家庭成员", "13800138011", "", ""],
    ["202", "李秀英", "租户", "13900139002", "li@example.com", "yes"],
]
BAD = [
    ["909", "赵六", "业主", "13700137004", "", ""],  # no such unit
    ["203", "钱七", "业主", "021-5555 0100", "", ""],  # a landline cannot take messages
    ["202", "李秀英", "租户", "13900139002", "li@example.com", "yes"],  # the same row twice
]


def roster(tmp_path, rows, name):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def upload(page, base_url, path):
    page.goto(base_url + "/residents/import")
    page.get_by_label("文件 · File").set_input_files(str(path))
    page.get_by_role("button", name="上传并预览 · Upload and preview").click()


def register_visitor(kiosk, unit):
    answer = kiosk.session.post(
        f"{kiosk.base_url}/api/v1/visits",
        json={"name": "孙先生", "phone": "13612345678", "unit": unit, "purpose": "visit",
              "party_size": 1, "language": "zh_CN", "created_at": datetime.now(UTC).isoformat()},
        headers={"Idempotency-Key": new_idempotency_key()},
        timeout=5,
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_a_manager_imports_the_roster_and_moves_a_family(page, console, kiosk, tmp_path):
    add_staff(console.app, username="zhaoli", role="manager", display_name="赵丽")
    sign_in(page, console.url, "zhaoli")
    page.set_viewport_size({"width": 1366, "height": 768})

    upload(page, console.url, roster(tmp_path, GOOD + BAD, "roster-first.xlsx"))
    expect(page.get_by_role("heading", name="导入预览 Import preview")).to_be_visible()
    problems = page.locator("table.problems tr.problem")
    expect(problems).to_have_count(3)
    for row in ("5", "6", "7"):  # the header is row 1: the bad rows are rows 5 to 7
        expect(page.locator(f'table.problems tr.problem[data-row="{row}"]')).to_have_count(1)
    expect(page.get_by_role("button", name="导入 · Import")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "console_roster_preview_problems.png"))
    page.goto(console.url + "/residents/?q=wjg")
    expect(page.locator("main")).not_to_contain_text("王建国")  # nothing written

    upload(page, console.url, roster(tmp_path, GOOD, "roster-fixed.xlsx"))
    page.get_by_role("button", name="导入 · Import").click()
    expect(page.get_by_role("heading", name="导入结果 Import result")).to_be_visible()

    page.goto(console.url + "/residents/?q=wjg")  # pinyin initials find him
    page.get_by_role("link", name="101").first.click()
    expect(page.locator("main")).to_contain_text("王小明")
    son = page.locator("li, tr, article").filter(has_text="王小明").last
    son.get_by_role("button", name="迁出 · Move out").click()
    expect(page.locator("main")).to_contain_text("已迁出")

    page.get_by_role("link", name="办理入住 · Move in").click()
    page.get_by_label("同时为现住户办理迁出 · Move the current residents out").check()
    page.get_by_label("姓名 · Name 1").fill("赵敏")
    page.get_by_label("手机 · Mobile 1").fill("13900001111")
    page.get_by_role("button", name="办理入住 · Move in").click()
    expect(page.locator("main")).to_contain_text("赵敏")
    page.screenshot(path=str(SCREENSHOTS / "console_unit_page.png"), full_page=True)

    visit_id = register_visitor(kiosk, "101")
    page.goto(console.url + "/")
    row = page.locator(f'tr[data-visit-id="{visit_id}"]')
    expect(row).to_contain_text("赵敏")
    expect(row).to_contain_text("139 0000 1111")
    expect(row).not_to_contain_text("王建国")
    expect(row).not_to_contain_text("王小明")
    page.screenshot(path=str(SCREENSHOTS / "console_queue_new_host.png"))
