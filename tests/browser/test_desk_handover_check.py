"""Desk handover in Chromium: reception finds a unit's parcels, sees who may collect
them, and hands them over only on the pickup code or an ID checked with a name."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from shared import parcels, residents
from shared.db import write_transaction
from tests import helpers
from tests.browser.actions import SCREENSHOTS, sign_in
from tests.helpers import building_db


def log(console, unit: str, tracking: str) -> None:
    db = building_db(console.app)
    with write_transaction(db):
        parcels.intake(
            db,
            console.app.extensions["lobbydesk.clock"],
            secret_key=console.app.config["SECRET_KEY"],
            staff_id=1,
            tracking=tracking,
            unit=unit,
            shelf="B-2",
        )


def code_of(console, unit: str) -> str:
    db = building_db(console.app)
    sealed = db.execute(
        "SELECT b.code_sealed FROM parcel_batches b JOIN units u ON u.id = b.unit_id"
        " WHERE u.number = ? AND b.status = 'open'",
        (unit,),
    ).fetchone()[0]
    return parcels.unseal_code(console.app.config["SECRET_KEY"], sealed)


def releases(console) -> list[dict]:
    rows = building_db(console.app).query(
        "SELECT detail FROM audit_log WHERE action = 'parcel.release' ORDER BY id"
    )
    return [json.loads(r["detail"]) for r in rows]


def find_unit(page, url: str, unit: str) -> None:
    page.goto(f"{url}/parcels/desk")
    page.get_by_label("扫描住户的取件二维码，或输入房号 / 姓名 · Scan the resident's QR").fill(unit)
    page.get_by_role("button", name="查找 · Find ⏎").click()
    expect(page.locator("#handover h2")).to_contain_text(unit)


def test_the_desk_checks_who_collects_before_handing_over(page, console, reception_staff):
    helpers.add_resident(console.app, "101", "王建国", email="wang@example.com")
    helpers.add_resident(console.app, "102", "刘小红", email="liu@example.com")
    db = building_db(console.app)
    unit_102 = db.execute("SELECT id FROM units WHERE number = '102'").fetchone()[0]
    residents.add_proxy(
        db, console.app.extensions["lobbydesk.clock"], unit_102, {"name": "李阿姨"}, actor="t"
    )
    log(console, "101", "SF1234567890123")
    log(console, "102", "YT1234567890123")
    sign_in(page, console.url, reception_staff)

    find_unit(page, console.url, "101")
    expect(page.locator("#handover .collector-name")).to_have_text(["王建国"])
    hand_over = page.get_by_role("button", name="已交付 · Handed over")

    # Neither the code nor an ID: refused, said so, nothing handed over.
    hand_over.click()
    expect(page.locator("#check-error")).to_contain_text("请输入取件码")
    expect(page.locator("#check-error")).to_contain_text("Type the pickup code")
    expect(page.locator("tr[data-parcel-id]")).to_have_count(1)
    assert releases(console) == []

    # A wrong code: the message beside the field, what was typed still there.
    code = code_of(console, "101")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    page.get_by_label("取件码 · Pickup code").fill(wrong)
    hand_over.click()
    expect(page.locator("#code-error")).to_contain_text("The pickup code does not match")
    expect(page.get_by_label("取件码 · Pickup code")).to_have_value(wrong)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "console_desk_handover_wrong_code.png", full_page=True)
    assert releases(console) == []

    page.get_by_label("取件码 · Pickup code").fill(code)
    hand_over.click()
    expect(page.get_by_role("status")).to_have_text(
        "已凭取件码交付 1 件 · Handed over 1 parcel on the pickup code."
    )
    [release] = releases(console)
    assert release["check"] == "code"

    # No code at hand: the nanny shows her ID and reception notes her name.
    find_unit(page, console.url, "102")
    expect(page.locator("#handover .collector-name")).to_have_text(["刘小红", "李阿姨"])
    page.get_by_label("已核对证件 · ID checked").check()
    page.get_by_label("领取人 · Collected by").fill("李阿姨")
    page.get_by_role("button", name="已交付 · Handed over").click()
    expect(page.get_by_role("status")).to_contain_text("已交付 1 件给 李阿姨（已核对证件）")
    by_id = releases(console)[-1]
    assert (by_id["check"], by_id["collector"], by_id["on_roster"]) == ("id_check", "李阿姨", True)
