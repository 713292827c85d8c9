"""Ticket photos (SECURITY.md 15): decoded and checked by Pillow, re-encoded as a
clean JPEG; the original bytes are never stored."""

from __future__ import annotations

import base64
import binascii
import io
import math
import warnings
from pathlib import Path

from shared.files import write_atomically
from shared.tickets.model import (
    MAX_PALETTE_PIXELS,
    MAX_PHOTO_BYTES,
    MAX_PHOTO_PIXELS,
    MAX_PHOTO_SIDE,
    PALETTE_MODES,
    PHOTO_FOLDER,
    PHOTO_FORMATS,
    PhotoRejected,
)


def photo_folder(data_dir: str | Path) -> Path:
    """Where ticket photos live: DATA_DIR/photos/tickets/<ticket id>.jpg."""
    return Path(data_dir).joinpath(*PHOTO_FOLDER)


def prepare_photo(encoded) -> bytes:
    """A base64 JPEG/PNG from the kiosk → a clean JPEG (≤ 1600 px, no metadata).

    Up to a second of work for a big photo: call it outside any write transaction.
    Only the header is read before the size checks; a JPEG is decoded straight at
    a reduced scale (draft), so a 16-megapixel photo decodes as about 4."""
    from PIL import Image, UnidentifiedImageError

    raw = _decode_base64(encoded)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=PHOTO_FORMATS) as probe:
                width, height = _checked_size(probe)
                probe.verify()
            with Image.open(io.BytesIO(raw), formats=PHOTO_FORMATS) as image:
                return _reencode(image, width, height)
    except PhotoRejected:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise PhotoRejected() from error


def _decode_base64(encoded) -> bytes:
    """The photo's bytes, refused before decoding when the text alone is too long."""
    if not isinstance(encoded, str):
        raise PhotoRejected("photo must be base64 text · 照片格式不对")
    if len(encoded) > (MAX_PHOTO_BYTES * 4) // 3 + 8:
        raise PhotoRejected("照片太大（最大 2 MB）· The photo is too large (2 MB at most).")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise PhotoRejected("照片数据无效 · The photo data is not valid base64.") from error
    if len(raw) > MAX_PHOTO_BYTES:
        raise PhotoRejected("照片太大（最大 2 MB）· The photo is too large (2 MB at most).")
    if not raw:
        raise PhotoRejected()
    return raw


def _checked_size(probe) -> tuple[int, int]:
    """(width, height) from the header alone; a picture too big to be a phone's photo
    (or a decompression bomb) is refused before a pixel is decoded."""
    if probe.format not in ("JPEG", "PNG"):
        raise PhotoRejected()
    width, height = probe.size
    if not width or not height:
        raise PhotoRejected()
    if width * height > MAX_PHOTO_PIXELS:
        raise PhotoRejected(
            f"照片像素太多（最多 {MAX_PHOTO_PIXELS // 10_000} 万像素）· The photo "
            f"has too many pixels ({width} × {height}; at most "
            f"{MAX_PHOTO_PIXELS // 1_000_000} megapixels): take a smaller one."
        )
    if probe.mode in PALETTE_MODES and width * height > MAX_PALETTE_PIXELS:
        raise PhotoRejected(
            f"这张图片不像照片，尺寸也太大 · This picture ({width} × {height}, "
            f"{'black and white' if probe.mode == '1' else 'a few colours'}) is not "
            f"a photo and too large: take a photo with the camera."
        )
    return width, height


def _reencode(image, width: int, height: int) -> bytes:
    """The pixels only, upright, at most MAX_PHOTO_SIDE a side, as a JPEG."""
    from PIL import Image, ImageOps

    if image.format == "JPEG" and max(width, height) > MAX_PHOTO_SIDE:
        # Decode at 1/2, 1/4 or 1/8 scale when that still covers the stored size.
        scale = MAX_PHOTO_SIDE / max(width, height)
        image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
    image.load()
    image = ImageOps.exif_transpose(image)  # keep it upright, then drop the EXIF
    image = image.convert("RGB")
    image.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
    # A fresh image holds pixels only: no EXIF, GPS, XMP, ICC or comments.
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def save_photo(photo_dir: str | Path, ticket_id: int, jpeg: bytes) -> str:
    """Written whole or not at all (temporary file, fsync, rename); returns the file name."""
    folder = Path(photo_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{int(ticket_id)}.jpg"
    write_atomically(folder / name, jpeg)
    return name
