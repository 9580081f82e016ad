"""Customer flows per period: start (S), new, win-back, churned (C), end (E).

Written as one Ibis aggregation over the spells (which run on any engine), followed by a
cumulative sum over the small per-period table: ``S_p = Σ_{q<p} (new + winback − churned)``
and ``E = S + new + winback − C``, so the stock-flow identity C = S − (E − N) of domain.md
holds by construction.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from churnradar import schema as s
from churnradar.lifecycle import SPELL_NO
from churnradar.metrics.periods import period_index

SEG = "segment"
P = "p"


def flow_events(spells: ir.Table, period: str, seg: str | None = None) -> ir.Table:
    """Aggregated flow events per (period[, segment]); ``seg`` names a column of ``spells``
    that holds the segment (it comes back as ``segment``)."""
    sp = spells if seg is None else spells.mutate(**{SEG: spells[seg]})
    seg_col = [SEG] if seg is not None else []
    sp = sp.mutate(sp_=period_index(sp[s.START_DATE], period),
                   cp_=period_index(sp[s.CHURN_DATE], period))
    # joined and left within one period: neither new nor churned (so C <= S, as in the
    # aggregate formula), counted apart so that nothing is hidden
    within = sp.cp_.notnull() & (sp.cp_ == sp.sp_)
    starts = sp.select(
        *seg_col,
        **{P: sp.sp_,
           "new": ibis.ifelse((sp[SPELL_NO] == 1) & ~within, 1, 0),
           "winback": ibis.ifelse((sp[SPELL_NO] > 1) & ~within, 1, 0),
           "joined_left": ibis.ifelse(within, 1, 0),
           "churned": ibis.literal(0)},
    )
    ended = sp.filter(sp.cp_.notnull() & (sp.cp_ != sp.sp_))
    churns = ended.select(
        *seg_col,
        **{P: ended.cp_, "new": ibis.literal(0), "winback": ibis.literal(0),
           "joined_left": ibis.literal(0), "churned": ibis.literal(1)},
    )
    u = starts.union(churns, distinct=False)
    return u.group_by([P, *seg_col]).aggregate(
        new_count=u.new.sum(), winback_count=u.winback.sum(), churned_count=u.churned.sum(),
        joined_left_count=u.joined_left.sum(),
    )


def stock_table(events: pd.DataFrame, p_lo: int, p_hi: int, by_segment: bool) -> pd.DataFrame:
    """Complete the per-period flows into S/new/winback/C/E rows for periods p_lo..p_hi.

    Flows before ``p_lo`` are accumulated into the start count of ``p_lo``.
    """
    keys = [SEG] if by_segment else []
    ev = events.copy()
    counts = ["new_count", "winback_count", "churned_count", "joined_left_count"]
    for c in counts:
        ev[c] = ev[c].astype("int64")
    ev = ev[ev[P] <= p_hi]
    periods = pd.Index(range(int(min(ev[P].min(), p_lo)) if len(ev) else p_lo, p_hi + 1), name=P)
    if by_segment:
        segs = sorted(ev[SEG].unique().tolist(), key=str)
        grid = pd.MultiIndex.from_product([segs, periods], names=[SEG, P])
        ev = ev.groupby([SEG, P])[counts].sum()
    else:
        grid = periods
        ev = ev.groupby(P)[counts].sum()
    full = ev.reindex(grid, fill_value=0).reset_index()
    net = full["new_count"] + full["winback_count"] - full["churned_count"]
    if by_segment:
        full["end_count"] = net.groupby(full[SEG]).cumsum()
    else:
        full["end_count"] = net.cumsum()
    full["start_count"] = full["end_count"] - net
    full = full[full[P] >= p_lo].reset_index(drop=True)
    return full[[*keys, P, "start_count", "new_count", "winback_count", "churned_count",
                 "end_count", "joined_left_count"]]
