"""The resident's own page, /me/<token>: public (no staff sign-in), phone-sized, no
JavaScript needed. The signed token is the permission (shared/resident_links.py):
one resident, one unit, checked against the database on every request; nothing
in the query string but the language (?lang=en).

Every request is throttled per client address, then per resident; a link that does
not work gets a friendly bilingual page saying how to get a new one (and goes to the
application log, refusals to the audit log in aggregate, never a row per request);
a working one is audited on every use. Forms carry the CSRF token like every console
form (the anonymous session's, as on the rating page).
"""

from __future__ import annotations

import logging
import math

from flask import Blueprint, current_app, render_template, request

from console import limits
from console.db import get_clock, get_coordination, get_db
from shared import building, resident_links, signing
from shared.errors import LobbyDeskError
from shared.terms import plural

bp = Blueprint("resident_page", __name__, url_prefix="/me")
log = logging.getLogger(__name__)
LANGUAGES = ("zh", "en")

# Why a link does not work, in both languages, by error code.
REFUSALS = {
    "token_expired": (
        "链接已过期",
        "This link has expired",
        "住户页链接 24 小时内有效。请在大堂终端或前台获取新链接，会发到您登记的通知渠道。",
        "Resident page links work for 24 hours. Ask for a new one at the lobby kiosk or "
        "the desk: it is sent to your own contact channel.",
    ),
    "resident_link_refused": (
        "链接已不能使用",
        "This link no longer works",
        "登记信息已变更（例如已迁出）。如仍住在这里，请到前台更新登记并获取新链接。",
        "Your details have changed (for example, a move-out). If you still live here, "
        "ask at the desk to update them and send you a new link.",
    ),
    "token_invalid": (
        "链接无效",
        "This link is not valid",
        "请检查链接是否完整。也可在大堂终端或前台获取新链接。",
        "Check that the whole link was opened, or ask for a new one at the lobby kiosk "
        "or the desk.",
    ),
}


clock = get_clock  # the console's one clock (console.db); callers here say clock()


def secret_key() -> str:
    return current_app.config["SECRET_KEY"]


def throttle() -> resident_links.Throttle:
    """The resident links' limits, counted in coordination.db by every console process
    (limits can be set in the config)."""
    found = current_app.extensions.get("lobbydesk.resident_links")
    if found is None:
        made = resident_links.Throttle(
            get_coordination(), current_app.config.get("RESIDENT_LINK_LIMITS")
        )
        found = current_app.extensions.setdefault("lobbydesk.resident_links", made)
    return found


def language() -> str:
    chosen = request.values.get("lang", "")
    return chosen if chosen in LANGUAGES else "zh"


def pick(text: str, lang: str | None = None) -> str:
    """One side of a bilingual "中文 · English" message, in the page's language."""
    parts = str(text).split(" · ")
    if len(parts) != 2:
        return str(text)
    return parts[1] if (lang or language()) == "en" else parts[0]


@bp.context_processor
def _words():
    lang = language()
    return {
        "lang": lang,
        "tr": lambda zh, en: en if lang == "en" else zh,
        "pick": lambda text: pick(text, lang),
    }


def refused_page(title_zh, title_en, text_zh, text_en, status: int, headers=None):
    page = render_template(
        "resident_page/refused.html",
        title=(title_zh, title_en),
        text=(text_zh, text_en),
        building=building.current(get_db()),
    )
    return page, status, headers or {}


def too_many(error: resident_links.TooMany):
    minutes = max(1, math.ceil(error.retry_after / 60))
    return refused_page(
        "操作太频繁",
        "Too many tries",
        f"请 {minutes} 分钟后再试。如需帮助，请联系前台。",
        f"Please try again in {plural('minutes', minutes, 'en')}. For help, ask at the desk.",
        429,
        {"Retry-After": str(error.retry_after)},
    )


def _refused(error: LobbyDeskError):
    address = limits.client_address()
    log.warning("resident page link refused (%s) from %s", error.code, address)
    limits.audit_refusal(
        get_db(),
        actor="anonymous",
        action="resident_link.refused",
        key=address,
        device=address,
        reason=error.code,
    )
    words = REFUSALS.get(error.code, REFUSALS["token_invalid"])
    return refused_page(*words, status=error.http_status)


def open_link(token: str):
    """(scope, None) for a link that works now, else (None, the page to answer with).
    Counts one use against the address and the resident."""
    now = clock().now().timestamp()
    try:
        throttle().address_use(limits.client_address(), now)
        scope = resident_links.check(get_db(), clock(), secret_key(), token)
        throttle().resident_use(scope["resident"]["id"], now)
    except resident_links.TooMany as error:
        return None, too_many(error)
    except (signing.TokenInvalid, signing.TokenExpired, resident_links.LinkRefused) as error:
        return None, _refused(error)
    return scope, None


def audit_use(scope: dict, action: str, **detail) -> None:
    resident_links.record(
        get_db(), clock(), scope, action, address=limits.client_address(), **detail
    )


# The page and its forms register their routes on bp when imported.
from console.resident_page import actions, invitations, views  # noqa: E402, F401
