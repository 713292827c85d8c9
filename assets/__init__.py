"""Lobby Desk's data files: translations/ and data/ (surnames.txt).

Installed, this folder is the package `lobbydesk_assets` (pyproject.toml maps it), so
the wheel carries it; read it through shared/resources.py. A regular package, not a
namespace one: importlib.resources then reads it the same way from an editable install.
"""
