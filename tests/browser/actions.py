"""What people do in the browser tests, as plain functions: staff in Chromium, a kiosk over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import requests
from playwright.sync_api import Page, expect

from shared.tokens import new_idempotency_key
from tests.helpers import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


class KioskHttp:
    """A paired kiosk talking to the console over real HTTP, as kiosk/client.py does."""

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.epoch = None  # the feed epoch of the last answer, sent back as kiosks do

    def call_reception(self, language: str = "zh_CN") -> dict:
        response = self.session.post(
            f"{self.base_url}/api/v1/escalations",
            json={
                "kind": "help",
                "created_at": datetime.now(UTC).isoformat(),
                "language": language,
                "screen": "home",
            },
            headers={"Idempotency-Key": new_idempotency_key()},
            timeout=30,  # generous: a busy machine; never reached when all is well
        )
        assert response.status_code == 201, response.text
        return response.json()

    def feed(self, after: int = 0, wait: float = 5) -> dict:
        response = self.session.get(
            f"{self.base_url}/api/v1/feed",
            params={"after": after, "wait": wait, "epoch": self.epoch},
            timeout=wait + 30,
        )
        assert response.status_code == 200, response.text
        self.epoch = response.json()["epoch"]
        return response.json()

    def close(self) -> None:
        self.session.close()


def sign_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Staff open the console, land on the sign-in form and sign in."""
    page.goto(base_url + "/")
    expect(page).to_have_url(f"{base_url}/login?next=/")
    page.get_by_label("用户名 · Username").fill(username)
    page.get_by_label("密码 · Password").fill(password)
    page.get_by_role("button", name="登录 · Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


def open_live_queue(page: Page, base_url: str, username: str) -> None:
    """Signed in and on the live queue with its event stream connected."""
    sign_in(page, base_url, username)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
