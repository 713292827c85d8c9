"""One module + one .kv per screen; each .kv is loaded once, on import."""
