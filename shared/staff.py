"""Staff accounts and their server-side sessions (SECURITY.md 1-4)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import sqlite_utils
from argon2 import PasswordHasher

from shared import audit, login_guard, passwords, tokens
from shared.clock import parse_utc, to_iso
from shared.db import is_storage_full, one, write_transaction
from shared.errors import InvalidRequest, LobbyDeskError, NotFound

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


_TOO_COMMON = (
    "这是最常见的密码之一，请换一个 · That password is one of the most common; choose another."
)


def new_account_errors(
    db: sqlite_utils.Database, *, username: str, display_name: str, password: str, role: str
) -> dict[str, str]:
    """Every problem with a new account's form at once, field -> bilingual message
    (the console shows each beside its field); empty when `create` would accept it."""
    errors = {}
    username = username.strip()
    if not username:
        errors["username"] = "请填写用户名 · Enter a username."
    elif len(username) > 40:
        errors["username"] = "用户名最多 40 个字符 · A username has at most 40 characters."
    elif any(ch.isspace() for ch in username):
        errors["username"] = "用户名不能有空格 · A username cannot contain spaces."
    elif one(db, "SELECT id FROM staff WHERE username = ?", (username,)):
        errors["username"] = f"用户名“{username}”已被使用 · The username “{username}” is taken."
    if not display_name.strip():
        errors["display_name"] = "请填写姓名 · Enter the name colleagues know this person by."
    elif len(" ".join(display_name.split())) > 60:
        errors["display_name"] = "姓名最多 60 个字符 · A name has at most 60 characters."
    if role not in ROLES:
        errors["role"] = "请选择列表中的角色 · Pick a role from the list."
    if len(password) < passwords.MIN_LENGTH:
        errors["password"] = (
            f"密码至少 {passwords.MIN_LENGTH} 个字符 · "
            f"Use at least {passwords.MIN_LENGTH} characters."
        )
    elif len(password) > passwords.MAX_LENGTH:
        errors["password"] = (
            f"密码最多 {passwords.MAX_LENGTH} 个字符 · Use at most {passwords.MAX_LENGTH} characters."
        )
    else:
        try:
            passwords.check_rules(password)
        except LobbyDeskError:
            errors["password"] = _TOO_COMMON
    return errors


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
    """The staff row if the credentials are right, else None (one answer for both failures).

    Call inside a write transaction. Raises SignInPaused, without checking the
    password, while the account name is throttled (known or not); catch it
    inside the transaction so the record of the refused attempt commits.
    """
    username = username.strip()
    member = one(db, "SELECT * FROM staff WHERE username = ? AND active = 1", (username,))
    # The typed name is kept only when it is an account's: an unknown "username"
    # is often a password typed into the wrong box.
    who = {"username": member["username"]} if member else {"username_known": False}
    actor = f"staff:{member['id']}" if member else "anonymous"
    wait = login_guard.seconds_to_wait(db, clock, username)
    if wait:
        audit.record(
            db,
            clock,
            actor=actor,
            action="login.paused",
            detail={**who, "wait_seconds": wait},
            device=device,
        )
        raise login_guard.SignInPaused(wait)
    stored = member["password_hash"] if member else password_hasher.hash(_DUMMY_PASSWORD)
    ok = passwords.verify(password_hasher, stored, password) and member is not None
    if ok:
        login_guard.clear(db, username)
    else:
        login_guard.record_failure(db, clock, username)
    audit.record(
        db,
        clock,
        actor=actor,
        action="login.success" if ok else "login.failure",
        detail=who,
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
        try:
            with write_transaction(db):
                db.execute(
                    "UPDATE staff_sessions SET last_seen_at = ? WHERE id = ?",
                    (to_iso(now), row["session_id"]),
                )
        except sqlite3.OperationalError as error:
            # A full disk must not stop staff reading pages: the idle timer waits.
            if not is_storage_full(error):
                raise
    return row


def end_session(db: sqlite_utils.Database, clock, token: str) -> None:
    db.execute(
        "UPDATE staff_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
        (to_iso(clock.now()), tokens.hash_token(token)),
    )


def end_sessions(
    db: sqlite_utils.Database, clock, staff_id: int, *, keep_session_id: int | None = None
) -> int:
    """End every open session of a staff member (but `keep_session_id`); returns how many."""
    return db.execute(
        "UPDATE staff_sessions SET ended_at = ? WHERE staff_id = ? AND ended_at IS NULL"
        " AND id IS NOT ?",
        (to_iso(clock.now()), staff_id, keep_session_id),
    ).rowcount


def get(db: sqlite_utils.Database, staff_id: int) -> dict:
    member = one(db, "SELECT * FROM staff WHERE id = ?", (staff_id,))
    if member is None:
        raise NotFound(f"staff member {staff_id} does not exist")
    return member


def by_username(db: sqlite_utils.Database, username: str) -> dict:
    member = one(db, "SELECT * FROM staff WHERE username = ?", (username.strip(),))
    if member is None:
        raise NotFound(f"no staff member {username!r}")
    return member


def list_all(db: sqlite_utils.Database, clock) -> list[dict]:
    """Every account with its number of live sessions, for the admin page."""
    idle_since = to_iso(clock.now() - IDLE_TIMEOUT)
    started_since = to_iso(clock.now() - ABSOLUTE_TIMEOUT)
    return list(
        db.query(
            "SELECT st.id, st.username, st.display_name, st.role, st.active, st.created_at,"
            " (SELECT COUNT(*) FROM staff_sessions s WHERE s.staff_id = st.id"
            "  AND s.ended_at IS NULL AND s.last_seen_at > ? AND s.created_at > ?) AS sessions"
            " FROM staff st ORDER BY st.active DESC, st.username",
            (idle_since, started_since),
        )
    )


class LastAdmin(LobbyDeskError):
    """控制台至少需要一名在职管理员，请先设置另一名管理员 · The console needs at least one active admin: make another admin first."""

    code = "last_admin"
    http_status = 409


def _keep_an_admin(db: sqlite_utils.Database, staff_id: int) -> None:
    others = one(
        db,
        "SELECT COUNT(*) AS n FROM staff WHERE role = 'admin' AND active = 1 AND id != ?",
        (staff_id,),
    )["n"]
    if others == 0 and get(db, staff_id)["role"] == "admin":
        raise LastAdmin()


def set_active(db: sqlite_utils.Database, clock, staff_id: int, active: bool, *, actor: str) -> int:
    """Disable (ending every session at once) or enable an account; returns sessions ended."""
    with write_transaction(db):
        if not active:
            _keep_an_admin(db, staff_id)
        get(db, staff_id)
        db.execute("UPDATE staff SET active = ? WHERE id = ?", (int(active), staff_id))
        ended = 0 if active else end_sessions(db, clock, staff_id)
        audit.record(
            db,
            clock,
            actor=actor,
            action="staff.enable" if active else "staff.disable",
            target=f"staff:{staff_id}",
            detail={"sessions_ended": ended},
        )
    return ended


def set_role(db: sqlite_utils.Database, clock, staff_id: int, role: str, *, actor: str) -> None:
    if role not in ROLES:
        raise InvalidRequest(f"role must be one of {', '.join(ROLES)}")
    with write_transaction(db):
        before = get(db, staff_id)["role"]
        if before == role:
            return
        if before == "admin":
            _keep_an_admin(db, staff_id)
        db.execute("UPDATE staff SET role = ? WHERE id = ?", (role, staff_id))
        # New rights or fewer: sessions holding the old role end.
        end_sessions(db, clock, staff_id)
        audit.record(
            db,
            clock,
            actor=actor,
            action="staff.role",
            target=f"staff:{staff_id}",
            detail={"from": before, "to": role},
        )


def set_password(
    db: sqlite_utils.Database,
    clock,
    password_hasher: PasswordHasher,
    staff_id: int,
    new_password: str,
    *,
    actor: str,
    keep_session_id: int | None = None,
) -> int:
    """A new password (checked by the rules); every other session ends; returns how many."""
    passwords.check_rules(new_password)
    new_hash = password_hasher.hash(new_password)
    with write_transaction(db):
        member = get(db, staff_id)
        db.execute("UPDATE staff SET password_hash = ? WHERE id = ?", (new_hash, staff_id))
        ended = end_sessions(db, clock, staff_id, keep_session_id=keep_session_id)
        login_guard.clear(db, member["username"])
        audit.record(
            db,
            clock,
            actor=actor,
            action="staff.password_change"
            if actor == f"staff:{staff_id}"
            else "staff.password_reset",
            target=f"staff:{staff_id}",
            detail={"sessions_ended": ended},
        )
    return ended


def change_own_password(
    db: sqlite_utils.Database,
    clock,
    password_hasher: PasswordHasher,
    member: dict,
    current_password: str,
    new_password: str,
) -> int:
    """The signed-in member changes their password; the current one must be right.

    A wrong current password counts against the sign-in throttle, so a borrowed
    session cannot be used to guess it.
    """
    passwords.check_rules(new_password)
    with write_transaction(db):
        wait = login_guard.seconds_to_wait(db, clock, member["username"])
        right = not wait and passwords.verify(
            password_hasher, get(db, member["id"])["password_hash"], current_password
        )
        if not wait and not right:
            # committed before we refuse: the failure must count
            login_guard.record_failure(db, clock, member["username"])
            audit.record(
                db,
                clock,
                actor=f"staff:{member['id']}",
                action="staff.password_change_refused",
                target=f"staff:{member['id']}",
            )
    if wait:
        raise login_guard.SignInPaused(wait)
    if not right:
        raise WrongPassword()
    return set_password(
        db,
        clock,
        password_hasher,
        member["id"],
        new_password,
        actor=f"staff:{member['id']}",
        keep_session_id=member["session_id"],
    )


class WrongPassword(LobbyDeskError):
    """当前密码不正确 · The current password is not right."""

    code = "wrong_password"
    http_status = 403


def end_all_sessions(db: sqlite_utils.Database, clock, staff_id: int, *, actor: str) -> int:
    """An admin (page or CLI) signs a staff member out everywhere."""
    with write_transaction(db):
        get(db, staff_id)
        ended = end_sessions(db, clock, staff_id)
        audit.record(
            db,
            clock,
            actor=actor,
            action="staff.sessions_ended",
            target=f"staff:{staff_id}",
            detail={"sessions_ended": ended},
        )
    return ended
