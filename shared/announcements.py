"""Announcements (S9): bilingual notices for the kiosk's idle screen.

Staff write a title and body in Chinese and English, a start and (optional)
end time in building time (stored as UTC), a priority and an optional picture.
The picture is checked by Pillow, re-encoded as a JPEG without any metadata
(no EXIF location, no camera serial) and kept under DATA_DIR/announcements.
Every change appends 'announcements.changed' to every kiosk's feed, so kiosks
fetch the list at once instead of waiting for their next poll.
"""

from __future__ import annotations

import io
import secrets
import warnings
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlite_utils
from PIL import Image, ImageOps, UnidentifiedImageError

from shared import audit, building, emergency_broadcast, terms
from shared.clock import local_time, parse_utc, to_iso
from shared.db import one, write_transaction
from shared.errors import LobbyDeskError, NotFound, StaleState
from shared.files import write_atomically

EVENT_CHANGED = "announcements.changed"
MAX_TITLE_ZH = 40
MAX_TITLE_EN = 80
MAX_BODY = 300
PRIORITIES = range(0, 10)  # higher first on the kiosk
IMAGE_MAX_BYTES = 5 * 1024 * 1024
# A larger picture is refused from its header, before it is decoded: 24 MP is a
# phone or camera photo; a poster made on a computer is far smaller.
IMAGE_MAX_PIXELS = 24_000_000
IMAGE_MAX_SIDE = 1600  # stored at most this wide or high
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
IMAGE_FOLDER = "announcements"
FOR_KIOSKS_LIMIT = 20
FORM_TIME = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends

STATUS_LABELS = terms.labels("announcement_status")


class AnnouncementInvalid(LobbyDeskError):
    """The announcement is not valid."""

    code = "announcement_invalid"
    http_status = 400

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class ImageRejected(AnnouncementInvalid):
    code = "image_rejected"

    def __init__(self, message: str):
        super().__init__("image", message)


# -- validation ----------------------------------------------------------------


def _one_line(value, field: str, limit: int, label: str) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise AnnouncementInvalid(field, f"请填写{label[0]} · Give the {label[1]}.")
    if len(text) > limit:
        raise AnnouncementInvalid(
            field, f"{label[0]}最多 {limit} 字 · The {label[1]} is at most {limit} characters."
        )
    return text


def _paragraphs(value, field: str, label: tuple[str, str]) -> str:
    lines = [" ".join(line.split()) for line in str(value or "").replace("\r", "").split("\n")]
    text = "\n".join(line for line in lines if line)
    if len(text) > MAX_BODY:
        raise AnnouncementInvalid(
            field,
            f"{label[0]}最多 {MAX_BODY} 字 · The {label[1]} is at most {MAX_BODY} characters.",
        )
    return text


def parse_local(text, timezone: str, field: str) -> datetime | None:
    """'2026-11-27T18:30' in building time → an aware UTC datetime (None if empty)."""
    text = str(text or "").strip()
    if not text:
        return None
    try:
        naive = datetime.strptime(text[:16], FORM_TIME)
    except ValueError as error:
        raise AnnouncementInvalid(
            field, "时间格式应为 2026-11-27T18:30 · Times look like 2026-11-27T18:30."
        ) from error
    return naive.replace(tzinfo=ZoneInfo(timezone)).astimezone(ZoneInfo("UTC"))


def form_time(stored: str | None, timezone: str) -> str:
    """A stored UTC time as the form's building-time value."""
    return local_time(stored, timezone, FORM_TIME)


def validate(form: dict, timezone: str, now: datetime) -> dict:
    """The staff form's fields, checked; times converted from building time to UTC."""
    fields = {
        "title_zh": _one_line(form.get("title_zh"), "title_zh", MAX_TITLE_ZH, ("中文标题", "Chinese title")),
        "title_en": _one_line(form.get("title_en"), "title_en", MAX_TITLE_EN, ("英文标题", "English title")),
        "body_zh": _paragraphs(form.get("body_zh"), "body_zh", ("中文内容", "Chinese text")),
        "body_en": _paragraphs(form.get("body_en"), "body_en", ("英文内容", "English text")),
    }  # fmt: skip
    if bool(fields["body_zh"]) != bool(fields["body_en"]):
        missing = "body_en" if fields["body_zh"] else "body_zh"
        raise AnnouncementInvalid(
            missing, "内容需中英文都填写 · Write the text in both Chinese and English."
        )
    raw_priority = str(form.get("priority", "0")).strip() or "0"
    if not raw_priority.isdigit() or int(raw_priority) not in PRIORITIES:
        raise AnnouncementInvalid("priority", "优先级为 0–9 · Priority is 0–9 (9 shows first).")
    starts = parse_local(form.get("starts_at"), timezone, "starts_at") or now
    ends = parse_local(form.get("ends_at"), timezone, "ends_at")
    if ends is not None and ends <= starts:
        raise AnnouncementInvalid(
            "ends_at", "结束时间须晚于开始时间 · The end must be after the start."
        )
    if ends is not None and ends <= now:
        raise AnnouncementInvalid("ends_at", "结束时间已经过去 · The end time has already passed.")
    return {
        **fields,
        "priority": int(raw_priority),
        "starts_at": to_iso(starts),
        "ends_at": to_iso(ends) if ends else None,
    }


