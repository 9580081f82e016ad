"""Churn by reason: counts, rates and losses by reason category and churn type, per
period, and how much of it the company could have controlled (domain.md §3).

The churns counted are those of the metrics (:mod:`churnradar.metrics`): a customer who
joined and left in the same period is neither new nor churned there, so the counts of
every period add up to the metrics' ``churned_count`` and the rates are on the same
start-of-period base (``start_count``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnradar import schema as s
from churnradar.metrics.periods import period_label
from churnradar.metrics.rates import PERIOD_MONTHS

UNKNOWN = "unknown"


@dataclass
class ReasonBreakdown:
    """The tables of :func:`reason_breakdown`."""

    period: str
    #: period, label, reason_category, controllable, churned, share, rate, lost_revenue,
    #: churn_loss
    by_category: pd.DataFrame
    #: period, label, churn_type, type_group, churned, share, rate, lost_revenue, churn_loss
    by_type: pd.DataFrame
    #: reason category x churn type counts over all periods (rows and columns may hold
    #: "unknown")
    matrix: pd.DataFrame
    #: period, label, churned, controllable, uncontrollable, unknown, controllable_share,
    #: churn_loss, controllable_loss, controllable_loss_share
    controllable: pd.DataFrame
    #: the same over every period: one dict
    totals: dict[str, float | int | None]


def _period_of(dates: pd.Series, period: str) -> np.ndarray:
    d = pd.to_datetime(dates)
    return ((d.dt.year * 12 + d.dt.month - 1) // PERIOD_MONTHS[period]).to_numpy()


def counted_churns(attributed: pd.DataFrame, period: str) -> pd.DataFrame:
    """The attributed churns the metrics count (not joined and left in one period), with
    their period index ``p``. ``attributed`` needs ``at`` (churn date) and
    ``start_date``."""
    p = _period_of(attributed["at"], period)
    keep = p != _period_of(attributed[s.START_DATE], period)
    return attributed.loc[keep].assign(p=p[keep])


def reason_breakdown(attributed: pd.DataFrame, *, period: str,
                     starts: pd.DataFrame | None = None,
                     losses: pd.DataFrame | None = None) -> ReasonBreakdown:
    """Counts, rates and losses by reason category and churn type per period.

    Parameters
    ----------
    attributed
        One row per churn: ``customer_id``, ``at`` (churn date), ``start_date`` (of the
        spell), ``reason_category``, ``churn_type``, ``type_group``, ``controllable``
        (see :func:`churnradar.reasons.attribution.attribute`).
    period
        month | quarter | year.
    starts
        ``p`` (period index) and ``start_count`` (customers at the period start) for the
        rates; without it the rates are empty.
    losses
        ``customer_id``, ``churn_date``, ``lost_revenue``, ``churn_loss`` per churn.
    """
    ch = counted_churns(attributed, period)
    ch = ch.assign(**{
        s.REASON_CATEGORY: ch[s.REASON_CATEGORY].fillna(UNKNOWN),
        s.CHURN_TYPE: ch[s.CHURN_TYPE].fillna(UNKNOWN),
        "type_group": ch["type_group"].fillna(UNKNOWN),
        "ctl": ch["controllable"].map({True: "controllable", False: "uncontrollable"})
        .fillna(UNKNOWN),
    })
    if losses is not None and not losses.empty:
        lo = losses[[s.CUSTOMER_ID, s.CHURN_DATE, "lost_revenue", "churn_loss"]].copy()
        lo[s.CUSTOMER_ID] = lo[s.CUSTOMER_ID].astype(str)
        lo["at"] = pd.to_datetime(lo[s.CHURN_DATE]).astype("datetime64[ns]")
        ch = ch.assign(**{s.CUSTOMER_ID: ch[s.CUSTOMER_ID].astype(str),
                          "at": pd.to_datetime(ch["at"]).astype("datetime64[ns]")})
        ch = ch.merge(lo.drop(columns=[s.CHURN_DATE]), on=[s.CUSTOMER_ID, "at"], how="left")
    else:
        ch = ch.assign(lost_revenue=np.nan, churn_loss=np.nan)
    has_loss = losses is not None and not losses.empty
    start = (starts.set_index("p")["start_count"] if starts is not None and len(starts)
             else pd.Series(dtype=float))

    def table(keys: list[str]) -> pd.DataFrame:
        g = (ch.groupby(["p", *keys], dropna=False)
             .agg(churned=(s.CUSTOMER_ID, "size"),
                  lost_revenue=("lost_revenue", lambda x: x.sum(min_count=1)),
                  churn_loss=("churn_loss", lambda x: x.sum(min_count=1)))
             .reset_index())
        per = g.groupby("p")["churned"].transform("sum")
        g["share"] = g["churned"] / per
        g["rate"] = g["churned"] / g["p"].map(start).astype(float)
        g.insert(1, "label", [period_label(int(p), period) for p in g["p"]])
        return g.sort_values(["p", "churned"], ascending=[True, False]).reset_index(drop=True)

    by_cat = table([s.REASON_CATEGORY])
    ctl_of = ch.drop_duplicates(s.REASON_CATEGORY).set_index(s.REASON_CATEGORY)["ctl"]
    by_cat.insert(3, "controllable", by_cat[s.REASON_CATEGORY].map(ctl_of))
    by_type = table([s.CHURN_TYPE, "type_group"])
    matrix = pd.crosstab(ch[s.REASON_CATEGORY], ch[s.CHURN_TYPE])

    ctl = ch.pivot_table(index="p", columns="ctl", values=s.CUSTOMER_ID, aggfunc="size",
                         fill_value=0)
    for col in ("controllable", "uncontrollable", UNKNOWN):
        if col not in ctl.columns:
            ctl[col] = 0
    ctl = ctl[["controllable", "uncontrollable", UNKNOWN]].astype(int)
    ctl["churned"] = ctl.sum(axis=1)
    known = ctl["controllable"] + ctl["uncontrollable"]
    ctl["controllable_share"] = ctl["controllable"] / known.where(known > 0)
    loss = ch.groupby("p")["churn_loss"].sum(min_count=1)
    loss_ctl = ch[ch["ctl"] == "controllable"].groupby("p")["churn_loss"].sum(min_count=1)
    ctl["churn_loss"] = loss.reindex(ctl.index)
    ctl["controllable_loss"] = loss_ctl.reindex(ctl.index).fillna(0.0) if has_loss else np.nan
    ctl["controllable_loss_share"] = ctl["controllable_loss"] / ctl["churn_loss"].where(
        ctl["churn_loss"] > 0)
    ctl = ctl.reset_index()
    ctl.insert(1, "label", [period_label(int(p), period) for p in ctl["p"]])
    ctl.columns.name = None

    n_ctl, n_unc = int(ctl["controllable"].sum()), int(ctl["uncontrollable"].sum())
    total_loss = float(ch["churn_loss"].sum()) if has_loss else None
    ctl_loss = (float(ch.loc[ch["ctl"] == "controllable", "churn_loss"].sum())
                if has_loss else None)
    totals: dict[str, float | int | None] = {
        "churned": int(len(ch)), "controllable": n_ctl, "uncontrollable": n_unc,
        "unknown": int(ctl[UNKNOWN].sum()),
        "controllable_share": n_ctl / (n_ctl + n_unc) if n_ctl + n_unc else None,
        "churn_loss": total_loss, "controllable_loss": ctl_loss,
        "controllable_loss_share": (ctl_loss / total_loss
                                    if total_loss and ctl_loss is not None else None),
    }
    return ReasonBreakdown(period=period, by_category=by_cat, by_type=by_type, matrix=matrix,
                           controllable=ctl, totals=totals)


__all__ = ["UNKNOWN", "ReasonBreakdown", "counted_churns", "reason_breakdown"]
