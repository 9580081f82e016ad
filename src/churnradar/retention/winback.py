"""Win-back (挽回): churned customers worth contacting again (domain.md §4).

Not every churned customer is worth winning back:

- malicious churn (恶意流失: bad credit, fraud) is never offered anything;
- natural churn (自然流失 as a churn type: relocation, death) cannot be won back — the
  customer is gone or the need has disappeared, so an offer is money spent for nothing.

The reason *category* "natural" is not excluded on its own: it also holds "other" reasons
(the importer maps 其他 / other to it), which may well be winnable. The rest are ranked by
the expected value of the offer, ``value × success − cost``, and only positive ones kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from churnradar import schema as s
from churnradar.exceptions import InputError, SchemaError

WINBACK_ACTION = "winback_offer"
#: churn types never on the win-back list
NOT_WINNABLE: tuple[str, ...] = ("malicious", "natural")
DAYS_SINCE_CHURN = "days_since_churn"
EXPECTED = "expected"


def winback_list(churned: pd.DataFrame, *, as_of: dt.date, days: int, cost: float,
                 success: float, exclude: Iterable[object] | None = None) -> pd.DataFrame:
    """Churned customers worth a win-back offer, best first.

    Parameters
    ----------
    churned
        One row per churn: ``customer_id``, ``churn_date``, ``reason_category``,
        ``churn_type`` (both may be missing), ``value`` (what the customer was worth,
        e.g. the yearly margin before leaving). Other columns are kept. A customer who
        churned more than once in the window is listed once, with the latest churn.
    as_of
        Customers who churned in ``(as_of − days, as_of]`` are considered.
    days
        The window in days (``[retention] winback_days``).
    cost, success
        Cost of one offer and the assumed probability that it wins the customer back.
    exclude
        Customer ids not to list, e.g. those who have already come back.

    Returns
    -------
    pandas.DataFrame
        The input columns plus ``days_since_churn``, ``action`` ("winback_offer"),
        ``cost``, ``success``, ``expected`` (value × success − cost, > 0) and ``rank``
        (1 = highest expected). ``attrs["excluded"]`` counts the churners of the window
        left out: ``malicious``, ``natural``, ``not_worth`` (expected ≤ 0 or value
        unknown) and ``excluded`` (the ``exclude`` ids).
    """
    missing = [c for c in (s.CUSTOMER_ID, s.CHURN_DATE, s.VALUE) if c not in churned.columns]
    if missing:
        raise SchemaError(key="retention_err_missing_columns", table="churned",
                          columns=", ".join(missing))
    if days < 1:
        raise InputError(key="retention_err_out_of_range", name="days", rule="≥ 1",
                         value=days)
    if cost < 0 or not 0 <= success <= 1:
        raise InputError(key="retention_err_out_of_range", name="cost / success",
                         rule="≥ 0 / ∈ [0, 1]", value=f"{cost} / {success}")
    frame = churned.copy()
    for col in (s.REASON_CATEGORY, s.CHURN_TYPE):
        if col not in frame.columns:
            frame[col] = None
    when = pd.to_datetime(frame[s.CHURN_DATE])
    end = pd.Timestamp(as_of)
    frame = frame[(when <= end) & (when > end - pd.Timedelta(days=days))]
    frame = frame.assign(**{s.CHURN_DATE: pd.to_datetime(frame[s.CHURN_DATE])})
    frame = frame.sort_values(s.CHURN_DATE, kind="stable")
    frame = frame.drop_duplicates(s.CUSTOMER_ID, keep="last")

    counts = {}
    ctype = frame[s.CHURN_TYPE]
    for kind in NOT_WINNABLE:
        counts[kind] = int((ctype == kind).sum())
    frame = frame[~ctype.isin(NOT_WINNABLE)]
    if exclude is not None:
        out = frame[s.CUSTOMER_ID].isin(list(exclude))
        counts["excluded"] = int(out.sum())
        frame = frame[~out]
    else:
        counts["excluded"] = 0
    value = pd.to_numeric(frame[s.VALUE], errors="coerce").to_numpy(float)
    expected = value * success - cost
    worth = np.isfinite(expected) & (expected > 0)
    counts["not_worth"] = int((~worth).sum())
    frame = frame[worth].assign(**{
        DAYS_SINCE_CHURN: (end - frame.loc[worth, s.CHURN_DATE]).dt.days.to_numpy(),
        s.ACTION: WINBACK_ACTION,
        "cost": float(cost),
        "success": float(success),
        EXPECTED: expected[worth],
    })
    frame = frame.sort_values([EXPECTED, s.CHURN_DATE], ascending=[False, False],
                              kind="stable").reset_index(drop=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    frame.attrs["excluded"] = counts
    return frame


__all__ = ["NOT_WINNABLE", "WINBACK_ACTION", "winback_list"]
