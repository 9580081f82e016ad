"""The churn formulas of domain.md §2 on plain numbers.

These are the closed forms every other part of churnradar agrees with: the aggregate
calculator (``churnradar calc``), the per-period tables, and the tests.

- churned customers  C = S − (E − N)
- churn rate, start basis  C / S  (industry standard, sales KPI)
- churn rate, end basis    C / E  (the textbook formula as printed)
- churn loss = lost revenue × margin
- period conversion: annual = 1 − (1 − monthly)^12
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np

from churnradar.exceptions import InputError

PERIOD_MONTHS: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}

PeriodName = Literal["month", "quarter", "year"]


def convert_rate(rate: float, from_period: PeriodName, to_period: PeriodName) -> float:
    """Convert a churn rate between period lengths, assuming a constant hazard.

    ``annual = 1 − (1 − monthly)^12``; ``monthly = 1 − (1 − annual)^(1/12)``.

    Examples
    --------
    >>> round(convert_rate(0.02, "month", "year"), 4)
    0.2153
    """
    for p in (from_period, to_period):
        if p not in PERIOD_MONTHS:
            raise InputError(f"period must be one of {tuple(PERIOD_MONTHS)}, got {p!r}")
    if not 0.0 <= rate <= 1.0:
        raise InputError(f"a churn rate must be between 0 and 1, got {rate}")
    power = PERIOD_MONTHS[to_period] / PERIOD_MONTHS[from_period]
    return 1.0 - (1.0 - rate) ** power


def wilson_interval(successes: float, n: float, confidence: float = 0.95,
                    ) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion ``successes / n``.

    Used for every churn rate by segment, so that "42% of 12 dealers" is shown with the
    uncertainty it has. ``(None, None)`` when ``n`` is zero.

    References
    ----------
    .. [1] Wilson, E. B. (1927). Probable inference, the law of succession, and
       statistical inference. JASA 22(158), 209–212.
    """
    lo, hi = wilson_bounds(np.array([successes]), np.array([n]), confidence)
    if np.isnan(lo[0]):  # n = 0, or more churned than at the start: not a proportion
        return None, None
    return float(lo[0]), float(hi[0])


