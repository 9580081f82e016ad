"""Cox proportional-hazards model of time to churn, and the remaining lifetime of active
customers.

lifelines' :class:`~lifelines.CoxPHFitter` (Efron ties, optional ridge / elastic-net
penalty) fits the hazard of churn on the customers' attributes. Categorical attributes are
one-hot encoded against their largest level (the hazard ratio of ``grade=A`` is A's
hazard relative to the largest grade); rare levels are pooled as in the Kaplan–Meier
groups; booleans are 0/1; numbers are used as they are (hazard ratio per unit).

For a customer still active at tenure ``a``, the churn question is the *remaining*
survival: P(T > a + h | T > a) = S(a + h) / S(a) — lifelines' ``conditional_after``.

**Delayed entry.** Customers older than the data enter the risk set late
(:mod:`churnradar.survival.durations`). lifelines fits such data (``entry_col``) with a
loop over every death time that costs O(deaths × customers × covariates²) per Newton step
— 35 s for 3,000 customers and 50 covariates — and its Breslow baseline hazard ignores the
entry times (lifelines issue #1416, open), which makes the survival of new customers
look far better than it is when most customers are older than the data. The fitter here is
lifelines' own (same Newton–Raphson, normalisation, penalty, standard errors, predictions)
with two parts replaced for data with entries: the Efron gradient and Hessian computed
with cumulative sums over the risk sets (O(customers × covariates²), equal to lifelines'
loop to rounding) and the Breslow baseline hazard with the risk set
``entry < t <= duration`` (equal to lifelines' Nelson–Aalen estimate with ``entry`` when no
covariate has an effect). The tests check both against lifelines.

References
----------
.. [1] Cox, D. R. (1972). Regression models and life-tables. *Journal of the Royal
   Statistical Society B* 34, 187–220.
.. [2] Efron, B. (1977). The efficiency of Cox's likelihood function for censored data.
   *Journal of the American Statistical Association* 72, 557–565.
.. [3] Harrell, F. E., Lee, K. L. & Mark, D. B. (1996). Multivariable prognostic models.
   *Statistics in Medicine* 15, 361–387 (concordance index).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines import exceptions as ll_exceptions
from lifelines.fitters.coxph_fitter import SemiParametricPHFitter
from threadpoolctl import threadpool_limits

from churnradar import schema as s
from churnradar.exceptions import ConvergenceWarning, InputError, NotFittedError
from churnradar.i18n import t
from churnradar.survival.durations import CHURNED, DURATION_DAYS, ENTRY_DAYS
from churnradar.survival.km import (
    EXTRAPOLATED,
    MEDIAN_REMAINING_DAYS,
    MIN_CUSTOMERS,
    MISSING,
    OTHER,
    P_VALUE,
    TENURE_DAYS,
    KaplanMeier,
    available_groupings,
    check_columns,
    check_confidence,
    check_durations,
    check_horizons,
    group_labels,
    group_order,
    p_stay_col,
)

#: summary columns
COVARIATE = "covariate"
VARIABLE = "variable"
LEVEL = "level"
REFERENCE = "reference"
COEF = "coef"
SE = "se"
HAZARD_RATIO = "hazard_ratio"
HR_LOWER = "hr_lower"
HR_UPPER = "hr_upper"
Z = "z"
SUMMARY_COLUMNS = (COVARIATE, VARIABLE, LEVEL, REFERENCE, COEF, SE, HAZARD_RATIO, HR_LOWER,
                   HR_UPPER, Z, P_VALUE)
#: remaining-survival column: exp(x·β − mean·β), the hazard relative to the average customer
RELATIVE_HAZARD = "relative_hazard"

_DURATION = "_duration"
_EVENT = "_event"
_ENTRY = "_entry"


# --- lifelines' Cox fitter, with delayed entry done fast and in the baseline too -------------
def efron_entry_gradients(x: np.ndarray, events: np.ndarray, start: np.ndarray,
                          stop: np.ndarray, weights: np.ndarray, beta: np.ndarray,
                          ) -> tuple[np.ndarray, np.ndarray, float]:
    """Hessian, gradient and log partial likelihood of the Efron Cox model with delayed
    entry: what lifelines' ``CoxTimeVaryingFitter._get_gradients`` computes, with the sums
    over each death time's risk set (``start < t <= stop``) taken from cumulative sums
    instead of a pass over all customers per death time."""
    n, p = x.shape
    events = events.astype(bool)
    times = np.unique(stop[events])
    n_times = len(times)
    phi = weights * np.exp(x @ beta)
    # customer i is at risk at the death times k with a[i] <= k < b[i]
    a = np.searchsorted(times, start, side="right")
    b = np.searchsorted(times, stop, side="right")

    def at_risk_sum(values: np.ndarray) -> np.ndarray:
        # sum over {b > k} minus sum over {a > k}: suffix sums, accurate in the late tail
        def suffix(idx: np.ndarray) -> np.ndarray:
            s = np.bincount(idx, weights=values, minlength=n_times + 1)
            return np.cumsum(s[::-1])[::-1][1:]
        return suffix(b) - suffix(a)

    phi_x = phi[:, None] * x
    risk_phi = at_risk_sum(phi)
    risk_phi_x = np.column_stack([at_risk_sum(phi_x[:, j]) for j in range(p)]) if p else (
        np.zeros((n_times, 0)))
    dead = np.flatnonzero(events)
    k_dead = np.searchsorted(times, stop[dead])
    ties = np.bincount(k_dead, minlength=n_times)
    tie_phi = np.bincount(k_dead, weights=phi[dead], minlength=n_times)
    tie_phi_x = np.column_stack([np.bincount(k_dead, weights=phi_x[dead, j],
                                             minlength=n_times) for j in range(p)]) if p else (
        np.zeros((n_times, 0)))
    w_bar = np.bincount(k_dead, weights=weights[dead], minlength=n_times) / ties
    # one row per death: Efron's j-th of the deaths tied at time k
    row_k = np.repeat(np.arange(n_times), ties)
    j = np.arange(len(row_k)) - np.repeat(np.cumsum(ties) - ties, ties)
    prop = j / ties[row_k]
    denom = 1.0 / (risk_phi[row_k] - prop * tie_phi[row_k])
    summand = (risk_phi_x[row_k] - prop[:, None] * tie_phi_x[row_k]) * denom[:, None]
    w_row = w_bar[row_k]
    x_death_sum = (weights[dead, None] * x[dead]).sum(axis=0)
    gradient = x_death_sum - (w_row[:, None] * summand).sum(axis=0)
    log_lik = float(x_death_sum @ beta + (w_row * np.log(denom)).sum())
    a2 = summand.T @ (w_row[:, None] * summand)
    # sum_k c_k * (sum of phi x x' over the risk set at k) = X' diag(phi * sum of c_k over
    # the customer's risk times) X; the tie correction likewise over the deaths
    c = np.bincount(row_k, weights=w_row * denom, minlength=n_times)
    e = np.bincount(row_k, weights=w_row * prop * denom, minlength=n_times)
    c_cum = np.concatenate([[0.0], np.cumsum(c)])
    coef = phi * (c_cum[b] - c_cum[a])
    xd = x[dead]
    a1 = x.T @ (coef[:, None] * x) - xd.T @ ((phi[dead] * e[k_dead])[:, None] * xd)
    return a2 - a1, gradient, log_lik


class _EntrySemiParametricPHFitter(SemiParametricPHFitter):  # type: ignore[misc]
    """lifelines' semi-parametric Cox fitter with delayed entry (see the module doc)."""

    def _choose_gradient_calculator(self, T: pd.Series, X: pd.DataFrame,  # noqa: N803
                                    entries: pd.Series | None) -> Any:
        if entries is None:
            return super()._choose_gradient_calculator(T, X, entries)
        return lambda X, T, E, weights, entries, beta: efron_entry_gradients(  # noqa: N803
            X.values, E.values, entries.values, T.values, weights.values, beta)

    def _compute_baseline_hazard(self, partial_hazards: pd.DataFrame, name: Any,
                                 ) -> pd.DataFrame:
        entries = getattr(self, "entries", None)
        if entries is None:
            return super()._compute_baseline_hazard(partial_hazards, name)
        # rows are in the fitted order, as the entries
        p = (partial_hazards["P"] * partial_hazards["W"]).to_numpy()
        e = (partial_hazards["E"] * partial_hazards["W"]).to_numpy()
        t = partial_hazards["T"].to_numpy()
        entry = np.asarray(entries, dtype=float)
        sums = pd.DataFrame({"P": p, "E": e, "T": t}).groupby("T")[["P", "E"]].sum()
        times = sums.index.to_numpy(dtype=float)
        still = sums["P"].to_numpy()[::-1].cumsum()[::-1]  # duration >= t
        order = np.argsort(entry, kind="stable")
        suffix = np.concatenate([p[order][::-1].cumsum()[::-1], [0.0]])
        not_yet = suffix[np.searchsorted(entry[order], times, side="left")]  # entry >= t
        hazard = pd.DataFrame({name: sums["E"].to_numpy() / (still - not_yet)}, index=times)
        hazard.index.name = None
        return hazard


