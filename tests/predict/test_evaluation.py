"""Tests of churnradar.predict.evaluation: each number against an independent computation."""

from __future__ import annotations

import doctest
import itertools
import json
import math
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from churnradar.exceptions import InputError
from churnradar.predict import evaluation as ev
from churnradar.predict.evaluation import (
    EmpParams,
    EmpResult,
    Evaluation,
    calibration_table,
    capture_rate,
    emp_churn,
    evaluate_scores,
    lift_at,
    lift_curve,
    mean_evaluations,
)

# --------------------------------------------------------------------------- oracles


def naive_top_churners(y: np.ndarray, p: np.ndarray, k: int) -> float:
    """Expected churners among the top k under random tie-breaking, by definition."""
    if k == 0:
        return 0.0
    cut = np.sort(p)[::-1][k - 1]  # the k-th highest score
    above, tied = p > cut, p == cut
    return float(y[above].sum() + (k - above.sum()) * y[tied].mean())


def naive_calibration(y: np.ndarray, p: np.ndarray, bins: int) -> pd.DataFrame:
    n = len(y)
    rows = []
    for j in range(1, bins + 1):
        lo, hi = (j - 1) * n // bins, j * n // bins
        churners = naive_top_churners(y, p, hi) - naive_top_churners(y, p, lo)
        rows.append(
            {
                "decile": j,
                "n": hi - lo,
                "predicted": float(np.sort(p)[::-1][lo:hi].mean()),
                "realised": churners / (hi - lo),
                "churners": churners,
            }
        )
    return pd.DataFrame(rows)


def profit_lines(y: np.ndarray, p: np.ndarray, prm: EmpParams) -> tuple[np.ndarray, np.ndarray]:
    """Slope and intercept in gamma of the profit per customer of every cutoff.

    Every cutoff: nobody, then "score >= t" for each distinct score t (the paper's
    P(t; gamma) with F0, F1 counted directly, no ROC hull).
    """
    delta, phi = prm.offer_cost / prm.clv, prm.contact_cost / prm.clv
    pi0 = y.mean()
    pi1 = 1 - pi0
    # nobody first, then ever lower thresholds: np.argmax keeps the smaller target on a tie
    thresholds = np.concatenate([[np.inf], np.unique(p)[::-1]])
    f0 = np.array([(p[y == 1] >= t).mean() for t in thresholds])
    f1 = np.array([(p[y == 0] >= t).mean() for t in thresholds])
    slope = prm.clv * (1 - delta) * pi0 * f0
    intercept = -prm.clv * (phi * pi0 * f0 + (delta + phi) * pi1 * f1)
    return slope, intercept


def brute_force_emp(y: np.ndarray, p: np.ndarray, prm: EmpParams) -> tuple[float, float]:
    """EMP and its fraction by numerical integration of the max over all cutoffs.

    The max of the profit lines is piecewise linear in gamma with kinks only where two
    lines cross; between consecutive crossings one line is the max, and its integral
    against the Beta density is done by scipy.integrate.quad.
    """
    slope, intercept = profit_lines(y, p, prm)
    fraction_of = np.concatenate([[0.0], [(p >= t).mean() for t in np.unique(p)[::-1]]])
    cuts = {0.0, 1.0}
    for i, j in itertools.combinations(range(len(slope)), 2):
        if slope[i] != slope[j]:
            g = (intercept[j] - intercept[i]) / (slope[i] - slope[j])
            if 0.0 < g < 1.0:
                cuts.add(float(g))
    edges = np.array(sorted(cuts))
    mids = (edges[:-1] + edges[1:]) / 2
    best = np.argmax(slope[:, None] * mids[None, :] + intercept[:, None], axis=0)
    # merge neighbouring pieces won by the same cutoff
    keep = np.concatenate([[True], best[1:] != best[:-1], [True]])
    edges, best = edges[keep], best[keep[:-1]]
    pdf = stats.beta(prm.alpha, prm.beta).pdf
    tol = {"epsabs": 1e-13, "epsrel": 1e-12}
    emp = fraction = 0.0
    for lo, hi, i in zip(edges[:-1], edges[1:], best, strict=True):
        line = np.polynomial.Polynomial([intercept[i], slope[i]])
        emp += integrate.quad(lambda g, line=line: line(g) * pdf(g), lo, hi, **tol)[0]
        fraction += fraction_of[i] * integrate.quad(pdf, lo, hi, **tol)[0]
    return emp, fraction


