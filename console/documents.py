"""Printable documents (fpdf2): the visitor pass label.

A 62 mm label roll (Brother QL and similar) by default; A6 on request.
"""

from __future__ import annotations

import io

import qrcode
from fpdf import FPDF

from shared.fonts import find_font

LABEL_SIZES = {"62mm": (62, 100), "a6": (105, 148)}


def _qr_png(text: str) -> io.BytesIO:
    buffer = io.BytesIO()
    qrcode.make(text, box_size=10, border=1).save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


def _label_page(width: float, height: float, margin: float) -> tuple[FPDF, float]:
    """One label-sized page (mm) with the CJK font registered; returns it and the usable width."""
    pdf = FPDF(format=(width, height), unit="mm")
    pdf.set_margins(margin, margin, margin)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.add_font("cjk", fname=str(find_font()))
    return pdf, width - 2 * margin


def visitor_pass(
    *, building: str, name: str, unit: str, date: str, qr_text: str, size: str = "62mm"
) -> bytes:
    width, height = LABEL_SIZES[size]
    pdf, usable = _label_page(width, height, margin=4)
    pdf.set_font("cjk", size=9)
    pdf.cell(usable, 5, building, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    pdf.cell(usable, 6, "访客通行证 · VISITOR PASS", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font("cjk", size=18)
    pdf.multi_cell(usable, 8, name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=12)
    pdf.cell(usable, 7, f"前往 To: {unit}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(usable, 6, date, align="C", new_x="LMARGIN", new_y="NEXT")
    qr_side = min(usable, height - pdf.get_y() - 12)
    pdf.image(_qr_png(qr_text), x=(width - qr_side) / 2, y=pdf.get_y() + 1, w=qr_side, h=qr_side)
    pdf.set_y(height - 9)
    pdf.set_font("cjk", size=7)
    pdf.multi_cell(
        usable, 3, "离开时请在大堂终端扫码签退 · Scan at the lobby kiosk to sign out", align="C"
    )
    return bytes(pdf.output())


PARCEL_LABEL_SIZE = (62, 40)  # mm, the same 62 mm roll as the visitor pass


def parcel_label_lines(
    *,
    building: str,
    unit: str,
    shelf: str,
    ref: str,
    carrier: str,
    tracking_tail: str,
    received: str,
) -> list[str]:
    """What a shelf label says, in print order. Never the pickup code: the label sits
    on an open shelf, and the code is what releases the parcel."""
    return [building, unit, f"货架 Shelf {shelf}", ref, f"{carrier} {tracking_tail}", received]


def parcel_label(
    *,
    building: str,
    unit: str,
    shelf: str,
    ref: str,
    carrier: str,
    tracking_tail: str,
    received: str,
) -> bytes:
    """A shelf label: unit large, shelf, the staff reference, carrier and tracking tail."""
    name, unit, shelf_text, ref, carrier_text, received = parcel_label_lines(
        building=building,
        unit=unit,
        shelf=shelf,
        ref=ref,
        carrier=carrier,
        tracking_tail=tracking_tail,
        received=received,
    )
    width, height = PARCEL_LABEL_SIZE
    pdf, usable = _label_page(width, height, margin=3)
    pdf.set_font("cjk", size=7)
    pdf.cell(usable, 4, name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=30)
    pdf.cell(usable, 13, unit, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=14)
    pdf.cell(usable, 7, shelf_text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(height - 12)
    pdf.set_font("cjk", size=11)
    pdf.cell(usable / 2, 5, ref)
    pdf.set_font("cjk", size=7)
    pdf.cell(usable / 2, 5, received, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(usable, 4, carrier_text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
