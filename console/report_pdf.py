"""The monthly KPI report (fpdf2, A4), for the property manager's files.

Laid out under the KPI headings of STANDARDS.md, in their order: customer
satisfaction, complaint resolution time, service response speed, efficiency
of daily work (volumes). Chinese first, English beside it. The tables are the
dashboard's own (console/dashboard.build_tables), so the report, the page and
the CSV exports agree figure for figure.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.fonts import FontFace

from shared.fonts import find_font

SECTIONS = (
    ("1. 客户满意度", "Customer satisfaction"),
    ("2. 投诉处理时间", "Complaint resolution time"),
    ("3. 服务响应速度", "Service response speed"),
    ("4. 日常工作效率：工作量", "Efficiency of daily work: volumes"),
)
APPENDIX = ("附录：低分评价", "Appendix: low ratings")
_MARGIN = 15
_HEADINGS = FontFace(emphasis="", fill_color=(230, 235, 242))
_TOTAL = FontFace(emphasis="", fill_color=(245, 247, 250))


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
    pdf.set_font("cjk", size=size)
    pdf.set_draw_color(200, 205, 215)
    with pdf.table(
        col_widths=widths,
        headings_style=_HEADINGS,
        line_height=size * 0.55,
        padding=1,
        text_align="LEFT",
    ) as grid:
        heading = grid.row()
        for _key, label in table.columns:
            heading.cell(label)
        for index, row in enumerate(table.rows):
            first = str(row[table.columns[0][0]])
            style = _TOTAL if index == len(table.rows) - 1 and first.startswith("合计") else None
            cells = grid.row(style=style)
            for key, _label in table.columns:
                cells.cell(str(row[key]))
        if not table.rows:
            grid.row().cell("本期没有记录 · Nothing in this period.", colspan=len(table.columns))
    if table.note:
        pdf.set_font("cjk", size=7.5)
        pdf.set_text_color(90, 100, 117)
        pdf.multi_cell(0, 4, table.note, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(3)


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
    period = kpis["period"]
    generated_local = generated.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
    pdf = _Report(f"{building} · {month} 前台服务月报 Front desk monthly report")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("cjk", fname=str(find_font()))
    pdf.alias_nb_pages()
    pdf.add_page()

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

    pdf.set_font("cjk", size=9)
    with pdf.table(
        col_widths=(60, 40, 80), headings_style=_HEADINGS, line_height=5, padding=1.2
    ) as grid:
        row = grid.row()
        for text in ("要点 · Headline", "数值 · Value", "说明 · Detail"):
            row.cell(text)
        for tile in headline:
            row = grid.row()
            row.cell(tile["label"])
            row.cell(tile["value"])
            row.cell(tile["detail"])
    pdf.ln(2)

    satisfaction = kpis["satisfaction"]
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

    _heading(pdf, *SECTIONS[1])
    _table(
        pdf,
        tables["tickets"],
        widths=(1.2, 1.3, 0.8, 0.8, 0.8, 1, 1, 0.9, 0.8, 0.8),
        size=7,
    )

    _heading(pdf, *SECTIONS[2])
    _table(pdf, tables["response"], widths=(2.4, 1, 1, 1, 0.9, 0.9, 1))
    _table(pdf, tables["response_staff"], widths=(2, 1, 1, 1, 1))
    _table(pdf, tables["response_hourly"], widths=(1, 1, 1, 1, 1, 1, 1), size=7.5)

    _heading(pdf, *SECTIONS[3])
    _table(pdf, tables["parcels"], widths=(2, 1))
    _table(pdf, tables["volumes_daily"], widths=(1.4, 1, 1, 1, 1, 1, 1, 1), size=7.5)
    _table(pdf, tables["volumes_hourly"], widths=(1, 1, 1, 1, 1, 1, 1, 1), size=7.5)

    pdf.add_page()
    _heading(pdf, *APPENDIX)
    _table(pdf, tables["low_ratings"], widths=(0.8, 1.5, 0.7, 1.1, 1.8, 1.8, 2.3), size=7)
    return bytes(pdf.output())
