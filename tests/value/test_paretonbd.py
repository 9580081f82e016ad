"""Pareto/NBD against the published CDNOW estimates (Fader, Hardie & Lee 2005) and against
lifetimes. The input checks it shares with BG/NBD are tested in test_bgnbd.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.optimize import approx_fprime
from scipy.special import gammaln

from churnradar.value import ParetoNBDModel
from churnradar.value.paretonbd import _Likelihood, _log_alive_and_likelihood

from .test_bgnbd import published


def test_reproduces_the_published_cdnow_estimates(paretonbd_cdnow):
    """Fader, Hardie & Lee (2005), Marketing Science 24(2): r = 0.553, alpha = 10.578,
    s = 0.606, beta = 11.669, LL = -9595.0 on the CDNOW sample in weeks."""
    p = paretonbd_cdnow.params_
    assert published(p["r"], "0.553")
    assert published(p["alpha"], "10.578")
    assert published(p["s"], "0.606")
    assert published(p["beta"], "11.669")
    assert published(paretonbd_cdnow.log_likelihood_, "-9595.0")
    assert paretonbd_cdnow.converged_
    assert paretonbd_cdnow.n_customers_ == 2357
    assert all(0 < e < math.inf for e in paretonbd_cdnow.standard_errors_.values())


def test_parameters_equal_lifetimes(paretonbd_cdnow, lifetimes_paretonbd):
    # lifetimes uses Nelder-Mead with a loose tolerance: agreement to ~1e-5
    for name in ("r", "alpha", "s", "beta"):
        assert paretonbd_cdnow.params_[name] == pytest.approx(
            lifetimes_paretonbd.params_[name], rel=1e-3)


def test_predictions_equal_lifetimes(paretonbd_cdnow, lifetimes_paretonbd, cdnow_summary):
    """Compared at lifetimes' own parameters, so only the formulas are tested."""
    s = cdnow_summary
    x, tx, age = s["frequency"], s["recency"], s["T"]
    model = ParetoNBDModel()
    model.params_ = {k: float(v) for k, v in lifetimes_paretonbd.params_.items()}
    for t in (1.0, 10.0, 39.0):
        np.testing.assert_allclose(
            model.expected_purchases(t, s),
            lifetimes_paretonbd.conditional_expected_number_of_purchases_up_to_time(
                t, x, tx, age), rtol=1e-8)
    np.testing.assert_allclose(model.p_alive(s),
                               lifetimes_paretonbd.conditional_probability_alive(x, tx, age),
                               rtol=1e-8)
    times = np.array([1.0, 10.0, 39.0, 78.0])
    np.testing.assert_allclose(model.expected_population_purchases(times),
                               lifetimes_paretonbd.expected_number_of_purchases_up_to_time(times),
                               rtol=1e-10)
    # and with our own estimates, close to lifetimes' predictions
    np.testing.assert_allclose(paretonbd_cdnow.expected_purchases(10.0, s),
                               model.expected_purchases(10.0, s), rtol=1e-3)


def _likelihood_by_quadrature(r, alpha, s, beta, x, tx, age):
    """The Pareto/NBD likelihood integrated over the dropout time numerically:
    alive at T, or dead at tau in (t_x, T]."""
    lead = math.exp(gammaln(r + x) - gammaln(r)) * alpha**r * beta**s
    alive = (alpha + age) ** -(r + x) * (beta + age) ** -s
    dead = integrate.quad(lambda tau: (alpha + tau) ** -(r + x) * s * (beta + tau) ** -(s + 1),
                          tx, age, epsabs=0, epsrel=1e-12)[0]
    return lead * (alive + dead)


@pytest.mark.parametrize("params", [(0.553, 10.578, 0.606, 11.669),   # alpha < beta
                                    (0.8, 15.0, 1.3, 4.0),            # alpha > beta
                                    (0.5, 7.0, 0.9, 7.0)])            # alpha == beta
@pytest.mark.parametrize("row", [(0, 0.0, 38.0), (1, 2.0, 30.0), (7, 35.5, 38.9),
                                 (30, 10.0, 70.0)])
