"""Gamma-Gamma: how much will a customer spend per purchase?

The Gamma-Gamma spend model of Fader, Hardie & Lee (2005) [1]_, written up in Fader &
Hardie (2013) [2]_: the value of each of a customer's purchases is Gamma(p, nu), and
the customer's ``nu`` is Gamma(q, gamma) across customers. It is fitted to the mean
spend per repeat purchase (``monetary_value``) of customers with at least one repeat
purchase, and predicts each customer's expected spend per purchase by shrinking their
own mean towards the population mean ``p gamma / (q - 1)`` -- the more purchases, the
less shrinkage. It assumes spend is independent of the purchase process, so it pairs
with BG/NBD or Pareto/NBD for customer lifetime value (:mod:`churnradar.value.clv`).

Why by hand
-----------
The likelihood of a customer's mean spend is closed form (equation 1a of [2]_): three
``gammaln`` terms and three logarithms, with a digamma gradient. Fitting it with BFGS
over the log-parameters takes milliseconds; ``lifetimes`` (unmaintained) needs autograd
for the same thing.

Zero and negative spend
-----------------------
The model only admits positive spend. Customers with repeat purchases but a
``monetary_value`` of 0 or less (returns, free items -- CDNOW_master has $0 purchases)
are refused with a :class:`~churnradar.exceptions.ModelFitError` that says how many
there are: drop them (``summary[summary["monetary_value"] > 0]``) or summarise spend
without the $0 purchases, deliberately, before fitting.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value
   curves for customer base analysis. Journal of Marketing Research 42(4), 415-430.
.. [2] Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
   http://brucehardie.com/notes/025/
"""

from __future__ import annotations

import warnings
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from churnradar.exceptions import ChurnRadarError, InputError, ModelFitError
from churnradar.value._mle import (
    FREQUENCY,
    MONETARY_VALUE,
    FloatArray,
    check_finite,
    check_fitted,
    check_penalizer,
    collapse,
    fit_log_params,
    read_columns,
)

MODEL_NAME = "Gamma-Gamma"
PARAM_NAMES: tuple[str, ...] = ("p", "q", "gamma")


class GammaGammaModel:
    """The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    penalizer : float
        L2 penalty ``penalizer * (p**2 + q**2 + gamma**2)`` added to the mean negative
        log-likelihood (``lifetimes``' ``penalizer_coef``); 0 (the default) gives the
        maximum likelihood estimate.

    Attributes
    ----------
    params_ : dict of str to float
        ``p`` (shape of a purchase's value), ``q`` and ``gamma`` (shape and scale of the
        customers' rates; ``gamma`` in money units). ``lifetimes`` calls ``gamma`` "v".
    standard_errors_ : dict of str to float
        Standard errors from the inverse Hessian of the negative log-likelihood.
    log_likelihood_ : float
        Maximised log-likelihood.
    n_customers_ : int
        Number of customers fitted: those with ``frequency > 0`` (weights counted).
    converged_ : bool
        Whether the optimiser converged.

    References
    ----------
    .. [1] Fader, Hardie & Lee (2005), Journal of Marketing Research 42(4), 415-430.
    .. [2] Fader & Hardie (2013), http://brucehardie.com/notes/025/
    """

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, summary: pd.DataFrame) -> Self:
        """Estimate ``p, q, gamma`` from the customers with repeat purchases.

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``frequency`` (repeat purchases) and ``monetary_value`` (mean spend
            per repeat purchase), optionally ``weight``. Rows with ``frequency == 0``
            are ignored.

        Returns
        -------
        GammaGammaModel
            ``self``, fitted.

        Raises
        ------
        SchemaError
            A column is missing, not numeric, or has missing values.
        ModelFitError
            No customer has a repeat purchase; a frequency is negative or fractional; a
            customer with repeat purchases has ``monetary_value <= 0`` (the message
            gives the count); or the likelihood cannot be maximised.

        Warns
        -----
        ConvergenceWarning
            The optimiser stopped short of its tolerance, or a parameter ran to the edge
            of the search region (``converged_`` is False; a penalizer usually helps).
        UserWarning
            The fitted ``q`` is at most 1: the population mean spend is infinite and
            :meth:`expected_spend` will refuse to predict.
        """
        penalizer = check_penalizer(self.penalizer)
        x, m, weights = _columns(summary, error=ModelFitError)
        used = (x > 0) & (weights > 0)
        total = float(weights[used].sum())
        if not used.any():
            if len(x) == 0 or float(weights.sum()) <= 0:
                raise ModelFitError(key="value_err_empty", model=MODEL_NAME)
            raise ModelFitError(key="value_err_no_repeat_buyers", model=MODEL_NAME,
                                n=int(round(float(weights.sum()))))
        bad = used & (m <= 0)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ModelFitError(key="value_err_spend_not_positive", count=int(bad.sum()),
                                n=int(used.sum()), row=str(summary.index[first]),
                                value=f"{m[first]:g}")
        likelihood = _Likelihood(x[used], m[used], weights[used])
        result = fit_log_params(likelihood, _start(m[used], weights[used]), names=PARAM_NAMES,
                                model=MODEL_NAME, n_obs=total, penalizer=penalizer)
        self.params_ = result.params
        self.standard_errors_ = result.standard_errors
        self.log_likelihood_ = result.log_likelihood
        self.n_customers_ = int(round(total))
        self.converged_ = result.converged
        if result.params["q"] <= 1.0:
            warnings.warn(ChurnRadarError(key="value_err_mean_spend_infinite",
                                          q=f"{result.params['q']:.4g}").localized("en"),
                          UserWarning, stacklevel=2)
        return self

    def expected_spend(self, summary: pd.DataFrame) -> FloatArray:
        """Expected spend per purchase of each customer, given their history.

        ``E[Z | x, m] = p (gamma + x m) / (p x + q - 1)``, a weighted average of the
        customer's own mean ``m`` and the population mean ``p gamma / (q - 1)``
        (equation 5 of Fader & Hardie 2013); customers with ``frequency == 0`` get the
        population mean.

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``frequency`` and ``monetary_value`` (>= 0).

        Returns
        -------
        ndarray
            One expected spend per row, in the money unit of ``monetary_value``.

        Raises
        ------
        ModelFitError
            The fitted ``q`` is at most 1 (infinite mean spend).
        """
        params = check_fitted(self, MODEL_NAME)
        p, q, gamma = params["p"], params["q"], params["gamma"]
        if q <= 1.0:
            raise ModelFitError(key="value_err_mean_spend_infinite", q=f"{q:.4g}")
        x, m, _ = _columns(summary, error=InputError)
        out = p * (gamma + x * m) / (p * x + q - 1.0)
        return check_finite(out, MODEL_NAME)

    def population_mean_spend(self) -> float:
        """Mean spend per purchase across customers, ``p gamma / (q - 1)`` (inf if q <= 1)."""
        params = check_fitted(self, MODEL_NAME)
        q = params["q"]
        return params["p"] * params["gamma"] / (q - 1.0) if q > 1.0 else float("inf")


