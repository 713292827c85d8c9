"""The kiosk's HTTP client for the console's /api/v1 (shared/protocol.py).

Every call has explicit timeouts (`requests` has none by default,
SECURITY.md 32) and every answer is classified once, here:

- success: 2xx;
- retryable: connection error or timeout, 409, 429, 5xx (Retry-After honoured),
  and 426: the console and this kiosk speak different protocols (update_required,
  console_too_old). Nothing is wrong with the item: it waits until one of the two
  is updated, then goes;
- unauthorised: 401 — the kiosk's token was revoked: stop sending, keep items;
- permanent: any other 4xx — this request will never be accepted as it is.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import requests

from kiosk.outbox import OutboxItem
from shared.protocol import (
    API_PREFIX,
    IDEMPOTENCY_HEADER,
    OUTBOX_DEPTH_HEADER,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    VERSION_HEADER,
)
from shared.version import __version__

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 10.0
LONG_POLL_MARGIN = 5.0

SUCCESS = "success"
RETRYABLE = "retryable"
UNAUTHORISED = "unauthorised"
PERMANENT = "permanent"

_RETRYABLE_STATUSES = {409, 426, 429}
# 426 answers: this kiosk or the console must be updated (the status line says so).
UPDATE_CODES = {"update_required", "console_too_old"}
UPDATE_LOG_INTERVAL = 600.0  # seconds between "update needed" log lines
_update_logged_at: dict[str, float] = {}


@dataclass(frozen=True)
class Result:
    outcome: str
    status: int | None = None
    body: dict | None = None
    error_code: str | None = None
    message: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == SUCCESS

    @property
    def update_needed(self) -> bool:
        """The console answered 426: the two speak different protocols."""
        return self.status == 426 or self.error_code in UPDATE_CODES

    @property
    def reached_console(self) -> bool:
        """False for connection errors, timeouts and 5xx: the console is not there."""
        return self.status is not None and self.status < 500

    def describe(self) -> str:
        where = f"HTTP {self.status}" if self.status else "no answer"
        code = f" {self.error_code}" if self.error_code else ""
        return f"{where}{code}: {self.message}".strip()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def _outcome(status: int) -> str:
    if 200 <= status < 300:
        return SUCCESS
    if status == 401:
        return UNAUTHORISED
    if status in _RETRYABLE_STATUSES or status >= 500:
        return RETRYABLE
    return PERMANENT


def _error_of(body: dict | None) -> tuple[str | None, str]:
    error = (body or {}).get("error") or {}
    if not isinstance(error, dict):
        return None, ""
    code, message = error.get("code"), error.get("message", "")
    message = message if isinstance(message, str) else ""
    return (code if isinstance(code, str) else None), message


def classify(response: requests.Response) -> Result:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = None
    status = response.status_code
    if 200 <= status < 300:
        return Result(SUCCESS, status, body)
    code, message = _error_of(body)
    message = message or response.reason or ""
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 426:
        _log_update_needed(code, message)
    return Result(_outcome(status), status, body, code, message, retry_after)


def _log_update_needed(code: str | None, message: str) -> None:
    """Staff reading the kiosk's log see why nothing is delivered: once every ten
    minutes, not at every retry."""
    now = time.monotonic()
    if now - _update_logged_at.get(code or "", -UPDATE_LOG_INTERVAL) < UPDATE_LOG_INTERVAL:
        return
    _update_logged_at[code or ""] = now
    log.error("需要更新 · Update needed (%s): %s Items stay queued.", code, message)


def batch_answers(result: Result, items: list[OutboxItem]) -> list[Result] | None:
    """Each item's own answer out of a batch's 200, classified like a single send; None
    when the answer is not what the protocol says (the kiosk then sends items alone)."""
    answers = (result.body or {}).get("results")
    if not isinstance(answers, list) or len(answers) != len(items):
        return None
    results = []
    for item, answer in zip(items, answers, strict=True):
        if not isinstance(answer, dict) or answer.get("key") != item.idempotency_key:
            return None
        status, body = answer.get("status"), answer.get("body")
        if not isinstance(status, int) or not 100 <= status <= 599 or not isinstance(body, dict):
            return None
        code, message = _error_of(body)
        retry_after = body.get("error", {}).get("retry_after") if code else None
        if not isinstance(retry_after, int | float) or isinstance(retry_after, bool):
            retry_after = None
        outcome = _outcome(status)
        results.append(Result(outcome, status, body, code, message, retry_after))
    return results


def software_headers() -> dict[str, str]:
    """Sent on every request: the console records them per kiosk, and answers 426
    when it no longer (or not yet) speaks this kiosk's protocol."""
    return {
        "Accept": "application/json",
        PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        VERSION_HEADER: __version__,
    }


