"""Labels and observation dates for churn risk prediction.

For an observation date ``T`` the population is every customer active at ``T`` (by the
lifecycle rules applied to the data up to ``T``; customers already churned are not in
it) and the label is 1 when the customer's relationship ends in ``(T, T + horizon]``
by the same rules applied to all the data. A date is usable only when ``T + horizon``
is on or before the date the data is complete up to.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from churnradar import schema as s
from churnradar.exceptions import InputError
from churnradar.features.build import AS_OF

LABEL = "churned"


def month_end(date: dt.date) -> dt.date:
    nxt = dt.date(date.year + (date.month == 12), date.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def months_back(date: dt.date, months: int) -> dt.date:
    """The month end ``months`` months before the month of ``date``."""
    idx = date.year * 12 + date.month - 1 - months
    return month_end(dt.date(idx // 12, idx % 12 + 1, 1))


def observation_dates(data_end: dt.date, *, horizon_days: int, count: int,
                      history_start: dt.date | None = None, min_history_days: int = 90,
                      ) -> list[dt.date]:
    """The latest ``count`` month ends ``T`` whose outcome is known (``T + horizon``
    on or before ``data_end``), oldest first, none within ``min_history_days`` of the
    start of the history.

    Raises
    ------
    InputError
        When the history is too short for a single labelled observation date.
    """
    last = data_end - dt.timedelta(days=horizon_days)
    latest = last if last == month_end(last) else months_back(last, 1)
    dates = [months_back(latest, i) for i in range(count)]
    if history_start is not None:
        dates = [d for d in dates if (d - history_start).days >= min_history_days]
    if not dates:
        raise InputError(key="err_predict_history", horizon=horizon_days,
                         start=str(history_start), end=str(data_end))
    return sorted(dates)


def spells_frame(spells: object) -> pd.DataFrame:
    """The lifecycle spells as pandas (customer_id, start_date, churn_date)."""
    df = spells.select(s.CUSTOMER_ID, s.START_DATE, s.CHURN_DATE).to_pandas()  # type: ignore[attr-defined]
    df[s.START_DATE] = pd.to_datetime(df[s.START_DATE])
    df[s.CHURN_DATE] = pd.to_datetime(df[s.CHURN_DATE])
    return df


def make_labels(spells: pd.DataFrame, *, as_of: dt.date, horizon_days: int) -> pd.DataFrame:
    """``customer_id``, ``as_of``, ``churned`` (0/1) and ``churn_date`` of everyone active
    at ``as_of``, from the spells of the lifecycle built on all the data."""
    t = pd.Timestamp(as_of)
    churn = spells[s.CHURN_DATE]
    active = (spells[s.START_DATE] <= t) & (churn.isna() | (churn > t))
    sub = spells.loc[active, [s.CUSTOMER_ID, s.CHURN_DATE]]
    due = t + pd.Timedelta(days=horizon_days)
    label = (sub[s.CHURN_DATE].notna() & (sub[s.CHURN_DATE] <= due)).to_numpy(np.int8)
    return pd.DataFrame({
        s.CUSTOMER_ID: sub[s.CUSTOMER_ID].to_numpy(),
        AS_OF: t,
        LABEL: label,
        s.CHURN_DATE: sub[s.CHURN_DATE].where(label.astype(bool)).to_numpy(),
    })
