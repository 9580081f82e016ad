"""BG/NBD against Fader, Hardie & Lee (2005) on CDNOW and against lifetimes; the input
checks shared by BG/NBD and Pareto/NBD."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnradar.exceptions import (
    ConvergenceWarning,
    InputError,
    ModelFitError,
    NotFittedError,
    SchemaError,
)
from churnradar.value import BGNBDModel, ParetoNBDModel
from churnradar.value.bgnbd import _Likelihood

from .conftest import calibration_summary, cdnow_file


def published(value: float, text: str) -> bool:
    """``value`` rounds to the published figure ``text`` (half a unit in its last digit)."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(value - float(text)) <= 0.5 * 10.0**-decimals + 1e-9


# --------------------------------------------------------------------------- the data


def test_calibration_summary_equals_lifetimes(cdnow_transactions, cdnow_summary):
    from lifetimes.utils import summary_data_from_transaction_data

    ref = summary_data_from_transaction_data(
        cdnow_transactions, "customer_id", "date", monetary_value_col="amount",
        observation_period_end="1997-09-30", freq="D", freq_multiplier=7)
    assert len(cdnow_summary) == 2357
    assert int((cdnow_summary["frequency"] > 0).sum()) == 946
    ours = cdnow_summary.loc[ref.index]
    for col in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(ours[col], ref[col], rtol=1e-12, atol=1e-12, err_msg=col)


def test_calibration_summary_matches_the_published_one(cdnow_summary):
    """lifetimes ships Fader & Hardie's summary (two decimals)."""
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

    pub = load_cdnow_summary_data_with_monetary_value()
    raw = pd.read_csv(cdnow_file("CDNOW_sample.txt"), sep=r"\s+", header=None, usecols=[0, 1],
                      names=["customer_id", "ID"], dtype={"customer_id": str})
    index = raw.drop_duplicates("customer_id").set_index("customer_id")["ID"]
    ours = cdnow_summary.set_index(index.loc[cdnow_summary.index].to_numpy()).loc[pub.index]
    for col in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(ours[col], pub[col].to_numpy(), atol=0.0051, err_msg=col)


# --------------------------------------------------------------------------- published


def test_reproduces_fader_hardie_lee_2005(bgnbd_cdnow):
    """Marketing Science 24(2), p. 280: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426,
    LL = -9582.4 on the CDNOW sample in weeks."""
    p = bgnbd_cdnow.params_
    assert published(p["r"], "0.243")
    assert published(p["alpha"], "4.414")
    assert published(p["a"], "0.793")
    assert published(p["b"], "2.426")
    assert published(bgnbd_cdnow.log_likelihood_, "-9582.4")
    assert bgnbd_cdnow.converged_
    assert bgnbd_cdnow.n_customers_ == 2357
    assert set(bgnbd_cdnow.standard_errors_) == {"r", "alpha", "a", "b"}


# --------------------------------------------------------------------------- vs lifetimes


def test_parameters_and_errors_equal_lifetimes(bgnbd_cdnow, lifetimes_bgnbd):
    ref = lifetimes_bgnbd.params_
    for name in ("r", "alpha", "a", "b"):
        assert bgnbd_cdnow.params_[name] == pytest.approx(ref[name], rel=1e-3)
        assert bgnbd_cdnow.standard_errors_[name] == pytest.approx(
            lifetimes_bgnbd.standard_errors_[name], rel=1e-3)


def test_predictions_equal_lifetimes(bgnbd_cdnow, lifetimes_bgnbd, cdnow_summary):
    s = cdnow_summary
    x, tx, age = s["frequency"], s["recency"], s["T"]
    for t in (0.5, 1.0, 10.0, 39.0, 78.0):
        ours = bgnbd_cdnow.expected_purchases(t, s)
        ref = lifetimes_bgnbd.conditional_expected_number_of_purchases_up_to_time(t, x, tx, age)
        np.testing.assert_allclose(ours, ref, rtol=1e-5)
    np.testing.assert_allclose(bgnbd_cdnow.p_alive(s),
                               lifetimes_bgnbd.conditional_probability_alive(x, tx, age),
                               atol=1e-6)
    times = np.array([1.0, 10.0, 39.0, 78.0])
    np.testing.assert_allclose(bgnbd_cdnow.expected_population_purchases(times),
                               lifetimes_bgnbd.expected_number_of_purchases_up_to_time(times),
                               rtol=1e-5)


