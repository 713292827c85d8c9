"""An invited visitor at the kiosk: scan the pass, confirm, signed in (docs/INVITATIONS.md).

    idle ─scanned─▶ checking ─(console: whom it is for)──▶ confirm ─confirm─▶ saving
                      │  └─(console out of reach)──▶ confirm (generic welcome, offline)
                      └─(refused here or by the console)─▶ refused
    saving ─on_saved─▶ waiting (online) ─on_acked─▶ signed_in / see_staff
                     └▶ recorded (offline: the visit is queued with offline true)
    waiting / recorded ─on_dead─▶ refused (pass_used …; an offline one is escalated)

The pass is verified here first, by its signature against the console's published key
kept in the kiosk's store (kiosk/pass_keys.py), so a forged, cut, expired, revoked or
other building's pass is refused even with the console away. Online, the console then
checks it (`confirm: false`: audited, and says whom it is for: "欢迎 张** · 拜访 1201").
The sign-in itself is one outbox item like every kiosk write: a console that goes away
mid-way loses nothing. A refusal found only here is queued as a `confirm: false`
check too, so the console audits it when it can.

Taps from home: none to scan, one to confirm, one for Done.
"""

from __future__ import annotations

from collections import deque

from kiosk.client import PERMANENT, Result
from kiosk.refusals import Refusal
from kiosk.viewmodels.contract import IDLE, SAVING, WAITING, FlowModel
from kiosk.viewmodels.effects import Enqueue, Query
from shared import pass_signing
from shared.clock import to_iso

CHECKING = "checking"
CONFIRM = "confirm"
RECORDED = "recorded"
SIGNED_IN = "signed_in"
SEE_STAFF = "see_staff"
REFUSED = "refused"
RESULT_STATES = (SAVING, WAITING, RECORDED, SIGNED_IN, SEE_STAFF, REFUSED)
_MESSAGE_KEYS = {
    CHECKING: "invite.checking",
    SAVING: "invite.saving",
    WAITING: "invite.waiting",
    RECORDED: "invite.recorded",
    SIGNED_IN: "invite.signed_in",
    SEE_STAFF: "invite.see_staff",
}

KIND = "invitation.redeem"
CHECK_KIND = "invitation.check"  # a refusal found at the kiosk, sent for the console's audit
PATH = "/api/v1/invitations/redeem"
MAX_SCAN_CHARS = 512  # the API's limit; anything longer is not sent at all
SCAN_LIMIT, SCAN_WINDOW = 12, 60.0  # the console's PASS_SCAN_LIMIT, kept here offline too

# The console says pass_invalid with a reason for these three (shared/invitations).
_REASONS = {
    "malformed": "pass_malformed",
    "truncated": "pass_truncated",
    "tampered": "pass_tampered",
}
# Each refusal's message, its key named in full (tests/test_word_catalogue.py finds them).
REFUSAL_KEYS = {
    "pass_expired": "invite.refused.pass_expired",
    "pass_revoked": "invite.refused.pass_revoked",
    "pass_tampered": "invite.refused.pass_tampered",
    "pass_truncated": "invite.refused.pass_truncated",
    "pass_malformed": "invite.refused.pass_malformed",
    "pass_other_building": "invite.refused.pass_other_building",
    "pass_used": "invite.refused.pass_used",
    "pass_not_today": "invite.refused.pass_not_today",
    "throttled": "invite.refused.throttled",
    "no_key": "invite.refused.no_key",
    "not_saved": "invite.refused.not_saved",
    "refused": "invite.refused.refused",
}
REFUSALS = tuple(REFUSAL_KEYS)


def refusal_code(code: str | None, reason=None) -> str:
    """The kiosk's message for a console's (or verifier's) refusal code."""
    if code == "pass_invalid":
        return _REASONS.get(reason, "pass_malformed")
    if code in ("rate_limited", "too_many"):
        return "throttled"
    return code if code in REFUSALS else "refused"


