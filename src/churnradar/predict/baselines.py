"""Two naive baselines a churn model must beat (issue: backtest).

- :class:`RecencyBaseline` — "the longer since the last activity, the likelier to leave":
  one monotone (isotonic) mapping from days since the last purchase or usage to a churn
  probability, learnt on the training rows.
- :class:`SegmentRateBaseline` — "everyone leaves at last period's rate of their
  segment": the churn rate per segment at the latest training observation date.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from churnradar import schema as s
from churnradar.exceptions import NotFittedError

#: columns tried, in order, as "days since the last activity"
RECENCY_COLUMNS: tuple[str, ...] = ("recency_days", "days_since_event", "days_since_plan_change",
                                    "tenure_days")
#: columns tried, in order, as the segment
SEGMENT_COLUMNS: tuple[str, ...] = (s.SEGMENT, s.GRADE, "product")


def _first(columns: pd.Index, candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in columns), None)


class RecencyBaseline:
    """Churn probability as a monotone function of days since the last activity."""

    def __init__(self) -> None:
        pass

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> Self:
        col = _first(X.columns, RECENCY_COLUMNS)
        if col is None:
            raise ValueError("no recency column in the features")
        x = X[col].to_numpy(float)
        self.column_ = col
        # never active = the longest silence seen
        self.fill_ = float(np.nanmax(x)) + 1.0 if np.isfinite(x).any() else 0.0
        self.iso_ = IsotonicRegression(out_of_bounds="clip", increasing=True,
                                       y_min=0.0, y_max=1.0)
        self.iso_.fit(np.nan_to_num(x, nan=self.fill_), np.asarray(y, float))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "iso_"):
            raise NotFittedError("RecencyBaseline is not fitted yet; call fit first")
        x = np.nan_to_num(X[self.column_].to_numpy(float), nan=self.fill_)
        p = np.clip(self.iso_.predict(x), 0.0, 1.0)
        return np.column_stack([1.0 - p, p])


class SegmentRateBaseline:
    """Last period's churn rate of the customer's segment."""

    def __init__(self) -> None:
        pass

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray,
            *, time: pd.Series | np.ndarray | None = None) -> Self:
        y = np.asarray(y, float)
        last = np.ones(len(y), bool)
        if time is not None:
            t = pd.to_datetime(pd.Series(np.asarray(time)))
            last = (t == t.max()).to_numpy()
        self.column_ = _first(X.columns, SEGMENT_COLUMNS)
        self.overall_ = float(y[last].mean())
        self.rates_: dict[str, float] = {}
        if self.column_ is not None:
            seg = X[self.column_].astype("string").fillna("—").to_numpy()[last]
            rates = pd.Series(y[last]).groupby(seg).mean()
            self.rates_ = {str(k): float(v) for k, v in rates.items()}
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "overall_"):
            raise NotFittedError("SegmentRateBaseline is not fitted yet; call fit first")
        if self.column_ is None or self.column_ not in X.columns:
            p = np.full(len(X), self.overall_)
        else:
            seg = X[self.column_].astype("string").fillna("—")
            p = seg.map(self.rates_).astype(float).fillna(self.overall_).to_numpy()
        return np.column_stack([1.0 - p, p])
