"""Shared machinery of the customer-value models: input checks and maximum likelihood.

Why by hand
-----------
The buy-till-you-die models (BG/NBD, Pareto/NBD), Gamma-Gamma and the shifted-beta-
geometric model all have closed-form likelihoods of a handful of parameters. Maximising
them needs nothing beyond SciPy: this module optimises the log-parameters with BFGS and
the analytic gradient each model supplies, and reads the standard errors off the inverse
Hessian of the negative log-likelihood at the optimum (a numerical Hessian of the
analytic gradient). The reference implementation, ``lifetimes``, is unmaintained,
differentiates with ``autograd`` (or not at all, Nelder-Mead for Pareto/NBD) and works
row by row; here identical customers are collapsed into weights and everything is
vectorised, which is 10 to 100 times faster on large customer bases.

Conventions
-----------
* An *objective* maps the log-parameters ``theta`` to the mean negative log-likelihood
  per customer (weights counted) and its gradient with respect to ``theta``. Working on
  the mean keeps the optimiser's tolerances independent of the number of customers.
* ``penalizer`` adds ``penalizer * sum(params ** 2)`` to the mean negative
  log-likelihood, as ``lifetimes`` does (``penalizer_coef``); 0 gives the plain maximum
  likelihood estimate of the papers.
* The reported log-likelihood is the maximised, unpenalised log-likelihood of all
  customers (the papers' convention, e.g. -9582.4 for BG/NBD on the CDNOW sample).
* The search stays within a factor of 10,000 of the (data-driven) start of every
  parameter. A fit that runs into that edge -- the likelihood keeps rising towards a
  parameter of 0 or infinity, e.g. a homogeneous purchase rate -- stops there with
  ``converged`` False and a :class:`~churnradar.exceptions.ConvergenceWarning`
  suggesting a penalizer, rather than wandering for minutes.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers"
   the easy way: an alternative to the Pareto/NBD model. Marketing Science 24(2),
   275-284.
.. [2] Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your
   customers: who are they and what will they do next? Management Science 33(1), 1-24.
.. [3] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value
   curves for customer base analysis. Journal of Marketing Research 42(4), 415-430.
.. [4] Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention.
   Journal of Interactive Marketing 21(1), 76-90.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from churnradar.exceptions import (
    ChurnRadarError,
    ConvergenceWarning,
    InputError,
    ModelFitError,
    NotFittedError,
    SchemaError,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Objective: log-parameters -> (mean negative log-likelihood, its gradient in theta).
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

# --- the vocabulary of customer summaries (Fader-Hardie / lifetimes definitions) -------
#: Number of repeat purchases (purchase occasions after the first).
FREQUENCY = "frequency"
#: Time from the first to the last purchase, in the model's time unit.
RECENCY = "recency"
#: Age: time from the first purchase to the end of the calibration period.
AGE = "T"
#: Mean spend per repeat purchase occasion.
MONETARY_VALUE = "monetary_value"
#: Optional number of identical customers a row stands for.
WEIGHT = "weight"

#: Largest mean-scale gradient (in log-parameters) accepted as converged when BFGS stops
#: on floating-point precision rather than on its own tolerance.
_GRADIENT_ACCEPT = 1e-4
#: BFGS tolerance on the mean-scale gradient (in log-parameters).
_GTOL = 1e-7
#: The search box: every parameter stays within a factor e^_BOX (10,000) of its start.
#: Beyond it the likelihood is flat in that direction (e.g. a Gamma shape of 10,000 is
#: a homogeneous rate): the fit stops at the edge and says so.
_BOX = math.log(1e4)
#: Rows of the first column looked at to decide whether grouping rows can pay off.
_COLLAPSE_PROBE = 20_000


# --------------------------------------------------------------------------- input checks


def check_fitted(model: object, name: str) -> dict[str, float]:
    """The fitted ``params_`` of ``model``, or :class:`NotFittedError`."""
    params = getattr(model, "params_", None)
    if params is None:
        raise NotFittedError(key="value_err_not_fitted", model=name)
    return dict(params)


def check_finite(values: npt.ArrayLike, model: str) -> FloatArray:
    """``values`` as a float array, or :class:`ModelFitError` if any is not finite.

    The last guard of every prediction: a degenerate fit must fail loudly, never hand
    out NaN.
    """
    out = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(out)
    if bad.any():
        raise ModelFitError(key="value_err_prediction_not_finite", model=model,
                            count=int(bad.sum()))
    return out


def check_penalizer(penalizer: Any) -> float:
    """A finite penalizer >= 0, or :class:`InputError`."""
    return check_number(penalizer, "penalizer", minimum=0.0)


def check_number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict: bool = False,
) -> float:
    """``value`` as a finite float within bounds, or :class:`InputError`.

    ``strict`` makes the minimum exclusive (``value > minimum``).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(key="value_err_not_a_number", name=name, value=value)
    out = float(value)
    if not math.isfinite(out):
        raise InputError(key="value_err_not_a_number", name=name, value=value)
    if minimum is not None and (out <= minimum if strict else out < minimum):
        sign = ">" if strict else ">="
        raise InputError(key="value_err_out_of_range", name=name, rule=f"{sign} {minimum:g}",
                         value=value)
    if maximum is not None and out > maximum:
        raise InputError(key="value_err_out_of_range", name=name, rule=f"<= {maximum:g}",
                         value=value)
    return out


