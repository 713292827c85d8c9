"""Writing a file so that nobody ever reads half of it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomically(path: str | Path, data: bytes | str, *, mode: int | None = None) -> Path:
    """Write `data` (str as UTF-8) to `path` through a temporary file beside it, flushed
    to disk, then renamed over it: a reader (a browser, a kiosk, systemd) sees the old
    file or the new one, never half of one, and a crash or a full disk leaves the old
    file as it was. `mode`: the new file's permission bits (None: as the umask has it).
    The folder must exist."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    # A name of its own: two writers of one file never share a temporary file.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
