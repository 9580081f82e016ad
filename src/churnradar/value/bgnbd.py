"""BG/NBD: how many purchases will a customer make, and is the customer still alive?

The beta-geometric / negative binomial distribution model of Fader, Hardie & Lee (2005)
[1]_ for non-contractual businesses: while alive, a customer buys at a Poisson rate
``lambda ~ Gamma(r, alpha)``; after every purchase the customer drops out with
probability ``p ~ Beta(a, b)``. Its input is the customer summary of the calibration
period (``frequency``, ``recency``, ``T`` in one time unit, e.g. weeks = days / 7).

Why by hand
-----------
The likelihood is closed form (equation 6 of [1]_): a few ``gammaln``/``betaln`` terms
and one log-sum per customer. This module collapses identical customers into weights,
computes everything that depends only on the purchase count once per distinct count,
passes the analytic gradient (digamma) to BFGS over the log-parameters, and for very
large bases warm-starts from a subsample. That fits a million customers in well under a
second; ``lifetimes`` (unmaintained, autograd, row by row) needs about ten times longer.
The predictions use the Euler-transformed hypergeometric term, which stays finite where
``lifetimes`` needs a fallback formula.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers"
   the easy way: an alternative to the Pareto/NBD model. Marketing Science 24(2),
   275-284.
.. [2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2008). Computing P(alive) using the
   BG/NBD model. http://brucehardie.com/notes/021/
"""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy import integrate
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from churnradar.exceptions import InputError
from churnradar.value._mle import (
    AGE,
    FREQUENCY,
    RECENCY,
    FloatArray,
    IntArray,
    check_finite,
    check_fitted,
    check_penalizer,
    check_rfm,
    check_times,
    collapse,
    fit_log_params,
    read_columns,
    read_purchase_summary,
    times_for,
)

MODEL_NAME = "BG/NBD"
PARAM_NAMES: tuple[str, ...] = ("r", "alpha", "a", "b")

#: Above this many distinct customer rows, BFGS first runs on a systematic subsample.
_WARM_START_ROWS = 60_000
_SUBSAMPLE_ROWS = 20_000
#: Within this distance of a = 1 the closed form of the expected purchases is
#: interpolated (it is 0/0 at a = 1 and loses eps / |a - 1| nearby).
_A_NEAR_ONE = 1e-5


