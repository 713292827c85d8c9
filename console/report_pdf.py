"""The monthly KPI report (fpdf2, A4), for the property manager's files.

Laid out under the KPI headings of STANDARDS.md, in their order: customer
satisfaction, complaint resolution time, service response speed, efficiency
of daily work (volumes). Chinese first, English beside it. The tables are the
dashboard's own (console/kpi_tables.build_tables), so the report, the page and
the CSV exports agree figure for figure.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf import FPDF

from shared.fonts import find_font

SECTIONS = (
    ("1. 客户满意度", "Customer satisfaction"),
    ("2. 投诉处理时间", "Complaint resolution time"),
    ("3. 服务响应速度", "Service response speed"),
    ("4. 日常工作效率：工作量", "Efficiency of daily work: volumes"),
)
APPENDIX = ("附录：低分评价", "Appendix: low ratings")
LOGGER = logging.getLogger(__name__)
_MARGIN = 15
_HEADINGS = (230, 235, 242)  # fill of the heading row
_TOTAL = (245, 247, 250)  # fill of a closing total row


class _Report(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(format="A4", unit="mm")
        self._footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", size=8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{self._footer_text} — {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def _heading(pdf: FPDF, zh: str, en: str) -> None:
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font("cjk", size=15)
    pdf.set_text_color(11, 107, 203)
    pdf.cell(0, 9, f"{zh} · {en}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(11, 107, 203)
    pdf.line(_MARGIN, pdf.get_y(), pdf.w - _MARGIN, pdf.get_y())
    pdf.ln(2)


def _paragraph(pdf: FPDF, text: str, size: float = 10) -> None:
    pdf.set_font("cjk", size=size)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _table(pdf: FPDF, table, *, widths: tuple[float, ...] | None = None, size: float = 8) -> None:
    """One of the dashboard's tables: its title, then its columns and rows as on the page."""
    if pdf.get_y() > pdf.h - 45:
        pdf.add_page()
    pdf.set_font("cjk", size=10.5)
    pdf.cell(0, 7, table.title, new_x="LMARGIN", new_y="NEXT")
    rows = [[str(row[key]) for key, _label in table.columns] for row in table.rows]
    _grid(
        pdf,
        [label for _key, label in table.columns],
        rows or [["本期没有记录 · Nothing in this period."]],
        widths=widths or (1,) * len(table.columns),
        size=size,
        line_height=size * 0.55,
        padding=1,
        total=bool(rows) and rows[-1][0].startswith("合计"),
    )
    if table.note:
        pdf.set_font("cjk", size=7.5)
        pdf.set_text_color(90, 100, 117)
        pdf.multi_cell(0, 4, table.note, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(3)


def _grid(
    pdf: FPDF,
    headings: list[str],
    rows: list[list[str]],
    *,
    widths: tuple[float, ...],
    size: float,
    line_height: float,
    padding: float,
    total: bool = False,
) -> None:
    """A bordered grid, drawn cell by cell: the headings shaded (and repeated on each new
    page), each row as high as its longest cell, a closing total row shaded lightly, text
    wrapped between words or Chinese characters. (fpdf2's own table() lays each cell out
    through multi_cell several times: three quarters of the report's time.) A row of one
    cell spans the grid."""
    pdf.set_font("cjk", size=size)
    pdf.set_draw_color(200, 205, 215)
    scale = pdf.epw / sum(widths)
    columns = [width * scale for width in widths]
    measure = _Widths(pdf)

    def layout(cells: list[str]) -> tuple[list[list[str]], float]:
        spans = columns if len(cells) == len(columns) else [pdf.epw]
        lines = [
            _wrap(text, span - 2 * padding, measure)
            for text, span in zip(cells, spans, strict=True)
        ]
        return lines, max(map(len, lines)) * line_height + 2 * padding

    def draw(lines: list[list[str]], height: float, fill: tuple[int, int, int] | None) -> None:
        spans = columns if len(lines) == len(columns) else [pdf.epw]
        if fill:
            pdf.set_fill_color(*fill)
        x, y = pdf.l_margin, pdf.get_y()
        for cell_lines, span in zip(lines, spans, strict=True):
            pdf.rect(x, y, span, height, style="DF" if fill else "D")
            top = y + (height - len(cell_lines) * line_height) / 2  # centred, as on the page
            for index, line in enumerate(cell_lines):
                baseline = top + (index + 0.5) * line_height + 0.3 * pdf.font_size
                pdf.text(x + padding, baseline, line)
            x += span
        pdf.set_y(y + height)

    heading = layout(headings)
    draw(*heading, _HEADINGS)
    for index, cells in enumerate(rows):
        lines, height = layout(cells)
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            pdf.set_font("cjk", size=size)
            draw(*heading, _HEADINGS)
        draw(lines, height, _TOTAL if total and index == len(rows) - 1 else None)


class _Widths(dict):
    """Each character's width (mm) in the current font and size, measured once."""

    def __init__(self, pdf: FPDF):
        super().__init__()
        self._pdf = pdf

    def __missing__(self, char: str) -> float:
        width = self[char] = self._pdf.get_string_width(char)
        return width


# Where a line may break: at spaces, and before or after any Chinese character or
# full-width punctuation; other runs (Latin words, numbers) stay whole if they fit.
_WIDE = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef"
_TOKENS = re.compile(rf"\s+|[{_WIDE}]|[^\s{_WIDE}]+")


def _wrap(text: str, room: float, measure: _Widths) -> list[str]:
    """text as lines no wider than room (a word wider than the whole line is cut)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used, space = "", 0.0, ""
        for token in _TOKENS.findall(paragraph):
            if token.isspace():
                space = token if line else ""
                continue
            width = sum(map(measure.__getitem__, token))
            gap = sum(map(measure.__getitem__, space))
            if line and used + gap + width > room:
                lines.append(line)
                line, used, space, gap = "", 0.0, "", 0.0
            while not line and width > room and len(token) > 1:  # longer than a line
                fits, taken = 1, measure[token[0]]
                while fits < len(token) and taken + measure[token[fits]] <= room:
                    taken += measure[token[fits]]
                    fits += 1
                lines.append(token[:fits])
                token = token[fits:]
                width = sum(map(measure.__getitem__, token))
            line += space + token
            used += gap + width
            space = ""
        lines.append(line)
    return lines


def monthly_report(
    *,
    building: str,
    building_en: str,
    month: str,
    kpis: dict,
    tables: dict,
    headline: list[dict],
    generated: datetime,
    timezone: str,
) -> bytes:
    pdf = _Report(f"{building} · {month} 前台服务月报 Front desk monthly report")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(True, margin=16)
    printed = [building, building_en, month, timezone, *_texts(tables, headline)]
    pdf.add_font("cjk", fname=str(_font_for(printed)))
    pdf.alias_nb_pages()
    pdf.add_page()
    generated_local = generated.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
    _title(pdf, building, building_en, month, kpis["period"], timezone, generated_local)
    _headline(pdf, headline)
    _satisfaction(pdf, kpis["satisfaction"], tables)
    _resolution_response_volumes(pdf, tables)
    pdf.add_page()
    _heading(pdf, *APPENDIX)
    _table(pdf, tables["low_ratings"], widths=(0.8, 1.5, 0.7, 1.1, 1.8, 1.8, 2.3), size=7)
    return bytes(pdf.output())


def _title(pdf, building, building_en, month, period, timezone, generated_local) -> None:
    pdf.set_font("cjk", size=20)
    pdf.cell(
        0, 11, f"前台服务月报 · Front desk monthly report {month}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("cjk", size=12)
    pdf.cell(
        0,
        7,
        f"{building}{' · ' + building_en if building_en else ''}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    _paragraph(
        pdf,
        f"统计期间 · Period: {period.first.isoformat()} – {period.last.isoformat()}"
        f"（大楼时间 · building time, {timezone}）。生成于 · Generated {generated_local}。"
        " 标有“当前 · now”的数字为生成时的状态 · Figures marked “now” are as of generation.",
        size=9,
    )


def _headline(pdf, headline: list[dict]) -> None:
    _grid(
        pdf,
        ["要点 · Headline", "数值 · Value", "说明 · Detail"],
        [[tile["label"], tile["value"], tile["detail"]] for tile in headline],
        widths=(60, 40, 80),
        size=9,
        line_height=5,
        padding=1.2,
    )
    pdf.ln(2)


def _satisfaction(pdf, satisfaction: dict, tables: dict) -> None:
    _heading(pdf, *SECTIONS[0])
    _paragraph(
        pdf,
        f"本月共收到 {satisfaction['count']} 个评分，平均 "
        f"{'—' if satisfaction['average'] is None else format(satisfaction['average'], '.2f')} 分，"
        f"低分（≤3）{satisfaction['low_count']} 个。 · {satisfaction['count']} ratings this month,"
        f" average {'—' if satisfaction['average'] is None else format(satisfaction['average'], '.2f')},"
        f" {satisfaction['low_count']} low (≤3).",
    )
    _table(pdf, tables["ratings"], widths=(1, 1, 1))
    _table(pdf, tables["ratings_weekly"], widths=(1.3, 1, 1, 1))
    _table(pdf, tables["low_reasons"], widths=(2, 1))
    _paragraph(
        pdf,
        f"每条低分评价见附录 · Each low rating is listed in the appendix"
        f" ({len(tables['low_ratings'].rows)}).",
        size=8.5,
    )


def _resolution_response_volumes(pdf, tables: dict) -> None:
    _heading(pdf, *SECTIONS[1])
    _table(
        pdf,
        tables["tickets"],
        widths=(1.2, 1.3, 0.8, 0.8, 0.8, 1, 1, 0.9, 0.8, 0.8),
        size=7,
    )

    _heading(pdf, *SECTIONS[2])
    _table(pdf, tables["response"], widths=(2.4, 1, 1, 1, 0.9, 0.9, 1, 1.1))
    _table(pdf, tables["response_staff"], widths=(2, 1, 1, 1, 1, 1.1))
    _table(pdf, tables["response_hourly"], widths=(1, 1, 1, 1, 1, 1, 1, 1.1), size=7.5)

    _heading(pdf, *SECTIONS[3])
    _table(pdf, tables["parcels"], widths=(2, 1))
    _table(pdf, tables["volumes_daily"], widths=(1.4, 1, 1, 1, 1, 1, 1, 1), size=7.5)
    _table(pdf, tables["volumes_hourly"], widths=(1, 1, 1, 1, 1, 1, 1, 1), size=7.5)


# --- the font -------------------------------------------------------------------------------
#
# The building's Chinese font has ~30,000 glyphs; fpdf2 reads them all for every report
# (about half its time) and subsets them again on output. So once per process a copy is
# cut to the characters a report nearly always holds — GB 2312's 7,445 (names, categories,
# comments in simplified Chinese), Latin, punctuation and every character of this module —
# into a private temporary file (mkstemp: 0600, a name nobody could have made beforehand),
# and a report whose own text fits in it uses it; otherwise the whole font, as before.
# Cutting takes a few seconds, on the first report only.

_COMMON_RANGES = ((0x20, 0x250), (0x2000, 0x2070), (0x2100, 0x2700), (0x3000, 0x3040))
_COMMON_RANGES += ((0xFF00, 0xFFF0),)


def _texts(tables: dict, headline: list[dict]):
    """Every text of the tables and the headline as printed."""
    for table in tables.values():
        yield table.title
        yield table.note
        yield from (label for _key, label in table.columns)
        for row in table.rows:
            yield from map(str, row.values())
    for tile in headline:
        yield from tile.values()


def _font_for(printed: list[str]) -> Path:
    font = find_font()
    common = _common_font(font)
    if common is None:
        return font
    path, covered = common
    needed = set().union(*map(set, printed))
    return path if needed <= covered else font


@functools.cache
def _common_font(font: Path) -> tuple[Path, frozenset[str]] | None:
    """The cut-down copy of the font, and the characters it has (None: could not be made)."""
    handle, name = tempfile.mkstemp(prefix="lobbydesk-report-font-", suffix=".ttf")
    atexit.register(_remove, name)
    try:
        with os.fdopen(handle, "wb") as out:
            _cut_font(font, out)
        cut = ttLib.TTFont(name, lazy=True)
        covered = frozenset(map(chr, cut.getBestCmap()))
        cut.close()
    except Exception:  # fontTools raises many kinds on odd fonts: keep using the whole font
        LOGGER.exception("Could not cut the report font down; using the whole font")
        return None
    return Path(name), covered


def _cut_font(font: Path, out) -> None:
    wanted = {chr(code) for low, high in _COMMON_RANGES for code in range(low, high)}
    for high in range(0xA1, 0xF8):  # GB 2312, row by row
        for low in range(0xA1, 0xFF):
            try:
                wanted.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    wanted |= set(Path(__file__).read_text(encoding="utf-8"))
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True)
    options.name_IDs, options.name_languages, options.layout_features = ["*"], ["*"], ["*"]
    whole = ttLib.TTFont(str(font), fontNumber=0)
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=sorted(map(ord, wanted)))
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)  # the tables it drops
    subsetter.subset(whole)
    whole.save(out)


def _remove(name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name)
