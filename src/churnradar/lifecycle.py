"""Churn definitions -> relationship spells per customer (design.md module ``lifecycle``).

A *spell* is one unbroken relationship of a customer with the company: it starts when
the customer starts buying (or subscribing) and ends with a churn, or is still running at
``as_of``. A customer who returns after churning starts a new spell: a win-back (挽回),
not a new customer.

- **Contractual** (``subscriptions``): a customer is active while any subscription runs.
  Subscriptions that overlap, or where a new one starts at most ``contract_gap_days``
  after the previous one ended (renewals, plan changes), are one spell. The churn date is
  the end date of the spell's last subscription (the first day without service). An end
  date after ``as_of`` is a scheduled end, not yet a churn.
- **Non-contractual** (``transactions``): activity-based churn. Purchases less than or
  equal to ``inactivity_days`` apart are one spell; the customer is called churned only
  when ``inactivity_days`` have fully passed without a purchase, on
  ``last purchase + inactivity_days`` (so ``as_of - last purchase >= inactivity_days``).

All of it is written as Ibis expressions, so it runs on DuckDB and on PySpark.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir

from churnradar import schema as s
from churnradar.exceptions import WorkspaceError
from churnradar.settings import ChurnSettings

#: columns of the spells table
SPELL_NO = "spell_no"
LAST_ACTIVE_DATE = "last_active_date"
IS_WINBACK = "is_winback"

_OPEN_END = dt.date(9999, 12, 31)

Business = Literal["contractual", "non_contractual"]


@dataclass(frozen=True)
class Lifecycle:
    """The spells of every customer, and how they were derived."""

    business: Business
    as_of: dt.date
    #: customer_id, spell_no (1, 2, ...), start_date, last_active_date,
    #: churn_date (null while active at as_of), is_winback (spell_no > 1)
    spells: ir.Table
    #: earliest activity in the data (start of the observed history)
    history_start: dt.date


def detect_business(tables: dict[str, ir.Table], settings: ChurnSettings) -> Business:
    """Which churn definition applies: the setting, else whichever table exists."""
    if settings.business != "auto":
        needed = "subscriptions" if settings.business == "contractual" else "transactions"
        if needed not in tables:
            raise WorkspaceError(key="err_business_table", business=settings.business,
                                 table=needed)
        return settings.business
    if "subscriptions" in tables:
        return "contractual"
    if "transactions" in tables:
        return "non_contractual"
    raise WorkspaceError(key="err_no_activity_table")


def _scalar_date(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:  # pandas.Timestamp, numpy datetime64
        import pandas as pd

        ts = pd.Timestamp(value)
        return None if pd.isna(ts) else ts.date()
    except (TypeError, ValueError):  # pragma: no cover
        return None


def data_bounds(tables: dict[str, ir.Table], business: Business,
                today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """(earliest activity, latest date the data is complete up to).

    The latest date is the latest start/purchase/ended contract found, never after
    ``today`` (end dates in the future are scheduled ends, not facts).
    """
    today = today or dt.date.today()
    if business == "contractual":
        t = tables["subscriptions"]
        ended = t[s.END_DATE]
        expr = t.aggregate(
            lo=t[s.START_DATE].min(),
            hi_start=t[s.START_DATE].max(),
            hi_end=ibis.ifelse(ended <= ibis.literal(today), ended, ibis.null()).max(),
        )
    else:
        t = tables["transactions"]
        expr = t.aggregate(lo=t[s.DATE].min(), hi_start=t[s.DATE].max(),
                           hi_end=t[s.DATE].max())
    row = expr.to_pandas().iloc[0]
    lo = _scalar_date(row["lo"])
    his = [d for d in (_scalar_date(row["hi_start"]), _scalar_date(row["hi_end"])) if d]
    if lo is None or not his:
        table = "subscriptions" if business == "contractual" else "transactions"
        raise WorkspaceError(key="err_empty_activity", table=table)
    return lo, min(max(his), today)


def build_lifecycle(tables: dict[str, ir.Table], settings: ChurnSettings,
                    *, as_of: dt.date | None = None) -> Lifecycle:
    """Derive the spells of every customer.

    Parameters
    ----------
    tables
        The workspace's tables as Ibis expressions (``engine.tables``).
    settings
        The ``[churn]`` settings: business, inactivity_days, contract_gap_days, as_of.
    as_of
        Overrides ``settings.as_of``; by default the latest date in the data.
    """
    business = detect_business(tables, settings)
    lo, hi = data_bounds(tables, business)
    as_of = as_of or settings.as_of or hi
    if business == "contractual":
        spells = contract_spells(tables["subscriptions"], as_of=as_of,
                                 gap_days=settings.contract_gap_days)
    else:
        spells = activity_spells(tables["transactions"], as_of=as_of,
                                 inactivity_days=settings.inactivity_days)
    return Lifecycle(business=business, as_of=as_of, spells=spells, history_start=lo)


def _finish(spells: ir.Table) -> ir.Table:
    return spells.mutate(**{IS_WINBACK: spells[SPELL_NO] > 1}).select(
        s.CUSTOMER_ID, SPELL_NO, s.START_DATE, LAST_ACTIVE_DATE, s.CHURN_DATE, IS_WINBACK
    )


def contract_spells(subscriptions: ir.Table, *, as_of: dt.date, gap_days: int = 1) -> ir.Table:
    """Spells from contracts: overlapping or adjacent subscriptions are one relationship."""
    t = subscriptions.filter(subscriptions[s.START_DATE] <= ibis.literal(as_of))
    end = t[s.END_DATE]
    # an end after as_of is a scheduled end: still active at as_of
    end_f = ibis.ifelse(end.isnull() | (end > ibis.literal(as_of)), ibis.literal(_OPEN_END), end)
    t = t.select(s.CUSTOMER_ID, s.START_DATE, end_f=end_f)
    t = t.mutate(start_d=t[s.START_DATE].epoch_days(), end_d=t.end_f.epoch_days())
    w_cum = ibis.cumulative_window(group_by=t[s.CUSTOMER_ID], order_by=[t.start_d, t.end_d])
    t = t.mutate(reach=t.end_d.max().over(w_cum))
    w = ibis.window(group_by=t[s.CUSTOMER_ID], order_by=[t.start_d, t.end_d])
    t = t.mutate(prev_reach=t.reach.lag().over(w))
    t = t.mutate(brk=ibis.ifelse(t.prev_reach.isnull() | (t.start_d > t.prev_reach + gap_days),
                                 1, 0))
    t = t.mutate(**{SPELL_NO: t.brk.sum().over(w_cum)})
    g = t.group_by([s.CUSTOMER_ID, SPELL_NO]).aggregate(
        **{s.START_DATE: t[s.START_DATE].min()}, end_f=t.end_f.max()
    )
    churned = g.end_f < ibis.literal(_OPEN_END)
    churn = ibis.ifelse(churned, g.end_f, ibis.null(g.end_f.type()))
    last = ibis.ifelse(churned, g.end_f - ibis.interval(days=1), ibis.literal(as_of))
    last = ibis.ifelse(last < g[s.START_DATE], g[s.START_DATE], last)
    return _finish(g.mutate(**{s.CHURN_DATE: churn, LAST_ACTIVE_DATE: last}))


def activity_spells(transactions: ir.Table, *, as_of: dt.date, inactivity_days: int = 90,
                    ) -> ir.Table:
    """Spells from purchases: a gap of more than ``inactivity_days`` ends a spell.

    One pass of ``lag``/``lead`` over the purchases marks the first and the last purchase
    of every spell; only those rows (about two per spell) are paired up afterwards. This
    is about twice as fast as numbering spells with a running sum over every purchase.
    """
    t = transactions.filter(transactions[s.DATE] <= ibis.literal(as_of))
    t = t.select(s.CUSTOMER_ID, s.DATE, d=t[s.DATE].epoch_days())
    w = ibis.window(group_by=t[s.CUSTOMER_ID], order_by=t.d)
    t = t.mutate(prev=t.d.lag().over(w), nxt=t.d.lead().over(w))
    # purchases on the same day are 0 days apart: never a start or an end between them
    is_start = t.prev.isnull() | (t.d - t.prev > inactivity_days)
    is_end = t.nxt.isnull() | (t.nxt - t.d > inactivity_days)
    b = t.filter(is_start | is_end).select(
        s.CUSTOMER_ID, s.DATE, "d", first=t.prev.isnull(), is_start=is_start, is_end=is_end
    )
    # a spell's end is its start row itself, or the next marked row (start rows first on ties)
    w2 = ibis.window(group_by=b[s.CUSTOMER_ID], order_by=[b.d, b.is_end])
    b = b.mutate(next_date=b[s.DATE].lead().over(w2))
    g = b.filter(b.is_start).select(
        s.CUSTOMER_ID, "d",
        **{s.START_DATE: b[s.DATE],
           LAST_ACTIVE_DATE: ibis.ifelse(b.is_end, b[s.DATE], b.next_date)},
    )
    w3 = ibis.window(group_by=g[s.CUSTOMER_ID], order_by=g.d)
    g = g.mutate(**{SPELL_NO: ibis.row_number().over(w3) + 1})
    due = g[LAST_ACTIVE_DATE] + ibis.interval(days=inactivity_days)
    churn = ibis.ifelse(due <= ibis.literal(as_of), due, ibis.null(g[LAST_ACTIVE_DATE].type()))
    return _finish(g.mutate(**{s.CHURN_DATE: churn}))
