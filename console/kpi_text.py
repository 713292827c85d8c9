"""The dashboard's figures as people read them: one place, so the page, the CSV and the
monthly PDF say the same (console/dashboard.py, console/report_pdf.py).

The formatting of seconds, shares and durations, and the headline tiles at the top of
the page and of the PDF.
"""

from __future__ import annotations

from shared import terms
from shared.ticket_catalog import LOW_RATING

DASH = "—"


def seconds_text(value: float | None) -> str:
    """60.0 -> '60', 59.55 -> '59.6'."""
    if value is None:
        return DASH
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def share_text(share: float | None) -> str:
    if share is None:
        return DASH
    text = f"{share * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def duration_text(seconds: float | None) -> str:
    """A resolution or dwell time as people say it: '45 s', '12 min', '4 h 10 min', '2 d 3 h'."""
    if seconds is None:
        return DASH
    if seconds < 90:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def average_text(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def _response_tile(response: dict) -> dict:
    """The share within the standard of ALL requests, with its "n of N" and the ones never
    answered beside it (a share of answered requests alone flattered the desk)."""
    total, standard = response["total"], response["standard_seconds"]
    within, requests, never = total.get("within", 0), total["requests"], total["unanswered"]
    return {
        "label": f"{standard} 秒内响应 · Answered within {standard} s",
        "value": share_text(total["share"]),
        "detail": f"{within} / {requests} 个请求，{never} 个未响应 · {within} of {requests}"
        f" requests, {never} never answered; p50 {seconds_text(total['p50'])} s",
        "state": _state(total["share"], 0.9, 0.7),
    }


def headline(kpis: dict) -> list[dict]:
    """The figures at the top of the page (and of the PDF)."""
    response, satisfaction = kpis["response"], kpis["satisfaction"]
    totals = {row["kind"]: row for row in kpis["tickets"]["rows"] if row["urgency"] is None}
    overdue_tickets = sum(row["overdue"] for row in totals.values())
    return [
        _response_tile(response),
        {
            "label": "未响应 · Never answered",
            "value": str(response["total"]["unanswered"]),
            "detail": f"共 {response['total']['requests']} 个请求 · of {response['total']['requests']} requests",
            "state": "bad" if response["total"]["unanswered"] else "ok",
        },
        {
            "label": "平均评分 · Average rating",
            "value": average_text(satisfaction["average"]),
            "detail": f"{satisfaction['count']} 个评分 · ratings, {satisfaction['low_count']} ≤ {LOW_RATING}",
            "state": _state(satisfaction["average"], 4.5, 4.0, scale=1),
        },
        {
            "label": "投诉解决 p50 · Complaints resolved p50",
            "value": duration_text(totals["complaint"]["p50"]),
            "detail": f"{share_text(totals['complaint']['share'])} 按时 · within SLA",
            "state": _state(totals["complaint"]["share"], 0.9, 0.7),
        },
        {
            "label": "工单逾期 · Tickets overdue now",
            "value": str(overdue_tickets),
            "detail": f"未结 · open {sum(row['open'] for row in totals.values())}",
            "state": "bad" if overdue_tickets else "ok",
        },
        {
            "label": "快递逾期 · Parcels overdue now",
            "value": str(kpis["volumes"]["parcels_overdue"]),
            "detail": f"{terms.term('parcel_status', 'waiting')} {kpis['volumes']['parcels_waiting']}",
            "state": "warn" if kpis["volumes"]["parcels_overdue"] else "ok",
        },
    ]


def _state(value: float | None, good: float, fair: float, scale: float = 1) -> str:
    if value is None:
        return "none"
    return "ok" if value >= good * scale else "warn" if value >= fair * scale else "bad"
