"""The dashboard's charts: pygal SVG rendered on the server and embedded inline.

The console's Content-Security-Policy allows scripts and styles from 'self'
only, so an inline SVG may carry neither a <script> nor a <style> (nor a
style="" attribute): the browser would refuse them and report a violation.
pygal always writes all three (its config script, its stylesheet and the
tooltip box), so each chart is rendered with js=[] and then stripped of them;
the stylesheet pygal would have inlined is served once, scoped to
`svg.kpi-chart`, at /dashboard/charts.css (`stylesheet()` below). No JS:
values are printed on the bars and every chart has its table beside it.
"""

from __future__ import annotations

import functools
import sys
import xml.etree.ElementTree as ET

import pygal
from pygal.style import Style

from shared import terms

# pygal appends an old-style import hook (find_module only, for its map plugins, which
# we do not use) to sys.meta_path; Python 3.11 then warns (ImportWarning) on every later
# import that reaches it. Take it out again.
sys.meta_path[:] = [
    finder for finder in sys.meta_path if not isinstance(finder, pygal.PluginImportFixer)
]

FONT = '"Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif'
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2433",
    foreground_strong="#1d2433",
    foreground_subtle="#5b6475",
    opacity=".85",
    opacity_hover="1",
    transition="0ms",
    colors=("#0b6bcb", "#b26a00", "#1a7f37", "#c62828", "#6a3fb5", "#00838f", "#5b6475"),
    font_family=FONT,
    title_font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    legend_font_family=FONT,
    value_font_family=FONT,
    value_label_font_family=FONT,
    tooltip_font_family=FONT,
    no_data_font_family=FONT,
    title_font_size=15,
    legend_font_size=12,
    label_font_size=11,
    major_label_font_size=11,
    value_font_size=11,
    value_label_font_size=11,
    no_data_font_size=18,
)
CLASSES = ["pygal-chart", "kpi-chart"]
_SCOPE = "svg.kpi-chart"
NO_DATA = "暂无数据 · No data"


def _config(**extra) -> dict:
    return {
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "classes": CLASSES,
        # About the size it is shown at (half the page), so text is not scaled down.
        "width": 560,
        "height": 300,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "max_scale": 8,
        "no_data_text": NO_DATA,
        "show_minor_x_labels": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        # Nothing to inline: the CSS is stripped anyway and served once (stylesheet()),
        # and pygal would read, fill in and minify two files for every chart.
        "css": [],
        **extra,
    }


def _strip(tree: ET.Element) -> str:
    """pygal's tree without what the CSP refuses (its script and style, the tooltip layer
    with its style attribute), its comments and the legends' repeated element ids."""
    for child in list(tree):
        if child.tag is ET.Comment:
            tree.remove(child)
        elif child.tag == "defs":
            for node in list(child):
                if node.tag in ("script", "style"):
                    child.remove(node)
    for graph in tree.findall("g"):
        for layer in graph.findall("g"):
            classes = layer.get("class", "")
            if "tooltip-overlay" in classes:
                graph.remove(layer)
            elif classes == "legends":
                for legend in layer:
                    legend.attrib.pop("id", None)
    tree.set("role", "img")
    return ET.tostring(tree, encoding="unicode")


def _render(chart) -> str:
    return _strip(chart.render_tree())


@functools.cache
def stylesheet() -> str:
    """pygal's own CSS for our style, scoped to svg.kpi-chart (served as a file)."""
    sample = pygal.Bar(**_config(css=pygal.Config().css))
    for index in range(len(STYLE.colors)):
        sample.add(str(index), [1])
    tree = sample.render_tree()
    css = "\n".join(node.text or "" for node in tree.iter("style"))
    scoped = css.replace(f"#chart-{sample.uuid}", _SCOPE)
    layout = (
        f"{_SCOPE} {{ display:block; width:100%; height:auto; }}\n"
        f"{_SCOPE} .legends .legend text {{ fill:#1d2433; }}\n"
    )
    return scoped + "\n" + layout


