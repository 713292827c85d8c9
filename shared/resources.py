"""Where Lobby Desk's data files are: translations and the surname list.

They live in `assets/` at the top of the repository and ship in the wheel as the
package `lobbydesk_assets` (pyproject.toml maps one to the other), so an
installed Lobby Desk needs no checkout. Read them through `asset()`, never by a
path relative to a module.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

ASSETS_PACKAGE = "lobbydesk_assets"
_CHECKOUT = Path(__file__).resolve().parent.parent


def assets() -> Traversable:
    """The assets that belong to this copy of the code.

    From a checkout (tests, scripts/demo, an editable install) that is the
    checkout's own `assets/`: another checkout's editable install may also
    provide `lobbydesk_assets`, and its translations would not match this code.
    Installed from the wheel, there is no checkout around `shared/`.
    """
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "assets").is_dir():
        return _CHECKOUT / "assets"
    return files(ASSETS_PACKAGE)


def asset(*parts: str) -> Traversable:
    """One file or folder of the assets, e.g. asset("data", "surnames.txt")."""
    found = assets()
    for part in parts:  # one step at a time: a namespace package's path takes one
        found = found / part
    return found