def test_likelihood_equals_the_integral(params, row):
    """Both branches of the hypergeometric form agree with direct quadrature."""
    x, tx, age = (np.array([v], dtype=float) for v in row)
    _, ll = _log_alive_and_likelihood(np.log(params), x, tx, age)
    expected = _likelihood_by_quadrature(*params, *row)
    assert ll[0] == pytest.approx(math.log(expected), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("params", [(0.553, 10.578, 0.606, 11.669), (0.8, 15.0, 1.3, 4.0),
                                    (1.0, 30.0, 1.0, 30.0), (2.0, 3.0, 0.2, 80.0)])
def test_gradient_equals_finite_differences(cdnow_summary, params):
    s = cdnow_summary
    lik = _Likelihood(*(s[c].to_numpy() for c in ("frequency", "recency", "T")),
                      np.ones(len(s)))
    theta = np.log(params)
    numeric = approx_fprime(theta, lambda th: lik(th)[0], 1e-7)
    np.testing.assert_allclose(lik(theta)[1], numeric, atol=2e-6)


def test_weights_equal_repeated_rows(cdnow_summary, paretonbd_cdnow):
    grouped = (cdnow_summary.groupby(["frequency", "recency", "T"]).size()
               .rename("weight").reset_index())
    model = ParetoNBDModel().fit(grouped)
    for name, value in paretonbd_cdnow.params_.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-6)
    assert model.log_likelihood_ == pytest.approx(paretonbd_cdnow.log_likelihood_, rel=1e-9)


def test_fits_the_full_cdnow_master(cdnow_master_summary):
    """23,570 customers; the estimates lifetimes finds (4 s with Nelder-Mead) in weeks."""
    model = ParetoNBDModel().fit(cdnow_master_summary)
    assert model.n_customers_ == 23570
    assert model.converged_
    expected = {"r": 0.5974, "alpha": 11.586, "s": 0.5222, "beta": 8.828}
    for name, value in expected.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-3)


@pytest.mark.slow
def test_cdnow_master_equals_lifetimes(cdnow_master_summary):
    from lifetimes import ParetoNBDFitter

    s = cdnow_master_summary
    ref = ParetoNBDFitter().fit(s["frequency"], s["recency"], s["T"]).params_
    model = ParetoNBDModel().fit(s)
    for name in ("r", "alpha", "s", "beta"):
        assert model.params_[name] == pytest.approx(ref[name], rel=1e-3)


def test_expected_purchases_near_s_equal_one(cdnow_summary):
    """The (1 - ((beta+T)/(beta+T+t))^(s-1)) / (s-1) term has a log limit at s = 1."""
    head = cdnow_summary.head(20)
    outs = []
    for s in (1.0 - 1e-7, 1.0, 1.0 + 1e-7):
        model = ParetoNBDModel()
        model.params_ = {"r": 0.5, "alpha": 10.0, "s": s, "beta": 12.0}
        outs.append(model.expected_purchases(10.0, head))
        assert model.expected_population_purchases(10.0)[0] == pytest.approx(
            0.5 * 12.0 / 10.0 * math.log(22.0 / 12.0), rel=1e-6)
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)
    np.testing.assert_allclose(outs[2], outs[1], rtol=1e-6)


@settings(max_examples=60, deadline=None)
@given(x=st.integers(0, 60), share=st.floats(0.0, 1.0), age=st.floats(0.1, 200.0),
       t1=st.floats(0.0, 100.0), dt=st.floats(0.0, 100.0))
def test_predictions_are_probabilities_and_grow_with_time(paretonbd_cdnow, x, share, age,
                                                          t1, dt):
    recency = age * share if x > 0 else 0.0
    summary = pd.DataFrame({"frequency": [float(x)], "recency": [recency], "T": [age]})
    alive = paretonbd_cdnow.p_alive(summary)[0]
    assert 0.0 <= alive <= 1.0
    e1 = paretonbd_cdnow.expected_purchases(t1, summary)[0]
    e2 = paretonbd_cdnow.expected_purchases(t1 + dt, summary)[0]
    assert math.isfinite(e2)
    assert 0.0 <= e1 <= e2 * (1 + 1e-9) + 1e-12