class BGNBDModel:
    """The BG/NBD model of repeat purchasing with dropout (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    penalizer : float
        L2 penalty ``penalizer * (r**2 + alpha**2 + a**2 + b**2)`` added to the mean
        negative log-likelihood (``lifetimes``' ``penalizer_coef``); 0 (the default)
        gives the maximum likelihood estimate. A small value (0.001-0.1) tames runaway
        estimates on small or odd data.

    Attributes
    ----------
    params_ : dict of str to float
        ``r``, ``alpha`` (purchase rate ~ Gamma(r, alpha), alpha in the time unit of the
        summary), ``a``, ``b`` (dropout probability ~ Beta(a, b)).
    standard_errors_ : dict of str to float
        Standard errors from the inverse Hessian of the negative log-likelihood.
    log_likelihood_ : float
        Maximised log-likelihood (-9582.4 on the CDNOW sample in weeks).
    n_customers_ : int
        Number of customers fitted (sum of the weights).
    converged_ : bool
        Whether the optimiser converged.

    Examples
    --------
    On the CDNOW sample summarised in weeks (2,357 customers):

    >>> model = BGNBDModel().fit(summary)  # doctest: +SKIP
    >>> {k: round(v, 3) for k, v in model.params_.items()}  # doctest: +SKIP
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    >>> model.expected_purchases(52, summary)  # next year, per customer  # doctest: +SKIP

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). Marketing Science 24(2),
       275-284.
    """

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    # ------------------------------------------------------------------ fitting

    def fit(self, summary: pd.DataFrame) -> Self:
        """Estimate ``r, alpha, a, b`` by maximum likelihood.

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``frequency`` (repeat purchases), ``recency`` (time of the last
            purchase since the first), ``T`` (time since the first purchase), all in one
            time unit, and optionally ``weight`` (number of identical customers).

        Returns
        -------
        BGNBDModel
            ``self``, fitted.

        Raises
        ------
        SchemaError
            A column is missing, not numeric, or has missing values.
        ModelFitError
            The table is empty, has negative values, a fractional frequency, recency
            above T, or no repeat buyer at all; or the likelihood cannot be maximised.
        InputError
            ``penalizer`` is negative or not a number.

        Warns
        -----
        ConvergenceWarning
            The optimiser stopped short of its tolerance, or a parameter ran to the edge
            of the search region (``converged_`` is False; a penalizer usually helps).
        """
        penalizer = check_penalizer(self.penalizer)
        x, tx, age, weights, total = read_purchase_summary(summary, MODEL_NAME)
        likelihood = _Likelihood(x, tx, age, weights)
        warm = likelihood.subsample(_SUBSAMPLE_ROWS) if likelihood.n_rows > _WARM_START_ROWS \
            else None
        result = fit_log_params(likelihood, _start(x, age, weights), names=PARAM_NAMES,
                                model=MODEL_NAME, n_obs=total, penalizer=penalizer,
                                warm_start=warm)
        self.params_ = result.params
        self.standard_errors_ = result.standard_errors
        self.log_likelihood_ = result.log_likelihood
        self.n_customers_ = _count(total)
        self.converged_ = result.converged
        return self

    # ------------------------------------------------------------------ predictions

    def expected_purchases(self, t: float | FloatArray, summary: pd.DataFrame) -> FloatArray:
        """Expected number of purchases in the next ``t`` time units, per customer.

        Equation (10) of [1]_, conditional on each customer's ``frequency``, ``recency``
        and ``T`` (same time unit as the fit).

        Parameters
        ----------
        t : float or ndarray
            Length of the future period (>= 0), a scalar or one value per customer.
        summary : pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T``.

        Returns
        -------
        ndarray
            One expectation per row of ``summary``.

        References
        ----------
        .. [1] Fader, Hardie & Lee (2005), Marketing Science 24(2), 275-284.
        """
        r, alpha, a, b = self._params()
        x, tx, age = _predict_columns(summary)
        t_arr = times_for(t, len(x))
        future = _future(r, a, b, x, t_arr / (alpha + age))
        return check_finite(future * _alive(r, alpha, a, b, x, tx, age), MODEL_NAME)

    def p_alive(self, summary: pd.DataFrame) -> FloatArray:
        """Probability that each customer is still alive at the end of the calibration.

        Fader, Hardie & Lee (2008) [2]_: 1 for customers without a repeat purchase (the
        BG/NBD lets customers drop out only right after a purchase).

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T``.

        Returns
        -------
        ndarray
            Probabilities in [0, 1], one per row.
        """
        r, alpha, a, b = self._params()
        x, tx, age = _predict_columns(summary)
        return check_finite(_alive(r, alpha, a, b, x, tx, age), MODEL_NAME)

    def expected_population_purchases(self, t: float | FloatArray) -> FloatArray:
        """Expected repeat purchases by time ``t`` of a customer just acquired.

        Equation (9) of [1]_: ``E[X(t)]`` for a customer picked at random from the
        population at their first purchase.

        Parameters
        ----------
        t : float or ndarray
            Time(s) since the first purchase, >= 0.

        Returns
        -------
        ndarray
            Same shape as ``t`` (a 1-element array for a scalar).
        """
        r, alpha, a, b = self._params()
        t_arr = np.atleast_1d(check_times(t))
        # a customer just acquired: no repeat purchase, alive, T = 0
        return check_finite(_future(r, a, b, np.zeros(t_arr.shape), t_arr / alpha), MODEL_NAME)

    def _params(self) -> tuple[float, float, float, float]:
        p = check_fitted(self, MODEL_NAME)
        return p["r"], p["alpha"], p["a"], p["b"]


# --------------------------------------------------------------------------- internals


def _count(total: float) -> int:
    return int(round(total))


