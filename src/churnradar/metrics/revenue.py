"""Revenue per customer and period, revenue churn, and the revenue lost through churn.

- Monthly revenue per customer: transactions summed per month; subscriptions pro-rated
  by the days of each month they cover (``amount_per_month × days / days in month``, so a
  full month is exactly the monthly amount).
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

import ibis
import ibis.expr.types as ir

from churnradar import schema as s
from churnradar.lifecycle import LAST_ACTIVE_DATE
from churnradar.metrics.periods import month_index, month_index_of, month_start, period_index
from churnradar.metrics.rates import PERIOD_MONTHS

M = "m"
P = "p"
REV = "revenue"
MARGIN_AMT = "margin_amount"


def month_calendar(first: dt.date, last: dt.date) -> ir.Table:
    """One row per calendar month between two dates: m, m_start, m_end (exclusive), days."""
    rows = []
    for m in range(month_index_of(first), month_index_of(last) + 1):
        a, b = month_start(m), month_start(m + 1)
        rows.append({"m": m, "m_start": a, "m_end": b, "m_days": (b - a).days})
    return ibis.memtable(rows, schema={"m": "int64", "m_start": "date", "m_end": "date",
                                       "m_days": "int64"})


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
    lo = t.aggregate(lo=t.a.min()).to_pandas().iloc[0]["lo"]
    first = lo.date() if hasattr(lo, "date") else lo
    cal = month_calendar(first, as_of)
    j = t.join(cal, [cal.m_start < t.b, cal.m_end > t.a])
    a_d = ibis.ifelse(j.a > j.m_start, j.a, j.m_start).epoch_days()
    b_d = ibis.ifelse(j.b < j.m_end, j.b, j.m_end).epoch_days()
    j = j.select(s.CUSTOMER_ID, M, r=j.amt * (b_d - a_d) / j.m_days)
    g = j.group_by([s.CUSTOMER_ID, M]).aggregate(**{REV: j.r.sum()})
    return g.mutate(**{MARGIN_AMT: ibis.null("float64")})


def period_revenue(mrev: ir.Table, period: str) -> ir.Table:
    """customer_id, p, revenue, margin_amount."""
    k = PERIOD_MONTHS[period]
    t = mrev.mutate(**{P: mrev[M] // k})
    return t.group_by([s.CUSTOMER_ID, P]).aggregate(
        **{REV: t[REV].sum(), MARGIN_AMT: t[MARGIN_AMT].sum()}
    )


def revenue_panel(prev_rev: ir.Table, spells: ir.Table, period: str, margin_rate: ir.Table,
                  default_margin: float) -> ir.Table:
    """Per customer and period ``p`` where the customer was active at the start of ``p``:
    previous and current revenue, whether it churned in ``p``, and its margin rate."""
    cur = prev_rev.select(c1=prev_rev[s.CUSTOMER_ID], p1=prev_rev[P], cur=prev_rev[REV])
    pv = prev_rev.view()
    prev = pv.select(c2=pv[s.CUSTOMER_ID], p2=pv[P] + 1, prev=pv[REV], prev_mg=pv[MARGIN_AMT])
    both = cur.outer_join(prev, [cur.c1 == prev.c2, cur.p1 == prev.p2])
    both = both.select(
        **{s.CUSTOMER_ID: both.c1.fill_null(both.c2), P: both.p1.fill_null(both.p2)},
        cur=both.cur.fill_null(0.0), prev=both.prev.fill_null(0.0), prev_mg=both.prev_mg,
    ).view()  # a projection over a join must be a fresh relation before joining again
    sp = spells.select(
        cs=spells[s.CUSTOMER_ID],
        sp=period_index(spells[s.START_DATE], period),
        cp=period_index(spells[s.CHURN_DATE], period),
    )
    j = both.join(sp, [both[s.CUSTOMER_ID] == sp.cs, sp.sp < both[P],
                       sp.cp.isnull() | (sp.cp >= both[P])])
    j = j.left_join(margin_rate, s.CUSTOMER_ID).drop(f"{s.CUSTOMER_ID}_right")
    from_txn = ibis.ifelse(j.prev > 0, j.prev_mg / j.prev, ibis.null("float64"))
    rate = j[s.MARGIN_RATE].fill_null(from_txn).fill_null(default_margin)
    churned = j.cp.notnull() & (j.cp == j[P])
    return j.select(
        s.CUSTOMER_ID, P, "cur", "prev",
        churned=churned,
        contraction=ibis.ifelse(~churned & (j.prev > j.cur), j.prev - j.cur, 0.0),
        expansion=ibis.ifelse(~churned & (j.cur > j.prev), j.cur - j.prev, 0.0),
        mrate=rate,
    )


def lost_revenue(mrev: ir.Table, spells: ir.Table, business: str, period: str,
                 margin_rate: ir.Table, default_margin: float) -> ir.Table:
    """Per churned spell: customer_id, p (churn period), lost_revenue, churn_loss."""
    k = PERIOD_MONTHS[period]
    ch = spells.filter(spells[s.CHURN_DATE].notnull())
    cp = period_index(ch[s.CHURN_DATE], period)
    # contracts: the period before the churn period; activity: ending at the last purchase
    anchor = cp * k - 1 if business == "contractual" else month_index(ch[LAST_ACTIVE_DATE])
    ch = ch.select(cs=ch[s.CUSTOMER_ID], **{P: cp}, hi=anchor, lo=anchor - (k - 1))
    j = ch.left_join(mrev, [ch.cs == mrev[s.CUSTOMER_ID], mrev[M] >= ch.lo, mrev[M] <= ch.hi])
    g = j.group_by([j.cs, j[P], j.hi]).aggregate(
        rev=j[REV].sum().fill_null(0.0), mg=j[MARGIN_AMT].sum()
    )
    g = g.left_join(margin_rate, g.cs == margin_rate[s.CUSTOMER_ID])
    loss = (g[s.MARGIN_RATE] * g.rev).fill_null(g.mg).fill_null(g.rev * default_margin)
    return g.select(**{s.CUSTOMER_ID: g.cs, P: g[P]}, lost_revenue=g.rev, churn_loss=loss)
