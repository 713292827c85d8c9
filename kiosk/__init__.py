"""The lobby touchscreen kiosk (Kivy).

Only `kiosk.app`, `kiosk.widgets`, `kiosk.screens` and `kiosk.fonts` import
Kivy; everything else (store, outbox, client, sync, view-models) is plain
Python and is tested without a window.
"""
