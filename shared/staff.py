"""Staff accounts and their server-side sessions (SECURITY.md 1-4)."""

from __future__ import annotations

from datetime import timedelta

import sqlite_utils
from argon2 import PasswordHasher

from shared import audit, passwords, tokens
from shared.clock import parse_utc, to_iso
from shared.db import one, write_transaction

ROLES = ("reception", "manager", "admin")
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# The idle clock is kept to the minute: a page refreshing its queue every few
# seconds must not cost a committed write each time.
SESSION_TOUCH_SECONDS = 60

# Verifying against this when the user is unknown makes both failures take
# the same time, so timing does not reveal which usernames exist.
_DUMMY_PASSWORD = "not-a-real-password-" + tokens.new_token()


def create(
    db: sqlite_utils.Database,
    clock,
    password_hasher: PasswordHasher,
    *,
    username: str,
    display_name: str,
    password: str,
    role: str,
    actor: str,
) -> int:
    username = username.strip()
    if not username or len(username) > 40 or any(ch.isspace() for ch in username):
        raise ValueError("username: 1-40 characters, no spaces")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    passwords.check_rules(password)
    with write_transaction(db):
        if one(db, "SELECT id FROM staff WHERE username = ?", (username,)):
            raise ValueError(f"username {username!r} is taken")
        cursor = db.execute(
            "INSERT INTO staff (username, display_name, password_hash, role, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                username,
                " ".join(display_name.split())[:60] or username,
                password_hasher.hash(password),
                role,
                to_iso(clock.now()),
            ),
        )
        audit.record(
            db,
            clock,
            actor=actor,
            action="staff.create",
            target=f"staff:{cursor.lastrowid}",
            detail={"username": username, "role": role},
        )
    return cursor.lastrowid


def count(db: sqlite_utils.Database) -> int:
    return one(db, "SELECT COUNT(*) AS n FROM staff")["n"]


def check_login(
    db: sqlite_utils.Database,
    clock,
    password_hasher: PasswordHasher,
    username: str,
    password: str,
    *,
    device: str | None = None,
) -> dict | None:
    """The staff row if the credentials are right, else None (one answer for both failures)."""
    member = one(db, "SELECT * FROM staff WHERE username = ? AND active = 1", (username.strip(),))
    stored = member["password_hash"] if member else password_hasher.hash(_DUMMY_PASSWORD)
    ok = passwords.verify(password_hasher, stored, password) and member is not None
    audit.record(
        db,
        clock,
        actor=f"staff:{member['id']}" if member else "anonymous",
        action="login.success" if ok else "login.failure",
        detail={"username": username[:40]},
        device=device,
    )
    return member if ok else None


def start_session(db: sqlite_utils.Database, clock, staff_id: int) -> tuple[str, str]:
    """A new session id at every login; returns (token for the cookie, csrf token)."""
    token, csrf = tokens.new_token(), tokens.new_token()
    now = to_iso(clock.now())
    db.execute(
        "INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, created_at, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (tokens.hash_token(token), staff_id, csrf, now, now),
    )
    return token, csrf


def session_user(db: sqlite_utils.Database, clock, token: str | None) -> dict | None:
    """The signed-in staff member for a session token, touching its idle timer."""
    if not token:
        return None
    row = one(
        db,
        "SELECT s.id AS session_id, s.csrf_token, s.created_at AS session_created_at,"
        " s.last_seen_at, st.* FROM staff_sessions s JOIN staff st ON st.id = s.staff_id"
        " WHERE s.token_hash = ? AND s.ended_at IS NULL AND st.active = 1",
        (tokens.hash_token(token),),
    )
    if row is None:
        return None
    now = clock.now()
    if (
        now - parse_utc(row["last_seen_at"]) > IDLE_TIMEOUT
        or now - parse_utc(row["session_created_at"]) > ABSOLUTE_TIMEOUT
    ):
        end_session(db, clock, token)
        return None
    if (now - parse_utc(row["last_seen_at"])).total_seconds() >= SESSION_TOUCH_SECONDS:
        with write_transaction(db):
            db.execute(
                "UPDATE staff_sessions SET last_seen_at = ? WHERE id = ?",
                (to_iso(now), row["session_id"]),
            )
    return row


def end_session(db: sqlite_utils.Database, clock, token: str) -> None:
    db.execute(
        "UPDATE staff_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
        (to_iso(clock.now()), tokens.hash_token(token)),
    )
