"""The churn loss of each churned customer, for the loss by reason (domain.md §2: lost
revenue x margin), computed exactly as the metrics compute it
(:func:`churnradar.metrics.revenue.lost_revenue`), one row per churn instead of per period.
"""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd

from churnradar import schema as s
from churnradar.lifecycle import Lifecycle
from churnradar.metrics.revenue import lost_revenue, monthly_revenue


def churn_losses(tables: dict[str, ir.Table], life: Lifecycle, *, period: str,
                 margin: float) -> pd.DataFrame | None:
    """``customer_id``, ``churn_date``, ``lost_revenue``, ``churn_loss`` per churned spell;
    None when the data has no amounts."""
    mrev = monthly_revenue(tables, life.business, life.as_of)
    if mrev is None:
        return None
    spells = life.spells
    c = tables.get("customers")
    if c is not None and s.MARGIN_RATE in c.columns:
        rates = c.select(s.CUSTOMER_ID, **{s.MARGIN_RATE: c[s.MARGIN_RATE].cast("float64")})
        spells = spells.left_join(rates, s.CUSTOMER_ID).drop(f"{s.CUSTOMER_ID}_right")
    lost = lost_revenue(mrev, spells, life.business, period, margin,
                        (s.CUSTOMER_ID, s.CHURN_DATE))
    df = lost.select(s.CUSTOMER_ID, s.CHURN_DATE, "lost_revenue", "churn_loss").to_pandas()
    df[s.CHURN_DATE] = pd.to_datetime(df[s.CHURN_DATE])
    return df
