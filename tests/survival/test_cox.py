"""The Cox model and remaining survival, with lifelines called directly as the oracle."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, CoxTimeVaryingFitter, NelsonAalenFitter

from churnradar import schema as s
from churnradar.exceptions import ConvergenceWarning, InputError, NotFittedError, SchemaError
from churnradar.survival.cox import (
    CoxModel,
    _CoxPHFitter,
    efron_entry_gradients,
    fit_cox,
    remaining_survival,
)
from churnradar.survival.durations import CHURNED, COHORT, DURATION_DAYS, ENTRY_DAYS
from churnradar.survival.km import OTHER, KaplanMeier

COVS = [s.GRADE, s.CHANNEL, s.IS_KEY_ACCOUNT]


def _reference_design(dur: pd.DataFrame) -> pd.DataFrame:
    """One-hot by hand: each categorical against its largest level, booleans as 0/1."""
    cols = {}
    for c in (s.GRADE, s.CHANNEL):
        counts = dur[c].value_counts()
        ref = counts.index[0]
        for lv in counts.index[1:]:
            cols[f"{c}={lv}"] = (dur[c] == lv).astype(float)
        assert counts[ref] == counts.max()
    cols[s.IS_KEY_ACCOUNT] = dur[s.IS_KEY_ACCOUNT].astype(float)
    return pd.DataFrame(cols, index=dur.index)


@pytest.fixture(scope="module")
def telecom_fit(demo_durations):
    """Our fit and lifelines' own (same coefficients: only the baseline differs)."""
    dur = demo_durations["telecom"]
    model = CoxModel(penalizer=0.05).fit(dur, covariates=COVS, entry_col=ENTRY_DAYS)
    x = _reference_design(dur)
    ref = CoxPHFitter(penalizer=0.05).fit(
        x.assign(T=dur[DURATION_DAYS], E=dur[CHURNED], entry=dur[ENTRY_DAYS]), "T", "E",
        entry_col="entry")
    return dur, model, ref, x


