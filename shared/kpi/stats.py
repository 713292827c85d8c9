"""Percentiles and shares of durations, over sorted lists of milliseconds."""

from __future__ import annotations

import bisect
from itertools import chain


def percentile(ordered: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default): 30, 50, 70, 90 -> p50 60."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(durations: list[float], limit_seconds: float | None = None) -> dict:
    """count, p50, p90 and (given a limit) how many and what share were within it."""
    ordered = sorted(durations)
    summary = {
        "count": len(ordered),
        "p50": percentile(ordered, 0.5),
        "p90": percentile(ordered, 0.9),
    }
    if limit_seconds is not None:
        within = bisect.bisect_right(ordered, limit_seconds)
        summary["within"] = within
        summary["share"] = within / len(ordered) if ordered else None
    return summary


def _between(below_ms: float, above_ms: float, fraction: float) -> float:
    """percentile()'s interpolation, in seconds, of two durations in milliseconds (n / 1000
    is the very float the seconds rounded to the millisecond would be)."""
    below, above = below_ms / 1000, above_ms / 1000
    return below + (above - below) * fraction


def _percentile_ms(ordered_ms, q: float) -> float | None:
    """percentile() in seconds of a sorted list (or _Union) of milliseconds."""
    if not ordered_ms:
        return None
    position = (len(ordered_ms) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered_ms) - 1)
    return _between(ordered_ms[low], ordered_ms[high], position - low)


def _summary_ms(ordered_ms, limit_seconds: float | None = None) -> dict:
    """summarise() of milliseconds already sorted (a list or a _Union), in seconds."""
    summary = {
        "count": len(ordered_ms),
        "p50": _percentile_ms(ordered_ms, 0.5),
        "p90": _percentile_ms(ordered_ms, 0.9),
    }
    if limit_seconds is not None:
        within = _count_upto(ordered_ms, limit_seconds * 1000)
        summary["within"] = within
        summary["share"] = within / len(ordered_ms) if ordered_ms else None
    return summary


def _count_upto(ordered_ms, limit_ms: float) -> int:
    if isinstance(ordered_ms, _Union):
        return ordered_ms.count_upto(limit_ms)
    return bisect.bisect_right(ordered_ms, limit_ms)


def _merged(lists) -> list[float]:
    """One sorted list of several sorted ones (Python's sort merges sorted runs in linear time)."""
    return sorted(chain.from_iterable(lists))


class _Union:
    """A few long sorted lists of whole milliseconds read as one, without merging them:
    the k-th value is the least v with more than k values <= v (bisection on v)."""

    def __init__(self, lists):
        self.lists = [values for values in lists if values]

    def __len__(self) -> int:
        return sum(map(len, self.lists))

    def count_upto(self, limit_ms: float) -> int:
        return sum(bisect.bisect_right(values, limit_ms) for values in self.lists)

    def __getitem__(self, k: int) -> float:
        low = min(values[0] for values in self.lists)
        high = max(values[-1] for values in self.lists)
        while low < high:
            middle = (low + high) // 2
            if self.count_upto(middle) > k:
                high = middle
            else:
                low = middle + 1
        return low


class _Lists(dict):
    """A list per key, made on first use."""

    def __missing__(self, key):
        value = self[key] = []
        return value