def test_population_expectation_matches_the_paper(bgnbd_cdnow):
    """Equation (9) at t = 0 is 0 and its slope at 0 is the mean purchase rate r/alpha."""
    p = bgnbd_cdnow.params_
    assert bgnbd_cdnow.expected_population_purchases(0.0)[0] == 0.0
    slope = bgnbd_cdnow.expected_population_purchases(1e-6)[0] / 1e-6
    assert slope == pytest.approx(p["r"] / p["alpha"], rel=1e-4)


# --------------------------------------------------------------------------- properties


def test_gradient_equals_finite_differences(cdnow_summary):
    from scipy.optimize import approx_fprime

    s = cdnow_summary
    lik = _Likelihood(*(s[c].to_numpy() for c in ("frequency", "recency", "T")),
                      np.ones(len(s)))
    for params in ([0.243, 4.414, 0.793, 2.426], [1.0, 20.0, 1.0, 1.0], [0.1, 1.0, 3.0, 0.5]):
        theta = np.log(params)
        numeric = approx_fprime(theta, lambda th: lik(th)[0], 1e-7)
        np.testing.assert_allclose(lik(theta)[1], numeric, atol=1e-6)


def test_weights_equal_repeated_rows(cdnow_summary, bgnbd_cdnow):
    grouped = (cdnow_summary.groupby(["frequency", "recency", "T"]).size()
               .rename("weight").reset_index())
    assert len(grouped) < len(cdnow_summary)
    model = BGNBDModel().fit(grouped)
    assert model.n_customers_ == 2357
    for name, value in bgnbd_cdnow.params_.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-6)
    assert model.log_likelihood_ == pytest.approx(bgnbd_cdnow.log_likelihood_, rel=1e-9)


def test_time_unit_only_rescales_alpha(cdnow_transactions, bgnbd_cdnow):
    """In days instead of weeks: alpha x 7, the rest unchanged; the likelihood of the
    recency densities changes by sum(x) ln 7."""
    days = calibration_summary(cdnow_transactions, unit_days=1.0)
    model = BGNBDModel().fit(days)
    weeks = bgnbd_cdnow.params_
    assert model.params_["alpha"] == pytest.approx(7 * weeks["alpha"], rel=1e-5)
    for name in ("r", "a", "b"):
        assert model.params_[name] == pytest.approx(weeks[name], rel=1e-5)
    shift = days["frequency"].sum() * math.log(7.0)
    assert model.log_likelihood_ == pytest.approx(bgnbd_cdnow.log_likelihood_ - shift, rel=1e-7)


def test_recovers_simulated_parameters_on_a_large_base(simulate):
    """100,000 customers with continuous times (no identical rows): the subsample warm
    start and the full polish recover the parameters that generated the data."""
    truth = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
    data = simulate(100_000, **truth, seed=1)
    model = BGNBDModel().fit(data)
    assert model.converged_
    for name, value in truth.items():
        err = model.standard_errors_[name]
        assert abs(model.params_[name] - value) < 4 * err, (name, model.params_[name], err)


def test_penalizer_shrinks_the_parameters(cdnow_summary, bgnbd_cdnow):
    model = BGNBDModel(penalizer=0.1).fit(cdnow_summary)
    assert sum(v**2 for v in model.params_.values()) < \
        sum(v**2 for v in bgnbd_cdnow.params_.values())
    assert model.log_likelihood_ < bgnbd_cdnow.log_likelihood_


def test_customers_without_repeat_purchase_are_alive(bgnbd_cdnow):
    summary = pd.DataFrame({"frequency": [0.0, 0.0], "recency": [0.0, 0.0], "T": [5.0, 50.0]})
    np.testing.assert_array_equal(bgnbd_cdnow.p_alive(summary), [1.0, 1.0])