class _CoxPHFitter(CoxPHFitter):  # type: ignore[misc]
    """CoxPHFitter whose Breslow model is :class:`_EntrySemiParametricPHFitter`."""

    def _fit_model_breslow(self, *args: Any, **kwargs: Any) -> Any:
        model = _EntrySemiParametricPHFitter(penalizer=self.penalizer, l1_ratio=self.l1_ratio,
                                             strata=self.strata, alpha=self.alpha,
                                             label=self._label)
        model.fit(*args, **kwargs)
        return model


# --- the estimator -------------------------------------------------------------------------
@dataclass(frozen=True)
class Encoding:
    """How one covariate enters the model."""

    kind: str  # "categorical" | "bool" | "numeric"
    reference: str | None = None
    levels: tuple[str, ...] = ()


def _is_bool(values: pd.Series) -> bool:
    if values.isna().any():
        return False
    return pd.api.types.is_bool_dtype(values) or (
        values.dtype == object and values.map(lambda v: isinstance(v, bool | np.bool_)).all())


class CoxModel:
    """Cox proportional-hazards model of time to churn (lifelines' CoxPHFitter).

    Parameters
    ----------
    penalizer : float
        lifelines' ``penalizer``: strength of the penalty on the coefficients. A little
        (default 0.01) keeps one-hot levels that nearly separate churners estimable.
        p-values of a penalized fit are approximate.
    l1_ratio : float
        0 = ridge (default), 1 = lasso.
    confidence : float
        Level of the hazard ratios' confidence intervals.
    min_level_size, max_levels : int
        Rare levels of a categorical covariate are pooled (see
        :func:`~churnradar.survival.km.group_labels`).
    max_rows : int
        Fit on a uniform sample of this many customers when there are more (200,000
        customers estimate a few dozen hazard ratios well, and keep the fit to seconds).
    random_state : int or None
        Seed of that sample.
    min_customers : int
        Fewer customers than this are refused.

    Attributes
    ----------
    lifelines_ : lifelines.CoxPHFitter
    encoding_ : dict of str to Encoding
    design_columns_ : list of str
    dropped_ : tuple of str
        Covariates left out because they have a single value.
    summary_ : pandas.DataFrame
        ``covariate, variable, level, reference, coef, se, hazard_ratio, hr_lower,
        hr_upper, z, p_value``.
    concordance_ : float
        Harrell's concordance index on the fitted customers' durations (lifelines';
        delayed entry is not taken into account).
    n_, events_ : int
        Customers and churns the model was fitted on (after sampling).
    adjusted_ : int
        0-day durations fitted as half a day (with delayed entry, lifelines needs every
        duration above its entry).
    """

    def __init__(self, *, penalizer: float = 0.01, l1_ratio: float = 0.0,
                 confidence: float = 0.95, min_level_size: int = 30, max_levels: int = 16,
                 max_rows: int = 200_000, random_state: int | None = 0,
                 min_customers: int = MIN_CUSTOMERS):
        self.penalizer = penalizer
        self.l1_ratio = l1_ratio
        self.confidence = confidence
        self.min_level_size = min_level_size
        self.max_levels = max_levels
        self.max_rows = max_rows
        self.random_state = random_state
        self.min_customers = min_customers

    # --- fitting ---------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame, *, duration_col: str = DURATION_DAYS,
            event_col: str = CHURNED, covariates: Sequence[str] | None = None,
            entry_col: str | None = None) -> Self:
        """Fit the model.

        Parameters
        ----------
        df
            One row per customer.
        duration_col, event_col, entry_col
            Duration (days), event observed (churned) and delayed entry (days).
        covariates
            Columns to model; default: the known groupings present
            (:func:`~churnradar.survival.km.available_groupings`).

        Raises
        ------
        SchemaError
            A named column is not in ``df``.
        InputError
            Too few customers, no churn, bad arguments, no covariate with two values, a
            numeric covariate with missing values, or lifelines could not fit the model.
        """
        confidence = check_confidence(self.confidence)
        if self.penalizer < 0 or not 0.0 <= self.l1_ratio <= 1.0:
            raise InputError(key="survival_err_penalizer", penalizer=self.penalizer,
                             l1_ratio=self.l1_ratio)
        if self.max_rows < 100:
            raise InputError(key="survival_err_max_rows", value=self.max_rows)
        check_durations(df, duration_col, event_col, entry_col,
                        min_customers=self.min_customers)
        covs = available_groupings(df) if covariates is None else list(covariates)
        check_columns(df, covs)
        if len(df) > self.max_rows:
            rng = np.random.default_rng(self.random_state)
            keep = np.sort(rng.choice(len(df), self.max_rows, replace=False))
            df = df.iloc[keep]
        encoding: dict[str, Encoding] = {}
        dropped: list[str] = []
        for c in covs:
            enc = self._encode(df[c], c)
            if enc is None:
                dropped.append(c)
            else:
                encoding[c] = enc
        if not encoding:
            raise InputError(key="survival_err_no_covariates",
                             columns=", ".join(covs) or "-")
        self.encoding_ = encoding
        self.dropped_ = tuple(dropped)
        x = self.design(df)
        self.design_columns_ = list(x.columns)
        frame = x.assign(**{_DURATION: df[duration_col].to_numpy(dtype=float),
                            _EVENT: df[event_col].to_numpy().astype(bool)})
        use_entry = entry_col is not None and bool((df[entry_col] > 0).any())
        adjusted = 0
        if use_entry:
            assert entry_col is not None
            frame[_ENTRY] = df[entry_col].to_numpy(dtype=float)
            # lifelines' Cox with entry needs entry < duration; only customers entering at
            # 0 with a 0-day duration can break it (validated above): half a day, as if
            # they left during their first day
            same = (frame[_ENTRY] >= frame[_DURATION]).to_numpy()
            frame.loc[same, _DURATION] = frame.loc[same, _ENTRY] + 0.5
            adjusted = int(same.sum())
        cph = _CoxPHFitter(penalizer=self.penalizer, l1_ratio=self.l1_ratio,
                           alpha=1.0 - confidence)
        _fit_quietly(cph, frame, entry=use_entry, penalizer=self.penalizer)
        self.lifelines_ = cph
        self.adjusted_ = adjusted
        self.n_ = len(frame)
        self.events_ = int(frame[_EVENT].sum())
        self.concordance_ = float(cph.concordance_index_)
        self.summary_ = self._summary(cph)
        return self

    def _encode(self, values: pd.Series, name: str) -> Encoding | None:
        if _is_bool(values):
            return Encoding("bool") if values.astype(bool).nunique() > 1 else None
        if pd.api.types.is_numeric_dtype(values):
            if values.isna().any():
                raise InputError(key="survival_err_covariate_na", column=name,
                                 n=int(values.isna().sum()))
            return Encoding("numeric") if values.nunique() > 1 else None
        labels = group_labels(values, min_size=self.min_level_size, max_groups=self.max_levels)
        order = group_order(labels)
        if len(order) < 2:
            return None
        return Encoding("categorical", reference=order[0], levels=tuple(order[1:]))

    def design(self, df: pd.DataFrame) -> pd.DataFrame:
        """The model matrix of ``df``: one-hot levels (values not seen in the fit count as
        the pooled level, else as the reference), 0/1 booleans, numbers."""
        self._check_fitted("encoding_")
        check_columns(df, list(self.encoding_))
        cols: dict[str, np.ndarray] = {}
        for name, enc in self.encoding_.items():
            v = df[name]
            if enc.kind == "bool":
                cols[name] = v.astype(bool).to_numpy(dtype=float)
            elif enc.kind == "numeric":
                if v.isna().any():
                    raise InputError(key="survival_err_covariate_na", column=name,
                                     n=int(v.isna().sum()))
                cols[name] = v.to_numpy(dtype=float)
            else:
                lab = v.astype(object).where(v.notna(), MISSING).map(str)
                known = {enc.reference, *enc.levels}
                lab = lab.where(lab.isin(known), OTHER if OTHER in known else enc.reference)
                arr = lab.to_numpy()
                for lv in enc.levels:
                    cols[f"{name}={lv}"] = (arr == lv).astype(float)
        return pd.DataFrame(cols, index=df.index)

    def _summary(self, cph: CoxPHFitter) -> pd.DataFrame:
        sm = cph.summary
        lo = next(c for c in sm.columns if c.startswith("exp(coef) lower"))
        hi = next(c for c in sm.columns if c.startswith("exp(coef) upper"))
        meta: dict[str, tuple[str, str | None, str | None]] = {}
        for name, enc in self.encoding_.items():
            if enc.kind == "categorical":
                for lv in enc.levels:
                    meta[f"{name}={lv}"] = (name, lv, enc.reference)
            else:
                meta[name] = (name, None, None)
        idx = list(sm.index)
        return pd.DataFrame({
            COVARIATE: idx,
            VARIABLE: [meta[c][0] for c in idx],
            LEVEL: [meta[c][1] for c in idx],
            REFERENCE: [meta[c][2] for c in idx],
            COEF: sm["coef"].to_numpy(),
            SE: sm["se(coef)"].to_numpy(),
            HAZARD_RATIO: sm["exp(coef)"].to_numpy(),
            HR_LOWER: sm[lo].to_numpy(),
            HR_UPPER: sm[hi].to_numpy(),
            Z: sm["z"].to_numpy(),
            P_VALUE: sm["p"].to_numpy(),
        })

    def _check_fitted(self, attr: str = "lifelines_") -> None:
        if not hasattr(self, attr):
            raise NotFittedError(key="survival_err_not_fitted", model="CoxModel")

    # --- prediction --------------------------------------------------------------------------
    def relative_hazard(self, df: pd.DataFrame) -> np.ndarray:
        """exp(x·β − mean·β): each customer's hazard relative to the average customer."""
        self._check_fitted()
        return self.lifelines_.predict_partial_hazard(self.design(df)).to_numpy(dtype=float)

    def survival_function(self, df: pd.DataFrame, times: Sequence[float],
                          conditional_after: Sequence[float] | np.ndarray | None = None,
                          ) -> pd.DataFrame:
        """lifelines' ``predict_survival_function`` (times × customers)."""
        self._check_fitted()
        return self.lifelines_.predict_survival_function(
            self.design(df), times=list(times), conditional_after=conditional_after)

    def remaining_survival(self, df: pd.DataFrame, *,
                           horizons: Sequence[int] = (30, 90, 180, 365),
                           tenure_col: str = DURATION_DAYS, id_col: str = s.CUSTOMER_ID,
                           ) -> pd.DataFrame:
        """Remaining survival of customers alive at their tenure (``conditional_after``).

        Returns
        -------
        pandas.DataFrame
            ``customer_id``, ``tenure_days``, ``relative_hazard``, ``p_stay_<h>d`` (the
            probability to stay at least another ``h`` days), ``median_remaining_days``
            (``inf`` when the predicted survival stays above one half over the data's
            follow-up, as lifelines' ``predict_median``), ``extrapolated`` (tenure + the
            longest horizon beyond the longest duration in the data: the baseline is
            carried flat there, so ``p_stay`` is optimistic).
        """
        self._check_fitted()
        hs = check_horizons(horizons)
        check_columns(df, [tenure_col, id_col])
        x = self.design(df)
        a = df[tenure_col].to_numpy(dtype=float)
        cph = self.lifelines_
        ph = cph.predict_partial_hazard(x).to_numpy(dtype=float)
        out = pd.DataFrame({id_col: df[id_col].to_numpy(), TENURE_DAYS: a,
                            RELATIVE_HAZARD: ph})
        if len(df):
            sf = cph.predict_survival_function(x, times=list(map(float, hs)),
                                               conditional_after=a).to_numpy()
            for j, h in enumerate(hs):
                out[p_stay_col(h)] = sf[j]
        else:
            for h in hs:
                out[p_stay_col(h)] = np.empty(0)
        out[MEDIAN_REMAINING_DAYS] = _conditional_median(cph, ph, a)
        timeline = np.asarray(cph.timeline, dtype=float)
        out[EXTRAPOLATED] = a + max(hs) > timeline.max()
        return out


