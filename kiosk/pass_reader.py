"""Reading a visitor pass: a USB keyboard-wedge scanner, or a camera where one exists.

The scanner needs nothing here: it types the pass into the sign-out screen's
focused TextInput and presses Enter. A camera source decodes frames with
zxing-cpp and hands the text to the same handler (`SignOutViewModel.scanned`).
This kiosk build has no camera support wired to Kivy yet: `camera_available()`
says whether a device is there at all, and the screen shows no camera option
when it is not (Kivy's Camera raises without a device or provider: docs/KIOSK_HEADLESS.md).
"""

from __future__ import annotations

import glob


def camera_available() -> bool:
    """True when a video device exists (Linux: /dev/video*)."""
    return bool(glob.glob("/dev/video*"))


def decode(image) -> list[str]:
    """The texts of the QR codes in a PIL image (a camera frame, a screenshot)."""
    import zxingcpp

    return [result.text for result in zxingcpp.read_barcodes(image) if result.text]
