"""`lobbydesk`: run the console, run a kiosk, administer, or start the demo.

Heavy imports (Flask, Kivy) happen inside each command so `--help` is instant
and the kiosk never loads Flask.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import tempfile
import threading
from pathlib import Path

from kiosk import heartbeat, watchdog  # plain Python: no Kivy, no Flask
from shared.version import __version__

DEFAULT_DATA_DIR = "./lobbydesk-data"


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

    console = commands.add_parser("console", help="serve the reception console and kiosk API")
    _data_dir(console)
    console.add_argument("--host", help="listen address (default 127.0.0.1; 0.0.0.0 for the LAN)")
    console.add_argument("--port", type=int, help="TCP port (default 8080)")
    console.add_argument(
        "--init", action="store_true", help="create DATA_DIR/secret_key if it is missing"
    )
    console.set_defaults(handler=run_console)

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

    admin = commands.add_parser("admin", help="administration: staff, building")
    admin_commands = admin.add_subparsers(title="admin commands", metavar="ADMIN_COMMAND")
    create_staff = admin_commands.add_parser(
        "create-staff", help="create a staff account (the first admin too)"
    )
    _data_dir(create_staff)
    create_staff.add_argument("--username", required=True)
    create_staff.add_argument(
        "--display-name", required=True, help="name shown to colleagues and on the kiosk"
    )
    create_staff.add_argument("--role", required=True, choices=("reception", "manager", "admin"))
    create_staff.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of prompting",
    )
    create_staff.set_defaults(handler=run_create_staff)
    init_building = admin_commands.add_parser(
        "init-building", help="create the building and its units"
    )
    _data_dir(init_building)
    init_building.add_argument("--name", required=True, help="Chinese name, e.g. 翠湖花园 1 号楼")
    init_building.add_argument("--name-en", required=True, help="English name")
    init_building.add_argument("--timezone", default="Asia/Shanghai")
    init_building.add_argument("--desk-phone", default="")
    init_building.add_argument("--floors", type=int, default=20)
    init_building.add_argument("--units-per-floor", type=int, default=4)
    init_building.set_defaults(handler=run_init_building)
    backup = admin_commands.add_parser(
        "backup", help="back up the building database (SQLite backup API; safe while serving)"
    )
    _data_dir(backup)
    backup.add_argument(
        "--to", metavar="FOLDER", help="where to write it (default DATA_DIR/backups)"
    )
    backup.add_argument(
        "--keep", type=int, default=14, help="backups of this kind to keep (default 14)"
    )
    backup.set_defaults(handler=run_backup)
    restore = admin_commands.add_parser(
        "restore", help="restore a backup as DATA_DIR/lobbydesk.db (stop the console first)"
    )
    _data_dir(restore)
    restore.add_argument("backup_file", metavar="BACKUP", help="a file made by `admin backup`")
    restore.add_argument(
        "--force",
        action="store_true",
        help="replace an existing database (it is backed up first, as pre-restore)",
    )
    restore.set_defaults(handler=run_restore)
    end_sessions = admin_commands.add_parser(
        "end-sessions", help="sign a staff member out everywhere, at once"
    )
    _data_dir(end_sessions)
    end_sessions.add_argument("--username", required=True)
    end_sessions.set_defaults(handler=run_end_sessions)
    _roster_commands(admin_commands)
    admin.set_defaults(handler=lambda args: admin.print_help() or 2)

    from lobbydesk import service

    service.add_commands(commands)

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
    return parser


def _window_size(text: str) -> tuple[int, int]:
    """ "540x960" → (540, 960), for argparse (a clear message otherwise)."""
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit() and 200 <= int(width) <= 8000
            and 200 <= int(height) <= 8000):  # fmt: skip
        raise argparse.ArgumentTypeError(f"{text!r}: give the size as WIDTHxHEIGHT, e.g. 540x960")
    return int(width), int(height)


def _roster_commands(admin_commands) -> None:
    for command, kind in (("import-residents", "residents"), ("import-units", "units")):
        importer = admin_commands.add_parser(
            command,
            help=f"import a {kind} file (CSV or .xlsx, headers in Chinese or English): "
            "every row or none",
        )
        _data_dir(importer)
        importer.add_argument("file", metavar="FILE", help="the .csv or .xlsx file")
        importer.add_argument(
            "--dry-run", action="store_true", help="only check the file and say what would change"
        )
        importer.set_defaults(handler=run_import, kind=kind)
    exporter = admin_commands.add_parser(
        "export-residents", help="export the residents as CSV or .xlsx, in the import's format"
    )
    _data_dir(exporter)
    exporter.add_argument("out", metavar="OUT", help="OUT.csv or OUT.xlsx")
    exporter.add_argument(
        "--moved-out", action="store_true", help="include residents who have moved out"
    )
    exporter.set_defaults(handler=run_export_residents)


def _data_dir(parser) -> None:
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("LOBBYDESK_DATA_DIR", DEFAULT_DATA_DIR),
        help="console data folder (env LOBBYDESK_DATA_DIR; default ./lobbydesk-data)",
    )


def _console_app(data_dir: str, **overrides):
    from console import create_app

    return create_app({"DATA_DIR": data_dir, **{k: v for k, v in overrides.items() if v}})


def run_console(args) -> int:
    from console import logs, settings
    from console.server import ConsoleServer

    logs.configure()

    if args.init:
        print(f"secret: {settings.create_secret_key(args.data_dir)}")
    try:
        app = _console_app(args.data_dir, HOST=args.host, PORT=args.port)
    except RuntimeError as error:
        print(f"lobbydesk console: {error}", file=sys.stderr)
        return 2
    server = ConsoleServer(app, host=app.config["HOST"], port=app.config["PORT"])
    print(f"Lobby Desk console on {server.url} (data: {Path(args.data_dir).resolve()})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()
    return 0


def _open_db(data_dir: str):
    from shared.schema import open_building_db

    return open_building_db(Path(data_dir) / "lobbydesk.db")


def run_create_staff(args) -> int:
    from shared import staff
    from shared.clock import SystemClock
    from shared.errors import WeakPassword
    from shared.passwords import hasher

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password (8+ characters): ")
        if getpass.getpass("Again: ") != password:
            print("The passwords differ; nothing was created.", file=sys.stderr)
            return 2
    db = _open_db(args.data_dir)
    try:
        staff_id = staff.create(
            db,
            SystemClock(),
            hasher(),
            username=args.username,
            display_name=args.display_name,
            password=password,
            role=args.role,
            actor="cli",
        )
    except (ValueError, WeakPassword) as error:
        print(f"Not created: {error}", file=sys.stderr)
        return 2
    print(f"Created {args.role} {args.username!r} (id {staff_id}).")
    return 0


def run_init_building(args) -> int:
    from shared.clock import SystemClock
    from shared.demo import create_building

    building_id = create_building(
        _open_db(args.data_dir),
        SystemClock(),
        name=args.name,
        name_en=args.name_en,
        timezone=args.timezone,
        desk_phone=args.desk_phone,
        floors=args.floors,
        units_per_floor=args.units_per_floor,
    )
    print(f"Building {building_id} created with {args.floors * args.units_per_floor} units.")
    return 0


def run_backup(args) -> int:
    from shared import backup

    database = Path(args.data_dir) / backup.DATABASE_NAME
    try:
        path = backup.create_from_file(
            database, args.to or backup.folder(args.data_dir), reason="manual", keep=args.keep
        )
    except backup.BackupFailed as error:
        print(f"Backup failed: {error}", file=sys.stderr)
        return 2
    _audit_cli(args.data_dir, "backup.create", detail={"file": path.name})
    print(f"Backed up to {path}")
    return 0


def run_restore(args) -> int:
    from shared import backup

    try:
        counts = backup.restore(args.backup_file, args.data_dir, force=args.force)
    except backup.BackupFailed as error:
        print(f"Not restored: {error}", file=sys.stderr)
        return 2
    _audit_cli(args.data_dir, "backup.restore", detail={"file": Path(args.backup_file).name})
    print(f"Restored {args.backup_file} into {Path(args.data_dir) / backup.DATABASE_NAME}:")
    for table, rows in counts.items():
        print(f"  {table}: {rows}")
    return 0


def run_end_sessions(args) -> int:
    from shared import staff
    from shared.clock import SystemClock
    from shared.errors import NotFound

    db = _open_db(args.data_dir)
    try:
        member = staff.by_username(db, args.username)
        ended = staff.end_all_sessions(db, SystemClock(), member["id"], actor="cli")
    except NotFound as error:
        print(f"lobbydesk admin end-sessions: {error}", file=sys.stderr)
        return 2
    finally:
        db.close()
    print(f"Ended {ended} session(s) of {args.username!r}.")
    return 0


def _print_problems(result) -> None:
    from shared import roster

    for problem in result.problems:
        where = {0: "file", 1: "header"}.get(problem.row, f"row {problem.row}")
        column = roster.column_label(result.kind, problem.field)
        level = "problem" if problem.level == "error" else "note"
        print(f"{where:>9}  {level:<7}  {column + ': ' if column else ''}{problem.message}")


def _counts(summary: dict) -> str:
    return (
        f"{summary['add']} added, {summary['update']} updated, {summary['move_out']} moved out,"
        f" {summary['unchanged']} unchanged ({summary['rows']} rows)"
    )


def run_import(args) -> int:
    """The same preview and apply as the console's import page, audited as "cli"."""
    from shared import roster
    from shared.clock import SystemClock
    from shared.errors import LobbyDeskError
    from shared.roster import MAX_BYTES

    path = Path(args.file)
    try:
        with path.open("rb") as file:
            content = file.read(MAX_BYTES + 1)
    except OSError as error:
        print(f"Cannot read {path}: {error.strerror}", file=sys.stderr)
        return 2
    check, do = {
        "residents": (roster.preview, roster.apply),
        "units": (roster.preview_units, roster.apply_units),
    }[args.kind]
    db, clock = _open_db(args.data_dir), SystemClock()
    try:
        result = check(db, clock, content, path.name)
        if not result.errors and not args.dry_run:
            summary = do(db, clock, content, path.name, actor="cli")
    except roster.RosterHasProblems as refused:  # the database changed since the check
        result = refused.preview
    except LobbyDeskError as error:
        print(f"Not imported: {error}", file=sys.stderr)
        return 2
    finally:
        db.close()
    _print_problems(result)
    if result.errors:
        print(f"{len(result.errors)} problem(s): nothing was imported.", file=sys.stderr)
        return 1
    if args.dry_run:
        print(f"Dry run, nothing written. The import would give: {_counts(result.summary)}.")
        return 0
    print(f"Imported {path.name}: {_counts(summary)}.")
    return 0