# -- pictures ------------------------------------------------------------------


def clean_image(raw: bytes) -> bytes:
    """A real picture, re-encoded as a JPEG with no metadata; ImageRejected otherwise."""
    if len(raw) > IMAGE_MAX_BYTES:
        raise ImageRejected(
            f"图片不能超过 {IMAGE_MAX_BYTES // (1024 * 1024)} MB · "
            f"The picture must be at most {IMAGE_MAX_BYTES // (1024 * 1024)} MB."
        )
    not_a_picture = "无法识别的图片，请上传 JPEG、PNG 或 WebP · Not a picture we can read: use JPEG, PNG or WebP."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                if probe.format not in IMAGE_FORMATS:
                    raise ImageRejected(not_a_picture)
                if probe.width * probe.height > IMAGE_MAX_PIXELS:
                    raise ImageRejected("图片尺寸过大 · The picture has too many pixels.")
                probe.verify()  # structure and checksums, without decoding
            with Image.open(io.BytesIO(raw)) as picture:
                if picture.format == "JPEG":  # decode at 1/2 … 1/8 scale when that is enough
                    picture.draft("RGB", (IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
                picture.load()
                rgb = _on_white(ImageOps.exif_transpose(picture))
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as error:  # fmt: skip
        raise ImageRejected(not_a_picture) from error
    rgb.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
    # convert() and thumbnail() keep the source's info (a JPEG comment, an ICC profile,
    # EXIF …) and save() writes some of it back: a fresh image holds the pixels only.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def _clean(image: bytes, run) -> bytes:
    return run(clean_image, image) if run is not None else clean_image(image)


def _on_white(picture: Image.Image) -> Image.Image:
    """RGB for JPEG; transparent parts become white (not JPEG's default black)."""
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return picture.convert("RGB")


def image_folder(data_dir: str | Path) -> Path:
    return Path(data_dir) / IMAGE_FOLDER


def _store_image(data_dir: str | Path, jpeg: bytes) -> str:
    folder = image_folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(12)}.jpg"
    write_atomically(folder / name, jpeg)
    return name


def _remove_image(data_dir: str | Path, name: str | None) -> None:
    if name:
        (image_folder(data_dir) / name).unlink(missing_ok=True)


def image_file(db: sqlite_utils.Database, data_dir: str | Path, announcement_id: int) -> Path:
    """The stored picture of an announcement; NotFound if it has none."""
    row = one(db, "SELECT image_path FROM announcements WHERE id = ?", (announcement_id,))
    if row is None or not row["image_path"]:
        raise NotFound("这条公告没有图片 · This announcement has no picture.")
    path = image_folder(data_dir) / Path(row["image_path"]).name
    if not path.is_file():
        raise NotFound("这条公告的图片不见了 · This announcement's picture is missing.")
    return path


# -- changes -------------------------------------------------------------------


def _changed(db, clock, announcement_id: int, action: str, staff_id: int) -> None:
    emergency_broadcast.to_every_kiosk(
        db, clock, EVENT_CHANGED, {"announcement_id": announcement_id, "action": action}
    )
    audit.record(
        db,
        clock,
        actor=f"staff:{staff_id}",
        action=f"announcement.{action}",
        target=f"announcement:{announcement_id}",
    )


def create(
    db: sqlite_utils.Database,
    clock,
    *,
    form: dict,
    image: bytes | None,
    data_dir: str | Path,
    staff_id: int,
    run=None,
) -> dict:
    """A new announcement; `run(work, arg)` decodes the picture elsewhere (the
    console's image pool, shared/image_work.py)."""
    current = building.current(db)
    now = clock.now()
    fields = validate(form, current["timezone"], now)
    image_name = _store_image(data_dir, _clean(image, run)) if image else None
    try:
        with write_transaction(db):
            cursor = db.execute(
                "INSERT INTO announcements (building_id, title_zh, title_en, body_zh, body_en,"
                " priority, starts_at, ends_at, image_path, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    current["id"],
                    fields["title_zh"],
                    fields["title_en"],
                    fields["body_zh"],
                    fields["body_en"],
                    fields["priority"],
                    fields["starts_at"],
                    fields["ends_at"],
                    image_name,
                    staff_id,
                    to_iso(now),
                ),
            )
            _changed(db, clock, cursor.lastrowid, "create", staff_id)
    except BaseException:
        _remove_image(data_dir, image_name)  # nothing refers to it
        raise
    return get(db, cursor.lastrowid)


