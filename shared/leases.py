"""Leases: one process at a time does a named piece of work (e.g. the background jobs).

A lease is a row in coordination.db's `leases` table (shared/coordination.py):
who holds it and until when. A holder renews it before each round of work; a
holder that dies (SIGKILL, power cut) stops renewing, and once `until` passes
another process takes it. Times are real seconds since the epoch (time.time()),
never the console's clock: a frozen test clock must not freeze a lease.
"""

from __future__ import annotations

import os
import secrets
import socket

from shared.coordination import Coordination


def new_holder() -> str:
    """This process's name as a holder: host and pid for a person reading the table,
    and a random part so a pid reused after a restart is not the old holder."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def take_or_renew(coord: Coordination, name: str, holder: str, ttl: float, now: float) -> bool:
    """Hold `name` until now + ttl if it is free, expired, already ours, or held by a
    process of this host that no longer runs (a console restarted after a SIGKILL need
    not wait out its predecessor's lease); False when another holder's lease is still
    running (ours was taken over while we slept)."""
    with coord.write() as conn:
        current = conn.execute("SELECT holder FROM leases WHERE name = ?", (name,)).fetchone()
        if current is not None and current[0] != holder and _gone_from_this_host(current[0]):
            conn.execute("DELETE FROM leases WHERE name = ?", (name,))
        conn.execute(
            "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until "
            "WHERE leases.holder = excluded.holder OR leases.until <= ?",
            (name, holder, now + ttl, now),
        )
        row = conn.execute("SELECT holder FROM leases WHERE name = ?", (name,)).fetchone()
    return row is not None and row[0] == holder


def _gone_from_this_host(holder: str) -> bool:
    """True only when `holder` names this host and a pid with no process behind it."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, as another user
        return False
    return False


def release(coord: Coordination, name: str, holder: str) -> None:
    """Let go of `name` if we still hold it, so another process can take it at once."""
    with coord.write() as conn:
        conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))


def holder_of(coord: Coordination, name: str, now: float) -> str | None:
    """Who holds `name` now (None: free or expired)."""
    rows = coord.read("SELECT holder FROM leases WHERE name = ? AND until > ?", (name, now))
    return rows[0][0] if rows else None