def _x_labels(chart, labels: list[str], most: int = 16) -> None:
    chart.x_labels = labels
    if len(labels) > most:
        chart.x_labels_major_every = -(-len(labels) // most)
        chart.show_minor_x_labels = False


def _short_day(iso_day: str) -> str:
    return iso_day[5:]  # MM-DD


def _dots(points: int) -> dict:
    """Dots mark each point of short series (they cost pygal ~0.3 ms each); longer ones are plain lines."""
    return {"show_dots": points <= 16, "dots_size": 3}


def _standard(chart, seconds: int, points: int) -> None:
    """The S3 standard as a dashed line across the chart."""
    chart.add(
        f"{seconds} 秒标准 · standard",
        [seconds] * points,
        show_dots=False,
        stroke_style={"dasharray": "6, 4"},
    )


def response_by_day(response: dict, *, weekly: bool = False) -> str:
    """p50 and p90 per day, or per week (weeks start on Monday) for long ranges."""
    rows = response["weeks"] if weekly else response["days"]
    title = (
        "每周响应时间（秒）· Response time by week (s)"
        if weekly
        else "每日响应时间（秒）· Response time by day (s)"
    )
    chart = pygal.Line(
        **_config(title=title, allow_interruptions=True, include_x_axis=True, **_dots(len(rows)))
    )
    _x_labels(chart, _point_labels(rows, weekly))
    chart.add("p50", [_round(row["p50"]) for row in rows])
    chart.add("p90", [_round(row["p90"]) for row in rows])
    _standard(chart, response["standard_seconds"], len(rows))
    return _render(chart)


def _point_labels(rows: list[dict], weekly: bool) -> list[str]:
    """MM-DD of each day, or of each week's Monday."""
    if weekly:
        return [row["week_start"].strftime("%m-%d") for row in rows]
    return [_short_day(row["day"]) for row in rows]


def response_by_hour(response: dict) -> str:
    # Lines, not bars: pygal draws a bar with four elements and a tooltip each (48 bars
    # cost more than every other chart together); a line is one path.
    chart = pygal.Line(
        **_config(
            title="各时段响应时间（秒）· Response time by hour of day (s)",
            allow_interruptions=True,
            include_x_axis=True,
            show_dots=False,
        )
    )
    hours = response["hours"]
    chart.x_labels = [f"{row['hour']:02d}" for row in hours]
    chart.add("p50", [_round(row["p50"]) for row in hours])
    chart.add("p90", [_round(row["p90"]) for row in hours])
    _standard(chart, response["standard_seconds"], len(hours))
    return _render(chart)


def rating_distribution(satisfaction: dict) -> str:
    chart = pygal.Bar(
        **_config(
            title="评分分布 · Ratings 1–5",
            print_values=True,
            show_legend=False,
            height=260,
        )
    )
    distribution = satisfaction["distribution"]
    chart.x_labels = [f"{stars} ★" for stars in distribution]
    chart.add("评分数 · Ratings", list(distribution.values()) if satisfaction["count"] else [])
    return _render(chart)


def rating_trend(satisfaction: dict) -> str:
    weeks = satisfaction["weeks"]
    chart = pygal.Line(
        **_config(
            title="每周平均评分 · Average rating by week",
            range=(1, 5),
            show_legend=False,
            height=260,
            allow_interruptions=True,
            print_values=len(weeks) <= 10,
            margin_right=24,
            **_dots(len(weeks)),
        )
    )
    _x_labels(chart, [week["week_start"].strftime("%m-%d") for week in weeks])
    values = [_round(week["average"], 2) for week in weeks]
    chart.add("平均 · Average", values if any(v is not None for v in values) else [])
    return _render(chart)


def ticket_sla(tickets: dict) -> str:
    rows = [row for row in tickets["rows"] if row["urgency"]]
    config = _config(
        title="按时解决比例（%）· Resolved within SLA (%)",
        range=(0, 100),
        print_values=True,
        height=260,
    )
    chart = pygal.Bar(**config)
    if all(row["resolved"] == 0 for row in rows):
        return _render(chart)  # no series: pygal writes its "no data" text
    urgencies = list(dict.fromkeys(row["urgency"] for row in rows))
    chart.x_labels = [URGENCY_LABELS[u] for u in urgencies]
    for kind in ("repair", "complaint"):
        chart.add(
            terms.term("ticket_kind", kind),
            [_percent(row["share"]) for row in rows if row["kind"] == kind],
        )
    return _render(chart)


def volumes_by_day(volumes: dict, *, weekly: bool = False) -> str:
    """Each day's counts, or each week's (weeks start on Monday) for long ranges."""
    rows = volumes["weeks"] if weekly else volumes["days"]
    title = "每周工作量 · Weekly volumes" if weekly else "每日工作量 · Daily volumes"
    chart = pygal.Line(**_config(title=title, **_dots(len(rows))))
    _x_labels(chart, _point_labels(rows, weekly))
    for label, columns in DAILY_SERIES:
        chart.add(label, [sum(row[column] for column in columns) for row in rows])
    return _render(chart)


def volumes_by_hour(volumes: dict) -> str:
    chart = pygal.Line(
        **_config(title="各时段工作量 · Volumes by hour of day", show_dots=False, fill=False)
    )
    hours = volumes["hours"]
    chart.x_labels = [f"{row['hour']:02d}" for row in hours]
    for label, columns in HOURLY_SERIES:
        chart.add(label, [sum(row[column] for column in columns) for row in hours])
    return _render(chart)


URGENCY_LABELS = terms.labels("urgency")  # the ticket pages' words (shared.terms)
DAILY_SERIES = (
    ("访客 · Visits", ("visits",)),
    ("呼叫前台 · Help calls", ("help",)),
    ("快递入库 · Parcels in", ("parcels_in",)),
    ("快递取件 · Parcels out", ("parcels_out",)),
    ("报修投诉 · Repairs & complaints", ("repairs", "complaints")),
)
HOURLY_SERIES = (
    ("访客 · Visits", ("visits",)),
    ("呼叫前台 · Help calls", ("help",)),
    ("快递入库 · Parcels in", ("parcels_in",)),
    ("报修投诉 · Repairs & complaints", ("repairs", "complaints")),
)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def render_all(kpis: dict, *, weekly: bool = False) -> dict[str, str]:
    """Every chart of the dashboard, by name (weekly: the by-day charts per week)."""
    return {
        "response_by_day": response_by_day(kpis["response"], weekly=weekly),
        "response_by_hour": response_by_hour(kpis["response"]),
        "rating_distribution": rating_distribution(kpis["satisfaction"]),
        "rating_trend": rating_trend(kpis["satisfaction"]),
        "ticket_sla": ticket_sla(kpis["tickets"]),
        "volumes_by_day": volumes_by_day(kpis["volumes"], weekly=weekly),
        "volumes_by_hour": volumes_by_hour(kpis["volumes"]),
    }
