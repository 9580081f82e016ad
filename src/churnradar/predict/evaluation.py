"""How good are churn scores? Ranking, calibration and profit of a churn model.

Every function takes the realised outcomes ``y`` (1 = churned, 0 = stayed) and the
predicted churn probabilities ``p`` of the same customers, and works on plain numpy
arrays: the scores are sorted once and every top-fraction metric, the gains chart, the
calibration table and the expected maximum profit (EMP) are read off the same cumulative
counts, so ten million customers take a few seconds.

Ties
----
Customers with the same score cannot be ranked against each other. Every metric that
targets "the top fraction ``f``" takes exactly ``round(f * n)`` customers (Python's
``round``, halves to even) and, when the cut falls inside a group of tied scores, counts
that group pro rata: the number of churners found is the expected number under a random
order of the tied customers. The result is deterministic and does not depend on the
order of the input rows. Churner counts in the calibration table can therefore be
fractional.

References
----------
.. [1] Verbraken, T., Verbeke, W. & Baesens, B. (2013). A novel profit maximizing metric
   for measuring classification performance of customer churn prediction models.
   IEEE Transactions on Knowledge and Data Engineering 25(5), 961-973.
.. [2] Fawcett, T. (2006). An introduction to ROC analysis. Pattern Recognition
   Letters 27(8), 861-874.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special
from sklearn.metrics import brier_score_loss

from churnradar.exceptions import InputError

#: Targeted fractions whose capture rate :func:`evaluate_scores` reports.
CAPTURE_FRACTIONS: tuple[float, ...] = (0.1, 0.2, 0.3)

#: Columns of :func:`calibration_table`.
CALIBRATION_COLUMNS: tuple[str, ...] = ("decile", "n", "predicted", "realised", "churners")

#: Columns of :func:`lift_curve`.
LIFT_CURVE_COLUMNS: tuple[str, ...] = ("fraction", "lift", "capture")

FloatArray = npt.NDArray[np.float64]
LabelArray = npt.NDArray[np.int8]
IntArray = npt.NDArray[np.int64]


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class EmpParams:
    """Cost-benefit parameters of a retention campaign, for :func:`emp_churn`.

    The defaults are those of Verbraken, Verbeke & Baesens (2013) [1]_ (and of the R
    package EMP's ``empChurn``).

    Parameters
    ----------
    clv : float
        Customer lifetime value of a retained churner (money), > 0.
    offer_cost : float
        Cost ``d`` of the retention offer, paid for every targeted customer who accepts
        it (a would-be churner who accepts, and every targeted non-churner), >= 0 and
        below ``clv``.
    contact_cost : float
        Cost ``f`` of contacting one targeted customer, >= 0.
    alpha, beta : float
        Parameters (> 0) of the Beta distribution of ``gamma``, the share of contacted
        would-be churners who accept the offer and stay. The default Beta(6, 14) has
        mean 0.3.

    Raises
    ------
    InputError
        When a parameter is out of range.

    References
    ----------
    .. [1] Verbraken, T., Verbeke, W. & Baesens, B. (2013). IEEE TKDE 25(5), 961-973.
    """

    clv: float = 200.0
    offer_cost: float = 10.0
    contact_cost: float = 1.0
    alpha: float = 6.0
    beta: float = 14.0

    def __post_init__(self) -> None:
        for name in ("clv", "offer_cost", "contact_cost", "alpha", "beta"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(value)
            ):
                raise InputError(f"EmpParams.{name} must be a finite number, got {value!r}")
        for name in ("clv", "alpha", "beta"):
            if getattr(self, name) <= 0:
                raise InputError(f"EmpParams.{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("offer_cost", "contact_cost"):
            if getattr(self, name) < 0:
                raise InputError(f"EmpParams.{name} must be >= 0, got {getattr(self, name)!r}")
        if self.offer_cost >= self.clv:
            raise InputError(
                f"EmpParams.offer_cost ({self.offer_cost!r}) must be below clv ({self.clv!r}): "
                "an offer that costs more than the customer is worth never pays"
            )


@dataclass(frozen=True)
class EmpResult:
    """Expected maximum profit of a churn model, see :func:`emp_churn`.

    Attributes
    ----------
    emp : float
        Expected maximum profit per customer of the scored base, in the money unit of
        :attr:`EmpParams.clv`.
    fraction : float
        Expected share of the customers targeted at the optimum (``eta_emp`` in [1]_).
        Where several targets earn the same maximum (only possible when offer and
        contact are free), the smallest one counts.

    References
    ----------
    .. [1] Verbraken, T., Verbeke, W. & Baesens, B. (2013). IEEE TKDE 25(5), 961-973.
    """

    emp: float
    fraction: float


# --------------------------------------------------------------------------- validation


def _as_vector(values: Any, name: str) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numeric, got values that are not numbers") from exc
    if arr.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got an array of shape {arr.shape}")
    return arr


def _validate(y: Any, p: Any, *, both_classes: bool = False) -> tuple[LabelArray, FloatArray]:
    """Check ``y`` and ``p``; return them as an int8 and a float64 vector."""
    ya = _as_vector(y, "y")
    pa = _as_vector(p, "p")
    if ya.shape[0] != pa.shape[0]:
        raise InputError(
            f"y and p must have the same length, got {ya.shape[0]} outcomes and "
            f"{pa.shape[0]} scores"
        )
    if ya.shape[0] == 0:
        raise InputError("no customers to evaluate: y and p are empty")
    bad_y = np.flatnonzero((ya != 0.0) & (ya != 1.0))
    if bad_y.size:
        i = int(bad_y[0])
        raise InputError(
            f"y must hold only 0 (stayed) and 1 (churned); found {ya[i]:g} at position {i} "
            f"({bad_y.size} bad value(s) in all)"
        )
    bad_p = np.flatnonzero(~((pa >= 0.0) & (pa <= 1.0)))  # also catches nan
    if bad_p.size:
        i = int(bad_p[0])
        raise InputError(
            f"p must be finite churn probabilities in [0, 1]; found {pa[i]:g} at position {i} "
            f"({bad_p.size} bad value(s) in all). Suggestion: pass predicted probabilities, "
            "not raw model margins"
        )
    if both_classes:
        churners = int(ya.sum())
        if churners == 0 or churners == ya.shape[0]:
            kind = "no churner" if churners == 0 else "no non-churner"
            raise InputError(
                f"y has {kind} among {ya.shape[0]} customers; ROC-AUC, PR-AUC and EMP need "
                "at least one churner and one non-churner. Suggestion: evaluate on a "
                "larger or longer period"
            )
    return ya.astype(np.int8), pa


def _check_fraction(fraction: float, *, allow_zero: bool) -> float:
    if isinstance(fraction, bool) or not isinstance(fraction, int | float | np.floating):
        raise InputError(f"fraction must be a number in (0, 1], got {fraction!r}")
    value = float(fraction)
    low_ok = value >= 0.0 if allow_zero else value > 0.0
    if not (low_ok and value <= 1.0):
        bounds = "[0, 1]" if allow_zero else "(0, 1]"
        raise InputError(f"fraction must be in {bounds}, got {fraction!r}")
    return value


def _check_count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- the one sort


@dataclass(frozen=True)
class _Gains:
    """Cumulative counts at the end of each group of tied scores, riskiest group first.

    ``customers[g]``, ``churners[g]`` and ``non_churners[g]`` count the customers whose
    score is at least the ``g``-th highest distinct score (index 0 is the empty
    selection), i.e. the ROC curve at distinct thresholds in counts. ``sorted_p`` holds
    all scores in decreasing order.
    """

    sorted_p: FloatArray
    customers: IntArray
    churners: IntArray
    non_churners: IntArray

    @property
    def n(self) -> int:
        return int(self.customers[-1])

    @property
    def n_churn(self) -> int:
        return int(self.churners[-1])

    def top_churners(self, k: npt.ArrayLike) -> FloatArray:
        """Expected churners among the top ``k`` customers, ties counted pro rata.

        Within a group of tied scores the expected number of churners grows linearly
        with the number of its customers taken, so this interpolates linearly between
        the ends of the group that holds rank ``k``.
        """
        k_arr = np.asarray(k, dtype=np.int64)
        g = np.clip(np.searchsorted(self.customers, k_arr), 1, self.customers.size - 1)
        lo_n, hi_n = self.customers[g - 1], self.customers[g]
        lo_c, hi_c = self.churners[g - 1], self.churners[g]
        return np.asarray(lo_c + (hi_c - lo_c) * ((k_arr - lo_n) / (hi_n - lo_n)), np.float64)


def _gains(y: LabelArray, p: FloatArray) -> _Gains:
    order = np.argsort(p)[::-1]  # no stable sort needed: ties are grouped below
    sorted_p = p[order]
    cum_churn = np.cumsum(y[order].astype(np.int64))  # (much faster than dtype=)
    ends = np.flatnonzero(sorted_p[1:] != sorted_p[:-1])
    ends = np.append(ends, sorted_p.shape[0] - 1)
    zero = np.zeros(1, dtype=np.int64)
    customers = np.concatenate([zero, ends + 1])
    churners = np.concatenate([zero, cum_churn[ends]])
    return _Gains(
        sorted_p=sorted_p,
        customers=customers,
        churners=churners,
        non_churners=customers - churners,
    )


def _top_count(fraction: float, n: int) -> int:
    return round(fraction * n)


def _need_churner(gains: _Gains, what: str) -> None:
    if gains.n_churn == 0:
        raise InputError(
            f"{what} is undefined without churners: y holds no 1 among {gains.n} customers"
        )


def _lift(gains: _Gains, fraction: float) -> float:
    k = _top_count(fraction, gains.n)
    if k == 0:
        raise InputError(
            f"fraction {fraction!r} of {gains.n} customers selects no customer "
            f"(round({fraction!r} * {gains.n}) = 0). Suggestion: use a larger fraction"
        )
    _need_churner(gains, "lift")
    top_rate = float(gains.top_churners(k)) / k
    return top_rate / (gains.n_churn / gains.n)


def _capture(gains: _Gains, fraction: float) -> float:
    _need_churner(gains, "capture rate")
    k = _top_count(fraction, gains.n)
    return float(gains.top_churners(k)) / gains.n_churn


# --------------------------------------------------------------------------- top fraction


def lift_at(y: npt.ArrayLike, p: npt.ArrayLike, fraction: float = 0.1) -> float:
    """Lift of the riskiest ``fraction`` of customers.

    Churn rate among the ``round(fraction * n)`` customers with the highest scores,
    divided by the overall churn rate. A group of tied scores cut by the selection is
    counted pro rata (expected value under random tie-breaking).

    Parameters
    ----------
    y : array-like of {0, 1}
        Realised outcomes, 1 = churned.
    p : array-like of float in [0, 1]
        Predicted churn probabilities.
    fraction : float, default 0.1
        Share of customers targeted, in (0, 1]; 0.1 gives the top-decile lift.

    Returns
    -------
    float
        The lift; 1.0 means no better than random targeting.

    Raises
    ------
    InputError
        On invalid ``y``/``p``, a fraction outside (0, 1] or one that selects nobody,
        and when ``y`` holds no churner.

    Examples
    --------
    >>> lift_at([1, 0, 1, 0, 0, 0, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2, .1, 0], 0.2)
    2.5
    """
    f = _check_fraction(fraction, allow_zero=False)
    ya, pa = _validate(y, p)
    return _lift(_gains(ya, pa), f)


def capture_rate(y: npt.ArrayLike, p: npt.ArrayLike, fraction: float) -> float:
    """Share of all churners found among the riskiest ``fraction`` of customers.

    Also called recall or gain at ``fraction``; ties are counted pro rata as in
    :func:`lift_at`.

    Parameters
    ----------
    y : array-like of {0, 1}
        Realised outcomes, 1 = churned.
    p : array-like of float in [0, 1]
        Predicted churn probabilities.
    fraction : float
        Share of customers targeted, in [0, 1].

    Returns
    -------
    float
        Captured churners / all churners, in [0, 1].

    Raises
    ------
    InputError
        On invalid inputs or when ``y`` holds no churner.

    Examples
    --------
    >>> capture_rate([1, 0, 1, 0, 0, 0, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2, .1, 0], 0.2)
    0.5
    """
    f = _check_fraction(fraction, allow_zero=True)
    ya, pa = _validate(y, p)
    return _capture(_gains(ya, pa), f)


def _lift_curve(gains: _Gains, points: int) -> pd.DataFrame:
    _need_churner(gains, "the lift curve")
    fractions = [i / points for i in range(1, points + 1)]
    ks = [_top_count(f, gains.n) for f in fractions]
    kept = [(f, k) for f, k in zip(fractions, ks, strict=True) if k > 0]
    frac = np.array([f for f, _ in kept], dtype=np.float64)
    k_arr = np.array([k for _, k in kept], dtype=np.float64)
    found = gains.top_churners(k_arr)
    return pd.DataFrame(
        {
            "fraction": frac,
            "lift": (found / k_arr) / (gains.n_churn / gains.n),
            "capture": found / gains.n_churn,
        },
        columns=list(LIFT_CURVE_COLUMNS),
    )


def lift_curve(y: npt.ArrayLike, p: npt.ArrayLike, points: int = 100) -> pd.DataFrame:
    """Cumulative lift and capture rate at evenly spaced targeted fractions, for a chart.

    Parameters
    ----------
    y : array-like of {0, 1}
        Realised outcomes, 1 = churned.
    p : array-like of float in [0, 1]
        Predicted churn probabilities.
    points : int, default 100
        Number of fractions: ``1/points, 2/points, ..., 1``. Each is evaluated exactly
        as :func:`lift_at` and :func:`capture_rate` do; fractions that select no customer
        (possible only when there are fewer than ``2 * points`` customers) are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``fraction``, ``lift``, ``capture``, one row per fraction, ascending.

    Raises
    ------
    InputError
        On invalid inputs or when ``y`` holds no churner.
    """
    pts = _check_count(points, "points")
    ya, pa = _validate(y, p)
    return _lift_curve(_gains(ya, pa), pts)


# --------------------------------------------------------------------------- calibration


def _calibration(gains: _Gains, bins: int) -> pd.DataFrame:
    n = gains.n
    if n < bins:
        raise InputError(
            f"calibration needs at least as many customers as bins, got {n} customers "
            f"for {bins} bins. Suggestion: use fewer bins"
        )
    # Bin j (1-based) holds the customers ranked floor((j-1)n/bins) < rank <= floor(jn/bins).
    bounds = np.array([j * n // bins for j in range(bins + 1)], dtype=np.int64)
    counts = np.diff(bounds)
    churners = np.diff(gains.top_churners(bounds))
    # Tied customers share one score, so the mean score of a slice of the sorted scores
    # does not depend on how ties were ordered.
    predicted = np.array(
        [gains.sorted_p[lo:hi].mean() for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)],
        dtype=np.float64,
    )
    return pd.DataFrame(
        {
            "decile": np.arange(1, bins + 1, dtype=np.int64),
            "n": counts,
            "predicted": predicted,
            "realised": churners / counts,
            "churners": churners,
        },
        columns=list(CALIBRATION_COLUMNS),
    )


def calibration_table(y: npt.ArrayLike, p: npt.ArrayLike, bins: int = 10) -> pd.DataFrame:
    """Predicted against realised churn by rank group of the score (a decile table).

    Customers are sorted by score, highest first, and cut into ``bins`` groups of equal
    size (``floor(j * n / bins)`` customers in the first ``j`` groups; sizes differ by at
    most one). Group 1 is the riskiest. A group of tied scores cut by a boundary is
    split pro rata, so ``churners`` can be fractional.

    Parameters
    ----------
    y : array-like of {0, 1}
        Realised outcomes, 1 = churned.
    p : array-like of float in [0, 1]
        Predicted churn probabilities.
    bins : int, default 10
        Number of groups; at most the number of customers.

    Returns
    -------
    pandas.DataFrame
        One row per group with columns ``decile`` (1 = riskiest), ``n`` (customers),
        ``predicted`` (mean ``p``), ``realised`` (churn rate) and ``churners``
        (expected number of churners).

    Raises
    ------
    InputError
        On invalid inputs or when there are fewer customers than bins.

    Examples
    --------
    >>> calibration_table([1, 0, 0, 0], [.8, .6, .2, .2], bins=2)
       decile  n  predicted  realised  churners
    0       1  2        0.7       0.5       1.0
    1       2  2        0.2       0.0       0.0
    """
    nbins = _check_count(bins, "bins")
    ya, pa = _validate(y, p)
    return _calibration(_gains(ya, pa), nbins)


# --------------------------------------------------------------------------- EMP


#: Above this many ROC points the hull is seeded from an evenly spaced sample of them.
_HULL_SAMPLE = 1 << 16


def _hull_pass(x: IntArray, y: IntArray, start: IntArray, cand: IntArray) -> IntArray:
    """Quickhull above the polygon ``start``: add every point that lies above it.

    ``start`` and ``cand`` are sorted indices into the monotone chain ``(x, y)``,
    ``start`` holding its two ends. Each pass handles one level of the quickhull
    recursion for all segments at once: points on or below their segment are dropped,
    and the farthest point above each segment (the first one, on a tie) is added. The
    result is ``start`` plus the added points; every chain point lies on or below it.
    Integer cross products keep this exact.
    """
    hull = start
    xc, yc = x[cand], y[cand]
    while cand.size:
        counts = np.diff(np.searchsorted(cand, hull))
        xa, ya, xb, yb = x[hull[:-1]], y[hull[:-1]], x[hull[1:]], y[hull[1:]]
        dx, dy = xb - xa, yb - ya
        # cross product of (b - a) and (point - a), positive when the point is above
        cross = (
            np.repeat(dx, counts) * yc
            - np.repeat(dy, counts) * xc
            - np.repeat(dx * ya - dy * xa, counts)
        )
        seg = np.repeat(np.arange(counts.size), counts)
        above = np.flatnonzero(cross > 0)
        if not above.size:
            break
        cand, xc, yc, seg, cross = cand[above], xc[above], yc[above], seg[above], cross[above]
        starts = np.flatnonzero(np.concatenate([[True], seg[1:] != seg[:-1]]))
        run_max = np.maximum.reduceat(cross, starts)
        run_len = np.diff(np.append(starts, cand.size))
        at_max = np.flatnonzero(cross == np.repeat(run_max, run_len))
        _, first = np.unique(seg[at_max], return_index=True)
        picked = at_max[first]
        hull = np.union1d(hull, cand[picked])
        keep = np.ones(cand.size, dtype=bool)
        keep[picked] = False
        cand, xc, yc = cand[keep], xc[keep], yc[keep]
    return hull


def _quickhull(x: IntArray, y: IntArray) -> IntArray:
    m = x.shape[0]
    return _hull_pass(x, y, np.array([0, m - 1], dtype=np.int64), np.arange(1, m - 1))


def _upper_hull(x: IntArray, y: IntArray) -> IntArray:
    """Indices of the corners of the ROC convex hull of a monotone chain of points.

    ``x`` and ``y`` are non-decreasing integer counts (non-churners and churners
    targeted), starting at the origin. Points on a hull edge but not at a corner are
    left out.
    """
    m = x.shape[0]
    if m <= _HULL_SAMPLE:
        return _quickhull(x, y)
    # An ROC curve of many customers hugs its hull, so quickhull started from the two
    # ends would go over nearly every point once per recursion level. The hull of an
    # even sample is already close: one pass over all points discards almost all of
    # them. Its corners need not be corners of the full hull, hence the final clean-up.
    sample = np.append(np.arange(0, m - 1, m // _HULL_SAMPLE), m - 1)
    seed = sample[_quickhull(x[sample], y[sample])]
    others = np.ones(m, dtype=bool)
    others[seed] = False
    rough = _hull_pass(x, y, seed, np.flatnonzero(others))
    return rough[_quickhull(x[rough], y[rough])]


def _emp(gains: _Gains, params: EmpParams) -> EmpResult:
    n = gains.n
    clv, d, f = params.clv, params.offer_cost, params.contact_cost
    a, b = params.alpha, params.beta
    # ROC in counts: x = non-churners targeted (n * pi1 * F1), y = churners (n * pi0 * F0)
    hull = _upper_hull(gains.non_churners, gains.churners)
    x = gains.non_churners[hull].astype(np.float64)
    y = gains.churners[hull].astype(np.float64)
    dx, dy = np.diff(x), np.diff(y)
    # Moving from hull corner i to i+1 pays when gamma exceeds (paper, eq. for gamma_i):
    # gamma_i = ((delta + phi) pi1 dF1 / (pi0 dF0) + phi) / (1 - delta)
    # a horizontal edge (only non-churners) never pays; with free offers and contacts
    # it does not cost either, and the smaller target is kept
    safe_dy = np.where(dy > 0, dy, 1.0)
    gamma_edge = np.where(dy > 0, ((d + f) * dx / safe_dy + f) / (clv - d), np.inf)
    # corner j is optimal for gamma in (gamma_{j-1}, gamma_j], clipped to [0, 1]
    lo = np.clip(np.concatenate([[0.0], gamma_edge]), 0.0, 1.0)
    hi = np.clip(np.concatenate([gamma_edge, [1.0]]), 0.0, 1.0)
    mass = special.betainc(a, b, hi) - special.betainc(a, b, lo)
    first_moment = a / (a + b) * (special.betainc(a + 1.0, b, hi) - special.betainc(a + 1.0, b, lo))
    # profit of corner j at gamma: ((gamma (clv - d) - f) y_j - (d + f) x_j) / n
    emp = float(np.sum((clv - d) * y * first_moment - (f * y + (d + f) * x) * mass) / n)
    fraction = float(np.sum(mass * (x + y)) / n)
    return EmpResult(emp=emp, fraction=fraction)


def emp_churn(y: npt.ArrayLike, p: npt.ArrayLike, params: EmpParams = EmpParams()) -> EmpResult:
    """Expected maximum profit (EMP) of a churn model's scores, Verbraken et al. (2013).

    A retention campaign targets the customers with the highest scores. Each targeted
    customer costs the contact cost ``f``; a targeted would-be churner accepts the offer
    with probability ``gamma`` (then the firm keeps ``clv - d``), a targeted non-churner
    takes the offer (cost ``d``). With ``delta = d / clv``, ``phi = f / clv``, the churner
    share ``pi0`` and ``F0``/``F1`` the shares of churners/non-churners targeted at
    threshold ``t``, the profit per customer is

    ``P(t; gamma) = clv (gamma (1 - delta) - phi) pi0 F0(t) - clv (delta + phi) pi1 F1(t)``

    and ``EMP = integral of max_t P(t; gamma) h(gamma) dgamma`` with ``h`` the
    Beta(``alpha``, ``beta``) density. (The paper scores churners low and targets
    ``s < t``; here high ``p`` means risk and the top is targeted, which is the same
    ROC curve.) As in the paper [1]_, the maximum is taken over the corners of the ROC
    convex hull: hull edge ``i`` becomes worth taking when ``gamma`` exceeds
    ``gamma_i = ((delta + phi) pi1 dF1 / (pi0 dF0) + phi) / (1 - delta)``, so each corner
    is optimal on a ``gamma`` interval and the integral is a sum of regularized
    incomplete beta functions, exact up to rounding. Targeting nobody (profit 0) is a
    corner, so the EMP is never negative. Tied scores form one ROC segment.

    Parameters
    ----------
    y : array-like of {0, 1}
        Realised outcomes, 1 = churned.
    p : array-like of float in [0, 1]
        Predicted churn probabilities. Only their order matters.
    params : EmpParams, default EmpParams()
        CLV, costs and the Beta distribution of the acceptance rate.

    Returns
    -------
    EmpResult
        ``emp``: expected maximum profit per customer of the scored base (money);
        ``fraction``: the expected share of customers targeted at the optimum
        (``eta_emp``).

    Raises
    ------
    InputError
        On invalid inputs or when ``y`` lacks churners or non-churners.

    References
    ----------
    .. [1] Verbraken, T., Verbeke, W. & Baesens, B. (2013). A novel profit maximizing
       metric for measuring classification performance of customer churn prediction
       models. IEEE TKDE 25(5), 961-973.
    .. [2] Bravo, C., vanden Broucke, S. & Verbraken, T. EMP: Expected Maximum Profit
       classification performance measure (R package), function ``empChurn``.

    Examples
    --------
    >>> r = emp_churn([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2, .1, 0])
    >>> round(r.emp, 4), round(r.fraction, 4)
    (15.7002, 0.3998)
    """
    ya, pa = _validate(y, p, both_classes=True)
    return _emp(_gains(ya, pa), params)


# --------------------------------------------------------------------------- ROC / PR


def _roc_auc(gains: _Gains) -> float:
    # trapezoids between the ROC points at distinct scores (ties give a diagonal step):
    # the definition of sklearn.metrics.roc_auc_score, in exact integer arithmetic
    x, y = gains.non_churners, gains.churners
    twice_area = int(np.sum(np.diff(x) * (y[1:] + y[:-1])))
    return twice_area / (2.0 * int(x[-1]) * int(y[-1]))


def _average_precision(gains: _Gains) -> float:
    # sum over distinct scores of (recall step) * precision: the definition of
    # sklearn.metrics.average_precision_score
    found = gains.churners[1:].astype(np.float64)
    recall_step = np.diff(gains.churners) / gains.n_churn
    return float(np.sum(recall_step * found / gains.customers[1:]))


# --------------------------------------------------------------------------- all at once


def _capture_key(fraction: float) -> str:
    return f"capture_{round(fraction * 100)}"


@dataclass(frozen=True)
class Evaluation:
    """All evaluation metrics of one set of churn scores, see :func:`evaluate_scores`.

    Attributes
    ----------
    n, churners : int
        Customers scored, and churners among them.
    base_rate : float
        ``churners / n``.
    roc_auc, pr_auc, brier : float
        ROC-AUC, PR-AUC (average precision) and Brier score, with scikit-learn's
        definitions.
    top_decile_lift : float
        :func:`lift_at` with fraction 0.1.
    capture : dict of float to float
        :func:`capture_rate` at each fraction of :data:`CAPTURE_FRACTIONS`.
    emp, emp_fraction : float
        :func:`emp_churn` result: expected maximum profit per customer and the expected
        targeted share.
    calibration : pandas.DataFrame
        :func:`calibration_table`.
    """

    n: int
    churners: int
    base_rate: float
    roc_auc: float
    pr_auc: float
    brier: float
    top_decile_lift: float
    capture: dict[float, float]
    emp: float
    emp_fraction: float
    calibration: pd.DataFrame = field(compare=False, repr=False)

    def scalars(self) -> dict[str, float]:
        """The scalar metrics, keyed as in :meth:`to_dict` (without ``calibration``)."""
        out: dict[str, float] = {
            "n": self.n,
            "churners": self.churners,
            "base_rate": self.base_rate,
            "roc_auc": self.roc_auc,
            "pr_auc": self.pr_auc,
            "brier": self.brier,
            "top_decile_lift": self.top_decile_lift,
        }
        for frac, value in self.capture.items():
            out[_capture_key(frac)] = value
        out["emp"] = self.emp
        out["emp_fraction"] = self.emp_fraction
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of every metric.

        Returns
        -------
        dict
            Keys ``n``, ``churners``, ``base_rate``, ``roc_auc``, ``pr_auc``, ``brier``,
            ``top_decile_lift``, ``capture_10``, ``capture_20``, ``capture_30``, ``emp``,
            ``emp_fraction`` (Python ints and floats) and ``calibration`` (a list of row
            dictionaries).
        """
        out: dict[str, Any] = {
            key: int(value) if key in ("n", "churners") else float(value)
            for key, value in self.scalars().items()
        }
        out["calibration"] = [
            {
                "decile": int(row.decile),
                "n": int(row.n),
                "predicted": float(row.predicted),
                "realised": float(row.realised),
                "churners": float(row.churners),
            }
            for row in self.calibration.itertuples(index=False)
        ]
        return out


def evaluate_scores(
    y: npt.ArrayLike,
    p: npt.ArrayLike,
    *,
    emp: EmpParams = EmpParams(),
    bins: int = 10,
) -> Evaluation:
    """Evaluate churn scores against realised outcomes with every metric at once.

    The scores are sorted once and all rank metrics are read off the same cumulative
    counts. ROC-AUC and PR-AUC follow scikit-learn's ``roc_auc_score`` and
    ``average_precision_score`` exactly (ties included; the tests compare them) but are
    computed from that one sort, as those functions would sort again; the Brier score
    is ``sklearn.metrics.brier_score_loss``.

    Parameters
    ----------
    y : array-like of {0, 1}
        Realised outcomes, 1 = churned.
    p : array-like of float in [0, 1]
        Predicted churn probabilities.
    emp : EmpParams, default EmpParams()
        Campaign parameters of :func:`emp_churn`.
    bins : int, default 10
        Groups of :func:`calibration_table`.

    Returns
    -------
    Evaluation

    Raises
    ------
    InputError
        On invalid inputs, when ``y`` lacks churners or non-churners, or when there are
        too few customers for the top decile or the calibration bins.
    """
    nbins = _check_count(bins, "bins")
    ya, pa = _validate(y, p, both_classes=True)
    gains = _gains(ya, pa)
    emp_result = _emp(gains, emp)
    return Evaluation(
        n=gains.n,
        churners=gains.n_churn,
        base_rate=gains.n_churn / gains.n,
        roc_auc=_roc_auc(gains),
        pr_auc=_average_precision(gains),
        brier=float(brier_score_loss(ya, pa)),
        top_decile_lift=_lift(gains, 0.1),
        capture={frac: _capture(gains, frac) for frac in CAPTURE_FRACTIONS},
        emp=emp_result.emp,
        emp_fraction=emp_result.fraction,
        calibration=_calibration(gains, nbins),
    )


def mean_evaluations(evals: Sequence[Evaluation]) -> dict[str, float]:
    """Mean of the scalar metrics over several evaluations (e.g. cross-validation folds).

    Parameters
    ----------
    evals : sequence of Evaluation
        One per fold; at least one.

    Returns
    -------
    dict of str to float
        The keys of :meth:`Evaluation.to_dict` except ``calibration``, each the plain
        (unweighted) mean over the folds.

    Raises
    ------
    InputError
        When ``evals`` is empty or the evaluations report different capture fractions.
    """
    if len(evals) == 0:
        raise InputError("mean_evaluations needs at least one Evaluation, got none")
    rows = [e.scalars() for e in evals]
    keys = list(rows[0])
    for row in rows[1:]:
        if list(row) != keys:
            raise InputError(f"evaluations report different metrics: {keys} and {list(row)}")
    return {key: float(np.mean([row[key] for row in rows])) for key in keys}
