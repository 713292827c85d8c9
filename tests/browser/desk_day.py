"""A working day at the desk, seeded so that every staff page has something to show:
live queue rows with their action buttons, badges, tags, timelines, a handover, a notice,
a deny-list match, parcels, a dashboard with history. Used by the accessibility and
reflow tests, which must see the pages as staff do, not empty."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.dashboard import seed as seed_history
from shared import announcements, handover, parcels, tickets, units, visitors
from shared.db import write_transaction
from shared.tokens import new_idempotency_key
from tests.helpers import add_resident, add_staff, building_db, paired_kiosk

ADMIN, MANAGER, RECEPTION = "admin", "zhou", "wangfang"


def _post(kiosk, path: str, body: dict) -> dict:
    answer = kiosk.session.post(
        f"{kiosk.base_url}/api/v1/{path}",
        json=body,
        headers={"Idempotency-Key": new_idempotency_key()},
        timeout=5,
    )
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def _visit(kiosk, name: str, phone: str, unit: str) -> int:
    body = {"name": name, "phone": phone, "unit": unit, "purpose": "visit", "party_size": 2,
            "language": "zh_CN", "created_at": datetime.now(UTC).isoformat()}  # fmt: skip
    return _post(kiosk, "visits", body)["id"]


def _call(kiosk) -> None:
    body = {"kind": "help", "created_at": datetime.now(UTC).isoformat(), "language": "zh_CN",
            "screen": "home"}  # fmt: skip
    _post(kiosk, "escalations", body)


def _people(app) -> dict:
    ids = {
        "admin": add_staff(app, username=ADMIN, role="admin", display_name="前台管理员"),
        "manager": add_staff(app, username=MANAGER, role="manager", display_name="周经理"),
        "reception": add_staff(app, username=RECEPTION, role="reception", display_name="王芳"),
    }
    add_resident(app, "101", "王建国", email="wang@example.com", phone="13800138001")
    add_resident(app, "102", "Emily Carter", email="emily@example.com", role="tenant")
    return ids


def _tickets(app, kiosk, db, clock, staff_id: int) -> dict:
    secret = app.config["SECRET_KEY"]
    report = {"unit": "101", "category": "water", "problem": "dripping_tap"}
    worked = _post(kiosk, "tickets", {**report, "description": "卫生间天花板在滴水"})
    urgent = _post(kiosk, "tickets", {**report, "unit": "102", "urgency": "urgent"})
    _post(kiosk, "tickets", {**report, "category": "electrical", "problem": "light_out"})
    tickets.assign(db, clock, worked["id"], staff_id=staff_id, assignee="dept:maintenance")
    tickets.set_status(db, clock, worked["id"], staff_id=staff_id, status="in_progress",
                       message="师傅下午 3 点到 · The plumber comes at 3 pm", secret_key=secret,
                       public_url="http://lobby.test")  # fmt: skip
    tickets.set_status(db, clock, urgent["id"], staff_id=staff_id, status="resolved",
                       message="已更换水龙头 · Tap replaced", secret_key=secret,
                       public_url="http://lobby.test")  # fmt: skip
    resolved = tickets.get(db, urgent["id"])
    token = tickets.rating_link_token(secret, resolved, clock.now())
    return {"ticket": worked["id"], "rating_token": token}


def _shift(app, db, clock, staff_id: int) -> int:
    handover.add_note(db, clock, staff_id=staff_id, text="101 业主明早 9 点来取备用钥匙。",
                      category="todo", unit="101")  # fmt: skip
    handover.add_note(db, clock, staff_id=staff_id, text="快递柜 C 门关不上，已报修。",
                      category="repair")  # fmt: skip
    previous = handover.latest(db)
    handover_id = handover.end_shift(
        db, clock, staff_id=staff_id, previous_id=previous["id"] if previous else None
    )
    handover.add_note(db, clock, staff_id=staff_id, text="电梯年检下周二 · Lift inspection",
                      category="other")  # fmt: skip
    return handover_id


def _desk(app, kiosk, db, clock, staff_id: int) -> None:
    secret = app.config["SECRET_KEY"]
    visitors.add_to_deny_list(db, clock, name="赵推销", phone="13711112222",
                              reason="推销 · Sales calls", staff_id=staff_id)  # fmt: skip
    on_site = _visit(kiosk, "张先生", "13812345678", "101")
    visitors.decide(db, clock, on_site, decision="confirm_id", staff_id=staff_id, secret_key=secret)
    _visit(kiosk, "李女士", "13900001111", "102")
    _visit(kiosk, "赵推销", "13711112222", "203")  # matches the deny list
    _call(kiosk)
    _call(kiosk)
    with write_transaction(db):
        for tracking, shelf in (("SF1234567890123", "A-3"), ("JD0012345678901", "C-2")):
            parcels.intake(db, clock, secret_key=secret, staff_id=staff_id, tracking=tracking,
                           unit="101", shelf=shelf)  # fmt: skip
    announcements.create(
        db,
        clock,
        form={"title_zh": "停水通知", "title_en": "Water off on Friday",
              "body_zh": "周五 9:00–12:00 停水。", "body_en": "No water on Friday 9:00–12:00."},
        image=None,
        data_dir=app.config["DATA_DIR"],
        staff_id=staff_id,
    )  # fmt: skip


def seed_desk_day(console, kiosk_http) -> dict:
    """Staff, residents, a kiosk (`kiosk_http(url, token)` makes its client), six weeks of
    history for the dashboard and today's live work. Returns the ids the pages need."""
    app = console.app
    ids = _people(app)
    _kiosk_id, token = paired_kiosk(app)
    kiosk = kiosk_http(console.url, token)
    clock = app.extensions["lobbydesk.clock"]
    db = building_db(app)
    try:
        seed_history(db, clock.now().astimezone(UTC), days=42, scale=0.05)
        _desk(app, kiosk, db, clock, ids["reception"])
        found = _tickets(app, kiosk, db, clock, ids["reception"])
        found["handover"] = _shift(app, db, clock, ids["reception"])
        found["unit"] = units.lookup(db, "101")["id"]
    finally:
        db.close()
        kiosk.close()
    return found
