"""Shifted-beta-geometric (sBG): project the retention of a contract cohort.

The sBG model of Fader & Hardie (2007) [1]_ for contractual businesses with discrete
renewal periods (monthly or yearly contracts): at every renewal a customer cancels with
probability ``theta``, constant for the customer, and ``theta ~ Beta(alpha, beta)``
across customers. Heterogeneity makes the retention rate of the surviving cohort rise
over time, ``r(t) = (beta + t - 1) / (alpha + beta + t - 1)``, which a single churn rate
cannot capture. Fitted to a few periods of survivors of one cohort, it projects the
cohort's survival and gives the discounted expected residual lifetime (DERL) of Fader &
Hardie (2010) [2]_ in closed form.

Why by hand
-----------
Two parameters, a likelihood of ``betaln`` terms with a digamma gradient, and one
Gaussian hypergeometric function for DERL: SciPy is all it takes, and no maintained
Python package offers the model.

References
----------
.. [1] Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention.
   Journal of Interactive Marketing 21(1), 76-90.
.. [2] Fader, P. S. & Hardie, B. G. S. (2010). Customer-base valuation in a contractual
   setting: the perils of ignoring heterogeneity. Marketing Science 29(1), 85-93.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, hyp2f1

from churnradar.exceptions import InputError, ModelFitError
from churnradar.value._mle import (
    FloatArray,
    check_fitted,
    check_number,
    check_penalizer,
    fit_log_params,
)

MODEL_NAME = "sBG"
PARAM_NAMES: tuple[str, ...] = ("alpha", "beta")


class ShiftedBetaGeometricModel:
    """The shifted-beta-geometric model of contract renewals (Fader & Hardie 2007).

    Parameters
    ----------
    penalizer : float
        L2 penalty ``penalizer * (alpha**2 + beta**2)`` added to the mean negative
        log-likelihood per customer; 0 (the default) gives the maximum likelihood
        estimate.

    Attributes
    ----------
    params_ : dict of str to float
        ``alpha`` and ``beta`` of the Beta distribution of the churn probability.
    standard_errors_ : dict of str to float
        Standard errors from the inverse Hessian of the negative log-likelihood, on the
        scale of the input: survivors given as percentages count as a cohort of 100.
    log_likelihood_ : float
        Maximised log-likelihood, on the scale of the input.
    n_customers_ : int
        Cohort size, the first value of the input (rounded).
    n_periods_ : int
        Number of observed periods (input length - 1).
    cohort_size_ : float
        The first value of the input, the scale of :meth:`project`.
    converged_ : bool
        Whether the optimiser converged.

    Examples
    --------
    >>> regular = [100, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1]
    >>> model = ShiftedBetaGeometricModel().fit(regular)
    >>> round(model.params_["alpha"], 3), round(model.params_["beta"], 3)
    (0.704, 1.182)

    References
    ----------
    .. [1] Fader & Hardie (2007), Journal of Interactive Marketing 21(1), 76-90.
    """

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, surviving: Sequence[float] | FloatArray | pd.Series) -> Self:
        """Estimate ``alpha, beta`` from the survivors of one cohort.

        Parameters
        ----------
        surviving : sequence of float
            Customers still active at the start (the cohort size) and after each
            period: ``[n_0, n_1, ..., n_k]``, counts or percentages of the cohort (first
            value 100), not increasing. Fader & Hardie's "regular" segment:
            ``[100, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1]``.

        Returns
        -------
        ShiftedBetaGeometricModel
            ``self``, fitted.

        Raises
        ------
        InputError
            The input is not a sequence of numbers, or the penalizer is invalid.
        ModelFitError
            Fewer than two values, a missing, negative or increasing value, a first
            value of 0, no customer lost at all, or a likelihood that cannot be
            maximised.

        Warns
        -----
        ConvergenceWarning
            The optimiser stopped short of its tolerance, or ``alpha`` and ``beta`` ran
            to the edge of the search region -- typical of a cohort without
            heterogeneity, losing the same share every period (``converged_`` is False;
            the projection is still right).
        """
        penalizer = check_penalizer(self.penalizer)
        counts = _survivors(surviving)
        likelihood = _Likelihood(counts)
        result = fit_log_params(likelihood, np.zeros(2), names=PARAM_NAMES, model=MODEL_NAME,
                                n_obs=float(counts[0]), penalizer=penalizer)
        self.params_ = result.params
        self.standard_errors_ = result.standard_errors
        self.log_likelihood_ = result.log_likelihood
        self.n_customers_ = int(round(float(counts[0])))
        self.n_periods_ = len(counts) - 1
        self.cohort_size_ = float(counts[0])
        self.converged_ = result.converged
        return self

    def survival(self, periods: int) -> FloatArray:
        """Share of the cohort surviving, ``S(t) = B(alpha, beta + t) / B(alpha, beta)``.

        Parameters
        ----------
        periods : int
            Last period, >= 0.

        Returns
        -------
        ndarray
            ``S(0) = 1, S(1), ..., S(periods)``.
        """
        alpha, beta = self._params()
        t = np.arange(_periods(periods) + 1, dtype=np.float64)
        return np.asarray(np.exp(betaln(alpha, beta + t) - betaln(alpha, beta)),
                          dtype=np.float64)

    def retention(self, periods: int) -> FloatArray:
        """Retention rate of the survivors, ``r(t) = S(t) / S(t-1)``.

        Equal to ``(beta + t - 1) / (alpha + beta + t - 1)``: rising with ``t``, because
        the customers most likely to cancel leave first.

        Parameters
        ----------
        periods : int
            Last period, >= 1.

        Returns
        -------
        ndarray
            ``r(1), ..., r(periods)``.
        """
        alpha, beta = self._params()
        n = _periods(periods)
        if n < 1:
            raise InputError(key="value_err_out_of_range", name="periods", rule=">= 1",
                             value=periods)
        t = np.arange(1, n + 1, dtype=np.float64)
        return np.asarray((beta + t - 1.0) / (alpha + beta + t - 1.0), dtype=np.float64)

    def project(self, periods: int) -> FloatArray:
        """Projected survivors on the input's scale, ``n_0 * S(t)`` for ``t = 0..periods``.

        Parameters
        ----------
        periods : int
            Last period, >= 0; beyond the input's last period this is a forecast.

        Returns
        -------
        ndarray
            ``periods + 1`` values, the first equal to the cohort size.
        """
        self._params()
        return self.cohort_size_ * self.survival(periods)

    def derl(self, discount_rate: float, renewals_so_far: int = 0) -> float:
        """Discounted expected residual lifetime of a customer, in periods.

        Fader & Hardie (2010) [2]_, equation 6::

            DERL(d | alpha, beta, n) = (beta + n) / (alpha + beta + n)
                                       * 2F1(1, beta + n + 1; alpha + beta + n + 1; 1 / (1 + d))

        i.e. ``sum_{k >= 0} S(n + 1 + k) / S(n) / (1 + d)^k``: the number of future
        payments of a customer who has made ``n`` renewals (is in period ``n + 1``),
        counted from the next renewal, which is not discounted. Multiply by the
        (margin on the) payment per period for the customer's residual value.

        Parameters
        ----------
        discount_rate : float
            Discount rate per period of the model (e.g. yearly for yearly contracts),
            > 0.
        renewals_so_far : int
            Renewals the customer has made, ``n`` >= 0.

        Returns
        -------
        float
            Discounted expected number of future payments.

        References
        ----------
        .. [2] Fader & Hardie (2010), Marketing Science 29(1), 85-93.
        """
        alpha, beta = self._params()
        d = check_number(discount_rate, "discount_rate", minimum=0.0, strict=True)
        n = float(_periods(renewals_so_far, name="renewals_so_far"))
        value = (beta + n) / (alpha + beta + n) \
            * hyp2f1(1.0, beta + n + 1.0, alpha + beta + n + 1.0, 1.0 / (1.0 + d))
        return float(value)

    def _params(self) -> tuple[float, float]:
        p = check_fitted(self, MODEL_NAME)
        return p["alpha"], p["beta"]


# --------------------------------------------------------------------------- internals


def _periods(value: Any, name: str = "periods") -> int:
    """A whole number >= 0 (an integral float is accepted), or :class:`InputError`."""
    integral = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    integral_float = isinstance(value, (float, np.floating)) and float(value).is_integer()
    whole = int(value) if integral or integral_float else None
    if whole is None or whole < 0:
        raise InputError(key="value_err_out_of_range", name=name,
                         rule="a whole number >= 0", value=value)
    return whole


def _survivors(surviving: Any) -> FloatArray:
    """The survivors as floats, checked: >= 2 values, first > 0, finite, not increasing."""
    if isinstance(surviving, (str, bytes)) or not hasattr(surviving, "__len__"):
        raise InputError(key="value_err_sbg_not_numbers", got=type(surviving).__name__)
    try:
        counts = np.asarray(surviving, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError(key="value_err_sbg_not_numbers",
                         got=type(surviving).__name__) from exc
    if len(counts) < 2:
        raise ModelFitError(key="value_err_sbg_too_short", n=len(counts))
    bad = ~np.isfinite(counts) | (counts < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ModelFitError(key="value_err_sbg_bad_value", period=i, value=f"{counts[i]!r}")
    if counts[0] <= 0:
        raise ModelFitError(key="value_err_sbg_empty_cohort")
    rising = np.flatnonzero(np.diff(counts) > 0)
    if len(rising):
        i = int(rising[0]) + 1
        raise ModelFitError(key="value_err_sbg_increasing", period=i,
                            before=f"{counts[i - 1]:g}", after=f"{counts[i]:g}")
    if counts[-1] == counts[0]:
        raise ModelFitError(key="value_err_sbg_no_loss", n=len(counts) - 1)
    return counts


class _Likelihood:
    """Mean negative log-likelihood of the sBG per cohort member (equation 5 of [1]_).

    ``LL = sum_t (n_{t-1} - n_t) ln P(T = t) + n_k ln S(k)`` with
    ``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)`` and
    ``S(t) = B(alpha, beta + t) / B(alpha, beta)``.
    """

    def __init__(self, counts: FloatArray):
        self.lost = counts[:-1] - counts[1:]
        self.last = float(counts[-1])
        self.k = len(counts) - 1
        self.t = np.arange(1, self.k + 1, dtype=np.float64)
        self.total = float(counts[0])

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        alpha, beta = np.exp(theta)
        t, k, lost, last = self.t, self.k, self.lost, self.last
        base = betaln(alpha, beta)
        log_p = betaln(alpha + 1.0, beta + t - 1.0) - base
        log_s = betaln(alpha, beta + k) - base
        ll = float(lost @ log_p) + last * log_s
        psi_ab = digamma(alpha + beta)
        psi_abt = digamma(alpha + beta + t)
        d_base_a = digamma(alpha) - psi_ab
        d_base_b = digamma(beta) - psi_ab
        dp_a = digamma(alpha + 1.0) - psi_abt - d_base_a
        dp_b = digamma(beta + t - 1.0) - psi_abt - d_base_b
        psi_abk = digamma(alpha + beta + k)
        ds_a = psi_ab - psi_abk
        ds_b = digamma(beta + k) - psi_abk - d_base_b
        grad = np.array([
            (float(lost @ dp_a) + last * ds_a) * alpha,
            (float(lost @ dp_b) + last * ds_b) * beta,
        ])
        if not math.isfinite(ll):
            return math.inf, np.zeros(2)
        return -ll / self.total, -grad / self.total
