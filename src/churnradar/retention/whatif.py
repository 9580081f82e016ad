"""What if churn were lower? The profit effect of lowering the churn rate by a few points.

The course material (domain.md §2) quotes three figures; here each one is an *input* of
the model, shown next to the result as an assumption, never a fact:

``acquisition_cost`` / ``retention_cost``
    What acquiring (and developing) one new customer costs, and what keeping one
    existing customer costs. "A new customer costs about 5× an existing one" is a rule of
    thumb; the workspace sets both (``[safety] acquisition_cost`` / ``retention_cost``).
    Each customer kept is one customer that need not be replaced, so the acquisition cost
    is avoided; keeping them costs the retention cost.
``word_of_mouth``, ``word_of_mouth_share``
    A churned dissatisfied customer is said to influence about 5 others. Of those, a
    ``word_of_mouth_share`` would have followed; they are kept too. The default share 0
    adds nothing: the observed churn rate already contains any such followers, so only
    set it when the points lowered count the dissatisfied customers alone.
25–85 % profit rise for 5 points
    The quoted result of lowering churn by 5 points (Reichheld & Sasser, 1990 [1]_, where
    it is the rise in the value of a customer in a few service industries). It is not
    used in the calculation: :func:`literature_check` only *compares* the workspace's own
    result with it.

The model, per segment and per ``points`` lowered (Δ = points / 100, at most the
segment's churn rate)::

    churn_rate_new           = churn_rate − Δ
    customers_kept           = customers × Δ × (1 + word_of_mouth × word_of_mouth_share)
                               (at most customers × churn_rate)
    value_kept               = customers_kept × value_per_customer
    acquisition_cost_avoided = customers_kept × acquisition_cost
    retention_cost_spent     = customers_kept × retention_cost
    profit_effect            = value_kept + acquisition_cost_avoided − retention_cost_spent
    profit_effect_share      = profit_effect / profit      (profit > 0, else empty)

References
----------
.. [1] Reichheld, F. F. & Sasser, W. E. (1990). Zero defections: quality comes to
   services. Harvard Business Review, 68(5), 105–111.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from churnradar.exceptions import InputError, SchemaError

SEGMENT = "segment"
TOTAL = "__total__"
INPUT_COLUMNS: tuple[str, ...] = ("segment", "customers", "churn_rate", "value_per_customer",
                                  "profit")
WHATIF_COLUMNS: tuple[str, ...] = (
    "segment", "points", "customers", "churn_rate", "churn_rate_new", "customers_kept",
    "word_of_mouth_kept", "value_kept", "acquisition_cost_avoided", "retention_cost_spent",
    "profit_effect", "profit", "profit_effect_share",
)
#: the quoted profit rise for a 5-point lower churn rate (a comparison, not an input)
QUOTED_PROFIT_RISE: tuple[float, float] = (0.25, 0.85)
QUOTED_POINTS = 5.0
QUOTED_SOURCE = "Reichheld & Sasser (1990), quoted in the course material"


def _check(segments: pd.DataFrame, points: Sequence[float]) -> None:
    missing = [c for c in INPUT_COLUMNS if c not in segments.columns]
    if missing:
        raise SchemaError(key="retention_err_missing_columns", table="segments",
                          columns=", ".join(missing))
    if not len(points) or any(not 0 < p < 100 for p in points):
        raise InputError(key="retention_err_out_of_range", name="points",
                         rule="∈ (0, 100)", value=list(points))
    rate = segments["churn_rate"].to_numpy(float)
    if ((rate < 0) | (rate > 1)).any():
        raise InputError(key="retention_err_out_of_range", name="churn_rate",
                         rule="∈ [0, 1]", value=float(rate[(rate < 0) | (rate > 1)][0]))
    if (segments["customers"].to_numpy(float) < 0).any():
        raise InputError(key="retention_err_out_of_range", name="customers", rule="≥ 0",
                         value=float(segments["customers"].min()))


def _share(effect: np.ndarray, profit: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(profit > 0, effect / np.where(profit > 0, profit, 1.0), np.nan)


def whatif(segments: pd.DataFrame, points: Sequence[float], *, acquisition_cost: float,
           retention_cost: float, word_of_mouth: float = 5.0,
           word_of_mouth_share: float = 0.0) -> pd.DataFrame:
    """The profit effect of a churn rate lower by ``points`` percentage points.

    Parameters
    ----------
    segments
        One row per segment: ``segment``, ``customers`` (at the period start),
        ``churn_rate`` (annual, start basis, in [0, 1]), ``value_per_customer`` (yearly
        margin or CLV of a kept customer), ``profit`` (the segment's yearly profit).
    points
        Percentage points by which the churn rate is lowered, e.g. ``(1, 2, 5)``.
    acquisition_cost, retention_cost
        Cost of acquiring one new customer and of keeping one (assumptions, see the
        module docstring).
    word_of_mouth, word_of_mouth_share
        People one churned customer influences, and the share of them who would follow.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`WHATIF_COLUMNS`, one row per segment × point, then one
        ``"__total__"`` row per point (sums; rates weighted by customers; the share of
        the summed profit).
    """
    _check(segments, points)
    if acquisition_cost < 0 or retention_cost < 0 or word_of_mouth < 0 or \
            not 0 <= word_of_mouth_share <= 1:
        raise InputError(key="retention_err_out_of_range",
                         name="acquisition_cost / retention_cost / word_of_mouth / share",
                         rule="≥ 0 (share ∈ [0, 1])",
                         value=f"{acquisition_cost} / {retention_cost} / {word_of_mouth} "
                               f"/ {word_of_mouth_share}")
    n = segments["customers"].to_numpy(float)
    rate = segments["churn_rate"].to_numpy(float)
    value = segments["value_per_customer"].to_numpy(float)
    profit = segments["profit"].to_numpy(float)
    parts = []
    for pt in points:
        delta = np.minimum(pt / 100.0, rate)
        direct = n * delta
        # followers kept, but never more than all who would have left
        followers = np.minimum(direct * word_of_mouth * word_of_mouth_share,
                               n * rate - direct)
        kept = direct + followers
        effect = kept * value + kept * acquisition_cost - kept * retention_cost
        part = pd.DataFrame({
            "segment": segments["segment"].to_numpy(),
            "points": float(pt),
            "customers": n,
            "churn_rate": rate,
            "churn_rate_new": rate - delta,
            "customers_kept": kept,
            "word_of_mouth_kept": followers,
            "value_kept": kept * value,
            "acquisition_cost_avoided": kept * acquisition_cost,
            "retention_cost_spent": kept * retention_cost,
            "profit_effect": effect,
            "profit": profit,
            "profit_effect_share": _share(effect, profit),
        })
        total = {c: part[c].sum() for c in WHATIF_COLUMNS[5:12]}
        weights = n.sum()
        total.update({
            "segment": TOTAL,
            "points": float(pt),
            "customers": weights,
            "churn_rate": float((n * rate).sum() / weights) if weights else np.nan,
            "churn_rate_new": float((n * (rate - delta)).sum() / weights) if weights
            else np.nan,
        })
        total["profit_effect_share"] = float(_share(np.array([total["profit_effect"]]),
                                                    np.array([total["profit"]]))[0])
        parts.append((part, total))
    rows = pd.concat([p for p, _ in parts], ignore_index=True)
    totals = pd.DataFrame([tot for _, tot in parts])
    return pd.concat([rows, totals], ignore_index=True)[list(WHATIF_COLUMNS)]


def literature_check(result: pd.DataFrame, points: float = QUOTED_POINTS) -> pd.DataFrame:
    """Compare the workspace's own profit effect for ``points`` lower churn with the
    quoted 25–85 % profit rise (a comparison with a quoted figure, not a test of truth).

    Returns
    -------
    pandas.DataFrame
        One row per segment (and the total): ``segment``, ``points``,
        ``profit_effect_share`` (this workspace), ``quoted_low`` and ``quoted_high``
        (0.25, 0.85), ``position`` ("below" / "within" / "above" the quoted range, or
        "unknown" without a positive profit) and ``source`` (where the quoted figure
        comes from).

    Raises
    ------
    InputError
        ``result`` has no row for ``points`` (add it to the what-if points).
    """
    rows = result[np.isclose(result["points"].to_numpy(float), points)]
    if rows.empty:
        raise InputError(key="retention_err_literature_points", points=f"{points:g}")
    share = rows["profit_effect_share"].to_numpy(float)
    low, high = QUOTED_PROFIT_RISE
    position = np.select([np.isnan(share), share < low, share > high],
                         ["unknown", "below", "above"], default="within")
    return pd.DataFrame({
        "segment": rows["segment"].to_numpy(),
        "points": float(points),
        "profit_effect_share": share,
        "quoted_low": low,
        "quoted_high": high,
        "position": position,
        "source": QUOTED_SOURCE,
    })


__all__ = ["INPUT_COLUMNS", "QUOTED_PROFIT_RISE", "TOTAL", "WHATIF_COLUMNS",
           "literature_check", "whatif"]