def _conditional_median(cph: CoxPHFitter, ph: np.ndarray, a: np.ndarray) -> np.ndarray:
    """lifelines' ``predict_median(X, conditional_after=a)`` without its times × customers
    matrix: the first time r of the timeline where S(r | a) <= 1/2, by binary search
    (S(r | a) does not increase with r), with lifelines' exact arithmetic."""
    base = cph.baseline_cumulative_hazard_
    bt = base.index.to_numpy(dtype=float)
    bh = base.to_numpy(dtype=float).reshape(-1)
    timeline = np.asarray(cph.timeline, dtype=float)
    h_a = np.interp(a, bt, bh)

    def below_half(r: np.ndarray) -> np.ndarray:
        c = np.clip(np.interp(r + a, bt, bh) - h_a, 0, np.inf) * ph
        return np.exp(-c) <= 0.5

    lo = np.zeros(len(a), dtype=np.int64)
    hi = np.full(len(a), len(timeline), dtype=np.int64)
    while True:
        open_ = lo < hi
        if not open_.any():
            break
        mid = (lo + hi) // 2
        ok = below_half(timeline[np.minimum(mid, len(timeline) - 1)])
        hi = np.where(open_ & ok, mid, hi)
        lo = np.where(open_ & ~ok, mid + 1, lo)
    found = lo < len(timeline)
    return np.where(found, timeline[np.minimum(lo, len(timeline) - 1)], np.inf)