def test_time_per_customer_and_zero_horizon(bgnbd_cdnow, cdnow_summary):
    head = cdnow_summary.head(3)
    out = bgnbd_cdnow.expected_purchases(np.array([0.0, 1.0, 10.0]), head)
    assert out[0] == 0.0
    assert out[1] == pytest.approx(bgnbd_cdnow.expected_purchases(1.0, head)[1])
    assert out[2] == pytest.approx(bgnbd_cdnow.expected_purchases(10.0, head)[2])


@settings(max_examples=60, deadline=None)
@given(x=st.integers(0, 60), share=st.floats(0.0, 1.0), age=st.floats(0.1, 200.0),
       t1=st.floats(0.0, 100.0), dt=st.floats(0.0, 100.0))
def test_predictions_are_probabilities_and_grow_with_time(bgnbd_cdnow, x, share, age, t1, dt):
    recency = age * share if x > 0 else 0.0
    summary = pd.DataFrame({"frequency": [float(x)], "recency": [recency], "T": [age]})
    alive = bgnbd_cdnow.p_alive(summary)[0]
    assert 0.0 <= alive <= 1.0
    e1 = bgnbd_cdnow.expected_purchases(t1, summary)[0]
    e2 = bgnbd_cdnow.expected_purchases(t1 + dt, summary)[0]
    assert math.isfinite(e2)
    assert 0.0 <= e1 <= e2 * (1 + 1e-9) + 1e-12


# --------------------------------------------------------------------------- bad input
# shared by the two purchase models: same columns, same definitions, same errors

MODELS = [BGNBDModel, ParetoNBDModel]


def _table(**cols: list[float]) -> pd.DataFrame:
    base = {"frequency": [2.0, 0.0, 1.0], "recency": [10.0, 0.0, 3.0], "T": [20.0, 15.0, 30.0]}
    base.update(cols)
    return pd.DataFrame(base, index=pd.Index(["c1", "c2", "c3"], name="customer_id"))


@pytest.mark.parametrize("model", MODELS)
def test_missing_column(model):
    with pytest.raises(SchemaError, match=r"missing column\(s\) 'T'"):
        model().fit(_table().drop(columns="T"))


@pytest.mark.parametrize("model", MODELS)
def test_not_a_table(model):
    with pytest.raises(SchemaError, match="must be a pandas DataFrame"):
        model().fit({"frequency": [1]})


@pytest.mark.parametrize("model", MODELS)
def test_text_and_missing_values(model):
    with pytest.raises(SchemaError, match="column 'recency' of summary must be numeric"):
        model().fit(_table(recency=["10", "0", "3"]))
    with pytest.raises(SchemaError, match=r"column 'T' .* 1 missing .* index c2"):
        model().fit(_table(T=[20.0, np.nan, 30.0]))


@pytest.mark.parametrize("model", MODELS)
def test_recency_above_t(model):
    with pytest.raises(ModelFitError, match=r"1 row\(s\) with recency above T .* index c3"):
        model().fit(_table(recency=[10.0, 0.0, 31.0]))


@pytest.mark.parametrize("model", MODELS)
def test_negative_and_fractional_values(model):
    with pytest.raises(ModelFitError, match=r"column 'T' .* negative value\(s\) .* c2: -1"):
        model().fit(_table(T=[20.0, -1.0, 30.0]))
    with pytest.raises(ModelFitError, match="whole number of repeat purchases"):
        model().fit(_table(frequency=[2.5, 0.0, 1.0]))
    with pytest.raises(ModelFitError, match="frequency 0 but recency above 0"):
        model().fit(_table(recency=[10.0, 2.0, 3.0]))
    with pytest.raises(ModelFitError, match="column 'weight' .* negative"):
        model().fit(_table(weight=[1.0, -2.0, 1.0]))


@pytest.mark.parametrize("model", MODELS)
def test_no_repeat_buyers_and_empty_table(model):
    nobody = _table(frequency=[0.0, 0.0, 0.0], recency=[0.0, 0.0, 0.0])
    with pytest.raises(ModelFitError, match="none of the 3 customers made a repeat purchase"):
        model().fit(nobody)
    with pytest.raises(ModelFitError, match="no customers to fit"):
        model().fit(_table().iloc[:0])
    with pytest.raises(ModelFitError, match="no customers to fit"):
        model().fit(_table(weight=[0.0, 0.0, 0.0]))