def monotone_chain_upper(x: np.ndarray, y: np.ndarray) -> list[int]:
    """Andrew's monotone chain, upper hull, strict corners only (textbook, sequential)."""
    hull: list[int] = []
    for i in range(len(x)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            cross = (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a])
            if cross >= 0:  # b is not a strict right turn: drop it
                hull.pop()
            else:
                break
        hull.append(i)
    return hull


def random_scores(seed: int, n: int, *, decimals: int | None = 2, signal: float = 1.0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rng.uniform(0.05, 0.5)).astype(int)
    y[:2] = [0, 1]  # both classes
    p = 1 / (1 + np.exp(-(rng.normal(size=n) + signal * y - 1.0)))
    if decimals is not None:
        p = p.round(decimals)
    return y, p


# small worked example: 10 customers, 2 churners at ranks 1 and 3
Y10 = [1, 0, 1, 0, 0, 0, 0, 0, 0, 0]
P10 = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
# ties: .9 (churner), then four tied at .5 holding one churner, then five at .1
Y_TIES = [1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
P_TIES = [0.9, 0.5, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1]


# --------------------------------------------------------------------------- lift / capture


def test_lift_and_capture_hand_computed() -> None:
    # base rate 0.2; top 1 = churner; top 2 = 1 churner; top 3 = 2 churners
    assert lift_at(Y10, P10, 0.1) == pytest.approx(5.0)
    assert lift_at(Y10, P10, 0.2) == pytest.approx(2.5)
    assert lift_at(Y10, P10, 0.3) == pytest.approx((2 / 3) / 0.2)
    assert lift_at(Y10, P10, 1.0) == pytest.approx(1.0)
    assert capture_rate(Y10, P10, 0.0) == 0.0
    assert capture_rate(Y10, P10, 0.2) == pytest.approx(0.5)
    assert capture_rate(Y10, P10, 0.3) == pytest.approx(1.0)
    assert capture_rate(Y10, P10, 1.0) == pytest.approx(1.0)


def test_ties_are_counted_pro_rata() -> None:
    # top 2: the .9 churner and one of the four .5s, which hold one churner: 1 + 1/4
    assert capture_rate(Y_TIES, P_TIES, 0.2) == pytest.approx(1.25 / 2)
    assert lift_at(Y_TIES, P_TIES, 0.2) == pytest.approx((1.25 / 2) / 0.2)
    # top 5 takes the whole tied group: no splitting any more
    assert capture_rate(Y_TIES, P_TIES, 0.5) == pytest.approx(1.0)
    # top 3: 1 + 2/4
    assert capture_rate(Y_TIES, P_TIES, 0.3) == pytest.approx(1.5 / 2)


def test_ties_equal_the_mean_over_every_tie_breaking() -> None:
    y = np.array([1, 0, 1, 0, 1, 0, 0])
    p = np.array([0.7, 0.7, 0.7, 0.4, 0.4, 0.4, 0.1])
    for k in range(8):
        found = []
        for perm in itertools.permutations(range(7)):
            # sort by score, ties broken by the permutation
            order = sorted(range(7), key=lambda i, perm=perm: (-p[i], perm[i]))
            found.append(y[order[:k]].sum())
        expected = float(np.mean(found)) / y.sum()
        assert capture_rate(y, p, k / 7) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_lift_and_capture_against_naive(seed: int) -> None:
    y, p = random_scores(seed, 537, decimals=seed % 3 + 1)
    for fraction in (0.01, 0.1, 0.25, 0.333, 0.5, 0.9, 1.0):
        k = round(fraction * len(y))
        top = naive_top_churners(y, p, k)
        assert capture_rate(y, p, fraction) == pytest.approx(top / y.sum(), abs=1e-12)
        assert lift_at(y, p, fraction) == pytest.approx((top / k) / y.mean(), rel=1e-12)


def test_top_fraction_takes_round_of_fraction_times_n() -> None:
    # n = 10, fraction 0.25 -> round(2.5) = 2 customers (Python rounds halves to even)
    assert capture_rate(Y10, P10, 0.25) == pytest.approx(0.5)
    # fraction 0.35 -> round(3.5) = 4 customers
    assert lift_at(Y10, P10, 0.35) == pytest.approx((2 / 4) / 0.2)


def test_lift_curve_matches_pointwise_metrics() -> None:
    y, p = random_scores(11, 403)
    curve = lift_curve(y, p, points=20)
    assert list(curve.columns) == ["fraction", "lift", "capture"]
    assert len(curve) == 20
    for row in curve.itertuples(index=False):
        assert row.lift == pytest.approx(lift_at(y, p, row.fraction), rel=1e-12)
        assert row.capture == pytest.approx(capture_rate(y, p, row.fraction), abs=1e-12)
    last = curve.iloc[-1]
    assert (last.fraction, last.lift, last.capture) == pytest.approx((1.0, 1.0, 1.0))
    assert np.all(np.diff(curve["capture"]) >= -1e-12)


def test_lift_curve_leaves_out_fractions_that_select_nobody() -> None:
    curve = lift_curve(Y10, P10, points=100)
    # 0.01 .. 0.05 of 10 customers round to 0 (0.05 * 10 = 0.5 rounds to even: 0)
    assert curve["fraction"].iloc[0] == pytest.approx(0.06)
    assert len(curve) == 95


# --------------------------------------------------------------------------- calibration


def test_calibration_hand_computed() -> None:
    table = calibration_table([1, 0, 0, 0], [0.8, 0.6, 0.2, 0.2], bins=2)
    assert list(table.columns) == ["decile", "n", "predicted", "realised", "churners"]
    assert table["decile"].tolist() == [1, 2]
    assert table["n"].tolist() == [2, 2]
    assert table["predicted"].tolist() == pytest.approx([0.7, 0.2])
    assert table["realised"].tolist() == pytest.approx([0.5, 0.0])
    assert table["churners"].tolist() == pytest.approx([1.0, 0.0])


def test_calibration_splits_a_tied_group_pro_rata() -> None:
    # bin 1: .9 (churner) + one of the three .4s (which hold one churner): 1 + 1/3
    table = calibration_table([1, 1, 0, 0, 0, 0], [0.9, 0.4, 0.4, 0.4, 0.1, 0.1], bins=3)
    assert table["n"].tolist() == [2, 2, 2]
    assert table["churners"].tolist() == pytest.approx([4 / 3, 2 / 3, 0.0])
    assert table["predicted"].tolist() == pytest.approx([0.65, 0.4, 0.1])
    assert table["realised"].tolist() == pytest.approx([2 / 3, 1 / 3, 0.0])


@pytest.mark.parametrize(("seed", "n", "bins"), [(0, 1000, 10), (1, 600, 5), (2, 990, 15)])
def test_calibration_matches_sklearn_quantile_bins(seed: int, n: int, bins: int) -> None:
    # distinct scores and n divisible by bins: rank bins are sklearn's quantile bins
    y, p = random_scores(seed, n, decimals=None)
    table = calibration_table(y, p, bins=bins)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=bins, strategy="quantile")
    np.testing.assert_allclose(table["realised"], prob_true[::-1], atol=1e-12)
    np.testing.assert_allclose(table["predicted"], prob_pred[::-1], atol=1e-12)


