"""One module + one .kv per screen; each .kv is loaded once, on import. Which class is
built under which name is the flow registry's table (kiosk/flows.py)."""
