"""Error pages: bilingual, what happened and what to do, links back that work."""

from __future__ import annotations

import re

import pytest

from tests.helpers import StaffBrowser, add_staff, make_app


@pytest.fixture
def failing_app(tmp_path, clock):
    app = make_app(tmp_path, clock)

    @app.get("/handover/boom")
    def boom():
        raise RuntimeError("a bug")

    boom.allowed_roles = ("reception",)  # the deny-by-default check lets it run
    return app


def _links(page: str) -> list[str]:
    nav = re.search(r'<nav class="error-links".*?</nav>', page, re.S).group(0)
    return re.findall(r'href="([^"]+)"', nav)


def test_a_500_never_links_back_to_the_failing_url(failing_app):
    add_staff(failing_app)
    browser = StaffBrowser(failing_app.test_client())
    browser.login()
    response = browser.client.get(
        "/handover/boom", headers={"Referer": "http://localhost/handover/boom"}
    )
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "出错了 · Something went wrong" in page and "tell an admin" in page
    assert "/handover/boom" not in _links(page)
    assert _links(page) == ["/handover/", "/"]  # the section, then the queue
    from_notes = browser.client.get(
        "/handover/boom", headers={"Referer": "http://localhost/visitors/"}
    )
    assert _links(from_notes.get_data(as_text=True)) == ["/visitors/", "/handover/", "/"]


@pytest.mark.parametrize(
    "referer",
    [
        "https://evil.example/visitors/",
        "http://localhost//evil.example/x",
        "http://localhost/api/v1/feed",
        "http://localhost/handover/end",  # POST only: Back there would fail again
        "javascript:alert(1)",
    ],
)
def test_an_unsafe_or_unusable_referer_is_not_offered(app, reception, referer):
    page = reception.client.get("/tickets/99999", headers={"Referer": referer}).get_data(
        as_text=True
    )
    assert _links(page) == ["/tickets/", "/"]


def test_a_bad_date_in_a_filter_says_the_format_and_links_to_the_section(app, client):
    add_staff(app, username="mona", role="manager", display_name="Mona")
    browser = StaffBrowser(client)
    browser.login("mona")
    response = client.get("/admin/audit?from=27.11.2026")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "请求无效 · Bad request" in page and "Dates look like 2026-11-27." in page
    assert _links(page) == ["/admin/", "/"]