def check_times(t: Any, name: str = "t") -> FloatArray:
    """A finite, non-negative time or array of times, as a float array."""
    try:
        arr = np.asarray(t, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(key="value_err_not_a_number", name=name, value=t) from exc
    if not np.all(np.isfinite(arr)):
        raise InputError(key="value_err_not_a_number", name=name, value=t)
    if np.any(arr < 0):
        raise InputError(key="value_err_out_of_range", name=name, rule=">= 0", value=t)
    return arr


def times_for(t: Any, n: int, name: str = "t") -> FloatArray:
    """``t`` (a scalar or one value per customer) checked and broadcast to ``n`` values."""
    arr = check_times(t, name)
    try:
        return np.broadcast_to(arr, (n,))
    except ValueError as exc:
        raise InputError(key="value_err_times_shape", name=name, got=len(np.ravel(arr)),
                         n=n) from exc


def read_columns(
    table: Any, columns: Sequence[str], *, model: str, table_name: str = "summary"
) -> tuple[dict[str, FloatArray], FloatArray]:
    """The numeric ``columns`` of ``table`` and the customer weights.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per customer (or per group of identical customers, see ``weight``).
    columns : sequence of str
        Required columns; each must be numeric with no missing or infinite value.
    model : str
        Model name, for the messages.
    table_name : str
        How the messages call the table.

    Returns
    -------
    (dict of str to ndarray, ndarray)
        The columns as float arrays and the weights (the ``weight`` column when present,
        else ones).

    Raises
    ------
    SchemaError
        When ``table`` is not a DataFrame, a column is missing, not numeric, or has a
        missing or infinite value.
    ModelFitError
        When a weight is negative.
    """
    if not isinstance(table, pd.DataFrame):
        raise SchemaError(key="value_err_not_a_table", model=model, table=table_name,
                          got=type(table).__name__)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise SchemaError(key="value_err_missing_columns", model=model, table=table_name,
                          columns=", ".join(repr(c) for c in missing),
                          present=", ".join(repr(str(c)) for c in table.columns) or "-")
    wanted = [*columns, WEIGHT] if WEIGHT in table.columns else list(columns)
    out: dict[str, FloatArray] = {}
    for col in wanted:
        series = table[col]
        if series.dtype == bool or not pd.api.types.is_numeric_dtype(series.dtype):
            raise SchemaError(key="value_err_not_numeric", table=table_name, column=col,
                              dtype=str(series.dtype))
        arr = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(arr)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise SchemaError(key="value_err_not_finite", table=table_name, column=col,
                              count=int(bad.sum()), row=_label(table, first))
        out[col] = arr
    weights = out.pop(WEIGHT, None)
    if weights is None:
        weights = np.ones(len(table), dtype=np.float64)
    else:
        _refuse(table, weights < 0, key="value_err_negative", column=WEIGHT,
                values=weights, error=ModelFitError, table_name=table_name)
    return out, weights


def check_rfm(
    table: pd.DataFrame,
    cols: Mapping[str, FloatArray],
    *,
    error: type[ChurnRadarError],
    table_name: str = "summary",
) -> None:
    """Check frequency, recency and T against the Fader-Hardie definitions.

    frequency is a whole number >= 0; 0 <= recency <= T; recency is 0 when frequency
    is 0 (no repeat purchase, so the last purchase is the first).
    """
    x, tx, age = cols[FREQUENCY], cols[RECENCY], cols[AGE]
    for name, values in ((FREQUENCY, x), (RECENCY, tx), (AGE, age)):
        _refuse(table, values < 0, key="value_err_negative", column=name, values=values,
                error=error, table_name=table_name)
    _refuse(table, x != np.floor(x), key="value_err_frequency_not_whole", column=FREQUENCY,
            values=x, error=error, table_name=table_name)
    above = tx > age * (1 + 1e-12) + 1e-12
    if above.any():
        first = int(np.flatnonzero(above)[0])
        raise error(key="value_err_recency_above_t", table=table_name, count=int(above.sum()),
                    row=_label(table, first), recency=f"{tx[first]:g}", T=f"{age[first]:g}")
    lonely = (x == 0) & (tx > 0)
    if lonely.any():
        first = int(np.flatnonzero(lonely)[0])
        raise error(key="value_err_recency_without_repeat", table=table_name,
                    count=int(lonely.sum()), row=_label(table, first),
                    recency=f"{tx[first]:g}")


def _refuse(
    table: pd.DataFrame,
    bad: npt.NDArray[np.bool_],
    *,
    key: str,
    column: str,
    values: FloatArray,
    error: type[ChurnRadarError],
    table_name: str,
) -> None:
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise error(key=key, table=table_name, column=column, count=int(bad.sum()),
                    row=_label(table, first), value=f"{values[first]:g}")


def _label(table: pd.DataFrame, position: int) -> str:
    """The index label of a row, for messages (the customer id when indexed by it)."""
    return str(table.index[position])


# --------------------------------------------------------------------------- collapsing


def collapse(
    columns: Sequence[FloatArray], weights: FloatArray, *, max_ratio: float = 0.5
) -> tuple[list[FloatArray], FloatArray, IntArray | None]:
    """Group identical rows: unique rows, their summed weights and the row -> group map.

    Hash-based (``pandas.factorize``), so linear in the number of rows; the groups come
    in order of first appearance. Put the column with the most distinct values first:
    as soon as the groups exceed ``max_ratio`` of the rows (continuous data), grouping
    cannot pay for itself and the rows are returned as they are.

    Returns
    -------
    (list of ndarray, ndarray, ndarray or None)
        The columns of the unique rows, their weights, and for every input row the
        position of its group (None when the rows were left as they are).
    """
    n = len(weights)
    if not columns:
        raise ValueError("collapse needs at least one column")
    probe = columns[0][: min(n, _COLLAPSE_PROBE)]
    if len(pd.unique(probe)) > max_ratio * len(probe):
        # the first column alone is nearly all distinct: continuous data
        return list(columns), weights, None
    codes = np.zeros(n, dtype=np.int64)
    size = 1
    for col in columns:
        col_codes, uniques = pd.factorize(col, sort=False)
        if size > 1:
            # size * len(uniques) <= n * n: no int64 overflow below 3e9 rows
            codes, groups = pd.factorize(codes * len(uniques) + col_codes, sort=False)
            size = len(groups)
        else:
            codes, size = col_codes, len(uniques)
        if size > max_ratio * n:
            return list(columns), weights, None
    group_of: IntArray = np.asarray(codes, dtype=np.int64)
    first = np.empty(size, dtype=np.int64)
    first[group_of[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int64)
    group_weights = np.bincount(group_of, weights=weights, minlength=size).astype(np.float64)
    return [c[first] for c in columns], group_weights, group_of


# --------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class MLEResult:
    """The outcome of :func:`fit_log_params`.

    Attributes
    ----------
    params, standard_errors : dict of str to float
        Estimates and their standard errors on the parameters' natural scale (delta
        method from the log scale, which at the optimum equals the inverse Hessian on the
        natural scale).
    log_likelihood : float
        Maximised, unpenalised log-likelihood of all customers.
    converged : bool
        Whether the optimiser met its tolerance (or stopped on floating-point precision
        with a negligible gradient).
    n_evaluations : int
        Number of likelihood and gradient evaluations, warm start included.
    """

    params: dict[str, float]
    standard_errors: dict[str, float]
    log_likelihood: float
    converged: bool
    n_evaluations: int


def read_purchase_summary(
    summary: Any, model: str
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, float]:
    """``frequency, recency, T``, the weights (rows of weight 0 dropped) and their total,
    checked as the purchase models (BG/NBD, Pareto/NBD) need them.

    Raises
    ------
    SchemaError
        A column is missing, not numeric, or has missing values.
    ModelFitError
        Negative values, a fractional frequency, recency above T; an empty table; no
        repeat buyer at all.
    """
    cols, weights = read_columns(summary, (FREQUENCY, RECENCY, AGE), model=model)
    check_rfm(summary, cols, error=ModelFitError)
    x, tx, age = cols[FREQUENCY], cols[RECENCY], cols[AGE]
    keep = weights > 0
    if not keep.all():
        x, tx, age, weights = x[keep], tx[keep], age[keep], weights[keep]
    total = float(weights.sum())
    if total <= 0:
        raise ModelFitError(key="value_err_empty", model=model)
    if not np.any(x > 0):
        raise ModelFitError(key="value_err_no_repeat_buyers", model=model,
                            n=int(round(total)))
    return x, tx, age, weights, total


def fit_log_params(
    objective: Objective,
    theta0: FloatArray,
    *,
    names: Sequence[str],
    model: str,
    n_obs: float,
    penalizer: float = 0.0,
    warm_start: Objective | None = None,
) -> MLEResult:
    """Maximise a likelihood over log-parameters with BFGS and the analytic gradient.

    Parameters
    ----------
    objective : callable
        ``theta -> (mean negative log-likelihood, gradient in theta)`` over all
        customers; ``theta`` is the log of the parameters ``names``.
    theta0 : ndarray
        Starting log-parameters.
    names : sequence of str
        Parameter names, in the order of ``theta``.
    model : str
        Model name, for messages.
    n_obs : float
        Total weight (number of customers): scales the mean back to the sum.
    penalizer : float
        L2 penalty on the natural-scale parameters, added to the mean objective.
    warm_start : callable, optional
        The same objective on a representative subsample. When given, BFGS first runs
        on it (cheap) and the full objective then only polishes that solution, starting
        from the subsample's inverse-Hessian estimate.

    Returns
    -------
    MLEResult

    Raises
    ------
    ModelFitError
        When the likelihood is not finite at the start or at the solution.

    Warns
    -----
    ConvergenceWarning
        When the optimiser stops without meeting its tolerance, or a parameter runs
        into the edge of the search box (a factor 10,000 from its start) -- in both
        cases ``converged`` is False -- or when the standard errors cannot be computed
        (they are then NaN).
    """
    counter = [0]
    theta = np.asarray(theta0, dtype=np.float64)
    box = (theta - _BOX, theta + _BOX)
    full = _penalised(objective, penalizer, counter, box)
    first = _penalised(warm_start, penalizer, counter, box) if warm_start is not None else full
    f0, g0 = first(theta)
    if not (math.isfinite(f0) and np.all(np.isfinite(g0))):
        raise ModelFitError(key="value_err_start_not_finite", model=model,
                            params=_fmt_params(names, np.exp(theta)))
    hess_inv0: FloatArray | None = None
    res: Any = None
    if warm_start is not None:
        coarse = _minimise(first, theta, None)
        if _inside(coarse.x, box) and coarse.hess_inv is not None:
            theta = np.asarray(coarse.x, dtype=np.float64)
            hess_inv0 = np.asarray(coarse.hess_inv, dtype=np.float64)
            # from the subsample's optimum, Newton steps on the full likelihood converge
            # in a few iterations (each: one gradient + k for the Hessian), where BFGS
            # needs tens of evaluations to rebuild the curvature
            res = _newton(full, theta)
    if res is None:
        res = _minimise(full, theta, hess_inv0)
    theta_hat = np.asarray(res.x, dtype=np.float64)
    f_hat, g_hat = float(res.fun), np.asarray(res.jac, dtype=np.float64)
    if not (_inside(theta_hat, box) and math.isfinite(f_hat) and np.all(np.isfinite(g_hat))):
        raise ModelFitError(key="value_err_diverged", model=model,
                            params=_fmt_params(names, np.exp(np.clip(theta_hat, -700, 700))))
    params = np.exp(theta_hat)
    grad_norm = float(np.max(np.abs(g_hat)))
    converged = bool(res.success) or grad_norm <= _GRADIENT_ACCEPT
    edge = (theta_hat - box[0] < 0.25) | (box[1] - theta_hat < 0.25)
    if edge.any():
        converged = False
        warnings.warn(ChurnRadarError(key="value_warn_at_bound", model=model,
                                      params=_fmt_params(names, params),
                                      names=", ".join(n for n, e in zip(names, edge, strict=True)
                                                      if e)).localized("en"),
                      ConvergenceWarning, stacklevel=3)
    elif not converged:
        warnings.warn(ChurnRadarError(key="value_warn_not_converged", model=model,
                                      reason=str(res.message), gradient=f"{grad_norm:.2g}")
                      .localized("en"), ConvergenceWarning, stacklevel=3)
    mean_nll = f_hat - penalizer * float(np.sum(params**2))
    errors = _standard_errors(full, theta_hat, g_hat, params, n_obs, model,
                              hess=getattr(res, "hess", None))
    return MLEResult(
        params=dict(zip(names, (float(p) for p in params), strict=True)),
        standard_errors=dict(zip(names, (float(e) for e in errors), strict=True)),
        log_likelihood=-mean_nll * n_obs,
        converged=converged,
        n_evaluations=counter[0],
    )


@dataclass(frozen=True)
class _NewtonResult:
    x: FloatArray
    fun: float
    jac: FloatArray
    success: bool = True
    message: str = "Newton polish converged"
    #: the Hessian of the last iteration, when its step was tiny (reused for the errors)
    hess: FloatArray | None = None


def _newton(fun: Objective, theta: FloatArray, max_iter: int = 8) -> _NewtonResult | None:
    """Damped Newton iterations with the finite-difference Hessian of the analytic
    gradient, until the gradient is below ``_GTOL``; None when a Hessian is not positive
    definite, a line search fails or the iterations run out (the caller uses BFGS)."""
    f, g = fun(theta)
    last: FloatArray | None = None
    for _ in range(max_iter):
        if not (math.isfinite(f) and np.all(np.isfinite(g))):
            return None
        if float(np.max(np.abs(g))) <= _GTOL:
            return _NewtonResult(x=theta, fun=f, jac=g, hess=last)
        hess = numerical_hessian(fun, theta, g)
        try:
            np.linalg.cholesky(hess)
        except np.linalg.LinAlgError:
            return None
        step = -np.linalg.solve(hess, g)
        slope = float(g @ step)
        t = 1.0
        while t >= 1e-3:
            f_new, g_new = fun(theta + t * step)
            if math.isfinite(f_new) and f_new <= f + 1e-4 * t * slope:
                break
            t /= 2.0
        else:
            return None
        theta, f, g = theta + t * step, f_new, g_new
        # after a step this small (log-parameters) the last Hessian is within ~5e-4 of the
        # one at the optimum: good enough for standard errors, and saves k evaluations
        last = hess if float(np.max(np.abs(t * step))) < 2e-3 else None
    return (_NewtonResult(x=theta, fun=f, jac=g, hess=last)
            if float(np.max(np.abs(g))) <= _GTOL else None)


def _penalised(
    objective: Objective, penalizer: float, counter: list[int], box: tuple[FloatArray, FloatArray]
) -> Objective:
    def fun(theta: FloatArray) -> tuple[float, FloatArray]:
        counter[0] += 1
        if not _inside(theta, box):
            # a step out of the search box: refuse it so the line search backs off
            return math.inf, np.zeros_like(theta)
        f, g = objective(theta)
        if penalizer:
            p2 = np.exp(2.0 * theta)
            f += penalizer * float(p2.sum())
            g = g + 2.0 * penalizer * p2
        if not math.isfinite(f):
            return math.inf, np.zeros_like(theta)
        return float(f), g

    return fun


def _inside(theta: npt.ArrayLike, box: tuple[FloatArray, FloatArray]) -> bool:
    arr = np.asarray(theta, dtype=np.float64)
    return bool(np.all(np.isfinite(arr)) and np.all(arr >= box[0]) and np.all(arr <= box[1]))


def _minimise(fun: Objective, theta0: FloatArray, hess_inv0: FloatArray | None) -> Any:
    options: dict[str, Any] = {"gtol": _GTOL, "maxiter": 1000}
    if hess_inv0 is not None:
        hess_inv0 = (hess_inv0 + hess_inv0.T) / 2.0  # SciPy demands exact symmetry
        try:
            np.linalg.cholesky(hess_inv0)
            options["hess_inv0"] = hess_inv0
        except np.linalg.LinAlgError:
            pass
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return optimize.minimize(fun, theta0, jac=True, method="BFGS", options=options)


def numerical_hessian(
    fun: Objective, theta: FloatArray, grad: FloatArray | None = None
) -> FloatArray:
    """Finite-difference Hessian of ``fun`` from its analytic gradient, symmetrised.

    Central differences (2k gradient evaluations) by default; given the gradient at
    ``theta``, forward differences (k evaluations), accurate to about 1e-6 relative.
    """
    k = len(theta)
    hess = np.empty((k, k), dtype=np.float64)
    for i in range(k):
        if grad is None:
            e = np.zeros(k)
            e[i] = 1e-5
            hess[:, i] = (fun(theta + e)[1] - fun(theta - e)[1]) / 2e-5
        else:
            e = np.zeros(k)
            e[i] = 1e-6
            hess[:, i] = (fun(theta + e)[1] - grad) / 1e-6
    return (hess + hess.T) / 2.0


def _standard_errors(
    fun: Objective,
    theta: FloatArray,
    grad: FloatArray,
    params: FloatArray,
    n_obs: float,
    model: str,
    hess: FloatArray | None = None,
) -> FloatArray:
    """Standard errors of the natural-scale parameters from the inverse Hessian (of the
    mean objective: ``hess`` when the caller has it, else a finite-difference one)."""
    with np.errstate(all="ignore"):
        if hess is None:
            hess = numerical_hessian(fun, theta, grad)
        hess = hess * n_obs
    try:
        if not np.all(np.isfinite(hess)):
            raise np.linalg.LinAlgError("Hessian not finite")
        np.linalg.cholesky(hess)
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        warnings.warn(ChurnRadarError(key="value_warn_no_standard_errors", model=model)
                      .localized("en"), ConvergenceWarning, stacklevel=4)
        return np.full(len(theta), np.nan)
    # delta method: d p / d theta = p
    return np.asarray(params * np.sqrt(np.diag(cov)), dtype=np.float64)


def _fmt_params(names: Sequence[str], values: npt.ArrayLike) -> str:
    return ", ".join(f"{n}={v:.4g}" for n, v in zip(names, np.asarray(values), strict=True))
