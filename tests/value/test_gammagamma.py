"""Gamma-Gamma against Fader & Hardie (2013) on CDNOW and against lifetimes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime

from churnradar.exceptions import InputError, ModelFitError, NotFittedError, SchemaError
from churnradar.value import GammaGammaModel
from churnradar.value.gammagamma import _Likelihood

from .test_bgnbd import published


def test_reproduces_fader_hardie_2013(gammagamma_cdnow):
    """"The Gamma-Gamma model of monetary value" (2013): p = 6.25, q = 3.74,
    gamma = 15.44 on the 946 CDNOW sample customers with a repeat purchase."""
    p = gammagamma_cdnow.params_
    assert published(p["p"], "6.25")
    assert published(p["q"], "3.74")
    assert published(p["gamma"], "15.44")
    assert gammagamma_cdnow.n_customers_ == 946
    assert gammagamma_cdnow.converged_


def test_equals_lifetimes(gammagamma_cdnow, lifetimes_gammagamma, cdnow_summary):
    ref = lifetimes_gammagamma
    for ours, theirs in (("p", "p"), ("q", "q"), ("gamma", "v")):
        assert gammagamma_cdnow.params_[ours] == pytest.approx(ref.params_[theirs], rel=1e-3)
        assert gammagamma_cdnow.standard_errors_[ours] == pytest.approx(
            ref.standard_errors_[theirs], rel=1e-3)
    s = cdnow_summary
    np.testing.assert_allclose(
        gammagamma_cdnow.expected_spend(s),
        ref.conditional_expected_average_profit(s["frequency"], s["monetary_value"]),
        rtol=1e-5)


def test_expected_spend_shrinks_towards_the_population_mean(gammagamma_cdnow):
    mean = gammagamma_cdnow.population_mean_spend()
    p = gammagamma_cdnow.params_
    assert mean == pytest.approx(p["p"] * p["gamma"] / (p["q"] - 1.0))
    summary = pd.DataFrame({"frequency": [0.0, 1.0, 10.0, 1.0, 10.0],
                            "monetary_value": [0.0, 100.0, 100.0, 5.0, 5.0]})
    new, one_high, many_high, one_low, many_low = gammagamma_cdnow.expected_spend(summary)
    assert new == pytest.approx(mean)
    assert mean < one_high < many_high < 100.0
    assert 5.0 < many_low < one_low < mean


def test_ignores_customers_without_repeat_purchase(cdnow_summary, gammagamma_cdnow):
    repeat = cdnow_summary[cdnow_summary["frequency"] > 0]
    model = GammaGammaModel().fit(repeat)
    assert model.params_ == pytest.approx(gammagamma_cdnow.params_, rel=1e-9)
    assert model.log_likelihood_ == pytest.approx(gammagamma_cdnow.log_likelihood_, rel=1e-12)


def test_weights_equal_repeated_rows(cdnow_summary, gammagamma_cdnow):
    repeat = cdnow_summary[cdnow_summary["frequency"] > 0]
    doubled = repeat.assign(weight=2.0)
    model = GammaGammaModel().fit(doubled)
    assert model.n_customers_ == 2 * 946
    assert model.params_ == pytest.approx(gammagamma_cdnow.params_, rel=1e-6)
    assert model.log_likelihood_ == pytest.approx(2 * gammagamma_cdnow.log_likelihood_, rel=1e-9)


def test_gradient_equals_finite_differences(cdnow_summary):
    repeat = cdnow_summary[cdnow_summary["frequency"] > 0]
    lik = _Likelihood(repeat["frequency"].to_numpy(), repeat["monetary_value"].to_numpy(),
                      np.ones(len(repeat)))
    for params in ([6.25, 3.74, 15.44], [1.0, 2.0, 35.0], [20.0, 0.5, 3.0]):
        theta = np.log(params)
        numeric = approx_fprime(theta, lambda th: lik(th)[0], 1e-7)
        np.testing.assert_allclose(lik(theta)[1], numeric, atol=1e-5)


def test_refuses_zero_spend_with_the_count(cdnow_master_summary):
    """CDNOW_master has $0 purchases (design.md pitfalls): one customer's repeat purchases
    are all free. The fit says how many, and filtering them out works."""
    s = cdnow_master_summary
    zero = int(((s["frequency"] > 0) & (s["monetary_value"] <= 0)).sum())
    assert zero == 1
    repeat = int((s["frequency"] > 0).sum())
    with pytest.raises(ModelFitError, match=rf"{zero} of the {repeat} customers with repeat "
                                            r"purchases have monetary_value <= 0"):
        GammaGammaModel().fit(s)
    model = GammaGammaModel().fit(s[s["monetary_value"] > 0])
    assert model.n_customers_ == repeat - zero
    assert model.converged_


def test_bad_input():
    good = pd.DataFrame({"frequency": [1.0, 3.0, 0.0], "monetary_value": [10.0, 20.0, 0.0]})
    with pytest.raises(SchemaError, match=r"missing column\(s\) 'monetary_value'"):
        GammaGammaModel().fit(good[["frequency"]])
    with pytest.raises(ModelFitError, match="column 'monetary_value' .* negative"):
        GammaGammaModel().fit(good.assign(monetary_value=[10.0, -1.0, 0.0]))
    with pytest.raises(ModelFitError, match="whole number"):
        GammaGammaModel().fit(good.assign(frequency=[1.5, 3.0, 0.0]))
    with pytest.raises(ModelFitError, match="none of the 3 customers made a repeat purchase"):
        GammaGammaModel().fit(good.assign(frequency=0.0))
    with pytest.raises(ModelFitError, match="no customers to fit"):
        GammaGammaModel().fit(good.iloc[:0])
    with pytest.raises(NotFittedError):
        GammaGammaModel().expected_spend(good)
    with pytest.raises(InputError, match="penalizer"):
        GammaGammaModel(penalizer=float("nan")).fit(good)


def test_infinite_mean_spend_is_refused():
    model = GammaGammaModel()
    model.params_ = {"p": 2.0, "q": 0.9, "gamma": 10.0}
    assert model.population_mean_spend() == float("inf")
    with pytest.raises(ModelFitError, match=r"q = 0.9 <= 1"):
        model.expected_spend(pd.DataFrame({"frequency": [1.0], "monetary_value": [10.0]}))
