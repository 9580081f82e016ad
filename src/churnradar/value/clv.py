"""Customer lifetime value from a purchase model and a spend model.

The value of a customer over a horizon is the discounted sum, step by step, of the
purchases a transaction model (BG/NBD or Pareto/NBD) expects in each step, times the
spend per purchase a spend model (Gamma-Gamma) expects, times the margin -- the
construction of Fader, Hardie & Lee (2005) [1]_ and of ``lifetimes``'
``customer_lifetime_value``, with explicit units.

Units
-----
* ``horizon`` is in the **time unit of the transaction model** (the unit of ``recency``
  and ``T`` in its summary, e.g. weeks), like the ``t`` of ``expected_purchases``;
  ``time_unit_days`` is the length of that unit in days (7 for weeks, 1 for days).
* ``step_days`` is in **days**: the model is asked for its expected purchases by
  ``k * step_days / time_unit_days`` model units for ``k = 1, 2, ...``; the last step ends
  at the horizon and may be shorter. With a summary in weeks, ``horizon=52,
  time_unit_days=7`` is one year in 13 steps of 30 days (the last one 4 days).
* ``discount_rate`` is **annual** (0.1 = 10 % a year). The purchases of a step are
  discounted from the step's end: factor ``(1 + discount_rate) ** -(end_days / 365.25)``,
  i.e. the annual rate converted to the step, ``(1 + rate) ** (step_days / 365.25) - 1``
  per step, as ``lifetimes`` does with its monthly rate.
* ``margin`` is the share of spend kept as profit, in [0, 1]; 1 gives revenue.
* The result is in the money unit of the spend model's ``monetary_value``.

Why by hand
-----------
A dozen lines on top of the models' closed-form expectations; ``lifetimes``' version
hides its units (months, a fixed 30-day or 4.345-week month) and is tied to its own,
unmaintained fitters.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value
   curves for customer base analysis. Journal of Marketing Research 42(4), 415-430.
.. [2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers"
   the easy way: an alternative to the Pareto/NBD model. Marketing Science 24(2),
   275-284.
.. [3] Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
   http://brucehardie.com/notes/025/
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import pandas as pd

from churnradar.exceptions import InputError
from churnradar.value._mle import FloatArray, check_number

#: Days per year used to turn the annual discount rate into a per-step rate.
DAYS_PER_YEAR = 365.25


class TransactionModel(Protocol):
    """A fitted purchase model: :class:`~churnradar.value.bgnbd.BGNBDModel` or
    :class:`~churnradar.value.paretonbd.ParetoNBDModel`."""

    def expected_purchases(self, t: float | FloatArray, summary: pd.DataFrame) -> FloatArray:
        """Expected purchases of each customer in the next ``t`` model time units."""
        ...


class SpendModel(Protocol):
    """A fitted spend model: :class:`~churnradar.value.gammagamma.GammaGammaModel`."""

    def expected_spend(self, summary: pd.DataFrame) -> FloatArray:
        """Expected spend per purchase of each customer."""
        ...


def customer_lifetime_value(
    transactions_model: TransactionModel,
    spend_model: SpendModel,
    summary: pd.DataFrame,
    *,
    horizon: float,
    time_unit_days: float,
    discount_rate: float,
    margin: float,
    step_days: float = 30.0,
) -> FloatArray:
    """Discounted expected profit of each customer over the next ``horizon`` time units.

    ``CLV = margin * E[spend] * sum_k (E[X(t_k)] - E[X(t_(k-1))]) / (1 + rate)^(d_k / 365.25)``
    with ``d_k = min(k * step_days, horizon * time_unit_days)`` days, ``t_k = d_k /
    time_unit_days`` model units and ``E[X(t)]`` the transaction model's conditional
    expected purchases (see the module docstring for the units).

    Parameters
    ----------
    transactions_model : BGNBDModel or ParetoNBDModel
        Fitted on a summary in time units of ``time_unit_days`` days.
    spend_model : GammaGammaModel
        Fitted spend model.
    summary : pandas.DataFrame
        Columns ``frequency``, ``recency``, ``T`` (model time units) and
        ``monetary_value``, one row per customer.
    horizon : float
        Length of the horizon in the transaction model's time unit, > 0 (52 for a year
        with a summary in weeks, 365 with one in days).
    time_unit_days : float
        Days per time unit of the transaction model, > 0 (7 for weeks).
    discount_rate : float
        Annual discount rate, >= 0.
    margin : float
        Profit share of spend, in [0, 1].
    step_days : float
        Length of a discounting step in days, > 0 (default 30).

    Returns
    -------
    ndarray
        One value per row of ``summary``, in the money unit of ``monetary_value``.

    Raises
    ------
    InputError
        An argument is out of range, or a model lacks the method it needs.
    NotFittedError
        A model is not fitted.
    SchemaError
        ``summary`` lacks a column.

    Examples
    --------
    >>> clv = customer_lifetime_value(bgnbd, gamma_gamma, summary, horizon=52,
    ...                               time_unit_days=7, discount_rate=0.1, margin=0.3)
    ... # doctest: +SKIP
    """
    length = check_number(horizon, "horizon", minimum=0.0, strict=True)
    unit = check_number(time_unit_days, "time_unit_days", minimum=0.0, strict=True)
    days = length * unit
    rate = check_number(discount_rate, "discount_rate", minimum=0.0)
    share = check_number(margin, "margin", minimum=0.0, maximum=1.0)
    step = check_number(step_days, "step_days", minimum=0.0, strict=True)
    for model, name, method in ((transactions_model, "transactions_model",
                                 "expected_purchases"),
                                (spend_model, "spend_model", "expected_spend")):
        if not callable(getattr(model, method, None)):
            raise InputError(key="value_err_clv_model", name=name, method=method,
                             got=type(model).__name__)
    spend = np.asarray(spend_model.expected_spend(summary), dtype=np.float64)
    n_steps = max(1, math.ceil(days / step - 1e-9))
    ends = np.minimum(np.arange(1, n_steps + 1, dtype=np.float64) * step, days)
    discount = (1.0 + rate) ** -(ends / DAYS_PER_YEAR)
    previous = np.zeros(len(spend))
    value = np.zeros(len(spend))
    for end, factor in zip(ends, discount, strict=True):
        cumulative = np.asarray(transactions_model.expected_purchases(end / unit, summary),
                                dtype=np.float64)
        value += (cumulative - previous) * factor
        previous = cumulative
    return np.asarray(value * spend * share, dtype=np.float64)
