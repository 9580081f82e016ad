"""The closed-form churn formulas against domain.md's worked cases and references."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from churnradar.exceptions import InputError
from churnradar.metrics.rates import (
    aggregate_churn,
    arpu_contraction_loss,
    convert_rate,
    wilson_interval,
)


def test_case_02_small_appliances():
    r = aggregate_churn(3000, 500, 3300, lost_revenue=30_000_000, margin=0.05)
    assert r.churned == 200
    assert r.churn_rate_start_basis == pytest.approx(200 / 3000)
    assert round(r.churn_rate_start_basis, 4) == 0.0667
    assert round(r.churn_rate_end_basis, 4) == 0.0606
    assert r.lost_revenue == 30_000_000
    assert r.churn_loss == pytest.approx(1_500_000)


def test_case_02_lost_revenue_from_the_two_halves():
    # half of the 200 churned points sold 100,000 a year, the other half 200,000
    lost = 100 * 100_000 + 100 * 200_000
    r = aggregate_churn(3000, 500, 3300, lost_revenue=lost, margin=0.05)
    assert r.lost_revenue == 30_000_000
    assert r.churn_loss == pytest.approx(1_500_000)


def test_case_03_telecom():
    r = aggregate_churn(300_000, 50_000, 320_000, arpu=1000, margin=0.03)
    assert r.churned == 30_000
    assert r.churn_rate_start_basis == pytest.approx(0.10)
    assert r.churn_rate_end_basis == pytest.approx(0.09375)
    assert r.lost_revenue == pytest.approx(30_000_000)
    assert r.churn_loss == pytest.approx(900_000)
    assert arpu_contraction_loss(270_000, 1000, 900, 0.03) == pytest.approx(810_000)
    both = aggregate_churn(300_000, 50_000, 320_000, arpu=1000, current_arpu=900, margin=0.03)
    assert both.churn_loss == pytest.approx(900_000)
    assert both.contraction_loss == pytest.approx(810_000)  # reported apart


def test_json_keys_are_exactly_the_documented_ones():
    keys = aggregate_churn(10, 0, 9).json_dict().keys()
    assert list(keys) == ["churned", "churn_rate_start_basis", "churn_rate_end_basis",
                          "retention_rate_start_basis", "lost_revenue", "churn_loss"]


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((100, 10, 200), {}, "cannot exceed start"),
        ((-1, 10, 5), {}, "start must not be negative"),
        ((100, -3, 90), {}, "new must not be negative"),
        ((100, 10, 90), {"margin": 1.5}, "margin must be between 0 and 1"),
        ((100, 10, 90), {"margin": -0.1}, "margin must be between 0 and 1"),
        ((0, 10, 5), {}, "start must be positive"),
        ((100, 50, 20), {}, "more than the 100 customers"),
        ((100, 10, 90), {"lost_revenue": 5.0, "arpu": 2.0}, "not both"),
        ((100, 10, 90), {"arpu": -2.0}, "ARPU must be a non-negative"),
        ((100.5, 10, 90), {}, "whole number"),
    ],
)
def test_bad_input_is_a_clear_error(args, kwargs, match):
    with pytest.raises(InputError, match=match):
        aggregate_churn(*args, **kwargs)


def test_convert_rate_round_trip_and_formula():
    assert convert_rate(0.02, "month", "year") == pytest.approx(1 - 0.98**12)
    assert convert_rate(convert_rate(0.3, "year", "month"), "month", "year") == pytest.approx(0.3)
    assert convert_rate(0.1, "quarter", "year") == pytest.approx(1 - 0.9**4)
    with pytest.raises(InputError):
        convert_rate(1.2, "month", "year")


@given(k=st.integers(0, 400), extra=st.integers(0, 400),
       conf=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_matches_scipy(k, extra, conf):
    n = k + extra
    lo, hi = wilson_interval(k, n, conf)
    if n == 0:
        assert (lo, hi) == (None, None)
        return
    ref = binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
    assert lo == pytest.approx(ref.low, abs=1e-9)
    assert hi == pytest.approx(ref.high, abs=1e-9)
    assert 0 <= lo <= k / n <= hi <= 1


@given(k=st.lists(st.integers(0, 500), min_size=1, max_size=20),
       extra=st.lists(st.integers(0, 500), min_size=20, max_size=20))
def test_vectorised_wilson_matches_scipy(k, extra):
    import numpy as np

    from churnradar.metrics.rates import wilson_bounds

    n = [a + b for a, b in zip(k, extra, strict=False)]
    lo, hi = wilson_bounds(np.array(k), np.array(n), 0.9)
    for i, (ki, ni) in enumerate(zip(k, n, strict=False)):
        if ni == 0:
            assert np.isnan(lo[i]) and np.isnan(hi[i])
            continue
        ref = binomtest(ki, ni).proportion_ci(confidence_level=0.9, method="wilson")
        assert lo[i] == pytest.approx(ref.low, abs=1e-9)
        assert hi[i] == pytest.approx(ref.high, abs=1e-9)
    # more churned than at the start is not a proportion
    assert np.isnan(wilson_bounds(np.array([5]), np.array([3]))[0][0])


@given(s=st.integers(1, 10**6), n=st.integers(0, 10**6), frac=st.floats(0, 1))
def test_aggregate_properties(s, n, frac):
    # any end between n and s + n is consistent
    e = n + math.floor(frac * s)
    r = aggregate_churn(s, n, e)
    assert 0 <= r.churned <= s
    assert r.churned <= s + n
    assert 0 <= r.churn_rate_start_basis <= 1
    assert r.churn_rate_start_basis + r.retention_rate_start_basis == pytest.approx(1)
    assert r.churn_rate_start_basis * s == pytest.approx(r.churned)
    if e:
        assert r.churn_rate_end_basis * e == pytest.approx(r.churned)
