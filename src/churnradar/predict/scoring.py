"""Score every active customer: churn probability, risk tier and top drivers.

The drivers of one customer are the features that push that customer's risk up the
most (per-customer contributions to the model's log-odds: LightGBM's ``pred_contrib``,
the linear terms of the logistic model), each mapped to a reason category of
domain.md §3 where the feature implies one (:mod:`churnradar.features.reasons`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from churnradar import schema as s
from churnradar.exceptions import SchemaError
from churnradar.features.build import AS_OF
from churnradar.features.reasons import reason_of
from churnradar.predict.dataset import PredictionData
from churnradar.settings import PredictSettings

if TYPE_CHECKING:
    from churnradar.predict.training import TrainedModel

PROBABILITY = "churn_probability"
RISK_TIER = "risk_tier"
RISK_RANK = "risk_rank"
TOP_REASON = "top_reason"
TIERS: tuple[str, ...] = ("high", "medium", "low")


def risk_tiers(p: np.ndarray, *, high_share: float, medium_share: float) -> np.ndarray:
    """``high`` for the riskiest ``high_share`` of customers, ``medium`` for the next
    ``medium_share``, ``low`` for the rest; ties broken by position (stable)."""
    n = len(p)
    order = np.argsort(-p, kind="stable")
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    n_high = int(round(high_share * n))
    n_med = int(round((high_share + medium_share) * n))
    return np.where(rank < n_high, "high", np.where(rank < n_med, "medium", "low"))


def top_drivers(contrib: pd.DataFrame, k: int) -> pd.DataFrame:
    """The ``k`` features with the largest positive contribution per row.

    Returns ``driver_1 .. driver_k`` (feature name, empty where fewer than ``k`` push the
    risk up), ``driver_i_effect`` (log-odds) and ``driver_i_reason`` (reason category).
    """
    values = contrib.to_numpy(dtype=np.float64, copy=True)
    names = np.asarray(contrib.columns, dtype=object)
    k = min(k, values.shape[1])
    # argpartition then sort the k winners: O(n * features), not a full sort per row
    idx = np.argpartition(-values, k - 1, axis=1)[:, :k]
    top = np.take_along_axis(values, idx, axis=1)
    order = np.argsort(-top, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1)
    top = np.take_along_axis(top, order, axis=1)
    reasons = np.asarray([reason_of(str(n))[0] for n in names], dtype=object)
    out: dict[str, np.ndarray] = {}
    for i in range(k):
        pos = top[:, i] > 0
        none = np.full(len(pos), None, dtype=object)
        out[f"driver_{i + 1}"] = np.where(pos, names[idx[:, i]], none)
        out[f"driver_{i + 1}_effect"] = np.where(pos, top[:, i], np.nan)
        out[f"driver_{i + 1}_reason"] = np.where(pos, reasons[idx[:, i]], none)
    frame = pd.DataFrame(out, index=contrib.index)
    # the first driver that names a reason is the customer's likely reason
    first = frame[f"driver_{1}_reason"].copy()
    for i in range(2, k + 1):
        first = first.fillna(frame[f"driver_{i}_reason"])
    frame[TOP_REASON] = first
    return frame


def check_columns(trained: TrainedModel, features: pd.DataFrame) -> None:
    """A model needs every one of its feature columns in the workspace's features."""
    missing = [c for c in trained.model.feature_names_ if c not in features.columns]
    if missing:
        raise SchemaError(key="err_model_columns", columns=", ".join(missing[:10]),
                          count=len(missing))


def score_customers(data: PredictionData, trained: TrainedModel, settings: PredictSettings,
                    *, as_of: dt.date | None = None, drivers: bool = True) -> pd.DataFrame:
    """Score everyone active at ``as_of`` (default: the data end) with ``trained``.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``as_of``, ``churn_probability``, ``risk_rank`` (1 = riskiest),
        ``risk_tier`` (high / medium / low) and, with ``drivers``, ``driver_i``,
        ``driver_i_effect``, ``driver_i_reason`` and ``top_reason``; riskiest first.
    """
    as_of = as_of or data.data_end
    feats = data.features(as_of, trained.plan)
    check_columns(trained, feats)
    x = feats[list(trained.model.feature_names_)]
    p = trained.model.predict_proba(x)[:, 1]
    out = pd.DataFrame({s.CUSTOMER_ID: feats[s.CUSTOMER_ID].to_numpy(),
                        AS_OF: feats[AS_OF].to_numpy(), PROBABILITY: p})
    out[RISK_TIER] = risk_tiers(p, high_share=settings.high_risk_share,
                                medium_share=settings.medium_risk_share)
    if drivers and len(x):
        contrib = trained.model.contributions(x)
        out = pd.concat([out, top_drivers(contrib, settings.top_drivers)
                         .reset_index(drop=True)], axis=1)
    out = out.sort_values([PROBABILITY, s.CUSTOMER_ID], ascending=[False, True],
                          kind="stable").reset_index(drop=True)
    out.insert(3, RISK_RANK, np.arange(1, len(out) + 1))
    return out
