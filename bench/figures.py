"""The benchmarks' figures: timings, percentiles and the Markdown tables they print.

Two percentiles, because the benchmarks report two kinds: `percentile` interpolates
between ranks (statistics.quantiles' "inclusive" method), for latency samples
compared by ratio; `nearest_rank` reports a time that was actually measured, for
tables read as "the page took at most this long".
"""

from __future__ import annotations

import time


def ms_since(started: float) -> float:
    """Milliseconds since `started`, a time.perf_counter() reading."""
    return (time.perf_counter() - started) * 1000


def percentile(samples: list[float], pct: float) -> float:
    """The pct-th percentile, interpolated between the two nearest ranks; for any
    number of samples (statistics.quantiles needs two)."""
    ordered = sorted(samples)
    low, fraction = divmod((len(ordered) - 1) * pct, 100)
    low = int(low)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * fraction / 100


def nearest_rank(samples: list[float], pct: float) -> float:
    """The sample at the rank nearest the pct-th percentile: no interpolation."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def ratio(value: float, base: float) -> str:
    """`value` as a multiple of `base`, e.g. "12.3×"."""
    return f"{value / base:.1f}×"


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A Markdown table: the first column (what was measured) left-aligned, the
    figures right-aligned. Cells are printed as given (format numbers first)."""
    lines = ["| " + " | ".join(header) + " |", "|---|" + "--:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