@pytest.mark.parametrize("model", MODELS)
def test_errors_speak_chinese(model):
    with pytest.raises(ModelFitError) as info:
        model().fit(_table(frequency=[0.0, 0.0, 0.0], recency=[0.0, 0.0, 0.0]))
    assert "没有任何人重复购买" in info.value.localized("zh-CN")


@pytest.mark.parametrize("model", MODELS)
def test_unfitted_and_bad_arguments(model, cdnow_summary):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model().p_alive(_table())
    with pytest.raises(InputError, match="penalizer must be >= 0"):
        model(penalizer=-1.0).fit(_table())
    fitted = model().fit(cdnow_summary)
    with pytest.raises(InputError, match="t must be >= 0"):
        fitted.expected_purchases(-1.0, _table())
    with pytest.raises(InputError, match="recency above T"):
        fitted.p_alive(_table(recency=[10.0, 0.0, 31.0]))


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize("params", [
    {"r": 2.0, "alpha": 0.5, "a": 3.0, "b": 0.2},        # r - a whole: SciPy's 2F1 is NaN
    {"r": 5.0, "alpha": 1.0, "a": 1.0 + 1e-9, "b": 1.0},  # a = 1: 0/0 in the closed form
    {"r": 0.1, "alpha": 100.0, "a": 0.05, "b": 50.0},
])
def test_predictions_stay_finite_far_ahead(params):
    from churnradar.value.bgnbd import _future, _future_by_quadrature

    rng = np.random.default_rng(0)
    n = 300
    x = rng.integers(0, 300, n).astype(float)
    age = rng.uniform(0.5, 100, n)
    summary = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, age * rng.random(n), 0),
                            "T": age})
    model = BGNBDModel()
    model.params_ = params
    previous = np.zeros(n)
    for t in (1.0, 52.0, 520.0, 1e4):
        out = model.expected_purchases(t, summary)
        assert np.all(np.isfinite(out)) and np.all(out >= previous - 1e-9)
        previous = out
    # the fallback agrees with direct integration
    r, a, b = params["r"], params["a"], params["b"]
    tau = np.array([0.5, 30.0, 2000.0])
    xs = np.array([0.0, 7.0, 150.0])
    expected = [_future_by_quadrature(r + xi, a, b + xi, ti) for xi, ti in zip(xs, tau,
                                                                               strict=True)]
    np.testing.assert_allclose(_future(r, a, b, xs, tau), expected, rtol=1e-8)


@pytest.mark.filterwarnings("ignore:.*the Hessian at the optimum:UserWarning")
@pytest.mark.parametrize("model", MODELS)
def test_a_runaway_fit_stops_at_the_edge_and_says_so(model):
    """Three customers cannot pin four parameters down: the likelihood keeps rising
    towards a homogeneous rate. The fit stops at the edge of its search region (10,000
    times the start) with converged_ False and a warning, never NaN parameters."""
    with pytest.warns(ConvergenceWarning, match="reached the edge of the search region"):
        fitted = model().fit(_table())
    assert fitted.converged_ is False
    assert all(math.isfinite(v) for v in fitted.params_.values())
    assert np.all(np.isfinite(fitted.expected_purchases(10.0, _table())))
    # a penalizer makes the same data fit
    assert model(penalizer=0.01).fit(_table()).converged_


def test_newton_polish_equals_plain_bfgs(simulate, monkeypatch):
    """Above the warm-start size the fit polishes the subsample's optimum with Newton
    steps; the optimum is the one BFGS on the full likelihood finds."""
    import churnradar.value.bgnbd as bgnbd

    data = simulate(80_000, r=0.5, alpha=5.0, a=0.8, b=2.5, seed=3)
    polished = BGNBDModel().fit(data)
    monkeypatch.setattr(bgnbd, "_WARM_START_ROWS", 10**9)
    plain = BGNBDModel().fit(data)
    assert polished.converged_ and plain.converged_
    for name in ("r", "alpha", "a", "b"):
        assert polished.params_[name] == pytest.approx(plain.params_[name], rel=1e-5)
        assert polished.standard_errors_[name] == pytest.approx(
            plain.standard_errors_[name], rel=1e-3)
    assert polished.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-10)