@pytest.mark.parametrize(("seed", "n", "bins"), [(3, 57, 10), (4, 1001, 10), (5, 250, 7)])
def test_calibration_against_naive_with_ties(seed: int, n: int, bins: int) -> None:
    y, p = random_scores(seed, n, decimals=1)
    pd.testing.assert_frame_equal(
        calibration_table(y, p, bins=bins), naive_calibration(y, p, bins), check_dtype=False
    )


# --------------------------------------------------------------------------- AUC, Brier


@pytest.mark.parametrize("decimals", [None, 3, 1])
@pytest.mark.parametrize("seed", range(4))
def test_ranking_metrics_equal_sklearn(seed: int, decimals: int | None) -> None:
    y, p = random_scores(seed, 777, decimals=decimals)
    e = evaluate_scores(y, p)
    assert e.roc_auc == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert e.pr_auc == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert e.brier == pytest.approx(brier_score_loss(y, p), abs=1e-15)


def test_roc_auc_hand_computed() -> None:
    # churners at ranks 1 and 3 among 10: pairs ordered right 8 + 7 of 16
    e = evaluate_scores(Y10, P10, bins=2)
    assert e.roc_auc == pytest.approx(15 / 16)
    # precision at each churner: 1/1 and 2/3
    assert e.pr_auc == pytest.approx((1 + 2 / 3) / 2)


