"""Log lines that user input cannot forge (SECURITY.md 12, OWASP log injection).

A name typed at the kiosk such as "张三\\n2026-11-27 INFO login.success admin"
must not become a second, fake log line: every CR, LF and other control
character in the message is escaped, and the lines of a traceback are
indented so none of them can pass for the start of a record.
"""

from __future__ import annotations

import logging
import re

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u2028\u2029\x85]")


def _escape(text: str) -> str:
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class SafeFormatter(logging.Formatter):
    def __init__(self, fmt: str = FORMAT, *args, **kwargs):
        super().__init__(fmt, *args, **kwargs)

    def formatMessage(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord(record.__dict__)
        safe.message = _escape(record.message)
        return super().formatMessage(safe)

    def formatException(self, ei) -> str:
        return "\n".join(
            "    | " + _escape(line) for line in super().formatException(ei).splitlines()
        )

    def formatStack(self, stack_info: str) -> str:
        return "\n".join("    | " + _escape(line) for line in stack_info.splitlines())


def configure(level: int = logging.INFO) -> None:
    """Root logging for `lobbydesk console`: one line per record, escaped.

    Leaves logging alone where something (a test runner, an embedding
    program) has already set it up.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def init_app(app) -> None:
    """Flask's own handler (used when nothing else is configured) escapes too."""
    from flask.logging import default_handler

    default_handler.setFormatter(SafeFormatter())
