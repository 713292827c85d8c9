"""`lobbydesk`: run the console, run a kiosk, administer, or start the demo.

Heavy imports (Flask, Kivy) happen inside each command so `--help` is instant
and the kiosk never loads Flask.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kiosk import heartbeat, watchdog  # plain Python: no Kivy, no Flask
from lobbydesk.cli_support import (
    add_data_dir,
    console_app,
    has_display,
    kiosk_settings,
)
from shared.version import __version__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from shared.schema import DatabaseFromNewerVersion

    try:
        return args.handler(args) or 0
    except DatabaseFromNewerVersion as refused:
        # A downgrade: one line that says what to do, no traceback (docs/UPGRADING.md).
        print(f"lobbydesk: {refused}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lobbydesk", description="Lobby Desk: lobby kiosk and reception console."
    )
    parser.add_argument("--version", action="version", version=f"lobbydesk {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    _console_command(commands)
    _kiosk_command(commands)
    from lobbydesk import admin_commands, demo_command, service

    admin_commands.add_commands(commands)
    service.add_commands(commands)
    demo_command.add_command(commands)
    return parser


def _console_command(commands) -> None:
    console = commands.add_parser("console", help="serve the reception console and kiosk API")
    add_data_dir(console)
    console.add_argument("--host", help="listen address (default 127.0.0.1; 0.0.0.0 for the LAN)")
    console.add_argument("--port", type=int, help="TCP port (default 8080)")
    console.add_argument(
        "--init", action="store_true", help="create DATA_DIR/secret_key if it is missing"
    )
    console.add_argument(
        "--processes",
        type=_positive,
        metavar="N",
        help="console processes behind the one address (env LOBBYDESK_PROCESSES; default 1)",
    )
    # A worker of `--processes N` (console/workers.py): serve on the supervisor's socket.
    console.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    console.add_argument("--supervisor", type=int, help=argparse.SUPPRESS)
    console.set_defaults(handler=run_console)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _kiosk_command(commands) -> None:
    kiosk = commands.add_parser("kiosk", help="run the lobby kiosk window")
    kiosk.add_argument(
        "--console",
        required=True,
        metavar="URL",
        help="the console's address, e.g. http://192.168.1.10:8080",
    )
    kiosk.add_argument(
        "--pair", metavar="CODE", help="one-time pairing code from the console's Kiosks page"
    )
    kiosk.add_argument(
        "--data-dir", default="./lobbydesk-kiosk", help="kiosk's own folder (outbox, token)"
    )
    kiosk.add_argument(
        "--landscape", action="store_true", help="1920x1080 instead of portrait 1080x1920"
    )
    kiosk.add_argument(
        "--fullscreen", action="store_true", help="fill the screen (on the real device)"
    )
    kiosk.add_argument("--font", help="a TTF/TTC font with Chinese and Latin glyphs")
    kiosk.add_argument(
        "--ca-cert",
        metavar="PATH",
        default=os.environ.get("LOBBYDESK_CA_CERT"),
        help="trust only this CA (the building's) for an https console (env LOBBYDESK_CA_CERT)",
    )
    watchdog.add_arguments(kiosk)  # --watchdog: the lobby appliance (kiosk/watchdog.py)
    kiosk.set_defaults(handler=run_kiosk)


def run_console(args) -> int:
    from console import logs, settings

    logs.configure()
    if args.supervisor is not None:
        from console.workers import follow_supervisor

        follow_supervisor(args.supervisor)
    if args.init:
        print(f"secret: {settings.create_secret_key(args.data_dir)}")
    try:
        # Opens the database: with --processes N the migrations run here, once, in the
        # supervisor, before any worker starts.
        app = console_app(args.data_dir, HOST=args.host, PORT=args.port)
    except RuntimeError as error:
        print(f"lobbydesk console: {error}", file=sys.stderr)
        return 2
    processes = args.processes or int(app.config["PROCESSES"])
    if processes < 1:
        print("lobbydesk console: LOBBYDESK_PROCESSES must be 1 or more", file=sys.stderr)
        return 2
    if processes > 1 and args.listen_fd is None:
        return _supervise(app, args.data_dir, processes)
    return _serve(app, args)


def _serve(app, args) -> int:
    """One console process: on its own socket, or a worker's inherited one."""
    import socket

    from console.server import ConsoleServer

    inherited = socket.socket(fileno=args.listen_fd) if args.listen_fd is not None else None
    server = ConsoleServer(app, host=app.config["HOST"], port=app.config["PORT"], sock=inherited)
    if inherited is None:
        data = Path(args.data_dir).resolve()
        print(f"Lobby Desk console on {server.url} (data: {data})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()
    return 0


def _supervise(app, data_dir: str, processes: int) -> int:
    """N workers on one socket (console/workers.py), each a full console."""
    from console.server import listening_socket, socket_url
    from console.workers import Supervisor

    host, port = app.config["HOST"], int(app.config["PORT"])
    listener = listening_socket(host, port)
    host, port = listener.getsockname()[:2]
    data = Path(data_dir).resolve()
    print(
        f"Lobby Desk console on {socket_url(host, port)}, {processes} processes (data: {data})",
        flush=True,
    )
    # The workers read the same environment (secret, settings) and these arguments.
    worker_args = ["--data-dir", str(data), "--host", host, "--port", str(port)]
    return Supervisor(listener, processes, worker_args).run()


def run_kiosk(args) -> int:
    from kiosk.main import KioskSetupError, pair_kiosk
    from kiosk.main import run_kiosk as start_window

    if args.ca_cert:
        # Every requests session of this process then trusts this CA and no other:
        # the kiosk refuses a certificate the building did not issue.
        if not Path(args.ca_cert).is_file():
            print(f"lobbydesk kiosk: --ca-cert {args.ca_cert} is not a file", file=sys.stderr)
            return 2
        os.environ["REQUESTS_CA_BUNDLE"] = str(Path(args.ca_cert).resolve())

    try:
        if args.pair:
            paired = pair_kiosk(args.console, args.pair, Path(args.data_dir))
            print(f"Paired as {paired['kiosk']['name']!r}.")
        if args.watchdog:  # it needs no display itself: the child (or its compositor) does
            return watchdog.run(args)
        if not has_display() and os.environ.get("SDL_VIDEODRIVER") != "offscreen":
            print(
                "No display here: the kiosk window cannot open. Run it on the lobby screen.",
                file=sys.stderr,
            )
            return 3
        start_window(
            kiosk_settings(args.console, args.data_dir, args.landscape, args.fullscreen, args.font)
        )
    except KioskSetupError as error:
        print(f"lobbydesk kiosk: {error}", file=sys.stderr)
        return 2
    return heartbeat.exit_code()  # 75 after staff asked it to exit for maintenance
