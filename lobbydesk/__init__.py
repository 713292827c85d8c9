"""Command-line entry point of Lobby Desk (`lobbydesk`)."""
