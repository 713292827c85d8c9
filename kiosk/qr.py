"""The visitor pass as a QR code: drawn with `qrcode` into an in-memory PNG.

`pass_png` needs no Kivy (tests decode it with zxing-cpp); `pass_texture`
turns it into a Kivy texture for an Image widget.
"""

from __future__ import annotations

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M


def pass_png(text: str, box_size: int = 12, border: int = 4) -> bytes:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def pass_texture(text: str):
    """A Kivy texture of the QR (sharp edges when scaled up)."""
    from kivy.core.image import Image as CoreImage

    texture = CoreImage(io.BytesIO(pass_png(text)), ext="png").texture
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    return texture
