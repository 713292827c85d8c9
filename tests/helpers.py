"""Helpers that read like user actions: staff signing in, a kiosk calling the API."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from console import create_app
from shared import kiosks, staff
from shared.clock import SystemClock
from shared.demo import create_building
from shared.schema import open_building_db
from shared.tokens import new_idempotency_key

PASSWORD = "correct horse battery"


def eventually(condition, *, timeout=20.0, interval=0.05, message="the condition held", step=None):
    """Return condition()'s first truthy value, checking until `timeout` seconds pass.

    The one way tests wait: for an observable state, never for a guessed sleep. The
    deadline is generous because a busy two-core machine can be many times slower than
    a quiet one; a passing test returns as soon as the state is there, so only a real
    failure pays for it. `step` replaces the sleep between checks (the Kivy tests pass
    one that runs frames, so the kiosk's clock keeps moving while they wait).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout:g} s: {message} (last value: {value!r})")
        if step is None:
            time.sleep(interval)
        else:
            step()


def holds_for(condition, seconds, *, interval=0.05, message="the condition held", step=None):
    """Check that condition() stays truthy for `seconds`; return True, or raise at once.

    Only for a deliberate "nothing happens" check (nothing more arrives, a notice is
    not moved on early), where no event marks the end of the wait. A busy machine can
    only make it check less often, never fail it: the one way it fails is the
    condition turning false. Anything that *should* happen is waited for with
    eventually(), never with this. `step` as for eventually().
    """
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if not value:
            raise AssertionError(f"stopped holding: {message} (value: {value!r})")
        if time.monotonic() >= deadline:
            return True
        if step is None:
            time.sleep(interval)
        else:
            step()


def letters(n: int) -> str:
    """0 → "A", 25 → "Z", 26 → "BA": unique names for the many, since a visitor's or
    resident's name takes letters only (no digits)."""
    text = ""
    while True:
        n, digit = divmod(n, 26)
        text = chr(ord("A") + digit) + text
        if n == 0:
            return text


TEST_BUILDING = {"name": "测试大厦", "name_en": "Test Tower", "floors": 3}


def make_app(data_dir, clock=None, *, testing=True, building=TEST_BUILDING, **config):
    """The console app over `data_dir`, with a building made by `create_building(**building)`
    first (building=None: the folder already has one, or the caller makes it).

    testing=True is the suite's console: cheap password hashing, a fixed secret key.
    testing=False is what `lobbydesk console` runs, for the benchmarks: argon2id at
    production cost and a random secret key (config can still set SECRET_KEY)."""
    if building is not None:
        db = open_building_db(Path(data_dir) / "lobbydesk.db")
        create_building(db, clock or SystemClock(), **building)
        db.close()
    base = {"DATA_DIR": str(data_dir), "CLOCK": clock}
    if testing:
        base |= {"TESTING": True, "SECRET_KEY": "test-" + "x" * 40}
    else:
        base |= {"SECRET_KEY": secrets.token_hex(32)}
    return create_app({**base, **config})


def csrf_token(html: str) -> str:
    """The CSRF token a console page puts in its forms."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def building_db(app):
    return open_building_db(f"{app.config['DATA_DIR']}/lobbydesk.db")


def add_staff(
    app,
    username="wangfang",
    role="reception",
    display_name="王芳",
    *,
    password=PASSWORD,
    cheap=True,
):
    """A staff login; cheap=False hashes the password at production cost (benchmarks)."""
    from shared.passwords import hasher

    db = building_db(app)
    staff_id = staff.create(
        db,
        app.extensions["lobbydesk.clock"],
        hasher(cheap=cheap),
        username=username,
        display_name=display_name,
        password=password,
        role=role,
        actor="test",
    )
    db.close()
    return staff_id


class StaffBrowser:
    """A staff member using the console through the test client."""

    def __init__(self, client):
        self.client = client
        self.csrf = None

    def login(self, username="wangfang", password=PASSWORD):
        token = csrf_token(self.client.get("/login").get_data(as_text=True))
        response = self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )
        if response.status_code == 302:
            self.csrf = csrf_token(self.client.get("/").get_data(as_text=True))
        return response

    def post(self, path, **data):
        return self.client.post(path, data={"csrf_token": self.csrf, **data})


def paired_kiosk(app, name="大堂 A"):
    """Create a kiosk as an admin would and pair it; returns (kiosk_id, token)."""
    db = building_db(app)
    clock = app.extensions["lobbydesk.clock"]
    created = kiosks.create(db, clock, building_id=1, name=name, actor="test")
    paired = kiosks.pair(db, clock, created["pairing_code"])
    db.close()
    return created["id"], paired["token"]


class KioskCaller:
    """The kiosk side of the API, through the test client."""

    def __init__(self, client, token):
        self.client, self.token = client, token

    def headers(self, key=None, **extra):
        headers = {"Authorization": f"Bearer {self.token}", **extra}
        if key is not False:
            headers["Idempotency-Key"] = key or new_idempotency_key()
        return headers

    def call_reception(self, key=None, created_at="2026-11-27T08:59:58+00:00", language="zh_CN"):
        return self.client.post(
            "/api/v1/escalations",
            json={"kind": "help", "created_at": created_at, "language": language, "screen": "home"},
            headers=self.headers(key),
        )


def add_resident(
    app,
    unit="101",
    name="王建国",
    *,
    email="wang@example.com",
    phone=None,
    notify_url=None,
    role="owner",
    clock=None,
):
    """A resident entered the way staff enter one (shared/residents/): the e-mail and
    an apprise URL become consented channels, the URL first. Returns the id."""
    from shared import residents, units

    db = building_db(app)
    clock = clock or app.config.get("CLOCK") or SystemClock()
    consent = "2026-01-01T00:00:00.000000+00:00"
    channels = [{"address": notify_url, "consent_at": consent}] if notify_url else []
    if email:
        channels.append({"kind": "email", "address": email, "consent_at": consent})
    resident_id = residents.create(
        db,
        clock,
        units.lookup(db, unit)["id"],
        {"name": name, "role": role, "email": email, "phone": phone, "channels": channels},
        actor="test",
    )
    db.close()
    return resident_id
