"""Pareto/NBD: purchases and survival of customers who can leave at any moment.

The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987) [1]_ for
non-contractual businesses: while alive, a customer buys at a Poisson rate
``lambda ~ Gamma(r, alpha)`` and dies after an exponential lifetime with rate
``mu ~ Gamma(s, beta)``. Its input is the customer summary of the calibration period
(``frequency``, ``recency``, ``T`` in one time unit, e.g. weeks = days / 7).

Why by hand
-----------
The likelihood needs the Gaussian hypergeometric function (Fader, Hardie & Shang's
numerically stable form [2]_). ``lifetimes`` (unmaintained) maximises it with
Nelder-Mead, one hypergeometric evaluation per customer and trial point: seconds on
CDNOW. Here the hypergeometric term is an Euler-transformed ``2F1(1, b; c; z)`` that
depends only on ``(frequency, t)``, so it is evaluated once per distinct pair (about
2,000 pairs for the 23,570 CDNOW customers); its derivatives in ``z`` are closed form
and those in its parameters central differences of the same cheap function. BFGS on
the log-parameters then fits CDNOW_master in a fraction of a second. Near ``z = 1``
(parameters far apart, as in degenerate fits) SciPy's ``hyp2f1`` returns NaN; there the
function comes from its Euler integral by tanh-sinh quadrature, derivatives included.

The likelihood, per customer (equation 18 of [2]_ after Euler's transformation)::

    L = Gamma(r+x) alpha^r beta^s / Gamma(r)
        * [P(T) + s/(r+s+x) * (P(t_x) K(t_x) - P(T) K(T))]
    P(t) = (alpha+t)^-(r+x) (beta+t)^-s
    K(t) = 2F1(1, r+x; r+s+x+1; (alpha-beta)/(alpha+t))                 if alpha >= beta
         = (alpha+t)/(beta+t) 2F1(1, s+1; r+s+x+1; (beta-alpha)/(beta+t))   otherwise

``s K(t) P(t) / (r+s+x)`` is the integral of the death density times the purchase
likelihood from ``t`` to infinity; ``K`` is 1 when ``alpha == beta``.

References
----------
.. [1] Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your
   customers: who are they and what will they do next? Management Science 33(1), 1-24.
.. [2] Fader, P. S., Hardie, B. G. S. & Shang, J. (2005). A note on deriving the
   Pareto/NBD model and related expressions. http://brucehardie.com/notes/009/
.. [3] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers"
   the easy way: an alternative to the Pareto/NBD model. Marketing Science 24(2),
   275-284 (the CDNOW benchmark estimates).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln, hyp2f1

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

MODEL_NAME = "Pareto/NBD"
PARAM_NAMES: tuple[str, ...] = ("r", "alpha", "s", "beta")

_WARM_START_ROWS = 60_000
_SUBSAMPLE_ROWS = 20_000
#: Relative step of the central differences of 2F1 in its parameters.
_STEP = 1e-5
#: Up to this argument SciPy's hyp2f1 is trusted (see :func:`hyp1`).
_SCIPY_Z_MAX = 0.9



class ParetoNBDModel:
    """The Pareto/NBD model of repeat purchasing (Schmittlein, Morrison & Colombo 1987).

    Parameters
    ----------
    penalizer : float
        L2 penalty ``penalizer * (r**2 + alpha**2 + s**2 + beta**2)`` added to the mean
        negative log-likelihood (``lifetimes``' ``penalizer_coef``); 0 (the default)
        gives the maximum likelihood estimate.

    Attributes
    ----------
    params_ : dict of str to float
        ``r``, ``alpha`` (purchase rate ~ Gamma(r, alpha)), ``s``, ``beta`` (dropout
        rate ~ Gamma(s, beta)); ``alpha`` and ``beta`` are in the summary's time unit.
    standard_errors_ : dict of str to float
        Standard errors from the inverse Hessian of the negative log-likelihood.
    log_likelihood_ : float
        Maximised log-likelihood (-9595.0 on the CDNOW sample in weeks).
    n_customers_ : int
        Number of customers fitted (sum of the weights).
    converged_ : bool
        Whether the optimiser converged.

    References
    ----------
    .. [1] Schmittlein, Morrison & Colombo (1987), Management Science 33(1), 1-24.
    .. [2] Fader, Hardie & Shang (2005), http://brucehardie.com/notes/009/
    """

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, summary: pd.DataFrame) -> Self:
        """Estimate ``r, alpha, s, beta`` by maximum likelihood.

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``frequency`` (repeat purchases), ``recency`` (time of the last
            purchase since the first), ``T`` (time since the first purchase), all in one
            time unit, and optionally ``weight`` (number of identical customers).

        Returns
        -------
        ParetoNBDModel
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
        self.n_customers_ = int(round(total))
        self.converged_ = result.converged
        return self

    # ------------------------------------------------------------------ predictions

    def p_alive(self, summary: pd.DataFrame) -> FloatArray:
        """Probability that each customer is still alive at the end of the calibration.

        Equations (36)-(37) of Fader, Hardie & Shang (2005).

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T``.

        Returns
        -------
        ndarray
            Probabilities in [0, 1], one per row.
        """
        theta = np.log(np.array(self._params()))
        x, tx, age = _predict_columns(summary)
        with np.errstate(all="ignore"):
            log_alive, _ = _log_alive_and_likelihood(theta, x, tx, age)
        return check_finite(np.exp(log_alive), MODEL_NAME)

    def expected_purchases(self, t: float | FloatArray, summary: pd.DataFrame) -> FloatArray:
        """Expected number of purchases in the next ``t`` time units, per customer.

        Equation (41) of Fader, Hardie & Shang (2005), conditional on each customer's
        ``frequency``, ``recency`` and ``T`` (same time unit as the fit).

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
        """
        r, alpha, s, beta = self._params()
        x, tx, age = _predict_columns(summary)
        t_arr = times_for(t, len(x))
        with np.errstate(all="ignore"):
            log_alive, _ = _log_alive_and_likelihood(np.log([r, alpha, s, beta]), x, tx, age)
            span = _pareto_span(s, np.log1p(t_arr / (beta + age)))
            out = (r + x) * (beta + age) / (alpha + age) * span * np.exp(log_alive)
        return check_finite(out, MODEL_NAME)

    def expected_population_purchases(self, t: float | FloatArray) -> FloatArray:
        """Expected repeat purchases by time ``t`` of a customer just acquired.

        Equation (27) of Fader, Hardie & Shang (2005):
        ``r beta / (alpha (s-1)) * (1 - (beta / (beta+t))^(s-1))``.

        Parameters
        ----------
        t : float or ndarray
            Time(s) since the first purchase, >= 0.

        Returns
        -------
        ndarray
            Same shape as ``t`` (a 1-element array for a scalar).
        """
        r, alpha, s, beta = self._params()
        t_arr = np.atleast_1d(check_times(t))
        out = r * beta / alpha * _pareto_span(s, np.log1p(t_arr / beta))
        return check_finite(out, MODEL_NAME)

    def _params(self) -> tuple[float, float, float, float]:
        p = check_fitted(self, MODEL_NAME)
        return p["r"], p["alpha"], p["s"], p["beta"]


# --------------------------------------------------------------------------- internals


def _pareto_span(s: float, log_ratio: FloatArray) -> FloatArray:
    """``(1 - exp(-(s-1) L)) / (s-1)``, and its limit ``L`` at ``s = 1``."""
    if abs(s - 1.0) < 1e-10:
        return np.asarray(log_ratio, dtype=np.float64)
    return np.asarray(-np.expm1(-(s - 1.0) * log_ratio) / (s - 1.0), dtype=np.float64)


def _predict_columns(summary: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    cols, _ = read_columns(summary, (FREQUENCY, RECENCY, AGE), model=MODEL_NAME)
    check_rfm(summary, cols, error=InputError)
    return cols[FREQUENCY], cols[RECENCY], cols[AGE]


def _start(x: FloatArray, age: FloatArray, weights: FloatArray) -> FloatArray:
    """Starting log-parameters: r = s = 1, alpha from the purchase rate, beta = mean T."""
    mean_age = max(float(weights @ age) / float(weights.sum()), 1e-6)
    rate = float(weights @ x) / max(float(weights @ age), 1e-12)
    return np.log(np.array([1.0, 1.0 / max(rate, 1e-12), 1.0, mean_age]))


def _log_k(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t: FloatArray,
    *, gradient: bool = True,
) -> tuple[FloatArray, FloatArray | None]:
    """``ln K(t)`` for purchase counts ``x`` and times ``t``, and its gradient in
    ``(r, alpha, s, beta)`` (shape ``(4, n)``), see the module docstring."""
    c = r + s + x + 1.0
    if alpha >= beta:
        z = (alpha - beta) / (alpha + t)
        b = r + x
    else:
        z = (beta - alpha) / (beta + t)
        b = np.full_like(x, s + 1.0)
    easy = z <= _SCIPY_Z_MAX
    h = np.full(z.shape, np.nan)
    h[easy] = hyp2f1(1.0, b[easy], c[easy], z[easy])
    if gradient:
        hb, hc, hz = np.empty_like(h), np.empty_like(h), np.empty_like(h)
        be, ce, ze = b[easy], c[easy], z[easy]
        # SciPy: the parameters of 2F1 by central differences, z in closed form
        hb[easy] = (hyp2f1(1.0, be * (1 + _STEP), ce, ze)
                    - hyp2f1(1.0, be * (1 - _STEP), ce, ze)) / (2 * _STEP * be)
        hc[easy] = (hyp2f1(1.0, be, ce * (1 + _STEP), ze)
                    - hyp2f1(1.0, be, ce * (1 - _STEP), ze)) / (2 * _STEP * ce)
        hz[easy] = be / ce * hyp2f1(2.0, be + 1.0, ce + 1.0, ze)
        hard = ~(np.isfinite(h) & np.isfinite(hb) & np.isfinite(hc) & np.isfinite(hz))
        if hard.any():
            h[hard], hb[hard], hc[hard], hz[hard] = _hyp1_by_quadrature(
                b[hard], c[hard], z[hard], derivatives=True)
        hb, hc, hz = hb / h, hc / h, hz / h
    else:
        hard = ~np.isfinite(h)
        if hard.any():
            h[hard] = _hyp1_by_quadrature(b[hard], c[hard], z[hard])
    log_k = np.log(h)
    if alpha < beta:
        log_k += np.log(alpha + t) - np.log(beta + t)
    if not gradient:
        return log_k, None
    grad = np.empty((4, len(x)))
    if alpha >= beta:
        grad[0] = hb + hc
        grad[2] = hc
        grad[1] = hz * (beta + t) / (alpha + t) ** 2
        grad[3] = -hz / (alpha + t)
    else:
        grad[0] = hc
        grad[2] = hb + hc
        grad[1] = -hz / (beta + t) + 1.0 / (alpha + t)
        grad[3] = hz * (alpha + t) / (beta + t) ** 2 - 1.0 / (beta + t)
    return log_k, grad


def _hyp1(b: FloatArray, c: FloatArray, z: FloatArray) -> FloatArray:
    """The Gaussian hypergeometric ``2F1(1, b; c; z)`` for ``c > max(b, 1)``, ``b > 0``,
    ``0 <= z < 1``.

    SciPy's ``hyp2f1`` is fast and accurate up to ``z = 0.9`` but returns NaN (or takes
    hundreds of microseconds) closer to 1 once ``b`` or ``c - b`` is large -- where the
    estimates of a degenerate fit wander. There the function is integrated instead
    (:func:`_hyp1_by_quadrature`), to about 1e-10.
    """
    b, c, z = np.broadcast_arrays(np.asarray(b, dtype=np.float64),
                                  np.asarray(c, dtype=np.float64),
                                  np.asarray(z, dtype=np.float64))
    out = np.full(z.shape, np.nan)
    easy = z <= _SCIPY_Z_MAX
    out[easy] = hyp2f1(1.0, b[easy], c[easy], z[easy])
    hard = ~np.isfinite(out)
    if hard.any():
        out[hard] = _hyp1_by_quadrature(b[hard], c[hard], z[hard])
    return out


def _tanh_sinh(step: float = 0.04, half_width: int = 80) -> tuple[FloatArray, ...]:
    """Double-exponential (tanh-sinh) rule on [0, 1]: nodes, 1 - nodes, weights."""
    k = np.arange(-half_width, half_width + 1) * step
    t = 0.5 * np.pi * np.sinh(k)
    weights = 0.25 * np.pi * step * np.cosh(k) / np.cosh(t) ** 2
    # nodes and their distance to 1, each computed without cancellation
    return 1.0 / (1.0 + np.exp(-2.0 * t)), 1.0 / (1.0 + np.exp(2.0 * t)), weights


_DE_NODES, _DE_GAPS, _DE_WEIGHTS = _tanh_sinh()
_DE_LOG_NODES = np.log(_DE_NODES)
_DE_LOG_NODES[_DE_NODES >= 0.5] = np.log1p(-_DE_GAPS[_DE_NODES >= 0.5])


def _hyp1_by_quadrature(
    b: FloatArray, c: FloatArray, z: FloatArray, *, derivatives: bool = False
) -> FloatArray:
    """``2F1(1, b; c; z)`` from its Euler integral, by tanh-sinh quadrature.

    With ``lambda = 1 / (1 - z)`` and ``omega = (1 - u)^(c-1)`` in Euler's integral::

        2F1(1, b; c; z) = lambda * int_0^1 (1 + (lambda - 1)(1 - omega^(1/(c-1))))^-(c-b) d omega

    The integrand lies in (0, 1], is monotone, and its only steep parts are boundary
    layers at the ends, which the double-exponential rule resolves (161 nodes).
    With ``derivatives``, returns shape ``(4, n)``: the value and its derivatives in
    ``b``, ``c`` and ``z``, differentiated under the integral sign.
    """
    a = (c - 1.0)[:, None]
    e = (c - b)[:, None]
    shift = (z / (1.0 - z))[:, None]
    power = np.exp(_DE_LOG_NODES[None, :] / a)      # omega^(1/a)
    rise = -np.expm1(_DE_LOG_NODES[None, :] / a)    # 1 - omega^(1/a), no cancellation
    base = 1.0 + shift * rise
    log_base = np.log(base)
    integrand = np.exp(-e * log_base)
    scale = 1.0 / (1.0 - z)
    value = integrand @ _DE_WEIGHTS * scale
    if not derivatives:
        return np.asarray(value, dtype=np.float64)
    weighted = integrand * _DE_WEIGHTS
    d_b = (weighted * log_base).sum(axis=1) * scale
    # c moves both the exponent e = c - b and a = c - 1 inside omega^(1/a)
    d_base_d_a = shift * power * _DE_LOG_NODES[None, :] / a**2
    d_c = -d_b - (weighted * e / base * d_base_d_a).sum(axis=1) * scale
    d_z = -(weighted * e / base * rise).sum(axis=1) * scale**3 + value * scale
    return np.vstack([value, d_b, d_c, d_z])


def _log_alive_and_likelihood(
    theta: FloatArray, x: FloatArray, tx: FloatArray, age: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``ln P(alive)`` and the per-customer log-likelihood (no weights, no gradient)."""
    r, alpha, s, beta = np.exp(theta)
    rx = r + x
    log_p_t = -rx * np.log(alpha + age) - s * np.log(beta + age)
    log_p_x = -rx * np.log(alpha + tx) - s * np.log(beta + tx)
    lk_t, _ = _log_k(r, alpha, s, beta, x, age, gradient=False)
    lk_x, _ = _log_k(r, alpha, s, beta, x, tx, gradient=False)
    lq = np.log(s) - np.log(r + s + x)
    e2 = lq + log_p_x + lk_x
    m = np.maximum(log_p_t, e2)
    # P(T) (1 - s K(T) / (r+s+x)) >= 0 without cancellation, see _Likelihood
    alive = np.exp(log_p_t - m) * np.maximum(-np.expm1(lq + lk_t), 0.0)
    log_b = m + np.log(alive + np.exp(e2 - m))
    const = gammaln(rx) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return np.minimum(log_p_t - log_b, 0.0), const + log_b


class _Likelihood:
    """Mean negative log-likelihood of the Pareto/NBD and its gradient in log-parameters.

    Customers are collapsed to distinct ``(x, t_x, T)`` rows and ``K`` is evaluated once
    per distinct ``(x, t)`` pair over ``t`` in ``t_x`` and ``T``.
    """

    def __init__(self, x: FloatArray, tx: FloatArray, age: FloatArray, w: FloatArray):
        self.total = float(w.sum())
        (age_u, tx_u, x_u), w_u, _ = collapse([age, tx, x], w)
        self.age, self.tx, self.x, self.w = age_u, tx_u, x_u, w_u
        m = len(x_u)
        self.n_rows = m
        (pt, px), _, codes = collapse([np.concatenate([tx_u, age_u]),
                                       np.concatenate([x_u, x_u])], np.ones(2 * m))
        self.pair_t, self.pair_x = pt, px
        pair_codes: IntArray = codes if codes is not None else np.arange(2 * m, dtype=np.int64)
        self.k_x, self.k_t = pair_codes[:m], pair_codes[m:]
        xs, x_codes = np.unique(x_u, return_inverse=True)
        self.xs = xs
        self.wx = np.bincount(x_codes.astype(np.int64), weights=w_u, minlength=len(xs))

    def subsample(self, rows: int) -> _Likelihood:
        """The same likelihood on about ``rows`` distinct rows (every k-th, weights kept)."""
        k = max(1, self.n_rows // rows)
        return _Likelihood(self.x[::k], self.tx[::k], self.age[::k], self.w[::k])

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, s, beta = np.exp(theta)
        xs, wx, total = self.xs, self.wx, self.total
        ll = float(wx @ (gammaln(r + xs) - gammaln(r))) \
            + total * (r * np.log(alpha) + s * np.log(beta))
        grad = np.array([
            float(wx @ (digamma(r + xs) - digamma(r))) + total * np.log(alpha),
            total * r / alpha,
            total * np.log(beta),
            total * s / beta,
        ])
        with np.errstate(all="ignore"):
            lk, dk = _log_k(r, alpha, s, beta, self.pair_x, self.pair_t)
        assert dk is not None
        x, tx, age, w = self.x, self.tx, self.age, self.w
        rx = r + x
        a_t, b_t, a_x, b_x = alpha + age, beta + age, alpha + tx, beta + tx
        la_t, lb_t, la_x, lb_x = np.log(a_t), np.log(b_t), np.log(a_x), np.log(b_x)
        log_p_t = -rx * la_t - s * lb_t
        log_p_x = -rx * la_x - s * lb_x
        lq = np.log(s) - np.log(rx + s)
        e2 = lq + log_p_x + lk[self.k_x]
        e3 = lq + log_p_t + lk[self.k_t]
        top = np.maximum(log_p_t, e2)
        t1, t2, t3 = np.exp(log_p_t - top), np.exp(e2 - top), np.exp(e3 - top)
        # t1 - t3 = P(T) (1 - s K(T) / (r+s+x)) >= 0 (s J(T) <= P(T)): by expm1, so that
        # rounding cannot make the likelihood negative
        scaled = t1 * np.maximum(-np.expm1(lq + lk[self.k_t]), 0.0) + t2
        if not np.all(scaled > 0):
            return np.inf, np.zeros(4)
        ll += float(w @ (top + np.log(scaled)))
        # d ln B = [t1 dP_T + t2 (dq + dP_x + dK_x) - t3 (dq + dP_T + dK_T)] / B
        wb = w / scaled
        inv_a = 1.0 / (rx + s)
        dq = (-inv_a, None, 1.0 / s - inv_a, None)
        dp_t = (-la_t, -rx / a_t, -lb_t, -s / b_t)
        dp_x = (-la_x, -rx / a_x, -lb_x, -s / b_x)
        t23 = t2 - t3
        for j in range(4):
            num = (t1 - t3) * dp_t[j] + t2 * dp_x[j] + t2 * dk[j][self.k_x] \
                - t3 * dk[j][self.k_t]
            q = dq[j]
            if q is not None:
                num = num + t23 * q
            grad[j] += float(wb @ num)
        grad *= np.exp(theta)
        return -ll / total, -grad / total
