"""Kaplan–Meier curves of time to churn by group, and log-rank tests between groups.

The curves are lifelines' :class:`~lifelines.KaplanMeierFitter` (product-limit estimate,
pointwise confidence intervals on the log(-log) scale, the median lifetime and its
interval), one per group, in tidy tables. Delayed entry (left truncation, see
:mod:`churnradar.survival.durations`) is passed to lifelines as ``entry``.

The log-rank test is computed here because lifelines' ``multivariate_logrank_test`` has
no delayed entry: with it a stock customer would count as at risk before it entered the
data. Without entry the statistic is exactly lifelines' (the tests check it); with entry
the risk sets are those of lifelines' Kaplan–Meier estimate and Cox model: at risk at
``t`` when ``entry < t <= duration`` (customers entering at 0 are at risk from 0).

References
----------
.. [1] Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete
   observations. *Journal of the American Statistical Association* 53, 457–481.
.. [2] Mantel, N. (1966). Evaluation of survival data and two new rank order statistics
   arising in its consideration. *Cancer Chemotherapy Reports* 50, 163–170.
.. [3] Klein, J. P. & Moeschberger, M. L. (2003). *Survival Analysis*, 2nd ed., §4.6
   (left truncation) and §7.3 (tests for K samples). Springer.
.. [4] Holm, S. (1979). A simple sequentially rejective multiple test procedure.
   *Scandinavian Journal of Statistics* 6, 65–70.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Self

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.exceptions import StatError
from lifelines.utils import qth_survival_time
from scipy import stats

from churnradar import schema as s
from churnradar.exceptions import InputError, NotFittedError, SchemaError
from churnradar.survival.durations import (
    CHURNED,
    COHORT,
    DURATION_DAYS,
    ENTRY_DAYS,
    GROUPINGS,
)

#: the grouping / group label of the whole population
ALL = "all"
#: the group of rare values pooled together (display: catalog ``survival_group_other``)
OTHER = "(other)"
#: the group of missing values (display: catalog ``survival_group_missing``)
MISSING = "(missing)"
#: fewer customers than this: no survival analysis
MIN_CUSTOMERS = 10

GROUPING = "grouping"
GROUP = "group"
#: curve columns
T = "t"
SURVIVAL = "survival"
LOWER = "lower"
UPPER = "upper"
AT_RISK = "at_risk"
EVENTS = "events"
CENSORED = "censored"
#: summary columns (plus ``survival_<h>d`` per horizon)
N = "n"
MAX_DAYS = "max_days"
MEDIAN_DAYS = "median_days"
MEDIAN_LOWER = "median_lower"
MEDIAN_UPPER = "median_upper"
#: test columns
STATISTIC = "statistic"
DF = "df"
P_VALUE = "p_value"
P_HOLM = "p_holm"
GROUPS = "groups"
GROUP_A = "group_a"
GROUP_B = "group_b"
#: remaining-survival columns (plus ``p_stay_<h>d`` per horizon)
TENURE_DAYS = "tenure_days"
MEDIAN_REMAINING_DAYS = "median_remaining_days"
EXTRAPOLATED = "extrapolated"

CURVE_COLUMNS = (GROUPING, GROUP, T, SURVIVAL, LOWER, UPPER, AT_RISK, EVENTS, CENSORED)
LOGRANK_COLUMNS = (GROUPING, GROUPS, STATISTIC, DF, P_VALUE)
PAIRWISE_COLUMNS = (GROUPING, GROUP_A, GROUP_B, STATISTIC, P_VALUE, P_HOLM)


def survival_col(days: int) -> str:
    """Summary column of the survival probability at ``days``: ``survival_90d``."""
    return f"survival_{days}d"


def p_stay_col(days: int) -> str:
    """Remaining-survival column: probability to stay another ``days``: ``p_stay_90d``."""
    return f"p_stay_{days}d"


# --- validation -------------------------------------------------------------------------
def check_confidence(confidence: float) -> float:
    if not 0.5 <= confidence < 1.0:
        raise InputError(key="survival_err_confidence", value=confidence)
    return float(confidence)


def check_horizons(horizons: Sequence[int], name: str = "horizons") -> tuple[int, ...]:
    out = tuple(int(h) for h in horizons)
    if not out or any(h <= 0 for h in out) or len(set(out)) != len(out):
        raise InputError(key="survival_err_horizons", name=name, value=list(horizons))
    return tuple(sorted(out))


def check_columns(df: pd.DataFrame, columns: Sequence[str | None]) -> None:
    for c in columns:
        if c is not None and c not in df.columns:
            raise SchemaError(key="survival_err_column_missing", column=c,
                              available=", ".join(map(str, df.columns)))


def check_durations(df: pd.DataFrame, duration_col: str, event_col: str,
                    entry_col: str | None = None, *, min_customers: int = MIN_CUSTOMERS,
                    need_events: bool = True) -> None:
    """Refuse tables survival analysis cannot use, with the reason."""
    check_columns(df, [duration_col, event_col, entry_col])
    if len(df) < min_customers:
        raise InputError(key="survival_err_too_few", n=len(df), minimum=min_customers)
    d = pd.to_numeric(df[duration_col], errors="coerce")
    if d.isna().any() or (d < 0).any():
        raise InputError(key="survival_err_bad_durations", column=duration_col)
    e = df[event_col]
    if e.isna().any() or not e.isin([0, 1, True, False]).all():
        raise InputError(key="survival_err_bad_events", column=event_col)
    if need_events and not e.astype(bool).any():
        raise InputError(key="survival_err_no_events", n=len(df))
    if entry_col is not None:
        en = pd.to_numeric(df[entry_col], errors="coerce")
        # a customer entering late must be observed for some time after it enters
        if en.isna().any() or (en < 0).any() or (en > d).any() or ((en == d) & (en > 0)).any():
            raise InputError(key="survival_err_bad_entry", column=entry_col,
                             duration=duration_col)


# --- groups -------------------------------------------------------------------------------
def group_labels(values: pd.Series, *, min_size: int = 30, max_groups: int = 16,
                 ) -> pd.Series:
    """Values as group labels (text), rare ones pooled.

    Missing values become :data:`MISSING`. Levels with fewer than ``min_size`` rows, and
    the smallest levels beyond ``max_groups``, become :data:`OTHER` (a log-rank test or a
    hazard ratio on a handful of customers says nothing).
    """
    if min_size < 1 or max_groups < 2:
        raise InputError(key="survival_err_group_limits", min_size=min_size,
                         max_groups=max_groups)
    labels = values.astype(object).where(values.notna(), MISSING).map(str)
    counts = labels.value_counts(sort=False)
    order = sorted(counts.index, key=lambda v: (-counts[v], v))
    if len(order) <= max_groups and counts.min() >= min_size:
        return labels
    # pooling: keep the large levels, leaving room for the pooled group
    keep = [v for v in order if counts[v] >= min_size][: max_groups - 1]
    return labels.where(labels.isin(keep), OTHER)


def group_order(labels: pd.Series, grouping: str | None = None) -> list[str]:
    """Largest group first; cohorts in time order; the pooled groups last."""
    counts = labels.value_counts()
    special = [g for g in (OTHER, MISSING) if g in counts.index]
    plain = [g for g in counts.index if g not in special]
    if grouping == COHORT:
        plain.sort(key=lambda g: (not g.startswith("<"), g))
    else:
        plain.sort(key=lambda g: (-counts[g], g))
    return plain + special


# --- log-rank ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogRankTest:
    """A (multivariate) log-rank test: H0 = the same hazard in every group."""

    statistic: float
    df: int
    p_value: float
    groups: int


def _risk_counts(durations: np.ndarray, events: np.ndarray, codes: np.ndarray, k: int,
                 entry: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(at risk, events) per distinct event time (rows) and group (columns)."""
    times = np.unique(durations[events])
    at_risk = np.zeros((len(times), k))
    deaths = np.zeros((len(times), k))
    for g in range(k):
        in_g = codes == g
        dur_g = np.sort(durations[in_g])
        # at risk at t: entered before t (entry < t; from time 0 when entry is 0) and not
        # yet left (duration >= t) -- lifelines' Kaplan-Meier and Cox risk sets
        if entry is None:
            entered = np.full(len(times), dur_g.size)
        else:
            ent_g = np.sort(entry[in_g])
            entered = np.searchsorted(ent_g, times, side="left")
            entered[times == 0] = np.searchsorted(ent_g, 0.0, side="right")
        at_risk[:, g] = entered - np.searchsorted(dur_g, times, side="left")
        ev = durations[in_g & events]
        deaths[:, g] = np.bincount(np.searchsorted(times, ev), minlength=len(times))
    return at_risk, deaths


