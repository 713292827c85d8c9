"""Kiosk-side named errors; the CLI turns them into messages."""

from __future__ import annotations

from shared import errors as shared_errors
from shared.errors import LobbyDeskError


class KioskSetupError(LobbyDeskError):
    """The kiosk cannot start or pair; the message says what to do."""

    code = "kiosk_setup"


class FontNotFound(KioskSetupError):
    """No font with both Chinese and Latin glyphs was found."""

    code = "font_not_found"


class KioskNotPaired(KioskSetupError):
    """This kiosk has no token yet. Pair it first with a code from the console."""

    code = "kiosk_not_paired"


class ConsoleUnreachable(KioskSetupError):
    """The console did not answer. Check the URL and the network."""

    code = "console_unreachable"


class ConsoleRefused(KioskSetupError):
    """The console answered with an error the kiosk cannot act on."""

    code = "console_refused"


class OutboxStateError(LobbyDeskError):
    """An outbox item was not in the state a transition needs."""

    code = "outbox_state"


# The console's pairing errors, as setup errors the CLI reports (code and
# message stay the console's own).
class PairingCodeInvalid(shared_errors.PairingCodeInvalid, KioskSetupError):
    pass


class PairingCodeUsed(shared_errors.PairingCodeUsed, KioskSetupError):
    pass


class PairingCodeExpired(shared_errors.PairingCodeExpired, KioskSetupError):
    pass