class ConsoleClient:
    """One `requests.Session` per client; use `copy()` for another thread."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        session: requests.Session | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.session = session or requests.Session()
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

    def copy(self) -> ConsoleClient:
        return ConsoleClient(
            self.base_url, self.token, None, self.connect_timeout, self.read_timeout
        )

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        if not path.startswith(API_PREFIX):
            path = API_PREFIX + path
        return self.base_url + path

    def _headers(self, outbox_depth: int | None = None) -> dict[str, str]:
        headers = software_headers()
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if outbox_depth is not None:
            headers[OUTBOX_DEPTH_HEADER] = str(outbox_depth)
        return headers

    def _call(self, method: str, path: str, *, read_timeout: float | None = None, **kw) -> Result:
        timeout = (self.connect_timeout, read_timeout or self.read_timeout)
        try:
            response = self.session.request(method, self.url(path), timeout=timeout, **kw)
        except requests.Timeout as error:
            return Result(RETRYABLE, message=f"timed out: {error}")
        except requests.RequestException as error:
            return Result(RETRYABLE, message=f"connection failed: {error}")
        return classify(response)

    # -- the API ---------------------------------------------------------
    def pair(self, code: str, device: str | None) -> Result:
        """POST /pair; needs no token."""
        return self._call(
            "POST",
            "/pair",
            json={"code": code, "device": device},
            headers=software_headers(),
        )

    def ping(self, outbox_depth: int) -> Result:
        return self._call("GET", "/ping", headers=self._headers(outbox_depth))

    def send(self, item: OutboxItem, outbox_depth: int) -> Result:
        """Send one queued item with its own idempotency key, body byte for byte."""
        headers = self._headers(outbox_depth)
        headers[IDEMPOTENCY_HEADER] = item.idempotency_key
        headers["Content-Type"] = "application/json; charset=utf-8"
        data = (item.body or "").encode("utf-8")
        return self._call(item.method, item.path, data=data, headers=headers)

    def send_batch(self, items: list[OutboxItem], outbox_depth: int) -> Result:
        """Send several queued items in one request; each body goes byte for byte."""
        parts = [
            f'{{"key":{json.dumps(item.idempotency_key)},'
            f'"path":{json.dumps(item.path)},"body":{item.body}}}'
            for item in items
        ]
        data = ('{"items":[' + ",".join(parts) + "]}").encode("utf-8")
        headers = self._headers(outbox_depth)
        headers["Content-Type"] = "application/json; charset=utf-8"
        return self._call("POST", "/batch", data=data, headers=headers)

    def feed(self, after: int, wait: float, epoch: str | None = None) -> Result:
        """Long-poll the kiosk's feed; returns as soon as an event exists. `epoch`: the
        feed history `after` belongs to, as the last answer gave it (None: not known)."""
        params = {"after": after, "wait": int(wait)}
        if epoch is not None:
            params["epoch"] = epoch
        return self._call(
            "GET",
            "/feed",
            params=params,
            headers=self._headers(),
            read_timeout=wait + LONG_POLL_MARGIN,
        )

    # -- read-only queries (kiosk/queries.py runs them off the UI thread) ------
    def get_settings(self) -> Result:
        """What the kiosk shows: building name, retention, visitor options."""
        return self._call("GET", "/settings", headers=self._headers())

    def unit_exists(self, number: str) -> Result:
        """200 if the unit exists, 422 unknown_unit if not."""
        return self._call("GET", f"/units/{quote(number, safe='')}", headers=self._headers())

    def lookup_visitor(self, phone: str) -> Result:
        """Is this phone a returning visitor? {"found", "masked_name", "last_unit",
        "last_purpose"}; read-only."""
        body = {"phone": phone, "last_visit": True}
        return self._call("POST", "/visitors/lookup", json=body, headers=self._headers())

    def lookup_ticket(self, body: dict) -> Result:
        """A repair ticket's status by {"qr"} or {"number", "unit"}; read-only."""
        return self._call("POST", "/tickets/lookup", json=body, headers=self._headers())

    def pass_key(self) -> Result:
        """The public key, building id and revoked invitations, for verifying passes
        offline (docs/INVITATIONS.md); the sync worker keeps it in the kiosk's store."""
        return self._call("GET", "/pass-key", headers=self._headers())

    def check_pass(self, text: str, language: str) -> Result:
        """A scanned invitation pass, checked only (confirm false: nothing is written but
        the audit line): whom it is for, or the refusal's code. A fresh key each scan,
        so a second scan of the same pass is asked again, not replayed."""
        headers = {**self._headers(), IDEMPOTENCY_HEADER: str(uuid.uuid4())}
        body = {"pass": text, "confirm": False, "language": language}
        return self._call("POST", "/invitations/redeem", json=body, headers=headers)

    # -- announcements and the emergency broadcast (read-only; kiosk/viewmodels/broadcast.py) --
    def get_announcements(self) -> Result:
        """The idle screen's notices, showing and scheduled, with the console's time."""
        return self._call("GET", "/announcements", headers=self._headers())

    def get_broadcast(self) -> Result:
        """The emergency on now, or null; asked at start and on reconnect."""
        return self._call("GET", "/broadcast", headers=self._headers())

    def fetch_announcement_image(self, announcement_id: int, target: str) -> Result:
        """Save a notice's picture (a JPEG) to `target`: written whole, then renamed."""
        headers = {**self._headers(), "Accept": "image/jpeg"}
        try:
            response = self.session.get(
                self.url(f"/announcements/{int(announcement_id)}/image"),
                headers=headers,
                timeout=(self.connect_timeout, self.read_timeout),
            )
        except requests.RequestException as error:
            return Result(RETRYABLE, message=f"connection failed: {error}")
        if response.status_code != 200:
            return classify(response)
        if response.headers.get("Content-Type", "").split(";")[0] != "image/jpeg":
            return Result(PERMANENT, 200, message="the answer is not a JPEG")
        partial = f"{target}.part"
        with open(partial, "wb") as file:
            file.write(response.content)
        os.replace(partial, target)
        return Result(SUCCESS, 200, {"path": target})