def _fit_quietly(cph: CoxPHFitter, frame: pd.DataFrame, *, entry: bool, penalizer: float,
                 ) -> None:
    """Fit, turning lifelines' convergence warnings into churnradar's and its convergence
    failure into an :class:`InputError` with a suggestion."""
    # one BLAS thread: the matrices are customers x a few dozen covariates, too small to
    # gain from threads, and on busy cores OpenBLAS threads spin (measured on 2 shared
    # cores, 20,000 customers and 45 covariates: 6.0 s with threads, 0.9 s without)
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(1, user_api="blas"):
        warnings.simplefilter("always")
        try:
            cph.fit(frame, duration_col=_DURATION, event_col=_EVENT,
                    entry_col=_ENTRY if entry else None)
        except ll_exceptions.ConvergenceError as exc:
            raise InputError(key="survival_err_cox_failed", penalizer=penalizer,
                             detail=_first_line(str(exc))) from exc
    for w in caught:
        if issubclass(w.category, ll_exceptions.ConvergenceWarning):
            warnings.warn(t("survival_warn_convergence", "en", penalizer=penalizer,
                            detail=_first_line(str(w.message))),
                          ConvergenceWarning, stacklevel=3)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _first_line(text: str) -> str:
    """lifelines' message without its code samples and links (they go to the log)."""
    flat = " ".join(ln.strip() for ln in text.strip().splitlines() if ln.strip())
    for cut in ("For example", "Please see", "See ", "http"):
        if cut in flat:
            flat = flat[: flat.index(cut)]
    return flat.strip().rstrip(".:;? ")


