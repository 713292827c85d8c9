"""The demo's mailbox: a loopback SMTP sink that prints each message's pickup code.

The demo has no mail server, and a parcel's pickup code only ever goes to the
resident (it is never stored or logged by the console), so without this a
newcomer could not try a pickup at the kiosk. `lobbydesk demo` points the
console's NOTIFY_EMAIL_URL here; every message is printed as one line (to whom,
the subject, the pickup code if it has one) and dropped. Demo only: a real
console never logs a code.

Plain SMTP (RFC 5321) on 127.0.0.1, just enough for Apprise's mailto:// plugin:
EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
"""

from __future__ import annotations

import email
import re
import socketserver
import threading
from collections.abc import Callable
from email import policy

_CODE = re.compile(r"(?:取件码|Pickup code)[：:\s]*(?:<[^>]+>)*\s*(\d{6})")


def pickup_code(message: email.message.Message) -> str | None:
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        found = _CODE.search(part.get_content())
        if found:
            return found.group(1)
    return None


def describe(raw: bytes, recipients: list[str]) -> str:
    """One line for the demo's console log."""
    message = email.message_from_bytes(raw, policy=policy.default)
    code = pickup_code(message)
    line = f"demo mailbox → {', '.join(recipients)}: {message.get('subject', '')}"
    return f"{line}  取件码 · pickup code: {code}" if code else line


class _Session(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.recipients: list[str] = []
        self._reply("220 lobbydesk demo mailbox")
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
            if verb == "QUIT":
                self._reply("221 bye")
                return
            self._command(verb, line)

    def _command(self, verb: str, line: bytes) -> None:
        if verb == "EHLO":
            self._reply("250-lobbydesk demo mailbox\r\n250 8BITMIME")
        elif verb == "RCPT":
            address = line.decode("utf-8", "replace").split(":", 1)[-1].strip()
            self.recipients.append(address.strip("<>"))
            self._reply("250 ok")
        elif verb == "DATA":
            self._reply("354 end with <CRLF>.<CRLF>")
            self.server.on_message(describe(self._data(), self.recipients))
            self.recipients = []
            self._reply("250 ok")
        elif verb in ("HELO", "MAIL", "RSET", "NOOP"):
            self.recipients = [] if verb == "RSET" else self.recipients
            self._reply("250 ok")
        else:
            self._reply("502 not implemented")

    def _data(self) -> bytes:
        lines = []
        while True:
            line = self.rfile.readline(65536)
            if not line or line in (b".\r\n", b".\n"):
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b"..") else line)

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class DemoMailbox:
    def __init__(self, on_message: Callable[[str], None] = print):
        self._server = _Server(("127.0.0.1", 0), _Session)
        self._server.on_message = on_message
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="demo-mailbox", daemon=True
        )

    @property
    def url(self) -> str:
        """The console's NOTIFY_EMAIL_URL for Apprise."""
        return f"mailto://127.0.0.1:{self.port}?from=desk@lobbydesk.demo&mode=insecure"

    def start(self) -> DemoMailbox:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
