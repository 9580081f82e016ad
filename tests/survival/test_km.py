"""Kaplan–Meier and log-rank: a table computed on paper, and lifelines as the oracle."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test, pairwise_logrank_test
from lifelines.utils import median_survival_times
from scipy import stats

from churnradar import schema as s
from churnradar.exceptions import InputError, NotFittedError, SchemaError
from churnradar.survival.durations import CHURNED, COHORT, DURATION_DAYS, ENTRY_DAYS
from churnradar.survival.km import (
    ALL,
    CURVE_COLUMNS,
    LOGRANK_COLUMNS,
    MISSING,
    OTHER,
    PAIRWISE_COLUMNS,
    KaplanMeier,
    group_labels,
    group_order,
    holm,
    kaplan_meier,
    logrank_test,
    pairwise_logrank,
)


def _table(durations, events, entry=None, groups=None) -> pd.DataFrame:
    df = pd.DataFrame({s.CUSTOMER_ID: [f"C{i}" for i in range(len(durations))],
                       DURATION_DAYS: durations, CHURNED: [bool(e) for e in events]})
    if entry is not None:
        df[ENTRY_DAYS] = entry
    if groups is not None:
        df["g"] = groups
    return df


# --- by hand ------------------------------------------------------------------------------
#: 7 customers: churned after 2, 3, 5, 8 days; still customers at 3, 6, 9 days
HAND = _table([2, 3, 3, 5, 6, 8, 9], [1, 1, 0, 1, 0, 1, 0])


def test_kaplan_meier_by_hand():
    km = KaplanMeier(horizons=(4, 7), min_customers=1).fit(HAND)
    curve = km.curve_.set_index("t")
    # S(t) = prod (1 - d/n):  t=2: 6/7;  t=3: 6/7 * 5/6 = 5/7 (one churn, one censored);
    # t=5: 5/7 * 3/4 = 15/28;  t=6 censored;  t=8: 15/28 * 1/2 = 15/56;  t=9 censored
    expected = {0: 1.0, 2: 6 / 7, 3: 5 / 7, 5: 15 / 28, 6: 15 / 28, 8: 15 / 56, 9: 15 / 56}
    assert list(curve.index) == list(expected)
    assert curve["survival"].to_numpy() == pytest.approx(list(expected.values()), abs=1e-12)
    assert list(curve["at_risk"]) == [7, 7, 6, 4, 3, 2, 1]
    assert list(curve["events"]) == [0, 1, 1, 1, 0, 1, 0]
    assert list(curve["censored"]) == [0, 0, 1, 0, 1, 0, 1]
    # the log(-log) interval at t=5 from Greenwood's sum of d / (n (n - d))
    greenwood = 1 / (7 * 6) + 1 / (6 * 5) + 1 / (4 * 3)
    s5 = 15 / 28
    z = stats.norm.ppf(0.975)
    half = z * math.sqrt(greenwood) / abs(math.log(s5))
    assert curve.loc[5, "lower"] == pytest.approx(s5 ** math.exp(half), abs=1e-9)
    assert curve.loc[5, "upper"] == pytest.approx(s5 ** math.exp(-half), abs=1e-9)
    row = km.summary_.iloc[0]
    assert (row["n"], row["churned"], row["censored"]) == (7, 4, 3)
    assert row["median_days"] == 8  # first time S <= 1/2
    assert row["survival_4d"] == pytest.approx(5 / 7)
    assert row["survival_7d"] == pytest.approx(15 / 28)
    # remaining lifetime of a customer still there after 3 days: S(3) = 5/7;
    # S(3 + 2) / S(3) = 3/4; half of S(3) is first reached at t=8, 5 days later
    rem = km.remaining_survival(pd.DataFrame({s.CUSTOMER_ID: ["x"], DURATION_DAYS: [3]}),
                                horizons=(2, 10))
    assert rem["p_stay_2d"].iloc[0] == pytest.approx(0.75)
    assert rem["p_stay_10d"].iloc[0] == pytest.approx((15 / 56) / (5 / 7))
    assert rem["median_remaining_days"].iloc[0] == 5
    assert bool(rem["extrapolated"].iloc[0])  # 3 + 10 > 9, the last time


def _fit_small(df: pd.DataFrame, **kw) -> KaplanMeier:
    """Fit a hand table (fewer customers than the default minimum on purpose)."""
    return KaplanMeier(horizons=(1,), min_customers=1).fit(df, **kw)


def test_delayed_entry_by_hand():
    # (entry, duration, churned): a customer is at risk at t when entry < t <= duration
    df = _table([2, 4, 3, 5, 6], [1, 0, 1, 1, 0], entry=[0, 0, 1, 2, 0])
    km = _fit_small(df, entry_col=ENTRY_DAYS)
    curve = km.curve_.set_index("t")
    # t=2: 4 at risk (the one entering at 2 is not yet), 1 churns -> 3/4
    # t=3: 4 at risk (it is now), 1 churns -> 9/16;  t=5: 2 at risk, 1 churns -> 9/32
    assert list(curve.loc[[2, 3, 5], "at_risk"]) == [4, 4, 2]
    assert curve.loc[[2, 3, 5], "survival"].to_numpy() == pytest.approx(
        [3 / 4, 9 / 16, 9 / 32], abs=1e-12)
    # the log-rank risk sets are the same: two groups by hand
    #   group a = customers 1, 2, 5 (entry 0); group b = customers 3, 4 (entry 1, 2)
    #   t=2: n_a=3, n_b=1, one churn in a: O-E(a) = 1 - 3/4;  V = 1 * (3/4)(1/4)
    #   t=3: n_a=2 (1 left), n_b=2, churn in b: O-E(a) = 0 - 1/2;  V += (1/2)(1/2)
    #   t=5: n_a=1 (customer 5), n_b=1, churn in b: O-E(a) = -1/2;  V += 1/4
    z = (1 - 3 / 4) - 1 / 2 - 1 / 2
    v = 3 / 16 + 1 / 4 + 1 / 4
    res = logrank_test(df[DURATION_DAYS], df[CHURNED], ["a", "a", "b", "b", "a"],
                       df[ENTRY_DAYS])
    assert res.statistic == pytest.approx(z**2 / v, abs=1e-12)
    assert res.p_value == pytest.approx(stats.chi2.sf(z**2 / v, 1), abs=1e-12)


# --- lifelines as the oracle ------------------------------------------------------------------
def test_curves_and_summary_equal_lifelines(demo_durations):
    dur = demo_durations["telecom"]
    km = KaplanMeier(confidence=0.9, horizons=(90, 365)).fit(
        dur, group_col=s.GRADE, entry_col=ENTRY_DAYS)
    assert km.groups_ == ["C", "B", "A"]  # largest first
    for g in km.groups_:
        sub = dur[dur[s.GRADE] == g]
        ref = KaplanMeierFitter(alpha=0.1).fit(sub[DURATION_DAYS], sub[CHURNED],
                                               entry=sub[ENTRY_DAYS])
        curve = km.curve_[km.curve_["group"] == g]
        assert (curve["grouping"] == s.GRADE).all()
        np.testing.assert_array_equal(curve["t"], ref.survival_function_.index)
        np.testing.assert_allclose(curve["survival"], ref.survival_function_.iloc[:, 0])
        np.testing.assert_allclose(curve["lower"], ref.confidence_interval_.iloc[:, 0])
        np.testing.assert_allclose(curve["upper"], ref.confidence_interval_.iloc[:, 1])
        # at risk = the estimate's denominator: lifelines' at_risk less those entering at t
        entering = ref.event_table["entrance"].to_numpy().copy()
        entering[0] = 0
        np.testing.assert_array_equal(curve["at_risk"],
                                      ref.event_table["at_risk"].to_numpy() - entering)
        d_t = curve["events"].to_numpy()
        n_t = curve["at_risk"].to_numpy()
        np.testing.assert_allclose(curve["survival"], np.cumprod(1 - d_t / n_t))
        row = km.summary_.set_index("group").loc[g]
        assert row["median_days"] == ref.median_survival_time_
        ci = median_survival_times(ref.confidence_interval_)
        assert row["median_lower"] == ci.iloc[0, 0] and row["median_upper"] == ci.iloc[0, 1]
        assert row["survival_365d"] == pytest.approx(
            ref.survival_function_at_times(365).iloc[0])
        assert row["n"] == len(sub) and row["churned"] == sub[CHURNED].sum()
    assert list(km.curve_.columns) == list(CURVE_COLUMNS)


def test_logrank_equals_lifelines_without_entry(demo_durations):
    dur = demo_durations["dealers"]
    for col in (s.GRADE, s.SEGMENT, s.CHANNEL):
        ours = logrank_test(dur[DURATION_DAYS], dur[CHURNED], dur[col])
        ref = multivariate_logrank_test(dur[DURATION_DAYS], dur[col], dur[CHURNED])
        assert ours.statistic == pytest.approx(ref.test_statistic, rel=1e-9)
        assert ours.p_value == pytest.approx(ref.p_value, rel=1e-6, abs=1e-300)
        assert ours.df == ref.degrees_of_freedom == dur[col].nunique() - 1
    # lifelines' documented example
    g = [0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2]
    t = [5, 3, 9, 8, 7, 4, 4, 3, 2, 5, 6, 7]
    e = [1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0]
    ref = multivariate_logrank_test(t, g, e)
    assert logrank_test(t, e, g).statistic == pytest.approx(ref.test_statistic, rel=1e-12)
    # entry of zero everywhere is no delayed entry
    assert logrank_test(t, e, g, entry=np.zeros(12)).statistic == pytest.approx(
        ref.test_statistic, rel=1e-12)


def test_pairwise_equals_lifelines(demo_durations):
    dur = demo_durations["dealers"]
    ours = pairwise_logrank(dur[DURATION_DAYS], dur[CHURNED], dur[s.GRADE])
    ref = pairwise_logrank_test(dur[DURATION_DAYS], dur[s.GRADE], dur[CHURNED]).summary
    assert list(ours.columns) == list(PAIRWISE_COLUMNS[1:])
    for _, row in ours.iterrows():
        r = ref.loc[(row["group_a"], row["group_b"])]
        assert row["statistic"] == pytest.approx(r["test_statistic"], rel=1e-9)
        assert row["p_value"] == pytest.approx(r["p"], rel=1e-6, abs=1e-300)
    np.testing.assert_allclose(ours["p_holm"], holm(ours["p_value"].to_numpy()))


def _logrank_by_loop(df: pd.DataFrame, group_col: str) -> float:
    """The K-sample log-rank statistic (Klein & Moeschberger §7.3) from lifelines'
    Kaplan–Meier event tables per group, one event time at a time."""
    groups = sorted(df[group_col].unique())
    tables = {}
    for g in groups:
        sub = df[df[group_col] == g]
        tables[g] = KaplanMeierFitter().fit(sub[DURATION_DAYS], sub[CHURNED],
                                            entry=sub[ENTRY_DAYS]).event_table
    times = np.unique(df.loc[df[CHURNED], DURATION_DAYS])
    k = len(groups)
    z = np.zeros(k)
    v = np.zeros((k, k))
    for t in times:
        n_g = np.zeros(k)
        d_g = np.zeros(k)
        for j, g in enumerate(groups):
            et = tables[g]
            # the denominator of lifelines' estimate: entered before t (at the table's
            # first time: entered then), not removed before t
            entered = et.loc[et.index < t, "entrance"].sum()
            if et.index[0] == t:
                entered += et["entrance"].iloc[0]
            n_g[j] = entered - et.loc[et.index < t, "removed"].sum()
            d_g[j] = et.loc[t, "observed"] if t in et.index else 0
        n, dd = n_g.sum(), d_g.sum()
        z += d_g - n_g * dd / n
        c = dd * (n - dd) / (n - 1) if n > 1 else 0.0
        for a in range(k):
            for b in range(k):
                v[a, b] += c * (n_g[a] / n) * ((a == b) - n_g[b] / n)
    return float(z[:-1] @ np.linalg.solve(v[:-1, :-1], z[:-1]))


def test_logrank_with_delayed_entry(demo_durations):
    dur = demo_durations["telecom"]
    sub = dur[dur[s.SEGMENT].notna()]
    ours = logrank_test(sub[DURATION_DAYS], sub[CHURNED], sub[s.SEGMENT], sub[ENTRY_DAYS])
    assert ours.statistic == pytest.approx(_logrank_by_loop(sub, s.SEGMENT), rel=1e-9)
    # ignoring the entry counts stock customers as at risk before the data: another answer
    naive = logrank_test(sub[DURATION_DAYS], sub[CHURNED], sub[s.SEGMENT])
    assert abs(naive.statistic - ours.statistic) > 1e-3


def test_holm_by_hand():
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.5, 0.01]), [0.5, 0.02])
    assert holm([]).size == 0


# --- groups --------------------------------------------------------------------------------
def test_group_labels_pool_rare_values():
    values = pd.Series(["a"] * 50 + ["b"] * 40 + ["c"] * 5 + [None] * 31 + ["d"] * 2)
    lab = group_labels(values, min_size=30)
    assert lab.value_counts().to_dict() == {"a": 50, "b": 40, MISSING: 31, OTHER: 7}
    assert group_order(lab) == ["a", "b", OTHER, MISSING]  # pooled groups last
    many = pd.Series([f"v{i:02d}" for i in range(20) for _ in range(40 - i)])
    lab = group_labels(many, min_size=1, max_groups=5)
    assert lab.nunique() == 5 and set(lab) == {"v00", "v01", "v02", "v03", OTHER}
    cohorts = pd.Series(["2024-Q1"] * 40 + ["<2024-Q1"] * 50 + ["2023-Q4"] * 40)
    assert group_order(cohorts, COHORT) == ["<2024-Q1", "2023-Q4", "2024-Q1"]
    assert group_labels(pd.Series([True, False] * 20), min_size=1).tolist()[:2] == [
        "True", "False"]
    with pytest.raises(InputError, match="maximum number of groups at least 2"):
        group_labels(values, max_groups=1)


def test_kaplan_meier_over_groupings(demo_durations):
    dur = demo_durations["telecom"]
    res = kaplan_meier(dur, [s.GRADE, COHORT], horizons=(180,))
    assert list(res.logrank.columns) == list(LOGRANK_COLUMNS)
    assert list(res.logrank["grouping"]) == [s.GRADE, COHORT]
    assert set(res.summary["grouping"]) == {ALL, s.GRADE, COHORT}
    overall = res.summary[res.summary["grouping"] == ALL].iloc[0]
    assert overall["n"] == len(dur) and overall["group"] == ALL
    # group sizes add up to the whole
    for g in (s.GRADE, COHORT):
        assert res.summary.loc[res.summary["grouping"] == g, "n"].sum() == len(dur)
    # the log-rank row is the estimator's test, with delayed entry
    test = logrank_test(dur[DURATION_DAYS], dur[CHURNED], dur[s.GRADE], dur[ENTRY_DAYS])
    assert res.logrank.iloc[0]["statistic"] == pytest.approx(test.statistic)
    assert len(res.pairwise[res.pairwise["grouping"] == s.GRADE]) == 3
    # survival beyond a group's follow-up is not estimable (NaN, never a flat guess)
    late = res.summary[(res.summary["grouping"] == COHORT) & (res.summary["max_days"] < 180)]
    assert not late.empty and late["survival_180d"].isna().all()
    # a grouping with a single group after pooling is skipped, with the reason
    one = dur.assign(flat="same")
    res = kaplan_meier(one, ["flat"])
    assert res.skipped == (("flat", "survival_skip_one_group"),)
    assert res.logrank.empty and res.pairwise.empty


def test_kaplan_meier_without_entry_column(demo_durations):
    dur = demo_durations["dealers"].drop(columns=[ENTRY_DAYS])
    res = kaplan_meier(dur, [s.GRADE])
    ref = KaplanMeierFitter().fit(dur[DURATION_DAYS], dur[CHURNED])
    overall = res.summary[res.summary["grouping"] == ALL].iloc[0]
    assert overall["median_days"] == ref.median_survival_time_


def test_remaining_survival_equals_lifelines(demo_durations):
    dur = demo_durations["dealers"]
    km = KaplanMeier().fit(dur, group_col=s.GRADE)
    active = dur[~dur[CHURNED]]
    rem = km.remaining_survival(active, horizons=(90, 365), group_col=s.GRADE)
    for g in km.groups_:
        ref = KaplanMeierFitter().fit(dur.loc[dur[s.GRADE] == g, DURATION_DAYS],
                                      dur.loc[dur[s.GRADE] == g, CHURNED])
        a = active.loc[active[s.GRADE] == g, DURATION_DAYS].to_numpy()
        mine = rem[rem[s.CUSTOMER_ID].isin(active.loc[active[s.GRADE] == g, s.CUSTOMER_ID])]
        cond = ref.conditional_time_to_event_.iloc[:, 0]
        np.testing.assert_allclose(mine["median_remaining_days"], cond.loc[a].to_numpy())
        s_a = ref.survival_function_at_times(a).to_numpy()
        s_h = ref.survival_function_at_times(a + 90).to_numpy()
        np.testing.assert_allclose(mine["p_stay_90d"], s_h / s_a)
    assert rem["p_stay_365d"].between(0, 1).all()
    assert (rem["p_stay_365d"] <= rem["p_stay_90d"] + 1e-12).all()


# --- errors ---------------------------------------------------------------------------------
def test_errors(demo_durations):
    dur = demo_durations["telecom"]
    with pytest.raises(InputError, match="at least 10 customers"):
        KaplanMeier().fit(dur.head(5))
    with pytest.raises(InputError, match="None of the 1200 customers has churned"):
        KaplanMeier().fit(dur.assign(**{CHURNED: False}))
    with pytest.raises(InputError, match="missing or negative durations"):
        KaplanMeier().fit(dur.assign(**{DURATION_DAYS: -dur[DURATION_DAYS]}))
    with pytest.raises(InputError, match="must hold only 0/1"):
        KaplanMeier().fit(dur.assign(**{CHURNED: 2}))
    with pytest.raises(InputError, match="values not below 'duration_days'"):
        KaplanMeier().fit(dur.assign(**{ENTRY_DAYS: dur[DURATION_DAYS] + 1}),
                          entry_col=ENTRY_DAYS)
    with pytest.raises(SchemaError, match="no column 'tier'"):
        KaplanMeier().fit(dur, group_col="tier")
    with pytest.raises(SchemaError, match="no column 'tier'"):
        kaplan_meier(dur, ["tier"])
    with pytest.raises(InputError, match="confidence level must be at least 0.5"):
        KaplanMeier(confidence=1.2).fit(dur)
    with pytest.raises(InputError, match="distinct positive numbers of days"):
        KaplanMeier(horizons=(90, -1)).fit(dur)
    with pytest.raises(NotFittedError, match="KaplanMeier is not fitted"):
        KaplanMeier().survival_at([10])
    with pytest.raises(InputError, match="at least two groups"):
        logrank_test([1, 2, 3], [1, 1, 0], ["a", "a", "a"])
    km = KaplanMeier().fit(dur, group_col=s.GRADE)
    with pytest.raises(InputError, match="no group 'Z'"):
        km.survival_at([10], group="Z")
    assert km.survival_at([0], group="A")[0] == 1.0


def test_a_group_whose_risk_set_empties_is_reported():
    # group "late": one customer churns on day 1, the others enter only on days 5 and 6
    df = _table([1, 10, 12, 3, 4, 5, 6, 7, 8, 9], [1, 1, 0, 1, 0, 1, 1, 0, 1, 0],
                entry=[0, 5, 6, 0, 0, 0, 0, 0, 0, 0],
                groups=["late"] * 3 + ["early"] * 7)
    with pytest.raises(InputError, match="group 'late' has nobody under observation early"):
        KaplanMeier(min_group_size=1).fit(df, group_col="g", entry_col=ENTRY_DAYS)
    # over several groupings: that grouping is skipped with the reason, the others stay
    res = kaplan_meier(df.assign(h=["x", "y"] * 5), ["g", "h"], min_group_size=1)
    assert res.skipped == (("g", "survival_err_km_truncation"),)
    assert list(res.logrank["grouping"]) == ["h"]
