"""Customer lifetime value against lifetimes and by hand; the contract every value model
keeps; the message catalog of the value errors."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import churnradar.value as value_pkg
from churnradar.exceptions import InputError, NotFittedError
from churnradar.i18n import catalog
from churnradar.value import (
    DAYS_PER_YEAR,
    BGNBDModel,
    GammaGammaModel,
    ParetoNBDModel,
    ShiftedBetaGeometricModel,
    customer_lifetime_value,
)

#: lifetimes' month in weeks (its ``freq="W"`` factor)
WEEKS_PER_MONTH = 4.345


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # inside lifetimes
@pytest.mark.parametrize("model", ["bgnbd", "paretonbd"])
def test_equals_lifetimes(model, request, gammagamma_cdnow, lifetimes_gammagamma,
                          cdnow_summary):
    """lifetimes: 12 monthly steps of 4.345 weeks discounted at 1 % a month. The same in
    explicit units: steps of 4.345 * 7 days, a horizon of 12 such months in weeks, and
    the annual rate whose per-step equivalent is 1 %."""
    ours = request.getfixturevalue(f"{model}_cdnow")
    theirs = request.getfixturevalue(f"lifetimes_{model}")
    s = cdnow_summary
    step_days = WEEKS_PER_MONTH * 7
    annual = 1.01 ** (DAYS_PER_YEAR / step_days) - 1
    clv = customer_lifetime_value(ours, gammagamma_cdnow, s, horizon=12 * WEEKS_PER_MONTH,
                                  time_unit_days=7, discount_rate=annual, margin=1.0,
                                  step_days=step_days)
    ref = lifetimes_gammagamma.customer_lifetime_value(
        theirs, s["frequency"], s["recency"], s["T"], s["monetary_value"], time=12,
        discount_rate=0.01, freq="W").to_numpy()
    # both fits agree to ~1e-7 (BG/NBD) and ~1e-5 (lifetimes' Nelder-Mead for Pareto/NBD)
    np.testing.assert_allclose(clv, ref, rtol=1e-3 if model == "paretonbd" else 1e-5)


def test_without_discount_it_is_purchases_times_spend_times_margin(bgnbd_cdnow,
                                                                     gammagamma_cdnow,
                                                                     cdnow_summary):
    s = cdnow_summary
    clv = customer_lifetime_value(bgnbd_cdnow, gammagamma_cdnow, s, horizon=52,
                                  time_unit_days=7, discount_rate=0.0, margin=0.3)
    by_hand = bgnbd_cdnow.expected_purchases(52, s) * gammagamma_cdnow.expected_spend(s) * 0.3
    np.testing.assert_allclose(clv, by_hand, rtol=1e-12)
    # the step only matters through discounting
    other = customer_lifetime_value(bgnbd_cdnow, gammagamma_cdnow, s, horizon=52,
                                    time_unit_days=7, discount_rate=0.0, margin=0.3,
                                    step_days=7)
    np.testing.assert_allclose(other, by_hand, rtol=1e-12)


def test_discounting_by_hand(bgnbd_cdnow, gammagamma_cdnow, cdnow_summary):
    """A 52-week horizon in 30-day steps: 12 steps of 30 days and one of 4 days, each
    discounted from its end at (1.1)^(-days / 365.25)."""
    s = cdnow_summary.head(50)
    clv = customer_lifetime_value(bgnbd_cdnow, gammagamma_cdnow, s, horizon=52,
                                  time_unit_days=7, discount_rate=0.1, margin=1.0)
    ends = np.array([30.0 * k for k in range(1, 13)] + [364.0])
    cumulative = [np.zeros(len(s))] + [bgnbd_cdnow.expected_purchases(e / 7, s) for e in ends]
    by_hand = sum((cumulative[k + 1] - cumulative[k]) * 1.1 ** -(ends[k] / DAYS_PER_YEAR)
                  for k in range(len(ends)))
    np.testing.assert_allclose(clv, by_hand * gammagamma_cdnow.expected_spend(s), rtol=1e-12)
    undiscounted = customer_lifetime_value(bgnbd_cdnow, gammagamma_cdnow, s, horizon=52,
                                           time_unit_days=7, discount_rate=0.0, margin=1.0)
    assert np.all(clv <= undiscounted)
    assert np.all(clv >= 0)


def test_the_time_unit_does_not_change_the_value(cdnow_transactions, bgnbd_cdnow,
                                                 gammagamma_cdnow, cdnow_summary):
    from .conftest import calibration_summary

    days = calibration_summary(cdnow_transactions, unit_days=1.0)
    in_days = BGNBDModel().fit(days)
    weekly = customer_lifetime_value(bgnbd_cdnow, gammagamma_cdnow, cdnow_summary,
                                     horizon=52, time_unit_days=7, discount_rate=0.1,
                                     margin=0.5)
    daily = customer_lifetime_value(in_days, gammagamma_cdnow, days.loc[cdnow_summary.index],
                                    horizon=364, time_unit_days=1, discount_rate=0.1,
                                    margin=0.5)
    np.testing.assert_allclose(daily, weekly, rtol=1e-4)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"horizon": 0}, "horizon must be > 0"),
    ({"time_unit_days": -7}, "time_unit_days must be > 0"),
    ({"discount_rate": -0.1}, "discount_rate must be >= 0"),
    ({"margin": 1.5}, "margin must be <= 1"),
    ({"step_days": float("inf")}, "step_days must be a finite number"),
    ({"margin": "30%"}, "margin must be a finite number"),
])
def test_bad_arguments(kwargs, match, bgnbd_cdnow, gammagamma_cdnow, cdnow_summary):
    args = {"horizon": 52, "time_unit_days": 7, "discount_rate": 0.1, "margin": 0.3} | kwargs
    with pytest.raises(InputError, match=match):
        customer_lifetime_value(bgnbd_cdnow, gammagamma_cdnow, cdnow_summary, **args)


def test_models_must_fit_their_role(bgnbd_cdnow, gammagamma_cdnow, cdnow_summary):
    args = {"horizon": 52, "time_unit_days": 7, "discount_rate": 0.1, "margin": 0.3}
    with pytest.raises(InputError, match="spend_model must be a fitted model with an "
                                         r"expected_spend\(\) method, got BGNBDModel"):
        customer_lifetime_value(bgnbd_cdnow, bgnbd_cdnow, cdnow_summary, **args)
    with pytest.raises(NotFittedError):
        customer_lifetime_value(ParetoNBDModel(), gammagamma_cdnow, cdnow_summary, **args)


# --------------------------------------------------------------------------- contract

REGULAR = [100, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1]


def _fit_input(model_cls, cdnow_summary):
    return REGULAR if model_cls is ShiftedBetaGeometricModel else cdnow_summary


@pytest.mark.parametrize("model_cls", [BGNBDModel, ParetoNBDModel, GammaGammaModel,
                                       ShiftedBetaGeometricModel])
def test_every_model_keeps_the_estimator_contract(model_cls, cdnow_summary):
    # __init__ only stores its keyword arguments, validated by fit
    params = inspect.signature(model_cls.__init__).parameters
    assert [p for p in params if p != "self"] == ["penalizer"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for n, p in params.items()
               if n != "self")
    unfitted = model_cls(penalizer=-5.0)
    assert unfitted.penalizer == -5.0
    assert not hasattr(unfitted, "params_")
    with pytest.raises(InputError, match="penalizer"):
        unfitted.fit(_fit_input(model_cls, cdnow_summary))
    # fit returns self with the fitted attributes
    model = model_cls()
    assert model.fit(_fit_input(model_cls, cdnow_summary)) is model
    assert isinstance(model.params_, dict) and model.params_
    assert all(isinstance(v, float) and v > 0 for v in model.params_.values())
    assert set(model.standard_errors_) == set(model.params_)
    assert all(isinstance(v, float) and v > 0 for v in model.standard_errors_.values())
    assert isinstance(model.log_likelihood_, float) and model.log_likelihood_ < 0
    assert isinstance(model.n_customers_, int) and model.n_customers_ > 0
    assert model.converged_ is True
    # refitting gives the same numbers, bit for bit
    again = model_cls().fit(_fit_input(model_cls, cdnow_summary))
    assert again.params_ == model.params_


def test_package_exports():
    assert set(value_pkg.__all__) >= {"BGNBDModel", "ParetoNBDModel", "GammaGammaModel",
                                      "ShiftedBetaGeometricModel", "customer_lifetime_value"}


# --------------------------------------------------------------------------- catalog

MODULES = ["_mle", "bgnbd", "paretonbd", "gammagamma", "sbg", "clv"]


def test_every_message_key_is_in_the_catalog():
    folder = Path(value_pkg.__file__).parent
    keys = set()
    for name in MODULES:
        keys |= set(re.findall(r'key="(value_[a-z_]+)"', (folder / f"{name}.py").read_text()))
    assert len(keys) > 20
    missing = keys - set(catalog())
    assert not missing
    for key in keys:
        assert "{" not in key


def test_warnings_and_errors_render_in_both_languages():
    from churnradar.exceptions import ModelFitError

    err = ModelFitError(key="value_err_spend_not_positive", count=1, n=9451, row="12345",
                        value="0")
    assert "1 of the 9451 customers" in str(err)
    assert "9451 个有重复购买的客户中有 1 个" in err.localized("zh-CN")


def test_summary_with_extra_columns_and_index(bgnbd_cdnow, cdnow_summary):
    """Extra columns (customer_id, scores...) are ignored; the index is free."""
    s = cdnow_summary.reset_index().assign(segment="x")
    np.testing.assert_allclose(bgnbd_cdnow.p_alive(s), bgnbd_cdnow.p_alive(cdnow_summary))
    assert isinstance(s, pd.DataFrame)
