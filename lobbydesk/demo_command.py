"""`lobbydesk demo`: a console with a demo building and a paired kiosk window."""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

from lobbydesk.cli_support import console_app, has_display, kiosk_settings, open_db


def add_command(commands) -> None:
    """`lobbydesk demo` (called from lobbydesk/cli.py)."""
    demo = commands.add_parser("demo", help="console with a demo building + a paired kiosk window")
    demo.add_argument("--data-dir", help="where to keep the demo (default: a new temporary folder)")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--no-kiosk", action="store_true", help="only the console")
    demo.add_argument(
        "--reset", action="store_true", help="empty an existing --data-dir and start afresh"
    )
    demo.add_argument(
        "--landscape", action="store_true", help="a landscape kiosk (1920x1080) instead of portrait"
    )
    demo.add_argument(
        "--size",
        metavar="WxH",
        type=_window_size,
        help="the kiosk window's size, e.g. 540x960 (default: the kiosk's, scaled to fit the screen)",
    )
    demo.set_defaults(handler=run_demo)


def _window_size(text: str) -> tuple[int, int]:
    """ "540x960" → (540, 960), for argparse (a clear message otherwise)."""
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit() and 200 <= int(width) <= 8000
            and 200 <= int(height) <= 8000):  # fmt: skip
        raise argparse.ArgumentTypeError(f"{text!r}: give the size as WIDTHxHEIGHT, e.g. 540x960")
    return int(width), int(height)


def run_demo(args) -> int:
    from console import settings
    from shared import demo

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="lobbydesk-demo-"))
    if args.reset and args.data_dir:
        _empty_demo_folder(data_dir)
    settings.create_secret_key(data_dir)
    db = open_db(str(data_dir))
    try:
        credentials = demo.seed(db, _clock(), _hasher())
    except RuntimeError:
        # Already a demo here: reuse it (the password was shown when it was made).
        credentials = None
    finally:
        db.close()
    return _serve_demo(args, data_dir, credentials)


def _clock():
    from shared.clock import SystemClock

    return SystemClock()


def _hasher():
    from shared.passwords import hasher

    return hasher()


def _empty_demo_folder(data_dir: Path) -> None:
    import shutil

    for child in data_dir.iterdir() if data_dir.is_dir() else ():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


def _serve_demo(args, data_dir: Path, credentials: dict | None) -> int:
    from console.server import ConsoleServer
    from lobbydesk.demo_mailbox import DemoMailbox

    mailbox = DemoMailbox(on_message=lambda line: print(line, flush=True)).start()
    app = console_app(str(data_dir), PORT=args.port, NOTIFY_EMAIL_URL=mailbox.url)
    try:
        server = ConsoleServer(app, port=args.port).start_in_background()
    except OSError as error:
        mailbox.stop()
        print(
            f"lobbydesk demo: port {args.port} is in use ({error.strerror}); "
            f"try --port {args.port + 1}",
            file=sys.stderr,
        )
        return 2
    print(_demo_banner(server.url, credentials, data_dir), flush=True)
    try:
        if args.no_kiosk or not has_display():
            if not args.no_kiosk:
                print(
                    "No display here, so no kiosk window; the console keeps running. Ctrl-C to stop."
                )
            threading.Event().wait()
            return 0
        _open_demo_kiosk(args, server.url, data_dir, credentials)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        mailbox.stop()
    return 0


def _demo_banner(url: str, credentials: dict | None, data_dir: Path) -> str:
    if credentials:
        sign_in = f"{credentials['username']} / {credentials['password']}   (shown once)"
    else:
        sign_in = "admin / the password shown when this demo was made (or start with --reset)"
    return (
        f"\nLobby Desk demo\n  console:  {url}\n  sign in:  {sign_in}\n"
        f"  data:     {data_dir}   (reused if you run it again; --reset starts afresh)\n"
        "  parcels:  pickup codes sent to residents are printed here (demo mailbox)\n"
    )


def _open_demo_kiosk(args, url: str, data_dir: Path, credentials: dict | None) -> None:
    from kiosk.main import pair_kiosk
    from kiosk.main import run_kiosk as start_window

    kiosk_dir = data_dir / "kiosk"
    if credentials is not None or not (kiosk_dir / "kiosk.db").exists():
        if credentials is None:
            print("lobbydesk demo: this demo's kiosk was never paired; run with --reset")
            return
        pair_kiosk(url, credentials["pairing_code"], kiosk_dir)
    kiosk = kiosk_settings(url, str(kiosk_dir), landscape=args.landscape)
    kiosk.window_size = args.size
    start_window(kiosk, fit_to_screen=True)