# --- functions on durations tables ------------------------------------------------------------
@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model of time to churn and its headline numbers.

    Attributes
    ----------
    summary : pandas.DataFrame
        See :attr:`CoxModel.summary_`.
    concordance : float
        Harrell's C on the fitted customers (0.5 = no better than chance).
    n, events : int
        Customers and churns fitted (after sampling, see ``sampled``).
    covariates, dropped : tuple of str
        Covariates in the model; covariates left out (a single value).
    lr_statistic, lr_df, lr_p_value
        Likelihood-ratio test of the model against no covariates.
    """

    summary: pd.DataFrame
    concordance: float
    n: int
    events: int
    covariates: tuple[str, ...]
    dropped: tuple[str, ...]
    lr_statistic: float
    lr_df: int
    lr_p_value: float
    penalizer: float
    sampled: bool
    model: CoxModel = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"concordance": self.concordance, "n": self.n, "events": self.events,
                "covariates": list(self.covariates), "dropped": list(self.dropped),
                "lr_statistic": self.lr_statistic, "lr_df": self.lr_df,
                "lr_p_value": self.lr_p_value, "penalizer": self.penalizer,
                "sampled": self.sampled}


def fit_cox(durations: pd.DataFrame, covariates: Sequence[str] | None = None, *,
            penalizer: float = 0.01, l1_ratio: float = 0.0, confidence: float = 0.95,
            min_level_size: int = 30, max_levels: int = 16, max_rows: int = 200_000,
            random_state: int | None = 0, min_customers: int = MIN_CUSTOMERS,
            duration_col: str = DURATION_DAYS,
            event_col: str = CHURNED, entry_col: str | None = ENTRY_DAYS) -> CoxResult:
    """Fit a :class:`CoxModel` on a durations table.

    ``entry_col`` is ignored when left at its default and absent from the table. See
    :class:`CoxModel` for the parameters and errors.
    """
    if entry_col == ENTRY_DAYS and entry_col not in durations.columns:
        entry_col = None
    model = CoxModel(penalizer=penalizer, l1_ratio=l1_ratio, confidence=confidence,
                     min_level_size=min_level_size, max_levels=max_levels, max_rows=max_rows,
                     random_state=random_state, min_customers=min_customers).fit(
        durations, duration_col=duration_col, event_col=event_col, covariates=covariates,
        entry_col=entry_col)
    lr = model.lifelines_.log_likelihood_ratio_test()
    return CoxResult(
        summary=model.summary_, concordance=model.concordance_, n=model.n_,
        events=model.events_, covariates=tuple(model.encoding_), dropped=model.dropped_,
        lr_statistic=float(lr.test_statistic), lr_df=int(lr.degrees_freedom),
        lr_p_value=float(lr.p_value), penalizer=float(penalizer),
        sampled=model.n_ < len(durations), model=model)


def remaining_survival(durations: pd.DataFrame, model: CoxModel | KaplanMeier, *,
                       horizons: Sequence[int] = (30, 90, 180, 365),
                       group_col: str | None = None) -> pd.DataFrame:
    """Remaining survival of the customers still active (``churned`` false).

    Parameters
    ----------
    durations
        A durations table; the active customers' ``duration_days`` is their tenure at
        ``as_of``.
    model
        A fitted :class:`CoxModel` (per-customer, from the attributes), or a fitted
        :class:`~churnradar.survival.km.KaplanMeier` (per group, for data without
        attributes; ``group_col`` = the grouping it was fitted with).
    horizons
        Days ahead: ``p_stay_<h>d`` per horizon.

    Returns
    -------
    pandas.DataFrame
        See :meth:`CoxModel.remaining_survival` (no ``relative_hazard`` from a
        Kaplan–Meier model), riskiest first (lowest ``p_stay`` at the first horizon).
    """
    check_columns(durations, [CHURNED])
    active = durations[~durations[CHURNED].astype(bool)]
    if isinstance(model, CoxModel):
        out = model.remaining_survival(active, horizons=horizons)
    else:
        out = model.remaining_survival(active, horizons=horizons, group_col=group_col)
    first = p_stay_col(check_horizons(horizons)[0])
    return out.sort_values([first, s.CUSTOMER_ID], kind="stable").reset_index(drop=True)
