"""A demo building: towers, units, residents, one admin and a paired kiosk."""

from __future__ import annotations

import json

import sqlite_utils

from shared import kiosks, staff, tokens
from shared.clock import to_iso
from shared.db import one, write_transaction

DEMO_RESIDENTS = [
    ("1201", "王建国", "13800138001", "wang.jianguo@example.com"),
    ("1202", "李秀英", "13900139002", "li.xiuying@example.com"),
    ("1203", "Emily Carter", "+447911123456", "emily.carter@example.com"),
    ("1501", "张伟", "13700137004", "zhang.wei@example.com"),
    ("1802", "陈静", "13600136005", "chen.jing@example.com"),
]


def create_building(
    db: sqlite_utils.Database,
    clock,
    *,
    name: str,
    name_en: str,
    timezone: str = "Asia/Shanghai",
    desk_phone: str = "",
    floors: int = 20,
    units_per_floor: int = 4,
) -> int:
    """A building and its units (floor × door numbers: 101 … 2004)."""
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO buildings (name, name_en, timezone, desk_phone, settings) VALUES (?, ?, ?, ?, ?)",
            (name, name_en, timezone, desk_phone, json.dumps({"visit_retention_days": 90})),
        )
        building_id = cursor.lastrowid
        db["units"].insert_all(
            {"building_id": building_id, "number": f"{floor}{door:02d}", "floor": floor}
            for floor in range(1, floors + 1)
            for door in range(1, units_per_floor + 1)
        )
    return building_id


def seed(db: sqlite_utils.Database, clock, password_hasher) -> dict:
    """Fill an empty database; returns the one-time credentials to print."""
    if one(db, "SELECT id FROM buildings LIMIT 1"):
        raise RuntimeError("the database already has a building; demo data goes into a new one")
    building_id = create_building(
        db,
        clock,
        name="翠湖花园 1 号楼",
        name_en="Green Lake Gardens, Tower 1",
        desk_phone="021-5555 0100",
    )
    with write_transaction(db):
        for unit, name, phone, email in DEMO_RESIDENTS:
            unit_id = one(db, "SELECT id FROM units WHERE number = ?", (unit,))["id"]
            db.execute(
                "INSERT INTO residents (unit_id, name, phone, email, created_at) VALUES (?, ?, ?, ?, ?)",
                (unit_id, name, phone, email, to_iso(clock.now())),
            )
    password = tokens.new_token()[:16]
    staff.create(
        db,
        clock,
        password_hasher,
        username="admin",
        display_name="前台管理员",
        password=password,
        role="admin",
        actor="demo",
    )
    created = kiosks.create(
        db, clock, building_id=building_id, name="大堂 A · Lobby A", actor="demo"
    )
    return {"username": "admin", "password": password, "pairing_code": created["pairing_code"]}