def wilson_bounds(successes: np.ndarray, n: np.ndarray, confidence: float = 0.95,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score intervals for arrays of counts (NaN where ``n`` is 0 or ``k > n``).

    At p = 0 or p = 1 one bound is exact: rounding must not put p outside its interval.
    """
    k = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    ok = (m > 0) & (k <= m)
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / m
        denom = 1.0 + z * z / m
        centre = (p + z * z / (2.0 * m)) / denom
        half = z * np.sqrt(p * (1.0 - p) / m + z * z / (4.0 * m * m)) / denom
        lo = np.where(k <= 0, 0.0, np.maximum(0.0, centre - half))
        hi = np.where(k >= m, 1.0, np.minimum(1.0, centre + half))
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


@dataclass(frozen=True)
class AggregateChurn:
    """The result of the aggregate calculator (``churnradar calc``)."""

    start: int
    new: int
    end: int
    churned: int
    churn_rate_start_basis: float
    churn_rate_end_basis: float | None
    retention_rate_start_basis: float
    retention_rate_end_basis: float | None
    lost_revenue: float | None
    churn_loss: float | None
    margin: float | None
    arpu: float | None
    #: profit lost because the retained (start − churned) spend less: case 03's 810,000
    contraction_loss: float | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def json_dict(self) -> dict[str, object]:
        """Exactly the keys of ``churnradar calc --json``."""
        return {
            "churned": self.churned,
            "churn_rate_start_basis": self.churn_rate_start_basis,
            "churn_rate_end_basis": self.churn_rate_end_basis,
            "retention_rate_start_basis": self.retention_rate_start_basis,
            "lost_revenue": self.lost_revenue,
            "churn_loss": self.churn_loss,
        }


def _count(name: str, value: float) -> int:
    if isinstance(value, bool) or value is None:
        raise InputError(key="err_whole_number", name=name, value=value)
    if isinstance(value, float):
        if not value.is_integer():
            raise InputError(key="err_whole_number", name=name, value=value)
        value = int(value)
    if value < 0:
        raise InputError(key="err_negative_count", name=name, value=value)
    return int(value)


def aggregate_churn(start: float, new: float, end: float, *, lost_revenue: float | None = None,
                    arpu: float | None = None, margin: float | None = None,
                    current_arpu: float | None = None) -> AggregateChurn:
    """Churn from counts only, for managers who have no customer-level data.

    Parameters
    ----------
    start, new, end
        Customers at the period start (期初数), acquired in the period (新增加数) and at the
        period end (期末数).
    lost_revenue
        Revenue lost through churn (营业损失), if known.
    arpu
        Prior-period revenue per customer; ``lost_revenue = churned × arpu`` when
        ``lost_revenue`` is not given.
    margin
        Profit margin (企业盈利率) in [0, 1]; ``churn_loss = lost_revenue × margin``.
    current_arpu
        This period's revenue per retained customer; with ``arpu`` and ``margin`` it gives
        the contraction loss of the retained customers, reported apart from churn loss.

    Raises
    ------
    InputError
        Negative or fractional counts, ``end > start + new``, more churned than there were
        customers at the start, a margin outside [0, 1], or both lost_revenue and arpu.

    Examples
    --------
    Case 02 of domain.md (small appliances):

    >>> r = aggregate_churn(3000, 500, 3300, lost_revenue=30_000_000, margin=0.05)
    >>> r.churned, round(r.churn_rate_start_basis, 4), round(r.churn_rate_end_basis, 4)
    (200, 0.0667, 0.0606)
    >>> r.churn_loss
    1500000.0
    """
    s, n, e = _count("start", start), _count("new", new), _count("end", end)
    if e > s + n:
        raise InputError(key="err_end_above_start_new", end=e, start=s, new=n, total=s + n)
    churned = s - (e - n)
    if s == 0:
        raise InputError(key="err_start_zero")
    if churned > s:
        raise InputError(key="err_churned_above_start", churned=churned, start=s)
    if lost_revenue is not None and arpu is not None:
        raise InputError(key="err_lost_and_arpu")
    for name, v in (("lost revenue", lost_revenue), ("ARPU", arpu),
                    ("current ARPU", current_arpu)):
        if v is not None and (not math.isfinite(v) or v < 0):
            raise InputError(key="err_negative_money", name=name, value=v)
    if margin is not None and not (math.isfinite(margin) and 0.0 <= margin <= 1.0):
        raise InputError(key="err_margin_range", value=margin)
    if lost_revenue is None and arpu is not None:
        lost_revenue = churned * arpu
    lost = float(lost_revenue) if lost_revenue is not None else None
    loss = lost * margin if lost is not None and margin is not None else None
    rate_s = churned / s
    rate_e = churned / e if e else None
    contraction = (arpu_contraction_loss(s - churned, arpu, current_arpu, margin)
                   if None not in (arpu, current_arpu, margin) else None)
    return AggregateChurn(
        start=s, new=n, end=e, churned=churned,
        churn_rate_start_basis=rate_s, churn_rate_end_basis=rate_e,
        retention_rate_start_basis=1.0 - rate_s,
        retention_rate_end_basis=(1.0 - rate_e) if rate_e is not None else None,
        lost_revenue=lost, churn_loss=loss, margin=margin, arpu=arpu,
        contraction_loss=contraction,
    )


def arpu_contraction_loss(retained: int, prior_arpu: float | None,
                          current_arpu: float | None, margin: float | None) -> float:
    """Profit lost because retained customers spend less (reported apart from churn loss).

    Case 03: 270,000 retained × (1,000 − 900) × 3% = 810,000.
    """
    if prior_arpu is None or current_arpu is None or margin is None:
        raise InputError(key="err_contraction_inputs")
    return retained * max(prior_arpu - current_arpu, 0.0) * margin
