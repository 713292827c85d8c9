"""One way to confirm an action that cannot be undone (issue 4/9, no dead ends).

A GET of the action's own URL shows a page naming what will happen in both
languages and a box to tick; the POST without the tick answers with the same page
again (422), the error beside the box, and nothing changed. It works without
JavaScript, and because the page and the action share one URL the browser's Back
after a refusal re-fetches the page instead of asking to resubmit a form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import render_template, request

CONFIRM_FIRST = "请先勾选确认框，尚未做任何更改 · Tick the confirmation first; nothing was changed."


@dataclass(frozen=True)
class Confirmation:
    title_zh: str
    title_en: str
    consequence: str  # what will happen, "中文 · English"
    tick: str  # the box's label, "确认… · I confirm: …"
    button: str
    cancel: str  # where 取消 · Cancel leads
    facts: tuple[tuple[str, str], ...] = ()  # (label, value) rows naming the thing
    hidden: dict = field(default_factory=dict)  # fields the action needs besides the tick
    password: bool = False  # a password reset asks for the new one on the same page


def confirmed() -> bool:
    return request.form.get("confirm") == "yes"


def confirm_page(confirmation: Confirmation, errors: dict | None = None):
    """The page; with errors (keyed by field: "confirm", "password") the refusal, 422."""
    errors = errors or {}
    page = render_template("confirm.html", c=confirmation, errors=errors)
    return page, 422 if errors else 200


def refused(confirmation: Confirmation, extra: dict | None = None):
    """The POST came without the tick (and perhaps with other errors): say so beside it."""
    return confirm_page(confirmation, {**(extra or {}), "confirm": CONFIRM_FIRST})