def run_export_residents(args) -> int:
    from shared import roster
    from shared.clock import SystemClock
    from shared.errors import LobbyDeskError

    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in roster.FORMATS:
        print("lobbydesk admin export-residents: OUT must end in .csv or .xlsx", file=sys.stderr)
        return 2
    db = _open_db(args.data_dir)
    try:
        content = roster.export(
            db, SystemClock(), fmt, include_moved_out=args.moved_out, actor="cli"
        )
    except LobbyDeskError as error:
        print(f"Not exported: {error}", file=sys.stderr)
        return 2
    finally:
        db.close()
    out.write_bytes(content)
    print(f"Exported the residents to {out}.")
    return 0


def _audit_cli(data_dir: str, action: str, detail: dict) -> None:
    from shared import audit
    from shared.clock import SystemClock
    from shared.db import write_transaction

    db = _open_db(data_dir)
    try:
        with write_transaction(db):
            audit.record(db, SystemClock(), actor="cli", action=action, detail=detail)
    finally:
        db.close()


def has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _kiosk_settings(console_url: str, data_dir: str, landscape=False, fullscreen=False, font=None):
    from kiosk.config import KioskSettings

    return KioskSettings(
        console_url=console_url,
        data_dir=Path(data_dir),
        orientation="landscape" if landscape else "portrait",
        fullscreen=fullscreen,
        font_path=font,
    )


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
            _kiosk_settings(args.console, args.data_dir, args.landscape, args.fullscreen, args.font)
        )
    except KioskSetupError as error:
        print(f"lobbydesk kiosk: {error}", file=sys.stderr)
        return 2
    return heartbeat.exit_code()  # 75 after staff asked it to exit for maintenance


def run_demo(args) -> int:
    from console import settings
    from shared import demo

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="lobbydesk-demo-"))
    if args.reset and args.data_dir:
        _empty_demo_folder(data_dir)
    settings.create_secret_key(data_dir)
    db = _open_db(str(data_dir))
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
    app = _console_app(str(data_dir), PORT=args.port, NOTIFY_EMAIL_URL=mailbox.url)
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
    kiosk = _kiosk_settings(url, str(kiosk_dir), landscape=args.landscape)
    kiosk.window_size = args.size
    start_window(kiosk, fit_to_screen=True)
