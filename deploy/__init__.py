"""systemd unit templates, shipped in the wheel as `lobbydesk_deploy` (lobbydesk/service.py reads them)."""