def logrank_test(durations: Sequence[float] | np.ndarray | pd.Series,
                 events: Sequence[bool] | np.ndarray | pd.Series,
                 groups: Sequence[object] | np.ndarray | pd.Series,
                 entry: Sequence[float] | np.ndarray | pd.Series | None = None,
                 ) -> LogRankTest:
    """The log-rank test across two or more groups, with optional delayed entry.

    Parameters
    ----------
    durations, events, groups
        One value per customer: duration, event observed (churned), group label.
    entry
        Delayed entry per customer (left truncation); ``None`` = everyone from 0.

    Returns
    -------
    LogRankTest
        chi-square statistic with ``groups - 1`` degrees of freedom and its p-value.
        Without ``entry`` equal to lifelines' ``multivariate_logrank_test``.

    Raises
    ------
    InputError
        Fewer than two groups.
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events).astype(bool)
    labels, codes = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    k = len(labels)
    if k < 2:
        raise InputError(key="survival_err_one_group", groups=k)
    en = None if entry is None else np.asarray(entry, dtype=float)
    n_g, d_g = _risk_counts(d, e, codes, k, en)
    n = n_g.sum(axis=1)
    dd = d_g.sum(axis=1)
    z = (d_g - n_g * (dd / n)[:, None]).sum(axis=0)  # observed - expected
    with np.errstate(divide="ignore", invalid="ignore"):
        ties = np.where(n > 1, (n - dd) / (n - 1), 1.0)
        factor = ties * dd / n**2
    w = n_g * factor[:, None]
    v = np.diag((w * n[:, None]).sum(axis=0)) - w.T @ n_g
    stat = float(z[:-1] @ np.linalg.pinv(v[:-1, :-1]) @ z[:-1])
    return LogRankTest(statistic=stat, df=k - 1, p_value=float(stats.chi2.sf(stat, k - 1)),
                       groups=k)


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values [4]_."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def pairwise_logrank(durations: Sequence[float] | np.ndarray | pd.Series,
                     events: Sequence[bool] | np.ndarray | pd.Series,
                     groups: Sequence[object] | np.ndarray | pd.Series,
                     entry: Sequence[float] | np.ndarray | pd.Series | None = None,
                     *, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Log-rank test of every pair of groups, with Holm-adjusted p-values.

    Returns
    -------
    pandas.DataFrame
        ``group_a``, ``group_b``, ``statistic``, ``p_value``, ``p_holm`` (one row per
        pair, in the order of ``order`` or sorted labels).
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events).astype(bool)
    g = np.asarray(groups).astype(str)
    en = None if entry is None else np.asarray(entry, dtype=float)
    levels = list(order) if order is not None else sorted(set(g))
    rows = []
    for a, b in itertools.combinations(levels, 2):
        m = (g == a) | (g == b)
        res = logrank_test(d[m], e[m], g[m], None if en is None else en[m])
        rows.append({GROUP_A: a, GROUP_B: b, STATISTIC: res.statistic, P_VALUE: res.p_value})
    out = pd.DataFrame(rows, columns=[GROUP_A, GROUP_B, STATISTIC, P_VALUE])
    out[P_HOLM] = holm(out[P_VALUE].to_numpy())
    return out


# --- the estimator ---------------------------------------------------------------------------
def _time_values(index: pd.Index) -> np.ndarray:
    t = index.to_numpy(dtype=float)
    return t.astype(np.int64) if np.all(t == np.round(t)) else t


class KaplanMeier:
    """Kaplan–Meier curves of time to churn, one per group, with log-rank tests.

    Parameters
    ----------
    confidence : float
        Level of the pointwise confidence intervals (and of the median's interval).
    horizons : sequence of int
        Days at which the summary gives the survival probability.
    min_group_size, max_groups : int
        Rare group values are pooled (:func:`group_labels`).
    min_customers : int
        Fewer customers than this are refused (a curve on a handful says nothing).

    Attributes
    ----------
    groups_ : list of str
        Group labels, largest first (``["all"]`` without ``group_col``).
    fitters_ : dict of str to lifelines.KaplanMeierFitter
    labels_ : pandas.Series
        The group label of every row of the fitted table.
    curve_, summary_ : pandas.DataFrame
        See :func:`kaplan_meier`.
    logrank_ : LogRankTest or None
        None with fewer than two groups.
    pairwise_ : pandas.DataFrame
        See :func:`pairwise_logrank` (empty with fewer than two groups).

    Examples
    --------
    >>> km = KaplanMeier().fit(durations, group_col="grade", entry_col="entry_days")
    ... # doctest: +SKIP
    >>> km.summary_[["group", "median_days"]]  # doctest: +SKIP
    """

    def __init__(self, *, confidence: float = 0.95, horizons: Sequence[int] = (90, 180, 365),
                 min_group_size: int = 30, max_groups: int = 16,
                 min_customers: int = MIN_CUSTOMERS):
        self.confidence = confidence
        self.horizons = horizons
        self.min_group_size = min_group_size
        self.max_groups = max_groups
        self.min_customers = min_customers

    def fit(self, df: pd.DataFrame, *, duration_col: str = DURATION_DAYS,
            event_col: str = CHURNED, group_col: str | None = None,
            entry_col: str | None = None) -> Self:
        """Fit one Kaplan–Meier curve per group (or one for everybody).

        Raises
        ------
        SchemaError
            A named column is not in ``df``.
        InputError
            Too few rows, no churn at all, negative durations, entry after the duration,
            an invalid confidence level or horizon, or a group whose risk set empties
            before later customers enter (lifelines cannot estimate its curve).
        """
        confidence = check_confidence(self.confidence)
        horizons = check_horizons(self.horizons)
        check_durations(df, duration_col, event_col, entry_col,
                        min_customers=self.min_customers)
        check_columns(df, [group_col])
        grouping = group_col or ALL
        if group_col is None:
            labels = pd.Series(ALL, index=df.index, dtype=object)
        else:
            labels = group_labels(df[group_col], min_size=self.min_group_size,
                                  max_groups=self.max_groups)
        order = group_order(labels, group_col)
        durations = df[duration_col].to_numpy(dtype=float)
        events = df[event_col].to_numpy().astype(bool)
        entry = None
        if entry_col is not None and (df[entry_col] > 0).any():
            entry = df[entry_col].to_numpy(dtype=float)
        lab = labels.to_numpy()

        fitters: dict[str, KaplanMeierFitter] = {}
        curves, rows = [], []
        for g in order:
            m = lab == g
            try:
                kmf = KaplanMeierFitter(alpha=1.0 - confidence, label=g).fit(
                    durations[m], events[m], entry=None if entry is None else entry[m])
            except StatError as exc:  # the risk set empties before late entrants come
                raise InputError(key="survival_err_km_truncation", group=g,
                                 grouping=grouping) from exc
            fitters[g] = kmf
            curves.append(_curve(kmf, grouping, g))
            rows.append(_summary_row(kmf, grouping, g, events[m], horizons))
        self.groups_ = order
        self.fitters_ = fitters
        self.labels_ = labels
        self.curve_ = pd.concat(curves, ignore_index=True)
        self.summary_ = pd.DataFrame(rows)
        self.grouping_ = grouping
        self.horizons_ = horizons
        if len(order) >= 2:
            self.logrank_: LogRankTest | None = logrank_test(durations, events, lab, entry)
            pw = pairwise_logrank(durations, events, lab, entry, order=order)
            pw.insert(0, GROUPING, grouping)
            self.pairwise_ = pw
        else:
            self.logrank_ = None
            self.pairwise_ = pd.DataFrame(columns=list(PAIRWISE_COLUMNS))
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "fitters_"):
            raise NotFittedError(key="survival_err_not_fitted", model="KaplanMeier")

    def survival_at(self, times: Sequence[float], group: str = ALL) -> np.ndarray:
        """S(t) of one group's curve (the step function, flat after the last time)."""
        self._check_fitted()
        if group not in self.fitters_:
            raise InputError(key="survival_err_unknown_group", group=group,
                             groups=", ".join(self.groups_))
        return self.fitters_[group].survival_function_at_times(list(times)).to_numpy()

    def remaining_survival(self, df: pd.DataFrame, *, horizons: Sequence[int] = (30, 90, 180,
                                                                                   365),
                           tenure_col: str = DURATION_DAYS, id_col: str = s.CUSTOMER_ID,
                           group_col: str | None = None) -> pd.DataFrame:
        """Conditional survival of customers alive at their tenure, from the curves.

        For a customer with tenure ``a`` in group ``g``: ``p_stay_<h>d`` =
        S_g(a + h) / S_g(a), and the median remaining lifetime is the first time ``u``
        of the curve with S_g(u) <= S_g(a) / 2, minus ``a`` (lifelines'
        ``conditional_time_to_event_``; ``inf`` if the curve never gets there).
        ``extrapolated`` is true where ``a + max(horizons)`` lies beyond the curve's
        last time (the step function is carried flat there).

        ``group_col`` must be the grouping the model was fitted with (the customers'
        values are pooled the same way; unseen values use the pooled group, else the
        whole population is needed: fit without ``group_col``).
        """
        self._check_fitted()
        hs = check_horizons(horizons)
        check_columns(df, [tenure_col, id_col, group_col])
        tenure = df[tenure_col].to_numpy(dtype=float)
        if group_col is None:
            lab = np.full(len(df), self.groups_[0], dtype=object)
        else:
            raw = df[group_col].astype(object).where(df[group_col].notna(), MISSING).map(str)
            lab = raw.where(raw.isin(self.groups_), OTHER).to_numpy()
            unknown = sorted(set(lab) - set(self.groups_))
            if unknown:
                raise InputError(key="survival_err_unknown_group", group=unknown[0],
                                 groups=", ".join(self.groups_))
        out = pd.DataFrame({id_col: df[id_col].to_numpy(), TENURE_DAYS: tenure})
        stay = np.empty((len(df), len(hs)))
        median = np.empty(len(df))
        extrap = np.empty(len(df), dtype=bool)
        for g in set(lab):
            m = lab == g
            kmf = self.fitters_[g]
            sf = kmf.survival_function_.iloc[:, 0]
            times = sf.index.to_numpy(dtype=float)
            s_vals = sf.to_numpy()
            a = tenure[m]
            s_a = kmf.survival_function_at_times(a).to_numpy()
            for j, h in enumerate(hs):
                s_h = kmf.survival_function_at_times(a + h).to_numpy()
                stay[m, j] = np.where(s_a > 0, s_h / np.where(s_a > 0, s_a, 1.0), np.nan)
            # first curve time where S <= S(a) / 2 (S is non-increasing: binary search)
            pos = np.searchsorted(-s_vals, -0.5 * s_a, side="left")
            median[m] = np.where(pos < len(times), times[np.minimum(pos, len(times) - 1)] - a,
                                 np.inf)
            extrap[m] = a + max(hs) > times[-1]
        for j, h in enumerate(hs):
            out[p_stay_col(h)] = stay[:, j]
        out[MEDIAN_REMAINING_DAYS] = median
        out[EXTRAPOLATED] = extrap
        return out


def _curve(kmf: KaplanMeierFitter, grouping: str, group: str) -> pd.DataFrame:
    sf = kmf.survival_function_
    ci = kmf.confidence_interval_
    et = kmf.event_table
    # the estimate's denominator: customers entering at t are at risk only after t
    # (lifelines' event_table counts them at t already), except at the first time
    entering = et["entrance"].to_numpy(dtype=np.int64).copy()
    entering[0] = 0
    return pd.DataFrame({
        GROUPING: grouping,
        GROUP: group,
        T: _time_values(sf.index),
        SURVIVAL: sf.iloc[:, 0].to_numpy(),
        LOWER: ci.iloc[:, 0].to_numpy(),
        UPPER: ci.iloc[:, 1].to_numpy(),
        AT_RISK: et["at_risk"].to_numpy(dtype=np.int64) - entering,
        EVENTS: et["observed"].to_numpy(dtype=np.int64),
        CENSORED: et["censored"].to_numpy(dtype=np.int64),
    })


def _summary_row(kmf: KaplanMeierFitter, grouping: str, group: str, events: np.ndarray,
                 horizons: tuple[int, ...]) -> dict[str, object]:
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    last_t = float(sf.index.max())
    row: dict[str, object] = {
        GROUPING: grouping, GROUP: group, N: int(len(events)), CHURNED: int(events.sum()),
        CENSORED: int((~events).sum()), MAX_DAYS: last_t,
        MEDIAN_DAYS: float(kmf.median_survival_time_),
        # the median's interval: where the lower / upper band crosses 0.5
        MEDIAN_LOWER: float(qth_survival_time(0.5, ci.iloc[:, 0])),
        MEDIAN_UPPER: float(qth_survival_time(0.5, ci.iloc[:, 1])),
    }
    at = kmf.survival_function_at_times(list(horizons)).to_numpy()
    for h, v in zip(horizons, at, strict=True):
        # beyond the last observed time the curve is unknown unless it already hit 0
        row[survival_col(h)] = float(v) if (h <= last_t or v == 0.0) else np.nan
    return row


# --- the tidy result over several groupings ---------------------------------------------------
@dataclass(frozen=True)
class KMResult:
    """Kaplan–Meier curves, summaries and log-rank tests of several groupings.

    Every table has the columns ``grouping`` (the column grouped by, ``"all"`` for the
    whole population) and ``group`` (its value).

    Attributes
    ----------
    curve : pandas.DataFrame
        ``grouping, group, t, survival, lower, upper, at_risk, events, censored``: the
        step function at every time a customer churned, was censored or entered.
    summary : pandas.DataFrame
        ``grouping, group, n, churned, censored, max_days, median_days, median_lower,
        median_upper`` and ``survival_<h>d`` per horizon. The median is ``inf`` when the
        curve stays above 0.5 (more than half are still customers at the last time);
        ``survival_<h>d`` is NaN beyond a group's last observed time (``max_days``).
    logrank : pandas.DataFrame
        ``grouping, groups, statistic, df, p_value``: one multivariate test per grouping.
    pairwise : pandas.DataFrame
        ``grouping, group_a, group_b, statistic, p_value, p_holm``.
    skipped : tuple of (str, str)
        Groupings not analysed, with the catalog key of the reason.
    """

    curve: pd.DataFrame
    summary: pd.DataFrame
    logrank: pd.DataFrame
    pairwise: pd.DataFrame
    confidence: float
    horizons: tuple[int, ...]
    fitted: dict[str, KaplanMeier] = field(default_factory=dict, repr=False, compare=False)
    skipped: tuple[tuple[str, str], ...] = ()


def available_groupings(durations: pd.DataFrame) -> list[str]:
    """The groupings of :data:`~churnradar.survival.durations.GROUPINGS` in the table."""
    return [g for g in GROUPINGS if g in durations.columns]


def kaplan_meier(durations: pd.DataFrame, groupings: Sequence[str] | None = None, *,
                 confidence: float = 0.95, horizons: Sequence[int] = (90, 180, 365),
                 min_group_size: int = 30, max_groups: int = 16,
                 min_customers: int = MIN_CUSTOMERS, duration_col: str = DURATION_DAYS,
                 event_col: str = CHURNED, entry_col: str | None = ENTRY_DAYS) -> KMResult:
    """Kaplan–Meier analysis of the whole population and of each grouping.

    Parameters
    ----------
    durations
        A durations table (:func:`~churnradar.survival.durations.build_durations`) or any
        table with the duration, event and (optional) entry columns.
    groupings
        Columns to group by; default: every known grouping in the table (grade, segment,
        region, channel, is_key_account, owner_id, plan, cohort).
    confidence, horizons, min_group_size, max_groups, min_customers
        See :class:`KaplanMeier`.
    entry_col
        Delayed-entry column; ignored when absent from the table and left at its default.

    Returns
    -------
    KMResult

    Raises
    ------
    SchemaError
        A grouping or column is not in the table.
    InputError
        Too few customers, no churn, bad durations or arguments; the whole population's
        risk set empties early (a grouping where that happens to one group is skipped).
    """
    if entry_col == ENTRY_DAYS and entry_col not in durations.columns:
        entry_col = None
    groupings = available_groupings(durations) if groupings is None else list(groupings)
    check_columns(durations, groupings)

    def estimator() -> KaplanMeier:
        return KaplanMeier(confidence=confidence, horizons=horizons,
                           min_group_size=min_group_size, max_groups=max_groups,
                           min_customers=min_customers)

    overall = estimator().fit(durations, duration_col=duration_col, event_col=event_col,
                              entry_col=entry_col)
    fitted = {ALL: overall}
    curves, summaries, tests, pairs = [overall.curve_], [overall.summary_], [], []
    skipped: list[tuple[str, str]] = []
    for g in groupings:
        try:
            km = estimator().fit(durations, duration_col=duration_col, event_col=event_col,
                                 group_col=g, entry_col=entry_col)
        except InputError as exc:
            if exc.key != "survival_err_km_truncation":
                raise
            skipped.append((g, exc.key))
            continue
        if km.logrank_ is None:
            skipped.append((g, "survival_skip_one_group"))
            continue
        fitted[g] = km
        curves.append(km.curve_)
        summaries.append(km.summary_)
        lr = km.logrank_
        tests.append({GROUPING: g, GROUPS: lr.groups, STATISTIC: lr.statistic, DF: lr.df,
                      P_VALUE: lr.p_value})
        pairs.append(km.pairwise_)
    return KMResult(
        curve=pd.concat(curves, ignore_index=True),
        summary=pd.concat(summaries, ignore_index=True),
        logrank=pd.DataFrame(tests, columns=list(LOGRANK_COLUMNS)),
        pairwise=(pd.concat(pairs, ignore_index=True) if pairs
                  else pd.DataFrame(columns=list(PAIRWISE_COLUMNS))),
        confidence=overall.confidence, horizons=overall.horizons_, fitted=fitted,
        skipped=tuple(skipped),
    )
