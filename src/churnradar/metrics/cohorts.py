"""Cohort retention by acquisition month (new cohorts churn more: safety-line check 2).

A customer's cohort is the month it joined (``signup_date`` where given, else the start
of its first spell). Cell (cohort, k) is the share of the cohort still in its first
relationship at the end of month ``cohort + k``; cells that the data does not yet cover
are empty, not zero.
"""

from __future__ import annotations

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from churnradar import schema as s
from churnradar.lifecycle import SPELL_NO
from churnradar.metrics.periods import month_index, month_start


def cohort_month(spells: ir.Table, customers: ir.Table | None) -> ir.Table:
    """customer_id, cohort_m (month index), churn_m (month index or null) of first spells."""
    first = spells.filter(spells[SPELL_NO] == 1)
    start = first[s.START_DATE]
    if customers is not None and s.SIGNUP_DATE in customers.columns:
        sign = customers.select(cid=customers[s.CUSTOMER_ID], sign=customers[s.SIGNUP_DATE])
        first = first.left_join(sign, first[s.CUSTOMER_ID] == sign.cid)
        start = first.sign.fill_null(first[s.START_DATE])
    return first.select(
        s.CUSTOMER_ID, cohort_m=month_index(start), churn_m=month_index(first[s.CHURN_DATE])
    )


def cohort_matrix(cohorts: ir.Table, first_month: int, last_complete_month: int,
                  max_cohorts: int = 24) -> pd.DataFrame:
    """Retention matrix: index cohort label, column ``size``, then 0, 1, 2, ... months."""
    c = cohorts.filter((cohorts.cohort_m >= first_month)
                       & (cohorts.cohort_m <= last_complete_month))
    c = c.mutate(k=c.churn_m - c.cohort_m)
    counts = c.group_by(["cohort_m", "k"]).aggregate(n=c.count()).to_pandas()
    if counts.empty:
        return pd.DataFrame(columns=["size"])
    counts["k"] = counts["k"].astype("Int64")
    months = sorted(counts["cohort_m"].unique())[-max_cohorts:]
    width = last_complete_month - int(months[0]) + 1
    rows = {}
    for cm in months:
        sub = counts[counts["cohort_m"] == cm]
        size = int(sub["n"].sum())
        churned_by = np.zeros(width, dtype=np.int64)
        for k, n in zip(sub["k"], sub["n"], strict=True):
            if pd.notna(k) and int(k) < width:
                churned_by[max(int(k), 0):] += int(n)
        row: dict[str | int, float] = {"size": size}
        for k in range(width):
            row[k] = (size - churned_by[k]) / size if cm + k <= last_complete_month else np.nan
        start = month_start(int(cm))
        rows[f"{start.year}-{start.month:02d}"] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "cohort"
    return out