# --------------------------------------------------------------------------- EMP


def test_emp_matches_reference_implementation() -> None:
    # Values from EMP-Py 2.0.4 (Python port of the R package EMP), EMP.metrics.empChurn,
    # run on these data outside the test suite (not a dependency of churnradar).
    r = emp_churn([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], P10)
    assert r.emp == pytest.approx(15.700158244905877, rel=1e-12)
    assert r.fraction == pytest.approx(0.39983202026902204, rel=1e-12)
    y = [1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    p = [.8, .8, .7, .7, .7, .6, .5, .5, .4, .4, .3, .3, .3, .2, .2, .1, .1, .1, .05, .05]
    r = emp_churn(y, p)
    assert r.emp == pytest.approx(8.780210745007182, rel=1e-12)
    assert r.fraction == pytest.approx(0.6081919348678684, rel=1e-12)
    r = emp_churn(y, p, EmpParams(clv=50, offer_cost=5, contact_cost=0.5, alpha=2, beta=3))
    assert r.emp == pytest.approx(2.281627008571977, rel=1e-12)
    assert r.fraction == pytest.approx(0.3949224549385539, rel=1e-12)


EMP_CASES = [
    (0, 60, 1, EmpParams()),
    (1, 200, 2, EmpParams()),
    (2, 150, 1, EmpParams(clv=50.0, offer_cost=5.0, contact_cost=0.5, alpha=2.0, beta=3.0)),
    (3, 300, 2, EmpParams(clv=500.0, offer_cost=40.0, contact_cost=3.0, alpha=1.0, beta=1.0)),
    (4, 120, 2, EmpParams(clv=100.0, offer_cost=0.0, contact_cost=0.0, alpha=9.0, beta=2.0)),
    (5, 80, 1, EmpParams(clv=30.0, offer_cost=12.0, contact_cost=2.0, alpha=3.0, beta=7.0)),
]


@pytest.mark.parametrize(("seed", "n", "decimals", "prm"), EMP_CASES)
def test_emp_against_brute_force(seed: int, n: int, decimals: int, prm: EmpParams) -> None:
    y, p = random_scores(seed, n, decimals=decimals)
    expected_emp, expected_fraction = brute_force_emp(y, p, prm)
    got = emp_churn(y, p, prm)
    assert expected_emp > 0
    assert got.emp == pytest.approx(expected_emp, rel=1e-6)
    assert got.fraction == pytest.approx(expected_fraction, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize(
    ("base_rate", "prm"),
    [
        (0.1, EmpParams()),
        (0.35, EmpParams()),
        (0.2, EmpParams(clv=80.0, offer_cost=20.0, contact_cost=5.0, alpha=2.0, beta=5.0)),
    ],
)
def test_emp_perfect_classifier_closed_form(base_rate: float, prm: EmpParams) -> None:
    n = 1000
    y = (np.arange(n) < base_rate * n).astype(int)
    p = y * 0.9 + 0.05
    delta, phi = prm.offer_cost / prm.clv, prm.contact_cost / prm.clv
    pi0 = y.mean()
    # target exactly the churners when gamma (1 - delta) > phi
    g0 = phi / (1 - delta)
    h = stats.beta(prm.alpha, prm.beta)
    expected = prm.clv * pi0 * integrate.quad(
        lambda g: (g * (1 - delta) - phi) * h.pdf(g), g0, 1, epsabs=1e-13
    )[0]
    got = emp_churn(y, p, prm)
    assert got.emp == pytest.approx(expected, rel=1e-9)
    assert got.fraction == pytest.approx(pi0 * h.sf(g0), rel=1e-9)


def emp_target_all_or_none(pi0: float, prm: EmpParams) -> float:
    """E[max(0, profit of targeting everyone)], by quad."""
    delta, phi = prm.offer_cost / prm.clv, prm.contact_cost / prm.clv
    pdf = stats.beta(prm.alpha, prm.beta).pdf

    def profit(g: float) -> float:
        return prm.clv * ((g * (1 - delta) - phi) * pi0 - (delta + phi) * (1 - pi0))

    g_even = ((delta + phi) * (1 - pi0) / pi0 + phi) / (1 - delta)
    if g_even >= 1:
        return 0.0
    return integrate.quad(lambda g: profit(g) * pdf(g), max(g_even, 0.0), 1, epsabs=1e-13)[0]


@pytest.mark.parametrize("base_rate", [0.05, 0.2, 0.3, 0.5])
def test_emp_uninformative_scores(base_rate: float) -> None:
    rng = np.random.default_rng(7)
    n = 2000
    y = (np.arange(n) < base_rate * n).astype(int)
    expected = emp_target_all_or_none(y.mean(), EmpParams())
    # a constant score and the reversed perfect ranking both have only the diagonal as
    # ROC hull: targeting everyone or no one, whichever pays at each gamma
    for p in (np.full(n, 0.3), 1.0 - y):
        assert emp_churn(y, p).emp == pytest.approx(expected, rel=1e-9, abs=1e-12)
    # pure noise: slightly above, because the noisy ROC hull bulges above the diagonal
    noise = emp_churn(y, rng.random(n)).emp
    assert expected <= noise <= expected + 1.5
    assert emp_churn(y, np.full(n, 0.3)).emp >= 0.0


def test_emp_sign_and_order_of_classifiers() -> None:
    rng = np.random.default_rng(8)
    n = 5000
    y = (rng.random(n) < 0.2).astype(int)
    perfect = emp_churn(y, y * 0.5 + 0.25).emp
    good = emp_churn(y, 1 / (1 + np.exp(-(rng.normal(size=n) + 2.5 * y)))).emp
    weak = emp_churn(y, 1 / (1 + np.exp(-(rng.normal(size=n) + 0.5 * y)))).emp
    constant = emp_churn(y, np.full(n, 0.5)).emp
    assert perfect > good > weak > constant >= 0.0
    # with base rate 0.2 and the default costs, targeting everyone already pays on average
    assert constant > 0.0


def test_emp_is_monotone_in_the_campaign_economics() -> None:
    y, p = random_scores(21, 800)
    base = EmpParams()
    emp = emp_churn(y, p, base).emp
    assert emp_churn(y, p, EmpParams(clv=300.0)).emp > emp
    assert emp_churn(y, p, EmpParams(offer_cost=20.0)).emp < emp
    assert emp_churn(y, p, EmpParams(contact_cost=3.0)).emp < emp
    # acceptance rate more likely high: Beta(14, 6) has mean 0.7 instead of 0.3
    assert emp_churn(y, p, EmpParams(alpha=14.0, beta=6.0)).emp > emp
    # nothing ever pays when the offer eats nearly all the value
    never = emp_churn(y, p, EmpParams(clv=100.0, offer_cost=99.0, contact_cost=5.0))
    assert never == EmpResult(emp=0.0, fraction=0.0)


@pytest.mark.parametrize(
    "transform",
    [
        lambda p: p**3,
        np.sqrt,
        lambda p: 0.5 + 0.5 * p,
        lambda p: 1 / (1 + np.exp(-20 * (p - 0.5))),
    ],
)
@pytest.mark.parametrize("decimals", [None, 2])
def test_rank_metrics_invariant_to_monotone_transforms(transform, decimals: int | None) -> None:
    y, p = random_scores(31, 1500, decimals=decimals)
    p = np.clip(p, 0.05, 1.0)  # keep p**3 away from underflow-level collisions
    q = transform(p)
    assert np.array_equal(np.argsort(p, kind="stable"), np.argsort(q, kind="stable"))
    a, b = evaluate_scores(y, p), evaluate_scores(y, q)
    assert b.emp == pytest.approx(a.emp, rel=1e-12)
    assert b.emp_fraction == pytest.approx(a.emp_fraction, rel=1e-12)
    assert b.roc_auc == pytest.approx(a.roc_auc, rel=1e-12)
    assert b.pr_auc == pytest.approx(a.pr_auc, rel=1e-12)
    assert b.top_decile_lift == pytest.approx(a.top_decile_lift, rel=1e-12)
    assert b.capture == pytest.approx(a.capture, rel=1e-12)


def test_results_do_not_depend_on_row_order() -> None:
    y, p = random_scores(41, 900, decimals=1)
    perm = np.random.default_rng(0).permutation(len(y))
    a, b = evaluate_scores(y, p), evaluate_scores(y[perm], p[perm])
    assert a == b
    pd.testing.assert_frame_equal(a.calibration, b.calibration)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("m", [50, 5_000, 4 * ev._HULL_SAMPLE])
def test_roc_hull_against_monotone_chain(seed: int, m: int) -> None:
    # a random ROC chain in counts; the large one goes through the sampled-seed path
    rng = np.random.default_rng(seed)
    churn = rng.random(m - 1) < np.linspace(0.9, 0.05, m - 1) ** (1 + seed)
    size = rng.integers(1, 4, m - 1)
    y = np.concatenate([[0], np.cumsum(churn * size)])
    x = np.concatenate([[0], np.cumsum(~churn * size + (rng.random(m - 1) < 0.1))])
    got = ev._upper_hull(x.astype(np.int64), y.astype(np.int64))
    assert got.tolist() == monotone_chain_upper(x, y)


# --------------------------------------------------------------------------- evaluate_scores


def test_evaluate_scores_agrees_with_the_single_functions() -> None:
    y, p = random_scores(51, 1234)
    e = evaluate_scores(y, p)
    assert isinstance(e, Evaluation)
    assert (e.n, e.churners) == (1234, int(y.sum()))
    assert e.base_rate == pytest.approx(y.mean())
    assert e.top_decile_lift == lift_at(y, p, 0.1)
    assert e.capture == {f: capture_rate(y, p, f) for f in (0.1, 0.2, 0.3)}
    r = emp_churn(y, p)
    assert (e.emp, e.emp_fraction) == (r.emp, r.fraction)
    pd.testing.assert_frame_equal(e.calibration, calibration_table(y, p))


def test_evaluation_to_dict_is_json_ready() -> None:
    y, p = random_scores(52, 500)
    d = evaluate_scores(y, p).to_dict()
    assert list(d) == [
        "n", "churners", "base_rate", "roc_auc", "pr_auc", "brier", "top_decile_lift",
        "capture_10", "capture_20", "capture_30", "emp", "emp_fraction", "calibration",
    ]  # fmt: skip
    assert type(d["n"]) is int and type(d["churners"]) is int
    assert all(type(d[k]) is float for k in list(d)[2:-1])
    assert len(d["calibration"]) == 10
    assert d["calibration"][0] == {
        "decile": 1,
        "n": 50,
        "predicted": pytest.approx(d["calibration"][0]["predicted"]),
        "realised": pytest.approx(d["calibration"][0]["realised"]),
        "churners": pytest.approx(d["calibration"][0]["churners"]),
    }
    assert all(type(v) in (int, float) for row in d["calibration"] for v in row.values())
    assert json.loads(json.dumps(d)) == d


def test_mean_evaluations() -> None:
    folds = [evaluate_scores(*random_scores(s, 300 + 10 * s)) for s in range(3)]
    mean = mean_evaluations(folds)
    dicts = [f.to_dict() for f in folds]
    assert list(mean) == [k for k in dicts[0] if k != "calibration"]
    for key, value in mean.items():
        assert value == pytest.approx(sum(d[key] for d in dicts) / 3, rel=1e-12)
    assert mean_evaluations(folds[:1]) == {
        k: float(v) for k, v in dicts[0].items() if k != "calibration"
    }


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("y", "p", "match"),
    [
        ([0, 1, 1], [0.1, 0.2], "same length"),
        ([], [], "empty"),
        ([0, 2, 1], [0.1, 0.2, 0.3], r"only 0 \(stayed\) and 1 \(churned\); found 2 at position 1"),
        ([0, float("nan"), 1], [0.1, 0.2, 0.3], "only 0"),
        ([0, -1, 1], [0.1, 0.2, 0.3], "only 0"),
        ([0, 1, 1], [0.1, 1.2, 0.3], r"in \[0, 1\]; found 1\.2 at position 1"),
        ([0, 1, 1], [0.1, -0.01, 0.3], r"in \[0, 1\]"),
        ([0, 1, 1], [0.1, float("nan"), 0.3], r"found nan at position 1"),
        ([0, 1, 1], [0.1, float("inf"), 0.3], r"found inf"),
        ([0, 1, 1], ["a", "b", "c"], "p must be numeric"),
        ([[0, 1], [1, 0]], [[0.1, 0.2], [0.3, 0.4]], "one-dimensional"),
        ([0, 1, 0, 1], [0.1, None, 0.3, 0.5], "found nan"),
    ],
)
def test_invalid_inputs(y, p, match: str) -> None:
    for call in (
        lambda: lift_at(y, p, 0.5),
        lambda: capture_rate(y, p, 0.5),
        lambda: calibration_table(y, p, bins=1),
        lambda: lift_curve(y, p),
        lambda: emp_churn(y, p),
        lambda: evaluate_scores(y, p, bins=1),
    ):
        with pytest.raises(InputError, match=match):
            call()


@pytest.mark.parametrize(("y", "kind"), [([0] * 20, "no churner"), ([1] * 20, "no non-churner")])
def test_one_class_only(y: list[int], kind: str) -> None:
    p = np.linspace(0, 1, 20)
    with pytest.raises(InputError, match=f"y has {kind} among 20 customers"):
        emp_churn(y, p)
    with pytest.raises(InputError, match=kind):
        evaluate_scores(y, p)


def test_no_churner_for_lift_and_capture() -> None:
    y, p = [0] * 10, P10
    for call in (
        lambda: lift_at(y, p),
        lambda: capture_rate(y, p, 0.3),
        lambda: lift_curve(y, p),
    ):
        with pytest.raises(InputError, match="without churners"):
            call()
    # calibration is defined without churners
    assert calibration_table(y, p, bins=5)["churners"].sum() == 0


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.01, float("nan"), "0.1", None, True])
def test_bad_fraction_for_lift(fraction) -> None:
    with pytest.raises(InputError, match="fraction must be"):
        lift_at(Y10, P10, fraction)


