"""A demo building: towers, units, residents, one admin and a paired kiosk."""

from __future__ import annotations

import json

import sqlite_utils

from shared import kiosks, residents, staff, tokens, units
from shared.clock import to_iso
from shared.db import one, write_transaction

DEMO_RESIDENTS = [
    ("1201", "王建国", "owner", "13800138001", "wang.jianguo@example.com", "zh_CN"),
    ("1201", "王小明", "household", "13800138011", "", "zh_CN"),
    ("1202", "李秀英", "tenant", "13900139002", "li.xiuying@example.com", "zh_CN"),
    ("1203", "Emily Carter", "tenant", "+447911123456", "emily.carter@example.com", "en"),
    ("1501", "张伟", "owner", "13700137004", "zhang.wei@example.com", "zh_CN"),
    ("1802", "陈静", "owner", "13600136005", "chen.jing@example.com", "zh_CN"),
]
DEMO_INSTRUCTIONS = [
    ("1201", "parcels", "包裹可交给保姆李阿姨 · Parcels may be handed to the nanny, Ms Li"),
    ("1802", "do_not_admit", "业主不在家时不要放行推销人员 · Do not admit sales people"),
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
        units.add_many(
            db,
            clock,
            [
                {"room": f"{floor}{door:02d}", "floor": floor}
                for floor in range(1, floors + 1)
                for door in range(1, units_per_floor + 1)
            ],
            actor="setup",
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
    consent = to_iso(clock.now())
    for unit, name, role, phone, email, language in DEMO_RESIDENTS:
        residents.create(
            db,
            clock,
            units.lookup(db, unit)["id"],
            {
                "name": name,
                "role": role,
                "phone": phone,
                "email": email,
                "language": language,
                "channels": [{"kind": "email", "address": email, "consent_at": consent}]
                if email
                else [],
            },
            actor="demo",
        )
    for unit, kind, text in DEMO_INSTRUCTIONS:
        residents.add_instruction(db, clock, units.lookup(db, unit)["id"], kind, text, actor="demo")
    residents.add_proxy(
        db,
        clock,
        units.lookup(db, "1201")["id"],
        {"name": "李阿姨", "note": "保姆 · nanny"},
        actor="demo",
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