def update(
    db: sqlite_utils.Database,
    clock,
    announcement_id: int,
    *,
    form: dict,
    image: bytes | None,
    remove_image: bool,
    data_dir: str | Path,
    staff_id: int,
    run=None,
) -> dict:
    """Edit the text, times, priority; replace or remove the picture."""
    before = get(db, announcement_id)
    if before["withdrawn_at"]:
        raise StaleState("该公告已撤回 · This announcement was withdrawn.")
    current = building.current(db)
    now = clock.now()
    fields = validate(form, current["timezone"], now)
    new_image = _store_image(data_dir, _clean(image, run)) if image else None
    image_name = new_image or (None if remove_image else before["image_path"])
    try:
        with write_transaction(db):
            cursor = db.execute(
                "UPDATE announcements SET title_zh = ?, title_en = ?, body_zh = ?, body_en = ?,"
                " priority = ?, starts_at = ?, ends_at = ?, image_path = ?, updated_at = ?,"
                " updated_by = ? WHERE id = ? AND withdrawn_at IS NULL",
                (
                    fields["title_zh"],
                    fields["title_en"],
                    fields["body_zh"],
                    fields["body_en"],
                    fields["priority"],
                    fields["starts_at"],
                    fields["ends_at"],
                    image_name,
                    to_iso(now),
                    staff_id,
                    announcement_id,
                ),
            )
            if cursor.rowcount != 1:
                raise StaleState("该公告已撤回 · This announcement was withdrawn.")
            _changed(db, clock, announcement_id, "update", staff_id)
    except BaseException:
        _remove_image(data_dir, new_image)
        raise
    if before["image_path"] != image_name:
        _remove_image(data_dir, before["image_path"])
    return get(db, announcement_id)


def withdraw(db: sqlite_utils.Database, clock, announcement_id: int, *, staff_id: int) -> dict:
    """Take it off every kiosk now; the record stays (who published what, and when)."""
    get(db, announcement_id)
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE announcements SET withdrawn_at = ?, withdrawn_by = ?"
            " WHERE id = ? AND withdrawn_at IS NULL",
            (to_iso(clock.now()), staff_id, announcement_id),
        )
        if cursor.rowcount != 1:
            raise StaleState("该公告已撤回 · This announcement was already withdrawn.")
        _changed(db, clock, announcement_id, "withdraw", staff_id)
    return get(db, announcement_id)


# -- reading -------------------------------------------------------------------


def get(db: sqlite_utils.Database, announcement_id: int) -> dict:
    row = one(db, "SELECT * FROM announcements WHERE id = ?", (announcement_id,))
    if row is None:
        raise NotFound(f"没有这条公告 · Announcement {announcement_id} does not exist.")
    return row


def status(row: dict, now: datetime) -> str:
    if row["withdrawn_at"]:
        return "withdrawn"
    if row["ends_at"] and parse_utc(row["ends_at"]) <= now:
        return "ended"
    if parse_utc(row["starts_at"]) > now:
        return "scheduled"
    return "active"


def _order(row: dict) -> tuple:
    """Highest priority first; among equals the most recently started first."""
    return (-row["priority"], _negated(row["starts_at"]), -row["id"])


def _negated(stored: str) -> float:
    return -parse_utc(stored).timestamp()


def list_for_staff(db: sqlite_utils.Database, now: datetime, limit: int = 200) -> list[dict]:
    """Showing and scheduled first (as the kiosk orders them), then ended and withdrawn."""
    rows = list(db.query("SELECT * FROM announcements ORDER BY id DESC LIMIT ?", (limit,)))
    rank = {"active": 0, "scheduled": 1, "ended": 2, "withdrawn": 3}
    for row in rows:
        row["status"] = status(row, now)
    live = sorted((r for r in rows if r["status"] in ("active", "scheduled")), key=_order)
    live.sort(key=lambda r: rank[r["status"]])
    done = [r for r in rows if r["status"] in ("ended", "withdrawn")]
    return live + done


def for_kiosks(db: sqlite_utils.Database, now: datetime) -> dict:
    """GET /api/v1/announcements: showing now and scheduled, not withdrawn, in show order.

    Scheduled ones are included with their times so a kiosk that goes offline
    still starts and stops showing them on time; `now` is the console's clock,
    which the kiosk uses to correct its own.
    """
    rows = db.query(
        "SELECT * FROM announcements WHERE withdrawn_at IS NULL AND (ends_at IS NULL OR ends_at > ?)",
        (to_iso(now),),
    )
    items = sorted(rows, key=_order)[:FOR_KIOSKS_LIMIT]
    return {
        "now": to_iso(now),
        "announcements": [
            {
                "id": row["id"],
                "title_zh": row["title_zh"],
                "title_en": row["title_en"],
                "body_zh": row["body_zh"],
                "body_en": row["body_en"],
                "priority": row["priority"],
                "starts_at": row["starts_at"],
                "ends_at": row["ends_at"],
                # The file name changes with every new picture: the kiosk's cache key.
                "image": Path(row["image_path"]).stem if row["image_path"] else None,
            }
            for row in items
        ],
    }