@pytest.mark.parametrize("fraction", [-0.1, 1.01, float("inf"), "0.5"])
def test_bad_fraction_for_capture(fraction) -> None:
    with pytest.raises(InputError, match=r"fraction must be in \[0, 1\]|fraction must be a"):
        capture_rate(Y10, P10, fraction)


def test_fraction_that_selects_nobody() -> None:
    with pytest.raises(InputError, match=r"selects no customer \(round\(0\.04 \* 10\) = 0\)"):
        lift_at(Y10, P10, 0.04)
    with pytest.raises(InputError, match="selects no customer"):
        evaluate_scores([1, 0, 0, 1], [0.9, 0.1, 0.2, 0.3], bins=2)


@pytest.mark.parametrize("bins", [0, -3, 2.5, True, "10"])
def test_bad_bins(bins) -> None:
    with pytest.raises(InputError, match="bins must be a positive integer"):
        calibration_table(Y10, P10, bins=bins)
    with pytest.raises(InputError, match="bins must be a positive integer"):
        evaluate_scores(Y10, P10, bins=bins)


def test_more_bins_than_customers() -> None:
    with pytest.raises(InputError, match="got 10 customers for 11 bins"):
        calibration_table(Y10, P10, bins=11)


@pytest.mark.parametrize("points", [0, 1.5, None])
def test_bad_points(points) -> None:
    with pytest.raises(InputError, match="points must be a positive integer"):
        lift_curve(Y10, P10, points=points)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"clv": 0.0}, r"clv must be > 0"),
        ({"clv": -5.0}, r"clv must be > 0"),
        ({"alpha": 0.0}, r"alpha must be > 0"),
        ({"beta": -1.0}, r"beta must be > 0"),
        ({"offer_cost": -1.0}, r"offer_cost must be >= 0"),
        ({"contact_cost": -0.5}, r"contact_cost must be >= 0"),
        ({"offer_cost": 200.0}, r"offer_cost \(200\.0\) must be below clv \(200\.0\)"),
        ({"clv": float("nan")}, "finite number"),
        ({"alpha": "6"}, "finite number"),
    ],
)
def test_bad_emp_params(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        EmpParams(**kwargs)


def test_mean_of_no_evaluation() -> None:
    with pytest.raises(InputError, match="at least one Evaluation"):
        mean_evaluations([])


def test_inputs_of_many_types_are_accepted() -> None:
    y = pd.Series(Y10, dtype="int64")
    p = pd.Series(P10, dtype="float32")
    assert lift_at(y.astype(bool), p, 0.2) == pytest.approx(2.5)
    assert lift_at(y.to_numpy(dtype=float), tuple(P10), 0.2) == pytest.approx(2.5)
    assert capture_rate(y, p, np.float64(0.2)) == pytest.approx(0.5)


# --------------------------------------------------------------------------- properties

customers = st.lists(
    st.tuples(st.integers(0, 1), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5001, 0.9, 1.0])),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(rows=customers, f1=st.floats(0, 1), f2=st.floats(0, 1), bins=st.integers(1, 12))
