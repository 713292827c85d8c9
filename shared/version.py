"""The one place Lobby Desk's version lives.

pyproject.toml reads it from here (`dynamic = ["version"]`), the console shows
it in its footer and on the kiosks page, and a kiosk sends it with every
request. Raise it with every release; the protocol version in
shared/protocol.py changes only when the kiosk <-> console API does.
"""

__version__ = "0.6.0"