def test_a_recent_buyer_is_more_alive(paretonbd_cdnow):
    summary = pd.DataFrame({"frequency": [5.0, 5.0, 0.0, 0.0], "recency": [38.0, 5.0, 0.0, 0.0],
                            "T": [39.0, 39.0, 5.0, 39.0]})
    recent, lapsed, new, old = paretonbd_cdnow.p_alive(summary)
    assert recent > lapsed
    assert new > old


# --------------------------------------------------------------------------- 2F1 near z = 1


def _series(b: float, c: float, z: float, terms: int = 3_000_000) -> float:
    """sum_n (b)_n / (c)_n z^n by brute force: positive terms, no cancellation."""
    k = np.arange(terms, dtype=np.float64)
    log_terms = np.concatenate([[0.0], np.cumsum(np.log((b + k) / (c + k)) + math.log(z))])
    top = log_terms.max()
    return float(math.exp(top) * np.exp(log_terms - top).sum())


# c = r + s + x + 1 > 1 in the Pareto/NBD
HARD_CASES = [(b, gap, z) for b in (0.05, 1.6, 50.0, 5e3, 5e5)
              for gap in (0.2, 1.0, 1.6, 100.0, 1e4)
              for z in (0.3, 0.95, 0.999, 0.99999) if b + gap > 1]


@pytest.mark.parametrize(("b", "gap", "z"), HARD_CASES)
def test_hypergeometric_is_accurate_where_scipy_gives_up(b, gap, z):
    """SciPy's hyp2f1(1, b; c; z) is NaN near z = 1 for large b or c - b (e.g. c - b =
    100 at z = 0.99); the quadrature that takes over is accurate to 1e-10."""
    from churnradar.value.paretonbd import _hyp1

    c = b + gap
    value = _hyp1(np.array([b]), np.array([c]), np.array([z]))[0]
    assert value == pytest.approx(_series(b, c, z), rel=2e-10)


def test_quadrature_derivatives_equal_scipy():
    from scipy.special import hyp2f1

    from churnradar.value.paretonbd import _hyp1_by_quadrature

    b, c, z = np.array([0.7, 3.0, 40.0]), np.array([1.7, 5.5, 70.0]), np.array([0.2, 0.6, 0.85])
    value, d_b, d_c, d_z = _hyp1_by_quadrature(b, c, z, derivatives=True)
    eps = 1e-6
    np.testing.assert_allclose(value, hyp2f1(1, b, c, z), rtol=1e-12)
    np.testing.assert_allclose(
        d_b, (hyp2f1(1, b * (1 + eps), c, z) - hyp2f1(1, b * (1 - eps), c, z)) / (2 * eps * b),
        rtol=1e-6)
    np.testing.assert_allclose(
        d_c, (hyp2f1(1, b, c * (1 + eps), z) - hyp2f1(1, b, c * (1 - eps), z)) / (2 * eps * c),
        rtol=1e-6)
    np.testing.assert_allclose(d_z, b / c * hyp2f1(2, b + 1, c + 1, z), rtol=1e-12)


def test_predictions_stay_finite_for_extreme_parameters(cdnow_summary):
    """Estimates of a degenerate fit (homogeneous rates: r, s in the thousands, alpha,
    beta far apart) still give finite predictions."""
    for params in ({"r": 5e4, "alpha": 8e5, "s": 4.7, "beta": 149.0},
                   {"r": 4.2, "alpha": 24.0, "s": 1588.0, "beta": 64692.0},
                   {"r": 0.05, "alpha": 1.4, "s": 1e-3, "beta": 3e-4}):
        model = ParetoNBDModel()
        model.params_ = params
        alive = model.p_alive(cdnow_summary)
        assert np.all((alive >= 0) & (alive <= 1))
        assert np.all(np.isfinite(model.expected_purchases(52.0, cdnow_summary)))