def test_summary_equals_lifelines(telecom_fit):
    _dur, model, ref, _x = telecom_fit
    sm = model.summary_.set_index("covariate")
    assert sorted(sm.index) == sorted(ref.summary.index)
    r = ref.summary.loc[sm.index]
    np.testing.assert_allclose(sm["coef"], r["coef"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(sm["hazard_ratio"], r["exp(coef)"], rtol=1e-6)
    np.testing.assert_allclose(sm["hr_lower"], r["exp(coef) lower 95%"], rtol=1e-6)
    np.testing.assert_allclose(sm["hr_upper"], r["exp(coef) upper 95%"], rtol=1e-6)
    np.testing.assert_allclose(sm["se"], r["se(coef)"], rtol=1e-6)
    np.testing.assert_allclose(sm["p_value"], r["p"], rtol=1e-5)
    assert model.concordance_ == pytest.approx(ref.concordance_index_, rel=1e-9)
    # levels are read against the largest one
    grade = model.summary_[model.summary_["variable"] == s.GRADE]
    assert set(grade["level"]) == {"A", "B"} and set(grade["reference"]) == {"C"}
    assert model.summary_.loc[model.summary_["variable"] == s.IS_KEY_ACCOUNT,
                              "level"].isna().all()
    assert model.n_ == len(_dur) and model.events_ == int(_dur[CHURNED].sum())


def test_remaining_survival_equals_lifelines(telecom_fit):
    """p_stay and the median come from lifelines' predictions on the fitted model."""
    dur, model, _ref, _x = telecom_fit
    cph = model.lifelines_
    active = dur[~dur[CHURNED]]
    rem = model.remaining_survival(active, horizons=(30, 365))
    a = active[DURATION_DAYS].to_numpy(dtype=float)
    xa = model.design(active)
    sf = cph.predict_survival_function(xa, times=[30.0, 365.0], conditional_after=a)
    np.testing.assert_allclose(rem["p_stay_30d"], sf.iloc[0].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(rem["p_stay_365d"], sf.iloc[1].to_numpy(), rtol=1e-12)
    median = cph.predict_median(xa, conditional_after=a).to_numpy()
    got = rem["median_remaining_days"].to_numpy()
    assert np.isinf(median).sum() == np.isinf(got).sum() > 0  # some never drop below 1/2
    np.testing.assert_array_equal(got, median)
    np.testing.assert_allclose(rem["relative_hazard"],
                               cph.predict_partial_hazard(xa).to_numpy(), rtol=1e-12)
    assert list(rem.columns) == [s.CUSTOMER_ID, "tenure_days", "relative_hazard",
                                 "p_stay_30d", "p_stay_365d", "median_remaining_days",
                                 "extrapolated"]
    assert (rem["extrapolated"] == (a + 365 > dur[DURATION_DAYS].max())).all()


def test_entry_gradients_equal_lifelines():
    """The cumulative-sum Efron gradients against lifelines' loop over death times."""
    rng = np.random.default_rng(1)
    n, p = 400, 4
    x = rng.normal(size=(n, p))
    stop = rng.integers(1, 60, n).astype(float)  # many ties
    start = np.minimum(np.where(rng.random(n) < 0.4, np.floor(stop * rng.random(n)), 0.0),
                       stop - 1)
    events = rng.random(n) < 0.6
    beta = rng.normal(size=p) * 0.3
    for weights in (np.ones(n), rng.uniform(0.5, 2.0, n)):
        h1, g1, ll1 = CoxTimeVaryingFitter._get_gradients(x, events, start, stop, weights,
                                                           beta)
        h2, g2, ll2 = efron_entry_gradients(x, events, start, stop, weights, beta)
        np.testing.assert_allclose(h2, h1, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(g2, g1, rtol=1e-10, atol=1e-10)
        assert ll2 == pytest.approx(ll1, rel=1e-12)
    h, g, ll = efron_entry_gradients(x[:, :0], events, start, stop, np.ones(n), beta[:0])
    assert h.shape == (0, 0) and g.shape == (0,) and np.isfinite(ll)


def test_baseline_hazard_uses_the_entry(demo_durations):
    dur = demo_durations["telecom"]
    # without covariates the Breslow baseline is the Nelson-Aalen estimate with entry
    frame = pd.DataFrame({"T": dur[DURATION_DAYS].astype(float), "E": dur[CHURNED],
                          "entry": dur[ENTRY_DAYS].astype(float)})
    trivial = _CoxPHFitter().fit(frame, "T", "E", entry_col="entry")
    na = NelsonAalenFitter(nelson_aalen_smoothing=False).fit(frame["T"], frame["E"],
                                                            entry=frame["entry"])
    base = trivial.baseline_cumulative_hazard_.iloc[:, 0]
    np.testing.assert_allclose(base.to_numpy(),
                               na.cumulative_hazard_at_times(base.index).to_numpy(),
                               rtol=1e-9)
    # lifelines' own baseline ignores the entry (lifelines issue #1416): at early tenure
    # it counts stock customers that are not yet observed, so the hazard is far too low
    plain = CoxPHFitter().fit(frame, "T", "E", entry_col="entry")
    early = base.index[base.index <= 365][-1]
    assert base.loc[early] > 1.5 * plain.baseline_cumulative_hazard_.iloc[:, 0].loc[early]
    # with covariates: sum of churns at t / sum of exp((x - mean) b) over entry < t <= T
    model = CoxModel().fit(dur, covariates=[s.GRADE], entry_col=ENTRY_DAYS)
    cph = model.lifelines_
    x = model.design(dur)
    risk = np.exp((x - cph._norm_mean) @ cph.params_).to_numpy()
    t_all = dur[DURATION_DAYS].to_numpy(dtype=float)
    e_all = dur[ENTRY_DAYS].to_numpy(dtype=float)
    churned = dur[CHURNED].to_numpy()
    hazard = cph.baseline_hazard_.iloc[:, 0]
    for t in hazard.index[::97]:
        at_risk = (e_all < t) & (t <= t_all)
        expected = (churned & (t_all == t)).sum() / risk[at_risk].sum()
        assert hazard.loc[t] == pytest.approx(expected, rel=1e-9)


def test_without_entry_equals_lifelines(demo_durations):
    dur = demo_durations["dealers"]
    res = fit_cox(dur, [s.GRADE, s.CHANNEL, s.IS_KEY_ACCOUNT], penalizer=0.0,
                  entry_col=None, confidence=0.9)
    x = _reference_design(dur)
    ref = CoxPHFitter(alpha=0.1).fit(x.assign(T=dur[DURATION_DAYS], E=dur[CHURNED]), "T", "E")
    sm = res.summary.set_index("covariate").loc[ref.summary.index]
    np.testing.assert_allclose(sm["hazard_ratio"], ref.summary["exp(coef)"], rtol=1e-6)
    np.testing.assert_allclose(sm["hr_lower"], ref.summary["exp(coef) lower 90%"], rtol=1e-6)
    lr = ref.log_likelihood_ratio_test()
    assert res.lr_statistic == pytest.approx(lr.test_statistic, rel=1e-6)
    assert res.lr_df == lr.degrees_freedom == len(ref.summary)
    assert res.concordance == pytest.approx(ref.concordance_index_, rel=1e-9)
    assert not res.sampled and res.covariates == (s.GRADE, s.CHANNEL, s.IS_KEY_ACCOUNT)
    # dealers: B and A grades churn less than the largest grade, C
    hr = res.summary.set_index("covariate")["hazard_ratio"]
    assert hr["grade=B"] < 1 and res.summary.set_index("covariate").loc["grade=B",
                                                                        "p_value"] < 1e-3


def test_design_pools_rare_and_unseen_levels(demo_durations):
    dur = demo_durations["telecom"]
    model = CoxModel(min_level_size=40, max_levels=6).fit(dur, covariates=[s.REGION, COHORT],
                                                          entry_col=ENTRY_DAYS)
    enc = model.encoding_[s.REGION]
    assert OTHER in enc.levels and len(enc.levels) == 5
    assert model.encoding_[COHORT].reference == "<2023-Q1"  # the stock is the largest cohort
    new = dur.head(3).assign(**{s.REGION: ["火星", None, enc.levels[0]]})
    x = model.design(new)
    assert list(x.columns) == model.design_columns_
    # an unseen city and a missing one (rare here) both count as the pooled level
    assert x.iloc[0][f"{s.REGION}={OTHER}"] == 1.0 and x.iloc[1][f"{s.REGION}={OTHER}"] == 1.0
    assert x.iloc[2][f"{s.REGION}={enc.levels[0]}"] == 1.0


def test_covariates_default_to_the_groupings(demo_durations):
    dur = demo_durations["dealers"]
    res = fit_cox(dur)
    # owner_id and region describe the same territories here; all known groupings are in
    assert set(res.covariates) == {s.GRADE, s.SEGMENT, s.REGION, s.CHANNEL,
                                   s.IS_KEY_ACCOUNT, s.OWNER_ID, COHORT}
    flat = dur.assign(**{s.CHANNEL: "x"})
    res = fit_cox(flat, [s.GRADE, s.CHANNEL])
    assert res.dropped == (s.CHANNEL,)


def test_numeric_covariates_and_sampling(demo_durations):
    dur = demo_durations["dealers"].copy()
    rng = np.random.default_rng(0)
    dur["score"] = rng.normal(size=len(dur))
    m1 = CoxModel(max_rows=600, random_state=1).fit(dur, covariates=["score", s.GRADE])
    m2 = CoxModel(max_rows=600, random_state=1).fit(dur, covariates=["score", s.GRADE])
    assert m1.n_ == 600 and m1.encoding_["score"].kind == "numeric"
    pd.testing.assert_frame_equal(m1.summary_, m2.summary_)  # same seed, same sample
    dur.loc[3, "score"] = np.nan
    with pytest.raises(InputError, match="'score' has 1 missing values"):
        CoxModel().fit(dur, covariates=["score"])


def test_zero_day_durations_with_entry(demo_durations):
    dur = demo_durations["telecom"].copy()
    # two contracts that started and ended the same day (entry 0, duration 0)
    new = dur[~dur["left_truncated"]].index[:2]
    dur.loc[new, DURATION_DAYS] = 0
    dur.loc[new, CHURNED] = True
    model = CoxModel().fit(dur, covariates=[s.GRADE], entry_col=ENTRY_DAYS)
    assert model.adjusted_ == 2


def test_convergence_warnings_and_failures():
    rng = np.random.default_rng(0)
    n = 60
    flag = np.arange(n) < 30
    df = pd.DataFrame({
        s.CUSTOMER_ID: range(n),
        DURATION_DAYS: np.where(flag, rng.integers(1, 50, n), rng.integers(100, 200, n)),
        CHURNED: flag,  # the flag separates churners completely
        "flag": flag,
        "x1": rng.normal(size=n),
    })
    with pytest.warns(ConvergenceWarning, match="did not fully converge.*raise the penalizer"):
        CoxModel(penalizer=0.0).fit(df, covariates=["flag"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(InputError, match="could not be fitted.*collinearity.*penalizer"):
            CoxModel(penalizer=0.0).fit(df.assign(x2=df["x1"]), covariates=["x1", "x2"])


def test_errors(demo_durations):
    dur = demo_durations["telecom"]
    with pytest.raises(NotFittedError, match="CoxModel is not fitted"):
        CoxModel().remaining_survival(dur)
    with pytest.raises(SchemaError, match="no column 'tier'"):
        CoxModel().fit(dur, covariates=["tier"])
    with pytest.raises(InputError, match="No covariate for the Cox model"):
        CoxModel().fit(dur.assign(one="x"), covariates=["one"])
    with pytest.raises(InputError, match="penalizer must not be negative"):
        CoxModel(penalizer=-1).fit(dur, covariates=[s.GRADE])
    with pytest.raises(InputError, match="at least 100"):
        CoxModel(max_rows=5).fit(dur, covariates=[s.GRADE])
    with pytest.raises(InputError, match="has churned"):
        CoxModel().fit(dur.assign(**{CHURNED: False}), covariates=[s.GRADE])


def test_remaining_survival_function(demo_durations):
    dur = demo_durations["dealers"]
    res = fit_cox(dur, [s.GRADE])
    rem = remaining_survival(dur, res.model, horizons=(90, 30))
    active = dur[~dur[CHURNED]]
    assert sorted(rem[s.CUSTOMER_ID]) == sorted(active[s.CUSTOMER_ID])
    assert rem["p_stay_30d"].is_monotonic_increasing  # riskiest first
    assert (rem["p_stay_90d"] <= rem["p_stay_30d"] + 1e-12).all()
    assert rem[["p_stay_30d", "p_stay_90d"]].stack().between(0, 1).all()
    # from Kaplan-Meier curves per grade instead (data without a Cox model)
    km = KaplanMeier().fit(dur, group_col=s.GRADE, entry_col=ENTRY_DAYS)
    rem_km = remaining_survival(dur, km, horizons=(30,), group_col=s.GRADE)
    assert len(rem_km) == len(active) and "relative_hazard" not in rem_km.columns
