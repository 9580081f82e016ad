"""Path attribution: exact additivity, and it ranks drivers like TreeSHAP does."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from churnradar.predict.attribution import path_contributions, path_table


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    n = 20_000
    x = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"f{i}" for i in range(8)])
    x["plan"] = pd.Categorical(rng.choice(["a", "b", "c", "d"], n))
    x.loc[rng.random(n) < 0.1, "f3"] = np.nan
    logit = 1.5 * x.f0 - 1.0 * x.f1 + 0.8 * (x.plan == "a") + 0.5 * x.f3.fillna(2.0) - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 15,
                         "seed": 0, "deterministic": True, "num_threads": 1},
                        lgb.Dataset(x, y), 100)
    return booster, x


def test_contributions_add_up_to_the_raw_score(fitted):
    booster, x = fitted
    c = path_contributions(booster, x, chunk=3_000)  # several chunks
    assert c.shape == (len(x), x.shape[1] + 1)
    np.testing.assert_allclose(c.sum(axis=1), booster.predict(x, raw_score=True),
                               rtol=0, atol=1e-10)
    # the bias column is one number: the sum of the trees' root values
    assert np.ptp(c[:, -1]) == 0


def test_irrelevant_features_get_nothing_when_never_split_on(fitted):
    booster, x = fitted
    table = path_table(booster)
    used = set(np.flatnonzero(booster.feature_importance("split")))
    nonzero = set(np.flatnonzero(np.abs(table.matrix).sum(axis=0).A1 > 0))
    assert nonzero <= used


def test_top_driver_mostly_agrees_with_treeshap(fitted):
    booster, x = fitted
    sample = x.iloc[:2_000]
    fast = path_contributions(booster, sample)[:, :-1]
    exact = booster.predict(sample, pred_contrib=True)[:, :-1]
    agree = (fast.argmax(axis=1) == exact.argmax(axis=1)).mean()
    assert agree > 0.8
    # and the global picture is the same: mean |contribution| ranks f0 first
    assert np.abs(fast).mean(axis=0).argmax() == np.abs(exact).mean(axis=0).argmax() == 0
