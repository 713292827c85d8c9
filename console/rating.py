"""The resident's rating link: /rate/<token> from the "resolved" message.

Public (no sign-in): the signed token is the permission. It names one ticket
and one resolution (reopened_count), so a link from before a reopen no longer
works, and a ticket is rated once per resolution. Works without JavaScript:
five buttons; a rating of 3 or less asks why on a second page (checkboxes).
The form carries the CSRF token like every console form.

Anyone on the internet can post to it, so a post never writes more than a
rating: a forged or expired link goes to the application log (not the
append-only audit log), and each client address may post POST_LIMIT times in
POST_WINDOW_SECONDS (429 page after that). A stored rating is audited.
"""

from __future__ import annotations

import logging
import math

from flask import Blueprint, current_app, render_template, request

from console.db import get_clock, get_coordination, get_db
from shared import building, rate_limit, signing, terms, tickets
from shared import ticket_catalog as catalog
from shared.clock import local_time
from shared.errors import InvalidRequest, LobbyDeskError

bp = Blueprint("rating", __name__)
log = logging.getLogger(__name__)

POST_LIMIT = 20  # rating posts per client address …
POST_WINDOW_SECONDS = 600  # … in any 10 minutes

# The stars' words (shared/terms.py "rating"): (zh, en) by the number of stars.
RATING_LABELS = {int(stars): words for stars, words in terms.pairs("rating").items()}

# Why a link does not work, in both languages, by error code.
REFUSALS = {
    "token_invalid": (
        "链接无效",
        "This link is not valid",
        "请检查链接是否完整，或联系前台。",
        "Check that the whole link was opened, or contact reception.",
    ),
    "token_expired": (
        "链接已过期",
        "This link has expired",
        "评价链接 30 天内有效。如需反馈，请联系前台。",
        "Rating links work for 30 days. To give feedback, contact reception.",
    ),
    "rating_link_outdated": (
        "链接已失效",
        "This link no longer works",
        "这张报修单已重新处理；解决后会发给您新的评价链接。",
        "The ticket was reopened; you will get a new link when it is resolved.",
    ),
    "ticket_already_rated": (
        "已经评价过了",
        "Already rated",
        "这张报修单已经评价过了，谢谢您的反馈。",
        "This ticket has already been rated. Thank you for your feedback.",
    ),
    "ticket_not_resolved": (
        "暂时不能评价",
        "Not ready to rate yet",
        "报修单解决后才能评价。",
        "You can rate the ticket once it is resolved.",
    ),
    "ticket_not_found": (
        "找不到报修单",
        "Ticket not found",
        "请联系前台。",
        "Please contact reception.",
    ),
}


def _refused(error: LobbyDeskError):
    title_zh, title_en, text_zh, text_en = REFUSALS.get(error.code, REFUSALS["token_invalid"])
    return render_template(
        "rating/refused.html",
        status=error.http_status,
        title_zh=title_zh,
        title_en=title_en,
        text_zh=text_zh,
        text_en=text_en,
        building=building.current(get_db()),
    ), error.http_status


def _page(template: str, ticket: dict, token: str, status: int = 200, **extra):
    current = building.current(get_db())
    key = f"{ticket['category']}.{ticket['problem']}" if ticket["problem"] else ticket["category"]
    return render_template(
        template,
        ticket=ticket,
        token=token,
        building=current,
        what_zh=catalog.label(key, "zh_CN"),
        what_en=catalog.label(key, "en"),
        resolved_local=local_time(ticket["resolved_at"], current["timezone"]),
        labels=RATING_LABELS,
        reasons=catalog.LOW_RATING_REASONS,
        max_comment=tickets.MAX_COMMENT,
        **extra,
    ), status


def _check(token: str) -> dict:
    return tickets.check_rating_link(get_db(), get_clock(), current_app.config["SECRET_KEY"], token)


@bp.get("/rate/<token>", endpoint="form")
def rating_form(token: str):
    try:
        ticket = _check(token)
    except LobbyDeskError as error:
        return _refused(error)
    return _page("rating/form.html", ticket, token)


def _posts() -> rate_limit.WindowLimit:
    """Rating posts per client address, counted in coordination.db (every process)."""
    limit = current_app.extensions.get("lobbydesk.rating_posts")
    if limit is None:
        limit = current_app.extensions.setdefault(
            "lobbydesk.rating_posts",
            rate_limit.WindowLimit(
                get_coordination(), "rating_posts", POST_LIMIT, POST_WINDOW_SECONDS
            ),
        )
    return limit


def _too_many(retry_after: float):
    seconds = max(1, math.ceil(retry_after))
    minutes = max(1, math.ceil(seconds / 60))
    page = render_template(
        "rating/refused.html",
        status=429,
        title_zh="操作太频繁",
        title_en="Too many tries",
        text_zh=f"请 {minutes} 分钟后再试。如需帮助，请联系前台。",
        text_en=f"Please try again in {terms.plural('minutes', minutes, 'en')}. "
        "For help, contact reception.",
        building=building.current(get_db()),
    )
    return page, 429, {"Retry-After": str(seconds)}


@bp.post("/rate/<token>", endpoint="submit")
def rating_submit(token: str):
    wait = _posts().hit(request.remote_addr or "", get_clock().now().timestamp())
    if wait > 0:
        log.debug("rating posts from %s throttled for %.0f s", request.remote_addr, wait)
        return _too_many(wait)
    try:
        ticket = _check(token)
    except (signing.TokenInvalid, signing.TokenExpired) as error:
        # Anyone can post a made-up link: the application log, not the append-only audit log.
        log.warning("rating link refused (%s) from %s", error.code, request.remote_addr)
        return _refused(error)
    except LobbyDeskError as error:
        return _refused(error)
    raw = request.form.get("rating", "")
    rating = int(raw) if raw in ("1", "2", "3", "4", "5") else None
    if rating is None:
        return _page(
            "rating/form.html",
            ticket,
            token,
            400,
            error="请选择 1-5 分 · Choose 1 to 5 stars.",
        )
    if rating <= catalog.LOW_RATING and request.form.get("confirm") != "1":
        # A low rating asks why before it is stored (no JavaScript needed).
        return _page("rating/reasons.html", ticket, token, rating=rating, chosen=[])
    reasons = request.form.getlist("reasons")
    comment = request.form.get("comment") or None
    try:
        tickets.rate_by_link(
            get_db(),
            get_clock(),
            current_app.config["SECRET_KEY"],
            token,
            rating=rating,
            reasons=reasons,
            comment=comment,
        )
    except InvalidRequest as error:
        return _page(
            "rating/reasons.html",
            ticket,
            token,
            400,
            rating=rating,
            chosen=reasons,
            comment=comment or "",
            error=str(error),
        )
    except LobbyDeskError as error:
        return _refused(error)
    return _page("rating/thanks.html", tickets.get(get_db(), ticket["id"]), token, rating=rating)
