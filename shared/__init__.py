"""Plain-Python core shared by the kiosk and the console.

Nothing in this package imports Flask or Kivy: domain rules, storage, codes,
the kiosk <-> console protocol and translations live here once.
"""
