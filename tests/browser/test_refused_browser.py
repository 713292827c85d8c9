"""A kiosk request the console refused appears in the live queue in Chromium; the
receptionist fixes the cause and resends it, or discards one she cannot use."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from playwright.sync_api import expect

from shared import units
from shared.tokens import new_idempotency_key
from tests.browser.actions import SCREENSHOTS, open_live_queue
from tests.helpers import building_db


def _send_back(kiosk, path: str, body: dict, error: str, kind: str) -> None:
    """What a kiosk's sync worker does with a refused item: the whole item, back."""
    report = {"key": new_idempotency_key(), "path": path, "kind": kind,
              "body": json.dumps(body, ensure_ascii=False), "error": error,
              "language": body.get("language", "zh_CN")}  # fmt: skip
    response = kiosk.session.post(
        f"{kiosk.base_url}/api/v1/refused",
        json=report,
        headers={"Idempotency-Key": new_idempotency_key()},
        timeout=5,
    )
    assert response.status_code == 201, response.text


def test_reception_resends_a_refused_visit_and_discards_a_refused_pickup(
    page, console, kiosk, reception_staff
):
    open_live_queue(page, console.url, reception_staff)
    visit = {"name": "Anna Müller", "phone": "13812345678", "unit": "2808", "purpose": "visit",
             "party_size": 1, "language": "en", "created_at": datetime.now(UTC).isoformat()}  # fmt: skip
    _send_back(kiosk, "/api/v1/visits", visit,
               "HTTP 422 unknown_unit: There is no such unit in this building.", "visit.register")  # fmt: skip
    _send_back(kiosk, "/api/v1/parcels/pickup", {"unit": "101", "code": "123456"},
               "HTTP 400 invalid_request: the code must be 6 digits", "parcel.pickup")  # fmt: skip
    rows = page.locator("tr.refused")
    expect(rows).to_have_count(2)  # arrived without a reload
    visit_row, pickup_row = rows.nth(0), rows.nth(1)
    expect(visit_row).to_contain_text("Anna Müller")
    expect(visit_row).to_contain_text("no such unit")
    expect(pickup_row).not_to_contain_text("123456")  # never the code
    expect(pickup_row.get_by_role("button", name="重新提交 · Resend")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "console_queue_refused.png"))

    db = building_db(console.app)
    units.add(db, console.app.extensions["lobbydesk.clock"], {"number": "2808"}, actor="test")
    db.close()
    visit_row.get_by_role("button", name="重新提交 · Resend").click()
    expect(page.locator("tr.visit")).to_contain_text("Anna Müller")  # now a visitor to verify
    expect(page.locator("tr.refused")).to_have_count(1)
    page.locator("tr.refused").get_by_role("button", name="放弃 · Discard").click()
    expect(page.locator("tr.refused")).to_have_count(0)