def _predict_columns(summary: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    cols, _ = read_columns(summary, (FREQUENCY, RECENCY, AGE), model=MODEL_NAME)
    check_rfm(summary, cols, error=InputError)
    return cols[FREQUENCY], cols[RECENCY], cols[AGE]


def _future(r: float, a: float, b: float, x: FloatArray, tau: FloatArray) -> FloatArray:
    """Expected purchases in the next ``tau * (alpha + T)`` time units of a customer
    known to be alive: ``E[(1 - (1 + p tau)^-(r+x)) / p]`` over ``p ~ Beta(a, b+x)``.

    Closed form (equation 10 of [1]_ without its P(alive) factor), after Euler's
    transformation of ``2F1(r+x, b+x; a+b+x-1; z)``, ``z = tau / (1 + tau)``, which absorbs
    the factor ``(1-z)^(r+x)`` and stays finite where the direct form overflows::

        (a+b+x-1)/(a-1) * (1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z))

    SciPy's 2F1 returns NaN near ``z = 1`` when ``c - a - b = x + r - a + 1`` is a whole
    number, and the form is 0/0 at ``a = 1``; the function is smooth in ``r`` and ``a``
    there, so near ``a = 1`` it is interpolated, NaN entries average two evaluations a
    hair either side (error ~1e-12), and whatever is still not finite is integrated
    numerically.
    """
    x = np.asarray(x, dtype=np.float64)
    tau = np.asarray(tau, dtype=np.float64)
    if abs(a - 1.0) < _A_NEAR_ONE:
        # (a+b+x-1)/(a-1) * (1 - ...) cancels catastrophically as a -> 1: interpolate
        # between a = 1 -+ _A_NEAR_ONE (error ~1e-10)
        lo, hi = 1.0 - _A_NEAR_ONE, 1.0 + _A_NEAR_ONE
        f_lo, f_hi = _future_closed(r, lo, b, x, tau), _future_closed(r, hi, b, x, tau)
        out = f_lo + (a - lo) / (hi - lo) * (f_hi - f_lo)
    else:
        out = _future_closed(r, a, b, x, tau)
    bad = ~np.isfinite(out)
    if bad.any():
        d = 1e-6
        out[bad] = 0.5 * (_future_closed(r * (1 + d), a * (1 - d), b, x[bad], tau[bad])
                          + _future_closed(r * (1 - d), a * (1 + d), b, x[bad], tau[bad]))
        for i in np.flatnonzero(~np.isfinite(out)):
            out[i] = _future_by_quadrature(r + x[i], a, b + x[i], float(tau[i]))
    return out


def _future_closed(r: float, a: float, b: float, x: FloatArray, tau: FloatArray) -> FloatArray:
    with np.errstate(all="ignore"):
        z = tau / (1.0 + tau)
        hyp = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        out = (a + b + x - 1) / (a - 1) * (1.0 - np.exp((a - 1) * np.log1p(-z)) * hyp)
    return np.asarray(np.where(tau == 0, 0.0, out), dtype=np.float64)


def _future_by_quadrature(k: float, a: float, beta_x: float, tau: float) -> float:
    """``E[(1 - (1 + p tau)^-k) / p]``, ``p ~ Beta(a, beta_x)``, integrated over
    ``v = logit(p)`` (slow: only for what the closed form cannot do)."""
    log_norm = float(betaln(a, beta_x))

    def integrand(v: float) -> float:
        log_p, log_q = -np.logaddexp(0.0, -v), -np.logaddexp(0.0, v)
        p = math.exp(log_p)
        g = k * tau if p * tau < 1e-12 else -math.expm1(-k * math.log1p(p * tau)) / p
        return math.exp(a * log_p + beta_x * log_q - log_norm) * g

    cuts = sorted([math.log(a / beta_x), -math.log(max(k * tau, 1e-300))])
    total = 0.0
    for lo, hi in ((-math.inf, cuts[0]), (cuts[0], cuts[1]), (cuts[1], math.inf)):
        total += integrate.quad(integrand, lo, hi, epsabs=0.0, epsrel=1e-12, limit=500)[0]
    return total


def _alive(
    r: float, alpha: float, a: float, b: float, x: FloatArray, tx: FloatArray, age: FloatArray
) -> FloatArray:
    """P(alive): 1 / (1 + odds of having dropped out after the last purchase); 1 without
    a repeat purchase."""
    xm = np.maximum(x, 1.0)
    log_odds = np.log(a / (b + xm - 1)) + (r + x) * np.log((alpha + age) / (alpha + tx))
    return np.asarray(np.where(x > 0, expit(-log_odds), 1.0), dtype=np.float64)


def _start(x: FloatArray, age: FloatArray, weights: FloatArray) -> FloatArray:
    """Starting log-parameters: r = 1, alpha from the observed purchase rate, a = b = 1."""
    rate = float(weights @ x) / max(float(weights @ age), 1e-12)
    alpha = 1.0 / max(rate, 1e-12)
    return np.log(np.array([1.0, alpha, 1.0, 1.0]))


def _softplus_sigmoid(z: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``log(1 + e^z)`` and ``1 / (1 + e^-z)`` without overflow, sharing one ``exp``.

    Several times faster than ``np.logaddexp(0, z)`` and ``scipy.special.expit``.
    """
    e = np.exp(-np.abs(z))
    soft = np.maximum(z, 0.0) + np.log1p(e)
    sig = np.where(z >= 0, 1.0, e) / (1.0 + e)
    return soft, sig


class _Likelihood:
    """Mean negative log-likelihood of the BG/NBD and its gradient in log-parameters.

    Equation (6) of Fader, Hardie & Lee (2005), written per customer as::

        LL = C(x) + r ln(alpha) - (r + x) ln(alpha + T)
             + [x > 0] log(1 + exp(g(x) + (r + x) (ln(alpha + T) - ln(alpha + t_x))))

    with ``C(x) = lnG(r+x) - lnG(r) + lnB(a, b+x) - lnB(a, b)`` and
    ``g(x) = ln(a / (b + x - 1))``. ``C`` and ``g`` are evaluated once per distinct
    ``x``; customers without a repeat purchase only need ``T``.
    """

    def __init__(self, x: FloatArray, tx: FloatArray, age: FloatArray, w: FloatArray):
        self.total = float(w.sum())
        zero = x == 0
        (self.age0,), self.w0, _ = collapse([age[zero]], w[zero])
        rep = ~zero
        (self.age1, self.tx1, x1), self.w1, _ = collapse([age[rep], tx[rep], x[rep]], w[rep])
        self.x1 = x1
        # distinct purchase counts (0 included) and the total weight of each
        xs, x_codes = np.unique(np.concatenate([[0.0], x1]), return_inverse=True)
        self.xs = xs
        self.idx1: IntArray = x_codes[1:].astype(np.int64)
        self.wx = np.bincount(self.idx1, weights=self.w1, minlength=len(xs))
        self.wx[0] += self.w0.sum()
        self.n_rows = len(self.age0) + len(self.x1)
        self.w1x = self.w1 * x1

    def subsample(self, rows: int) -> _Likelihood:
        """The same likelihood on about ``rows`` distinct rows (every k-th, weights kept)."""
        k = max(1, self.n_rows // rows)
        zeros = np.zeros(len(self.age0[::k]))
        return _Likelihood(
            np.concatenate([zeros, self.x1[::k]]),
            np.concatenate([zeros, self.tx1[::k]]),
            np.concatenate([self.age0[::k], self.age1[::k]]),
            np.concatenate([self.w0[::k], self.w1[::k]]),
        )

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = np.exp(theta)
        xs, wx = self.xs, self.wx
        # --- terms of the purchase count only
        c = gammaln(r + xs) - gammaln(r) + betaln(a, b + xs) - betaln(a, b)
        ll = float(wx @ c) + self.total * r * np.log(alpha)
        dr = float(wx @ (digamma(r + xs) - digamma(r))) + self.total * np.log(alpha)
        dalpha = self.total * r / alpha
        psi_ab, psi_abx = digamma(a + b), digamma(a + b + xs)
        da = float(wx @ (psi_ab - psi_abx))
        db = float(wx @ (digamma(b + xs) - digamma(b) + psi_ab - psi_abx))
        # --- customers without a repeat purchase
        if len(self.age0):
            shifted = alpha + self.age0
            inv0 = 1.0 / shifted
            log0 = np.log(shifted)
            w0 = self.w0
            ll -= r * float(w0 @ log0)
            dr -= float(w0 @ log0)
            dalpha -= r * float(w0 @ inv0)
        # --- repeat buyers
        w1 = self.w1
        shifted_t, shifted_x = alpha + self.age1, alpha + self.tx1
        inv_t, inv_x = 1.0 / shifted_t, 1.0 / shifted_x
        u = np.log(shifted_t)
        diff = u - np.log(shifted_x)
        rx = r + self.x1
        g = np.log(a) - np.log(b + self.xs[1:] - 1) if len(self.xs) > 1 else self.xs[:0]
        z = g[self.idx1 - 1] + rx * diff
        soft, sig = _softplus_sigmoid(z)
        w1u = w1 @ u
        ll += -(r * w1u + self.w1x @ u) + float(w1 @ soft)
        ws = w1 * sig
        dr += -w1u + float(ws @ diff)
        dalpha += -(r * float(w1 @ inv_t) + float(self.w1x @ inv_t)) \
            + float((ws * rx) @ (inv_t - inv_x))
        sig_sum = float(ws.sum())
        da += sig_sum / a
        by_x = np.bincount(self.idx1, weights=ws, minlength=len(xs))
        if len(xs) > 1:
            db -= float(by_x[1:] @ (1.0 / (b + xs[1:] - 1)))
        grad = np.array([dr * r, dalpha * alpha, da * a, db * b]) / -self.total
        return -ll / self.total, grad