# --------------------------------------------------------------------------- internals


def _columns(
    summary: Any, *, error: type[ChurnRadarError]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    cols, weights = read_columns(summary, (FREQUENCY, MONETARY_VALUE), model=MODEL_NAME)
    x, m = cols[FREQUENCY], cols[MONETARY_VALUE]
    for name, values in ((FREQUENCY, x), (MONETARY_VALUE, m)):
        negative = values < 0
        if negative.any():
            first = int(np.flatnonzero(negative)[0])
            raise error(key="value_err_negative", table="summary", column=name,
                        count=int(negative.sum()), row=str(summary.index[first]),
                        value=f"{values[first]:g}")
    fractional = x != np.floor(x)
    if fractional.any():
        first = int(np.flatnonzero(fractional)[0])
        raise error(key="value_err_frequency_not_whole", table="summary", column=FREQUENCY,
                    count=int(fractional.sum()), row=str(summary.index[first]),
                    value=f"{x[first]:g}")
    return x, m, weights


def _start(m: FloatArray, w: FloatArray) -> FloatArray:
    """Starting log-parameters: p = 1, q = 2, gamma matching the mean spend."""
    mean = float(w @ m) / float(w.sum())
    return np.log(np.array([1.0, 2.0, mean]))


class _Likelihood:
    """Mean negative log-likelihood of the customers' mean spends (equation 1a of [2]_).

    ``LL = lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + (px-1) ln(m) + px ln(x)
    - (px+q) ln(gamma + m x)``, with ``x`` repeat purchases of mean value ``m``.
    """

    def __init__(self, x: FloatArray, m: FloatArray, w: FloatArray):
        (m_u, x_u), w_u, _ = collapse([m, x], w)
        self.x, self.m, self.w = x_u, m_u, w_u
        self.total = float(w_u.sum())
        self.log_m = np.log(m_u)
        self.log_x = np.log(x_u)
        self.xm = x_u * m_u

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        p, q, gamma = np.exp(theta)
        x, w = self.x, self.w
        px = p * x
        shifted = gamma + self.xm
        log_shifted = np.log(shifted)
        ll = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma) \
            + (px - 1.0) * self.log_m + px * self.log_x - (px + q) * log_shifted
        psi_pxq = digamma(px + q)
        dp = x * (psi_pxq - digamma(px) + self.log_m + self.log_x - log_shifted)
        dq = psi_pxq - digamma(q) + np.log(gamma) - log_shifted
        dgamma = q / gamma - (px + q) / shifted
        grad = np.array([w @ dp * p, w @ dq * q, w @ dgamma * gamma])
        return -float(w @ ll) / self.total, -grad / self.total
