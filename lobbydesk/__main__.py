from lobbydesk.cli import main

raise SystemExit(main())
