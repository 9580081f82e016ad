"""The ChurnRiskModel contract, for every kind (style.md §9: one parametrized test set)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from churnradar.exceptions import InputError, NotFittedError, SchemaError
from churnradar.predict.model import ChurnRiskModel, load_model, save_model

KINDS = ["lightgbm", "logistic"]


def _data(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({
        "tenure": rng.integers(1, 72, n).astype(float),
        "complaints": rng.poisson(0.5, n).astype(float),
        "charges": rng.normal(60, 20, n),
        "plan": pd.Categorical(rng.choice(["basic", "plus", "pro"], n)),
    })
    x.loc[rng.random(n) < 0.05, "charges"] = np.nan
    logit = -1.5 - 0.04 * x.tenure + 0.8 * x.complaints + 0.5 * (x.plan == "basic")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    time = pd.Series(pd.to_datetime("2024-01-31") + pd.offsets.MonthEnd(0)
                     + pd.to_timedelta(rng.integers(0, 6, n) * 31, unit="D"))
    time = time + pd.offsets.MonthEnd(0)
    return x, y, time


@pytest.mark.parametrize("kind", KINDS)
def test_fit_returns_self_and_probabilities(kind):
    x, y, _ = _data()
    m = ChurnRiskModel(kind=kind, random_state=0)
    with pytest.raises(NotFittedError):
        m.predict_proba(x)
    assert m.fit(x, y) is m
    p = m.predict_proba(x)
    assert p.shape == (len(x), 2) and np.allclose(p.sum(axis=1), 1)
    assert ((p >= 0) & (p <= 1)).all()
    assert list(m.classes_) == [0, 1] and m.feature_names_ == list(x.columns)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, p[:, 1]) > 0.7
    # calibrated: the mean prediction is near the churn rate
    assert abs(p[:, 1].mean() - y.mean()) < 0.03


@pytest.mark.parametrize("kind", KINDS)
def test_reproducible_bit_for_bit(kind):
    x, y, t = _data()
    a = ChurnRiskModel(kind=kind, random_state=3).fit(x, y, time=t).predict_proba(x)
    b = ChurnRiskModel(kind=kind, random_state=3).fit(x, y, time=t).predict_proba(x)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", KINDS)
def test_columns_and_levels(kind):
    x, y, _ = _data()
    m = ChurnRiskModel(kind=kind).fit(x, y)
    with pytest.raises(SchemaError, match="charges"):
        m.predict_proba(x.drop(columns="charges"))
    other = x.copy()
    other["plan"] = pd.Categorical(["enterprise"] * len(x))  # never seen: missing
    other["extra"] = 1.0  # ignored
    assert np.isfinite(m.predict_proba(other)).all()


@pytest.mark.parametrize("bad", [[2] * 10, [1] * 10, ["a"] * 10])
def test_labels_are_checked(bad):
    x, _, _ = _data(10)
    with pytest.raises(InputError):
        ChurnRiskModel().fit(x, bad)


def test_time_mode_keeps_a_horizon_gap():
    x, y, t = _data(6000)
    m = ChurnRiskModel(horizon_days=62).fit(x, y, time=t)
    info = m.fit_info_
    assert info["mode"] == "time"
    latest = pd.Timestamp(info["latest_time"])
    assert pd.Timestamp(info["train_max_time"]) <= latest - pd.Timedelta(days=62)
    assert info["early_stopping_rows"] + info["calibration_rows"] == info["holdout_rows"]


@pytest.mark.parametrize("kind", KINDS)
def test_contributions_add_up(kind):
    x, y, _ = _data()
    m = ChurnRiskModel(kind=kind).fit(x, y)
    c = m.contributions(x)
    assert list(c.columns) == m.feature_names_
    np.testing.assert_allclose(c.sum(axis=1) + m.expected_value_, m.decision_function(x),
                               atol=1e-8)
    if kind == "lightgbm":
        raw = m.booster_.predict(m.encoder_.matrix(x), raw_score=True)
        np.testing.assert_allclose(c.sum(axis=1) + m.expected_value_, raw, atol=1e-8)
        # path attribution splits the same raw score around another baseline (the trees'
        # root values): the row sums differ from the exact ones by one constant
        path = m.contributions(x, method="path")
        diff = path.sum(axis=1).to_numpy() - c.sum(axis=1).to_numpy()
        assert np.ptp(diff) < 1e-8


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_round_trip_and_corruption(kind, tmp_path):
    x, y, _ = _data()
    m = ChurnRiskModel(kind=kind).fit(x, y)
    path = tmp_path / "m.joblib"
    save_model(m, path, metadata={"note": "测试"})
    loaded, meta = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(x), m.predict_proba(x))
    assert meta["note"] == "测试" and "lightgbm" in meta["versions"]
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(InputError, match="corrupt"):
        load_model(path)


def test_too_few_dates_fall_back_with_a_reason():
    x, y, _ = _data(2000)
    one_date = pd.Series(pd.to_datetime(["2024-06-30"] * len(x)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ChurnRiskModel(horizon_days=90).fit(x, y, time=one_date)
    assert m.fit_info_["mode"] == "snapshot" and m.fit_info_["fallback_reason"]
