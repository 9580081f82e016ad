"""The column-wise scorer gives LightGBM's own raw scores and leaf indices, bit for bit."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from churnradar.predict.forest import Unsupported, compile_forest


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, 8))
    Z[:, 2] = rng.integers(0, 4, n)             # few distinct values: ties at thresholds
    Z[:, 6] = rng.integers(0, 12, n)            # categorical
    Z[:, 7] = rng.integers(0, 300, n)           # categorical with many levels (16-bit codes)
    Z[rng.random(Z.shape) < 0.08] = np.nan      # missing everywhere
    Z[:, 1] = np.abs(Z[:, 1])                   # never missing in training: missing type None
    logit = (np.nan_to_num(Z[:, 0]) + (Z[:, 6] == 3) - (Z[:, 7] % 7 == 0)
             + 0.5 * np.nan_to_num(Z[:, 2]) * np.nan_to_num(Z[:, 1]))
    y = (logit + rng.logistic(size=n) > 0.5).astype(int)
    return Z, y


def _scoring_rows(Z: np.ndarray, seed: int) -> np.ndarray:
    """The training rows plus the awkward values scoring meets."""
    rng = np.random.default_rng(seed)
    X = Z.copy()
    X[rng.random(X.shape) < 0.05] = np.nan      # NaN also where training had none
    X[:50, 6] = -1                              # negative category
    X[50:100, 6] = 40                           # unseen category
    X[100:150, 7] = 5000                        # unseen, beyond any split
    X[150:200, 0] = np.inf
    X[200:250, 0] = -np.inf
    X[250:300, 6] = 2.7                         # truncated like LightGBM's int cast
    X[300:350, 1] = 0.0
    return X


@pytest.mark.parametrize("params", [
    {"max_depth": 3, "num_leaves": 8},
    {"max_depth": -1, "num_leaves": 31, "min_data_per_group": 5, "cat_smooth": 1},
    {"max_depth": 10, "num_leaves": 300, "min_child_samples": 2},
    {"max_depth": 2, "num_leaves": 4, "use_missing": False},
])
def test_raw_scores_and_leaves_match_lightgbm(params: dict) -> None:
    Z, y = _data(6000, 1)
    booster = lgb.train({"objective": "binary", "verbose": -1, "seed": 0, "num_threads": 1,
                         "learning_rate": 0.3, **params},
                        lgb.Dataset(Z, y, categorical_feature=[6, 7]), 40)
    forest = compile_forest(booster)
    X = _scoring_rows(Z, 2)
    for threads in (1, 2):
        np.testing.assert_array_equal(
            forest.raw_score(X, num_threads=threads),
            booster.predict(X, raw_score=True, num_threads=1))
        np.testing.assert_array_equal(
            forest.leaves(X, num_threads=threads),
            booster.predict(X, pred_leaf=True, num_threads=1))


def test_column_major_input_and_early_stopped_model() -> None:
    Z, y = _data(4000, 3)
    train = lgb.Dataset(Z[:3000], y[:3000], categorical_feature=[6, 7])
    valid = lgb.Dataset(Z[3000:], y[3000:], reference=train)
    booster = lgb.train({"objective": "binary", "verbose": -1, "learning_rate": 0.5},
                        train, 200, valid_sets=[valid],
                        callbacks=[lgb.early_stopping(3, verbose=False)])
    assert 0 < booster.best_iteration < 200
    X = np.asfortranarray(_scoring_rows(Z, 4))
    np.testing.assert_array_equal(compile_forest(booster).raw_score(X, 2),
                                  booster.predict(X, raw_score=True))


def test_constant_model_has_single_leaf_trees() -> None:
    Z = np.random.default_rng(0).normal(size=(200, 3))
    booster = lgb.train({"objective": "regression", "verbose": -1,
                         "min_data_in_leaf": 500}, lgb.Dataset(Z, np.ones(200)), 3)
    np.testing.assert_array_equal(compile_forest(booster).raw_score(Z),
                                  booster.predict(Z, raw_score=True))


def test_zero_as_missing_is_left_to_lightgbm() -> None:
    Z, y = _data(2000, 5)
    booster = lgb.train({"objective": "binary", "verbose": -1, "zero_as_missing": True},
                        lgb.Dataset(np.nan_to_num(Z[:, :6]), y), 5)
    with pytest.raises(Unsupported):
        compile_forest(booster)


def test_wrong_width_is_an_error() -> None:
    Z, y = _data(1000, 6)
    forest = compile_forest(lgb.train({"objective": "binary", "verbose": -1},
                                      lgb.Dataset(Z, y), 3))
    with pytest.raises(ValueError, match="8 columns"):
        forest.raw_score(Z[:, :5])
