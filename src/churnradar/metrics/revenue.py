"""Revenue per customer and period, revenue churn, and the revenue lost through churn.

- Monthly revenue per customer: transactions summed per month; subscriptions pro-rated
  by the days of each month they cover (``amount_per_month × days / days in month``, so a
  full month is exactly the monthly amount). A subscription covers [start_date, end_date):
  the end date is the first day without service.
- Revenue churn compares each customer's revenue in period ``p`` with ``p − 1`` for the
  customers active at the start of ``p``: churned revenue (previous-period revenue of
  those who churned in ``p``), contraction and expansion of those retained.
- Lost revenue (营业损失) of a churned customer is its revenue over a comparable prior
  period of one period length: for contracts the period before the churn period; for
  activity-based churn the period ending with the month of the last purchase (by
  definition nothing was bought in the inactivity window just before the churn date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from churnradar import schema as s
from churnradar.lifecycle import LAST_ACTIVE_DATE
from churnradar.metrics.periods import month_index, period_index
from churnradar.metrics.rates import PERIOD_MONTHS

M = "m"
P = "p"
REV = "revenue"
MARGIN_AMT = "margin_amount"


def _month_start(m: ir.IntegerValue) -> ir.DateValue:
    return ibis.date(m // 12, m % 12 + 1, 1)


def monthly_revenue(tables: dict[str, ir.Table], business: str, as_of: dt.date,
                    ) -> ir.Table | None:
    """customer_id, m, revenue, margin_amount (null without margins); None without amounts."""
    if business == "non_contractual":
        t = tables["transactions"]
        t = t.filter(t[s.DATE] <= ibis.literal(as_of))
        has_margin = s.MARGIN in t.columns
        margin = t[s.MARGIN] if has_margin else ibis.null("float64")
        t = t.select(s.CUSTOMER_ID, m=month_index(t[s.DATE]), amt=t[s.AMOUNT], mg=margin)
        return t.group_by([s.CUSTOMER_ID, M]).aggregate(
            **{REV: t.amt.sum(), MARGIN_AMT: t.mg.sum()}
        )
    t = tables["subscriptions"]
    if s.AMOUNT_PER_MONTH not in t.columns:
        return None
    stop = as_of + dt.timedelta(days=1)
    t = t.filter(t[s.START_DATE] <= ibis.literal(as_of))
    end = t[s.END_DATE].fill_null(ibis.literal(stop))
    end = ibis.ifelse(end > ibis.literal(stop), ibis.literal(stop), end)
    t = t.select(s.CUSTOMER_ID, a=t[s.START_DATE], b=end,
                 amt=t[s.AMOUNT_PER_MONTH].fill_null(0.0))
    # one row per subscription and calendar month it touches. The range bounds are made
    # columns first: with the expressions inline, PySpark 4.0 lost rows (parity test)
    t = t.filter(t.b > t.a)
    t = t.mutate(m0=month_index(t.a), m1=month_index(t.b - ibis.interval(days=1)))
    t = t.mutate(**{M: ibis.range(t.m0, t.m1 + 1).unnest()})
    t = t.mutate(m_start=_month_start(t[M]), m_end=_month_start(t[M] + 1))
    a_d = ibis.ifelse(t.a > t.m_start, t.a, t.m_start).epoch_days()
    b_d = ibis.ifelse(t.b < t.m_end, t.b, t.m_end).epoch_days()
    days = t.m_end.epoch_days() - t.m_start.epoch_days()
    t = t.mutate(r=t.amt * (b_d - a_d) / days)
    g = t.group_by([s.CUSTOMER_ID, M]).aggregate(**{REV: t.r.sum()})
    return g.mutate(**{MARGIN_AMT: ibis.null("float64")})


def period_revenue(mrev: ir.Table, period: str) -> ir.Table:
    """customer_id, p, revenue, margin_amount."""
    k = PERIOD_MONTHS[period]
    t = mrev.mutate(**{P: mrev[M] // k})
    return t.group_by([s.CUSTOMER_ID, P]).aggregate(
        **{REV: t[REV].sum(), MARGIN_AMT: t[MARGIN_AMT].sum()}
    )


def revenue_panel(prev_rev: ir.Table, spells: ir.Table, period: str, default_margin: float,
                  carry: Sequence[str] = ()) -> ir.Table:
    """Per customer and period ``p`` where the customer was active at the start of ``p``:
    previous and current revenue, whether it churned in ``p``, and its margin rate.

    ``spells`` may hold the customer's ``margin_rate`` and segment columns (``carry``),
    which are passed through so that segments need no further join.
    """
    cur = prev_rev.select(c1=prev_rev[s.CUSTOMER_ID], p1=prev_rev[P], cur=prev_rev[REV])
    pv = prev_rev.view()
    prev = pv.select(c2=pv[s.CUSTOMER_ID], p2=pv[P] + 1, prev=pv[REV], prev_mg=pv[MARGIN_AMT])
    both = cur.outer_join(prev, [cur.c1 == prev.c2, cur.p1 == prev.p2])
    both = both.select(
        **{s.CUSTOMER_ID: both.c1.fill_null(both.c2), P: both.p1.fill_null(both.p2)},
        cur=both.cur.fill_null(0.0), prev=both.prev.fill_null(0.0), prev_mg=both.prev_mg,
    ).view()  # a projection over a join must be a fresh relation before joining again
    has_rate = s.MARGIN_RATE in spells.columns
    sp = spells.select(
        *carry,
        cs=spells[s.CUSTOMER_ID],
        sp=period_index(spells[s.START_DATE], period),
        cp=period_index(spells[s.CHURN_DATE], period),
        rate=spells[s.MARGIN_RATE] if has_rate else ibis.null("float64"),
    )
    j = both.join(sp, [both[s.CUSTOMER_ID] == sp.cs, sp.sp < both[P],
                       sp.cp.isnull() | (sp.cp >= both[P])])
    from_txn = ibis.ifelse(j.prev > 0, j.prev_mg / j.prev, ibis.null("float64"))
    rate = j.rate.fill_null(from_txn).fill_null(default_margin)
    churned = j.cp.notnull() & (j.cp == j[P])
    return j.select(
        P, "cur", "prev", *carry,
        churned=churned,
        contraction=ibis.ifelse(~churned & (j.prev > j.cur), j.prev - j.cur, 0.0),
        expansion=ibis.ifelse(~churned & (j.cur > j.prev), j.cur - j.prev, 0.0),
        mrate=rate,
    )


def lost_revenue(mrev: ir.Table, spells: ir.Table, business: str, period: str,
                 default_margin: float, carry: Sequence[str] = ()) -> ir.Table:
    """Per churned spell: p (churn period), lost_revenue, churn_loss, and the ``carry``
    columns of ``spells`` (segments)."""
    k = PERIOD_MONTHS[period]
    cp = period_index(spells[s.CHURN_DATE], period)
    # spells that began and ended in the same period are not counted as churn (flows.py)
    ch = spells.filter(cp.notnull() & (cp != period_index(spells[s.START_DATE], period)))
    cp = period_index(ch[s.CHURN_DATE], period)
    # contracts: the period before the churn period; activity: ending at the last purchase
    anchor = cp * k - 1 if business == "contractual" else month_index(ch[LAST_ACTIVE_DATE])
    has_rate = s.MARGIN_RATE in spells.columns
    ch = ch.select(*carry, cs=ch[s.CUSTOMER_ID], **{P: cp}, hi=anchor, lo=anchor - (k - 1),
                   rate=ch[s.MARGIN_RATE] if has_rate else ibis.null("float64"))
    j = ch.left_join(mrev, [ch.cs == mrev[s.CUSTOMER_ID], mrev[M] >= ch.lo, mrev[M] <= ch.hi])
    g = j.group_by([j.cs, j[P], j.hi, j.rate, *[j[c] for c in carry]]).aggregate(
        rev=j[REV].sum().fill_null(0.0), mg=j[MARGIN_AMT].sum()
    )
    loss = (g.rate * g.rev).fill_null(g.mg).fill_null(g.rev * default_margin)
    return g.select(P, *carry, lost_revenue=g.rev, churn_loss=loss)
