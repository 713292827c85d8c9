"""Phone numbers: Chinese mobiles or E.164, validated with `phonenumbers`;
always masked on kiosk screens (SECURITY.md 15, 24)."""

from __future__ import annotations

import logging
import re

import phonenumbers

from shared.errors import LobbyDeskError

log = logging.getLogger(__name__)
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class InvalidPhone(LobbyDeskError):
    """手机号不正确，请填 11 位手机号或带 + 的国际号码 · This is not a valid mobile number. Use an 11-digit Chinese mobile or +country code."""

    code = "invalid_phone"


def normalise(text: str) -> str:
    """The E.164 form (+8613812345678) of what a person typed, or InvalidPhone."""
    if not isinstance(text, str) or len(text) > 20:
        raise InvalidPhone()
    digits = "".join(ch for ch in text if ch.isdigit() or ch == "+")
    if _CN_MOBILE.match(digits):
        digits = "+86" + digits
    if not digits.startswith("+"):
        raise InvalidPhone()
    try:
        number = phonenumbers.parse(digits, None)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone() from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone()
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if e164.startswith("+86") and not _CN_MOBILE.match(e164[3:]):
        raise InvalidPhone()  # a landline cannot receive the visitor's messages
    return e164


UNREADABLE = "—"


def mask(e164: str | None) -> str:
    """138****5678 for Chinese mobiles; +44 ******0123 elsewhere."""
    if not e164:
        return ""
    if not isinstance(e164, str) or not e164.startswith("+") or len(e164) < 8:
        return UNREADABLE
    if e164.startswith("+86") and len(e164) == 14:
        national = e164[3:]
        return f"{national[:3]}****{national[-4:]}"
    return f"{e164[:3]} {'*' * (len(e164) - 7)}{e164[-4:]}"


def grouped(text: str) -> str:
    """A Chinese mobile as the kiosk shows it, 3-4-4 (138 1234 5678, 138 **** 5678),
    also while it is being typed (138 12); anything else (+44…, 021-…) unchanged."""
    if not text or len(text) > 11 or not all(ch.isdigit() or ch == "*" for ch in text):
        return text
    return " ".join(part for part in (text[:3], text[3:7], text[7:]) if part)


def display(e164: str | None) -> str:
    """For staff: national format for Chinese numbers, international otherwise.

    A stored value that cannot be read (written around the domain, or damaged)
    shows as "—" and is logged: one bad row never takes a page down."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except (phonenumbers.NumberParseException, TypeError, ValueError):
        log.warning("a stored phone number cannot be shown (%d characters)", len(str(e164)))
        return UNREADABLE
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 86
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)
