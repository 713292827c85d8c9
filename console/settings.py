"""Every console setting, declared once with its default and help text.

Values come from, in order: these defaults, `LOBBYDESK_<NAME>` environment
variables, then a test dict. Secrets have no default: the console refuses to
start without one (see `load_secret_key`).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str
    secret: bool = False


SETTINGS = (
    Setting(
        "DATA_DIR",
        "./lobbydesk-data",
        "Folder for the building database, backups and the instance secret.",
    ),
    Setting(
        "SECRET_KEY",
        None,
        "Signs session cookies. From the environment or DATA_DIR/secret_key (created by `lobbydesk console --init`).",
        secret=True,
    ),
    Setting("HOST", "127.0.0.1", "Address the console listens on; 0.0.0.0 for the building LAN."),
    Setting("PORT", 8080, "TCP port of the console."),
    Setting(
        "PROCESSES",
        1,
        "Console processes serving the one address (`lobbydesk console --processes N`): a "
        "supervisor binds HOST:PORT and keeps N workers on it, restarting one that dies. "
        "They share the database and coordination.db (docs/ARCHITECTURE.md).",
    ),
    Setting(
        "THREADS",
        32,
        "Worker threads for ordinary requests (pages, kiosk writes, database and hashing work). "
        "Waiting kiosk long-polls and open staff streams hold none (README: Connection model).",
    ),
    Setting(
        "CONNECTION_CAPACITY",
        1000,
        "Kiosk long-polls + staff event streams the console keeps open at once. From 90 % new "
        "long-polls are answered at once (empty, Retry-After) so kiosks come back later; "
        "writes and pages are never refused for it.",
    ),
    Setting(
        "CONNECTION_WARN_PERCENT",
        80,
        "Share of CONNECTION_CAPACITY from which the kiosks page shows a warning and the log says so.",
    ),
    Setting(
        "TRUSTED_PROXY",
        None,
        "Address of the one TLS reverse proxy whose X-Forwarded-For/-Proto/-Host are believed "
        "(audit rows and per-address limits then see the client's address); from anyone else "
        "those headers are removed.",
    ),
    Setting("SESSION_COOKIE_SECURE", False, "Set true when the console is served over TLS."),
    Setting("LONG_POLL_SECONDS", 25, "Longest a kiosk feed request waits for news."),
    Setting(
        "STREAM_KEEPALIVE_SECONDS",
        15,
        "Idle gap after which a staff page's event stream sends a keep-alive.",
    ),
    Setting(
        "NOTIFY_EMAIL_URL",
        None,
        "apprise mail URL for resident e-mail, without the recipient, e.g. mailtos://user:pass@smtp.example.com?from=desk@example.com",
        secret=True,
    ),
    Setting("NOTIFY_INTERVAL_SECONDS", 2, "How often the notifier looks for messages to send."),
    Setting(
        "KIOSK_ONLINE_WINDOW_SECONDS", 60, "A kiosk seen within this many seconds counts as online."
    ),
    Setting(
        "BACKUP_INTERVAL_HOURS",
        24,
        "Hours between scheduled backups into DATA_DIR/backups (0: none; use `lobbydesk admin backup`).",
    ),
    Setting(
        "BACKUPS_KEPT", 14, "How many backups of each kind (scheduled, pre-migration …) to keep."
    ),
    Setting(
        "KIOSK_WRITE_BURST",
        60,
        "New writes a kiosk may send at once before the console paces it (SECURITY.md 16).",
    ),
    Setting(
        "KIOSK_WRITES_PER_SECOND",
        2,
        "Then this many writes a second per kiosk; more get 429 + Retry-After and wait.",
    ),
    Setting(
        "KIOSK_BACKLOG_ALLOWANCE",
        10_000,
        "Items a kiosk may send in batches at once after an outage (then paced at "
        "KIOSK_WRITES_PER_SECOND); single live writes have their own burst.",
    ),
    Setting(
        "PUBLIC_URL",
        None,
        "The console's address as residents reach it (base of rating links in messages); "
        "default http://HOST:PORT.",
    ),
)


def from_environment() -> dict:
    values = {}
    for setting in SETTINGS:
        raw = os.environ.get(f"LOBBYDESK_{setting.name}")
        if raw is None:
            if setting.default is not None:
                values[setting.name] = setting.default
            continue
        if isinstance(setting.default, bool):
            values[setting.name] = raw.lower() in ("1", "true", "yes", "on")
        elif isinstance(setting.default, int):
            values[setting.name] = int(raw)
        else:
            values[setting.name] = raw
    return values


def public_url(config) -> str:
    """Base of links in resident messages, without a trailing slash."""
    url = (
        config.get("PUBLIC_URL")
        or f"http://{config.get('HOST', '127.0.0.1')}:{config.get('PORT', 8080)}"
    )
    return str(url).rstrip("/")


def secret_key_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "secret_key"


def create_secret_key(data_dir: str | Path) -> Path:
    """Write a new 256-bit secret to DATA_DIR/secret_key, readable by the owner only."""
    path = secret_key_path(data_dir)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
    return path


def load_secret_key(data_dir: str | Path) -> str | None:
    path = secret_key_path(data_dir)
    return path.read_text().strip() if path.exists() else None


def redacted(config) -> dict:
    """The settings as an admin may see them: secrets replaced."""
    return {
        s.name: ("••••••" if s.secret and config.get(s.name) else config.get(s.name))
        for s in SETTINGS
    }
