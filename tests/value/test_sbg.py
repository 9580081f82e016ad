"""The shifted-beta-geometric model against Fader & Hardie (2007), Table 1 and
section 5, and DERL (Fader & Hardie 2010) against its defining sum."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from churnradar.exceptions import InputError, ModelFitError, NotFittedError
from churnradar.value import ShiftedBetaGeometricModel
from churnradar.value.sbg import _Likelihood

from .test_bgnbd import published

#: % of the cohort surviving at the start of years 0..7 (Fader & Hardie 2007, Table 1)
REGULAR = [100, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1]
HIGH_END = [100, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1]


@pytest.mark.parametrize(("data", "alpha", "beta"), [(REGULAR, "0.704", "1.182"),
                                                     (HIGH_END, "0.668", "3.806")])
def test_reproduces_fader_hardie_2007(data, alpha, beta):
    model = ShiftedBetaGeometricModel().fit(data)
    assert published(model.params_["alpha"], alpha)
    assert published(model.params_["beta"], beta)
    assert model.converged_
    assert model.n_customers_ == 100
    assert model.n_periods_ == 7


def test_counts_and_percentages_give_the_same_fit():
    pct = ShiftedBetaGeometricModel().fit(REGULAR)
    counts = ShiftedBetaGeometricModel().fit(np.array(REGULAR) * 10)  # a cohort of 1,000
    assert counts.params_ == pytest.approx(pct.params_, rel=1e-6)
    assert counts.log_likelihood_ == pytest.approx(10 * pct.log_likelihood_, rel=1e-9)
    assert counts.n_customers_ == 1000
    # ten times the customers, sqrt(10) times more precise
    for name in ("alpha", "beta"):
        assert counts.standard_errors_[name] == pytest.approx(
            pct.standard_errors_[name] / math.sqrt(10), rel=1e-3)


def test_log_likelihood_by_hand():
    model = ShiftedBetaGeometricModel().fit(REGULAR)
    a, b = model.params_["alpha"], model.params_["beta"]
    # P(T = 1) = a / (a + b); P(T = t) = (b + t - 2) / (a + b + t - 1) P(T = t - 1)
    probs = [a / (a + b)]
    for t in range(2, 8):
        probs.append(probs[-1] * (b + t - 2) / (a + b + t - 1))
    survival = 1 - sum(probs)
    lost = -np.diff(REGULAR)
    expected = float(lost @ np.log(probs)) + REGULAR[-1] * math.log(survival)
    assert model.log_likelihood_ == pytest.approx(expected, rel=1e-10)


def test_projection_follows_the_data():
    """As in the paper's Figure 3, the fitted curve stays within a point of the data and
    keeps falling, ever more slowly, beyond it."""
    model = ShiftedBetaGeometricModel().fit(REGULAR)
    projected = model.project(12)
    assert projected[0] == 100.0
    assert len(projected) == 13
    np.testing.assert_allclose(projected[:8], REGULAR, atol=1.0)
    assert np.all(np.diff(projected, 2) > 0)
    assert np.all(np.diff(projected) < 0)


def test_survival_and_retention_identities():
    model = ShiftedBetaGeometricModel().fit(HIGH_END)
    a, b = model.params_["alpha"], model.params_["beta"]
    s = model.survival(10)
    r = model.retention(10)
    assert s[0] == 1.0
    np.testing.assert_allclose(r, s[1:] / s[:-1], rtol=1e-12)
    t = np.arange(1, 11)
    np.testing.assert_allclose(r, (b + t - 1) / (a + b + t - 1), rtol=1e-12)
    # heterogeneity: the survivors' retention rises
    assert np.all(np.diff(r) > 0)
    np.testing.assert_allclose(model.project(10), model.cohort_size_ * s)


@pytest.mark.parametrize("data", [REGULAR, HIGH_END])
@pytest.mark.parametrize("renewals", [0, 1, 4, 10])
@pytest.mark.parametrize("rate", [0.05, 0.1, 0.5])
def test_derl_equals_its_defining_sum(data, renewals, rate):
    """DERL(d | alpha, beta, n) = sum_k S(n + 1 + k) / S(n) / (1 + d)^k."""
    model = ShiftedBetaGeometricModel().fit(data)
    s = model.survival(renewals + 3000)
    k = np.arange(2999)
    direct = float(np.sum(s[renewals + 1 + k] / s[renewals] * np.exp(-k * math.log1p(rate))))
    assert model.derl(rate, renewals) == pytest.approx(direct, rel=1e-9)


def test_derl_grows_with_tenure_and_falls_with_the_rate():
    model = ShiftedBetaGeometricModel().fit(REGULAR)
    by_tenure = [model.derl(0.1, n) for n in range(6)]
    assert all(b > a for a, b in zip(by_tenure, by_tenure[1:], strict=False))
    assert model.derl(0.05) > model.derl(0.1) > model.derl(0.2)


def test_gradient_equals_finite_differences():
    lik = _Likelihood(np.array(REGULAR, dtype=float))
    for params in ([0.704, 1.182], [1.0, 1.0], [5.0, 0.3]):
        theta = np.log(params)
        numeric = approx_fprime(theta, lambda th: lik(th)[0], 1e-7)
        np.testing.assert_allclose(lik(theta)[1], numeric, atol=1e-6)


@pytest.mark.parametrize(("data", "match"), [
    ([100], "at least 2 values"),
    ([100, 80, 85], "survivors cannot increase: period 2 has 85"),
    ([100, -1], "period 1 must be a finite number >= 0"),
    ([100, float("nan")], "period 1 must be a finite number >= 0"),
    ([0, 0], "cohort size"),
    ([100, 100, 100], "no customer was lost in 2 period"),
])
def test_bad_survivors(data, match):
    with pytest.raises(ModelFitError, match=match):
        ShiftedBetaGeometricModel().fit(data)


def test_bad_arguments():
    with pytest.raises(InputError, match="sequence of numbers"):
        ShiftedBetaGeometricModel().fit("100,63.1")
    with pytest.raises(InputError, match="sequence of numbers"):
        ShiftedBetaGeometricModel().fit(["100", "a lot"])
    with pytest.raises(NotFittedError):
        ShiftedBetaGeometricModel().survival(3)
    model = ShiftedBetaGeometricModel().fit(REGULAR)
    with pytest.raises(InputError, match="discount_rate must be > 0"):
        model.derl(0.0)
    with pytest.raises(InputError, match="renewals_so_far must be a whole number"):
        model.derl(0.1, -1)
    with pytest.raises(InputError, match="periods must be a whole number"):
        model.survival(2.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="periods must be >= 1"):
        model.retention(0)
    assert len(model.survival(3.0)) == 4  # type: ignore[arg-type]


def test_homogeneous_churn_runs_to_the_edge_and_says_so():
    """A cohort losing exactly half every period has no heterogeneity: alpha and beta
    run off together (the Beta collapses on 0.5). The fit stops at the edge with a
    warning, and its projection is still the geometric one."""
    from churnradar.exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="alpha, beta reached the edge"):
        model = ShiftedBetaGeometricModel().fit([100, 50, 25, 12.5, 6.25])
    assert model.converged_ is False
    np.testing.assert_allclose(model.project(6), 100 * 0.5 ** np.arange(7), rtol=1e-3)
