"""Periods as integers, so that period arithmetic is portable across engines.

A month is ``year * 12 + month − 1``; a quarter ``year * 4 + (month − 1) // 3``; a year
is the year. The period before ``p`` is ``p − 1`` whatever its length, and a month index
``m`` lies in period ``m // months_per_period``.
"""

from __future__ import annotations

import datetime as dt

import ibis.expr.types as ir

from churnradar.metrics.rates import PERIOD_MONTHS


def month_index(date: ir.DateValue) -> ir.IntegerValue:
    return date.year() * 12 + date.month() - 1


def period_index(date: ir.DateValue, period: str) -> ir.IntegerValue:
    return month_index(date) // PERIOD_MONTHS[period]


def month_index_of(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def period_index_of(d: dt.date, period: str) -> int:
    return month_index_of(d) // PERIOD_MONTHS[period]


def month_start(m: int) -> dt.date:
    return dt.date(m // 12, m % 12 + 1, 1)


def period_start(p: int, period: str) -> dt.date:
    return month_start(p * PERIOD_MONTHS[period])


def period_end(p: int, period: str) -> dt.date:
    """Exclusive end: the first day of the next period."""
    return period_start(p + 1, period)


def period_label(p: int, period: str) -> str:
    start = period_start(p, period)
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}"
