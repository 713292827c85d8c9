"""Why an outbox item went dead, as data, and the report of it sent back to the console.

A view-model's `on_dead(outbox_id, refusal)` reads `refusal.code` (the console's
error code, or the kiosk's own, e.g. a parcel pickup withdrawn here): the code is
carried from the client's Result, or stored with the outbox row (last_error_code),
never parsed back out of the human-readable description.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.clock import to_iso
from shared.protocol import LANGUAGES

ALERT_KIND = "kiosk.alert"
REFUSED_KIND = "kiosk.refused"  # a refused item, sent back whole for the desk
# Refusals the console keeps itself (stored under the key and audited, an escalation when
# a visitor is already inside): not sent back to the live queue a second time.
ANSWERED_REFUSALS = {"invitation.redeem", "invitation.check"}


@dataclass(frozen=True)
class Refusal:
    code: str | None = None  # "wrong_code", "ticket_already_rated" …; None: no code given
    description: str = ""  # for the log and the outbox's last_error: "HTTP 400 wrong_code: …"
    attempts_left: int | None = None  # a pickup code's tries left, when the console says

    @classmethod
    def of_result(cls, result) -> Refusal:
        """The console's answer (a kiosk.client Result) that ended the item."""
        error = (result.body or {}).get("error") if isinstance(result.body, dict) else None
        left = error.get("attempts_left") if isinstance(error, dict) else None
        if not isinstance(left, int) or isinstance(left, bool):
            left = None
        return cls(result.error_code, result.describe(), left)

    @classmethod
    def of_item(cls, item) -> Refusal:
        """What the outbox row keeps of its last failure (an OutboxItem)."""
        return cls(item.last_error_code, item.last_error or "")


def refusal_report(item, error: str) -> dict:
    """The refused item as it was, for the console's live queue (POST /refused)."""
    report = {
        "key": item.idempotency_key,
        "path": item.path,
        "kind": item.kind[:40],
        "body": item.body or "",
        "error": error[:300],
    }
    try:
        language = (item.body_json or {}).get("language")
    except (ValueError, AttributeError):
        language = None
    if language in LANGUAGES:
        report["language"] = language
    return report


def report_of(item, error: str, now) -> tuple[str, str, dict] | None:
    """Never a silent drop: the whole item goes back to the console, where it
    waits in the live queue for the desk to resend or discard. If that report is
    itself refused, a short alert goes to the kiosks page; an alert that dies
    raises nothing further."""
    if item.kind == ALERT_KIND or item.kind in ANSWERED_REFUSALS:
        return None
    if item.kind == REFUSED_KIND:
        body = {
            "kind": "dead_letter",
            "item_kind": item.kind[:40],
            "error": error[:300],
            "created_at": to_iso(now),
        }
        return ALERT_KIND, "/api/v1/alerts", body
    return REFUSED_KIND, "/api/v1/refused", refusal_report(item, error)