def test_properties(rows: list[tuple[int, float]], f1: float, f2: float, bins: int) -> None:
    y = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows])
    n, churners = len(y), int(y.sum())
    if bins <= n:
        table = calibration_table(y, p, bins=bins)
        assert table["n"].sum() == n
        assert table["churners"].sum() == pytest.approx(churners, abs=1e-9)
        assert table["realised"].between(-1e-12, 1 + 1e-12).all()
        assert table["predicted"].is_monotonic_decreasing
    if churners == 0:
        return
    lo, hi = sorted((f1, f2))
    assert capture_rate(y, p, lo) <= capture_rate(y, p, hi) + 1e-12
    assert 0.0 <= capture_rate(y, p, lo) <= 1.0 + 1e-12
    assert capture_rate(y, p, 1.0) == pytest.approx(1.0)
    assert capture_rate(y, p, 0.0) == 0.0
    assert lift_at(y, p, 1.0) == pytest.approx(1.0)
    k = round(hi * n)
    assert capture_rate(y, p, hi) == pytest.approx(naive_top_churners(y, p, k) / churners)
    if churners == n:
        return
    r = emp_churn(y, p)
    perfect = emp_churn(y, y.astype(float))
    assert 0.0 <= r.emp <= perfect.emp + 1e-9
    assert 0.0 <= r.fraction <= 1.0
    assert r.emp >= emp_target_all_or_none(y.mean(), EmpParams()) - 1e-9


def test_docstring_examples() -> None:
    result = doctest.testmod(ev, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4
    assert result.failed == 0


# --------------------------------------------------------------------------- scale


@pytest.mark.slow
def test_ten_million_rows() -> None:
    rng = np.random.default_rng(0)
    n = 10_000_000
    p = rng.random(n)
    y = (rng.random(n) < 0.3 * p).astype(np.int8)
    start = time.perf_counter()
    e = evaluate_scores(y, p)
    elapsed = time.perf_counter() - start
    # a few seconds on a laptop; generous bound for a loaded CI machine
    assert elapsed < 30, f"evaluate_scores took {elapsed:.1f} s for 10 million rows"
    assert e.n == n
    assert e.roc_auc == pytest.approx(roc_auc_score(y, p), abs=1e-9)
    assert e.pr_auc == pytest.approx(average_precision_score(y, p), abs=1e-9)
    assert math.isfinite(e.emp) and e.emp > 0
