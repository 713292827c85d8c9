"""The printable work order (派工单) a maintenance worker takes to the job: A4, fpdf2.

What the worker needs and nothing more: where (unit / place), what (category and
problem in Chinese and English, the description), how urgent and by when, who to
call (the reporter's phone when reception took one), what the resident has been
told so far, and lines to sign off the job.
"""

from __future__ import annotations

from console.documents import _label_page

A4 = (210, 297)
MARGIN = 15
LABEL_WIDTH = 42


def work_order(
    *,
    building: str,
    number: str,
    kind: str,
    unit: str,
    location: str,
    category: dict,
    problem: dict | None,
    urgency: str,
    status: str,
    received: str,
    due: str,
    description: str,
    reporter_name: str,
    reporter_phone: str,
    assignee: str,
    updates: list[dict],
    printed: str,
) -> bytes:
    """`category`/`problem` are {"zh", "en"}; `updates` are the resident-visible ones,
    oldest first, as {"at", "text"} in building time."""
    width, height = A4
    pdf, usable = _label_page(width, height, margin=MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    _header(pdf, usable, building=building, printed=printed, number=number)
    contact = " ".join(part for part in (reporter_name, reporter_phone) if part) or "—"
    rows = [
        ("地点 Place", _place(unit, location), 16),
        ("类型 Kind", kind, 12),
        ("问题 Problem", _what(category, problem), 12),
        ("紧急程度 Urgency", urgency, 12),
        ("完成期限 Due by", due or "—", 14),
        ("收到 Received", received, 11),
        ("联系 Contact", contact, 12),
        ("负责 Assigned to", assignee or "—", 11),
        ("状态 Status", status, 11),
    ]
    _facts(pdf, usable, rows)
    _notes(pdf, usable, description, updates)
    _sign_off(pdf, usable)
    return bytes(pdf.output())


def _place(unit: str, location: str) -> str:
    if location and location != unit:
        return f"{unit} · {location}" if unit else location
    return unit or "—"


def _what(category: dict, problem: dict | None) -> str:
    what = f"{category['zh']} {category['en']}"
    if problem:
        what += f" / {problem['zh']} {problem['en']}"
    return what


def _notes(pdf, usable: float, description: str, updates: list[dict]) -> None:
    """The description, then what the resident has been told so far."""
    _heading(pdf, "说明 · Description")
    pdf.set_font("cjk", size=11)
    pdf.multi_cell(
        usable, 6, description or "—", border=1, padding=2, new_x="LMARGIN", new_y="NEXT"
    )

    _heading(pdf, "已告知住户 · Resident updates")
    pdf.set_font("cjk", size=10)
    if not updates:
        pdf.cell(usable, 6, "—", new_x="LMARGIN", new_y="NEXT")
    for update in updates:
        pdf.cell(28, 6, update["at"])
        pdf.multi_cell(usable - 28, 6, update["text"], new_x="LMARGIN", new_y="NEXT")


def _sign_off(pdf, usable: float) -> None:
    _heading(pdf, "完工确认 · Sign-off")
    pdf.set_font("cjk", size=11)
    pdf.set_draw_color(20, 33, 61)
    pdf.set_line_width(0.3)
    for row in (
        ("处理结果 Work done",),
        ("",),
        ("用料 Materials",),
        ("维修人员 Worker", "完成时间 Finished"),
        ("住户签字 Resident", "满意 Satisfied  □ 是 Yes   □ 否 No"),
    ):
        _sign_line(pdf, row, usable)


def _header(pdf, usable: float, *, building: str, printed: str, number: str) -> None:
    """The building and print time, then the title and the ticket number, ruled off."""
    pdf.set_font("cjk", size=10)
    pdf.cell(usable / 2, 6, building)
    pdf.cell(usable / 2, 6, f"打印 Printed {printed}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=22)
    pdf.cell(usable * 0.65, 14, "派工单 · WORK ORDER")
    pdf.set_font("cjk", size=26)
    pdf.cell(usable * 0.35, 14, f"No. {number}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(20, 33, 61)
    pdf.set_line_width(0.6)
    pdf.line(MARGIN, pdf.get_y() + 1, A4[0] - MARGIN, pdf.get_y() + 1)
    pdf.ln(4)


def _facts(pdf, usable: float, rows: list[tuple[str, str, int]]) -> None:
    """Label and value a line, each value in its own size, ruled between."""
    for label, value, size in rows:
        pdf.set_font("cjk", size=9)
        pdf.set_text_color(90, 100, 117)
        top = pdf.get_y()
        pdf.cell(LABEL_WIDTH, 8, label)
        pdf.set_text_color(20, 33, 61)
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(usable - LABEL_WIDTH, 8, value, new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(217, 222, 231)
        pdf.set_line_width(0.2)
        pdf.line(MARGIN, max(pdf.get_y(), top + 8), A4[0] - MARGIN, max(pdf.get_y(), top + 8))


def _sign_line(pdf, labels: tuple[str, ...], usable: float) -> None:
    """Labels each followed by a line to write on, side by side across the page."""
    share = usable / len(labels)
    if pdf.get_y() + 14 > pdf.h - MARGIN:  # set_xy does not break pages by itself
        pdf.add_page()
    top = pdf.get_y() + 4
    for n, label in enumerate(labels):
        start = MARGIN + n * share
        pdf.set_xy(start, top)
        if "□" in label:  # a tick-box answer, no line
            pdf.cell(share, 8, label)
            continue
        text_width = pdf.get_string_width(label) + 2 if label else 0
        if label:
            pdf.cell(text_width, 8, label)
        pdf.line(start + text_width, top + 7, start + share - 4, top + 7)
    pdf.set_xy(MARGIN, top + 8)


def _heading(pdf, text: str) -> None:
    pdf.ln(4)
    pdf.set_font("cjk", size=12)
    pdf.set_text_color(20, 33, 61)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
