"""`lobbydesk admin ...`: staff accounts, the building, backups, sessions, the roster."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from lobbydesk.cli_support import add_data_dir, open_db


def add_commands(commands) -> None:
    """`lobbydesk admin ...` (called from lobbydesk/cli.py)."""
    admin = commands.add_parser("admin", help="administration: staff, building")
    admin_commands = admin.add_subparsers(title="admin commands", metavar="ADMIN_COMMAND")
    _setup_commands(admin_commands)
    _backup_commands(admin_commands)
    end_sessions = admin_commands.add_parser(
        "end-sessions", help="sign a staff member out everywhere, at once"
    )
    add_data_dir(end_sessions)
    end_sessions.add_argument("--username", required=True)
    end_sessions.set_defaults(handler=run_end_sessions)
    _roster_commands(admin_commands)
    admin.set_defaults(handler=lambda args: admin.print_help() or 2)


def _setup_commands(admin_commands) -> None:
    """The first admin and the building."""
    create_staff = admin_commands.add_parser(
        "create-staff", help="create a staff account (the first admin too)"
    )
    add_data_dir(create_staff)
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
    add_data_dir(init_building)
    init_building.add_argument("--name", required=True, help="Chinese name, e.g. 翠湖花园 1 号楼")
    init_building.add_argument("--name-en", required=True, help="English name")
    init_building.add_argument("--timezone", default="Asia/Shanghai")
    init_building.add_argument("--desk-phone", default="")
    init_building.add_argument("--floors", type=int, default=20)
    init_building.add_argument("--units-per-floor", type=int, default=4)
    init_building.set_defaults(handler=run_init_building)


def _backup_commands(admin_commands) -> None:
    backup = admin_commands.add_parser(
        "backup", help="back up the building database (SQLite backup API; safe while serving)"
    )
    add_data_dir(backup)
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
    add_data_dir(restore)
    restore.add_argument("backup_file", metavar="BACKUP", help="a file made by `admin backup`")
    restore.add_argument(
        "--force",
        action="store_true",
        help="replace an existing database (it is backed up first, as pre-restore)",
    )
    restore.set_defaults(handler=run_restore)


def _roster_commands(admin_commands) -> None:
    for command, kind in (("import-residents", "residents"), ("import-units", "units")):
        importer = admin_commands.add_parser(
            command,
            help=f"import a {kind} file (CSV or .xlsx, headers in Chinese or English): "
            "every row or none",
        )
        add_data_dir(importer)
        importer.add_argument("file", metavar="FILE", help="the .csv or .xlsx file")
        importer.add_argument(
            "--dry-run", action="store_true", help="only check the file and say what would change"
        )
        importer.set_defaults(handler=run_import, kind=kind)
    exporter = admin_commands.add_parser(
        "export-residents", help="export the residents as CSV or .xlsx, in the import's format"
    )
    add_data_dir(exporter)
    exporter.add_argument("out", metavar="OUT", help="OUT.csv or OUT.xlsx")
    exporter.add_argument(
        "--moved-out", action="store_true", help="include residents who have moved out"
    )
    exporter.set_defaults(handler=run_export_residents)


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
    db = open_db(args.data_dir)
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
        open_db(args.data_dir),
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

    db = open_db(args.data_dir)
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
    db, clock = open_db(args.data_dir), SystemClock()
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
    db = open_db(args.data_dir)
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

    db = open_db(data_dir)
    try:
        with write_transaction(db):
            audit.record(db, SystemClock(), actor="cli", action=action, detail=detail)
    finally:
        db.close()
