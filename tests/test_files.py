"""shared/files.py: a file is replaced whole or not at all (pictures, systemd units)."""

from __future__ import annotations

import errno
import os

import pytest

from shared import files


def test_a_file_is_replaced_whole_with_the_mode_asked_and_nothing_left_beside_it(tmp_path):
    target = tmp_path / "lobbydesk-console.service"
    target.write_text("old unit\n", encoding="utf-8")
    files.write_atomically(target, "新 unit\n", mode=0o644)
    assert target.read_text(encoding="utf-8") == "新 unit\n"
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_full_disk_leaves_the_old_file_as_it_was(tmp_path, monkeypatch):
    target = tmp_path / "photo.jpg"
    target.write_bytes(b"the old picture")

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        files.write_atomically(target, b"half a new pic")
    assert target.read_bytes() == b"the old picture"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