class InvitationViewModel(FlowModel):
    def __init__(self, clock=None):
        self._scans: deque[float] = deque()  # recent scans' times: a flood is slowed here too
        super().__init__(clock)

    def reset(self) -> None:
        super().reset()
        self.scanned_text: str | None = None  # kept only until the sign-in is queued
        self.offline = False  # verified here alone: the sign-in says offline true
        self.greeting_zh = self.greeting_en = ""
        self.unit = ""
        self.party_size = 1
        self.refusal: str | None = None
        self.pass_token: str | None = None

    def holds_screen(self, now=None) -> bool:
        return self.state == WAITING  # the answer is on its way: do not reset under it

    # -- input -------------------------------------------------------------
    def scanned(self, text, key: dict | None, language: str):
        """A scanned text starting LDI1: (home's scanner field). Verified here, then
        asked of the console when online; returns the effect to carry out."""
        if self.state not in (IDLE, REFUSED, CONFIRM) or not isinstance(text, str):
            return None
        text = text.strip()
        if not text:
            return None
        self.reset()
        if self._flooded():
            return self._refuse("throttled")
        if len(text) > MAX_SCAN_CHARS:
            return self._refuse("pass_malformed")
        if key is None:  # never fetched (a kiosk just paired): only the console can say
            if not self.online:
                return self._refuse("no_key")
        else:
            try:
                pass_signing.verify(
                    text,
                    key["public_key"],
                    building_id=key["building_id"],
                    now=self.clock.now(),
                    revoked=set(key.get("revoked") or ()),
                )
            except (pass_signing.PassError, ValueError) as refused:
                code = getattr(refused, "code", "pass_tampered")  # a bad stored key: tampered
                return self._refuse(code, audit=(text, language))
        self.scanned_text = text
        if not self.online:
            return self._welcome_offline()
        self.state = CHECKING
        return Query("check_pass", (text, language), "on_checked", self.generation)

    def confirm(self, language: str) -> Enqueue | None:
        """确认入场 · Sign in: the redeem, through the outbox."""
        if self.state != CONFIRM or self.scanned_text is None:
            return None
        self.offline = self.offline or not self.online
        body = {
            "pass": self.scanned_text,
            "confirm": True,
            "offline": self.offline,
            "language": language,
            "created_at": to_iso(self.clock.now()),
        }
        self.scanned_text = None
        self.state = SAVING
        return Enqueue(KIND, PATH, body)

    def _flooded(self) -> bool:
        now = self.clock.now().timestamp()
        while self._scans and now - self._scans[0] >= SCAN_WINDOW:
            self._scans.popleft()
        if len(self._scans) >= SCAN_LIMIT:
            return True
        self._scans.append(now)
        return False

    def _refuse(self, code: str, audit: tuple[str, str] | None = None) -> Enqueue | None:
        self.state, self.refusal = REFUSED, code
        if audit is None:
            return None
        text, language = audit
        # The console audits it as it audits its own refusals, whenever it is reached.
        return Enqueue(CHECK_KIND, PATH, {"pass": text, "confirm": False, "language": language})

    def _welcome_offline(self) -> None:
        self.offline = True
        self.state = CONFIRM
        self.greeting_zh = self.greeting_en = ""  # the screen says the generic welcome

    # -- answers -------------------------------------------------------------
    def on_checked(self, generation: int, result: Result) -> bool:
        if generation != self.generation or self.state != CHECKING:
            return False
        body = result.body or {}
        if result.ok:
            self.state = CONFIRM
            self.greeting_zh = _short(body.get("greeting_zh"))
            self.greeting_en = _short(body.get("greeting_en"))
            self.unit = _short(body.get("unit"))
            party = body.get("party_size")
            self.party_size = party if isinstance(party, int) and 1 <= party <= 10 else 1
        elif result.status == 429:
            self._refuse("throttled")
        elif result.outcome == PERMANENT:
            error = body.get("error") or {}
            self._refuse(refusal_code(result.error_code, error.get("reason")))
        else:  # the console went away (or answers 5xx): verified here, go on offline
            self._welcome_offline()
        return True

    def on_saved(self, outbox_id: int) -> None:
        if self.state == SAVING:
            self.outbox_id = outbox_id
            self.state = RECORDED if self.offline else WAITING

    def on_save_failed(self) -> None:
        if self.state == SAVING:
            self._refuse("not_saved")

    def on_acked(self, outbox_id: int, response: dict | None) -> bool:
        if not self.is_ours(outbox_id, (WAITING, RECORDED)):
            return False
        response = response or {}
        if response.get("outcome") == "see_staff":
            self.state = SEE_STAFF
        elif self.state == WAITING:
            token = response.get("pass_token")
            self.pass_token = token if isinstance(token, str) and len(token) < 1024 else None
            self.unit = _short(response.get("unit")) or self.unit
            self.state = SIGNED_IN
        else:
            return False  # recorded offline and now delivered: the screen already said so
        return True

    def on_dead(self, outbox_id: int, refusal: Refusal) -> bool:
        if not self.is_ours(outbox_id, (SAVING, WAITING, RECORDED)):
            return False
        self._refuse(refusal_code(refusal.code))
        return True

    # on_feed_event: nothing (revocations are kept by the sync worker: kiosk/pass_keys.py)

    # -- what to show --------------------------------------------------------
    @property
    def message_key(self) -> str | None:
        if self.state == REFUSED:
            return REFUSAL_KEYS[self.refusal]
        if self.state == CONFIRM and not self.greeting_zh:
            return "invite.welcome_offline"
        return _MESSAGE_KEYS.get(self.state)

    def greeting(self, language: str) -> str:
        return self.greeting_en if language == "en" else self.greeting_zh

    @property
    def offer_call(self) -> bool:
        return self.state in (REFUSED, SEE_STAFF)

    @property
    def finished(self) -> bool:
        return self.state in RESULT_STATES


def _short(value, limit: int = 60) -> str:
    return value[:limit] if isinstance(value, str) else ""
