"""A page's background reads never put back an older session cookie.

The session is permanent, so every response used to re-send the cookie. A badge
refresh that set out before a form's POST and landed after it then replaced the
cookie holding the POST's message: the next page showed no "紧急广播已结束" (a
browser test caught it under load)."""

from __future__ import annotations

COOKIE = "lobbydesk_session"


def _set_cookie_of(response) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name == COOKIE:
            return rest.split(";", 1)[0]
    return None


def test_a_badge_refresh_landing_after_a_post_keeps_the_posts_message(
    app, client, reception, kiosk
):
    visit = kiosk.client.post(
        "/api/v1/visits",
        json={"name": "张先生", "phone": "13812345678", "unit": "101",
              "created_at": "2026-11-27T08:59:58+00:00"},
        headers=kiosk.headers(),
    )  # fmt: skip
    assert visit.status_code == 201, visit.get_data(as_text=True)
    read_before_the_post = client.get_cookie(COOKIE).value
    decided = reception.post(f"/visitors/{visit.json['id']}/decide", decision="confirm_id")
    assert decided.status_code == 302, decided.get_data(as_text=True)[:300]
    with_message = client.get_cookie(COOKIE).value
    assert with_message != read_before_the_post

    # The badge's fetch carries the cookie it read; whatever it sets back wins.
    client.set_cookie(COOKIE, read_before_the_post)
    badge = client.get("/attention", headers={"X-Requested-With": "fetch"})
    assert badge.status_code == 200
    client.set_cookie(COOKIE, _set_cookie_of(badge) or with_message)

    page = client.get("/").get_data(as_text=True)
    assert 'class="flash ok" role="status">' in page  # the POST's message, not lost
    assert "已确认" in page.split('role="status">', 1)[1].split("</p>", 1)[0]


def test_pages_still_keep_the_session_alive(app, client, reception):
    assert _set_cookie_of(client.get("/")) is not None  # a page load renews the cookie
    assert _set_cookie_of(client.get("/attention", headers={"X-Requested-With": "fetch"})) is None
