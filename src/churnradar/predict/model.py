"""The churn risk model: gradient-boosted trees (LightGBM) or a logistic regression,
calibrated on rows it was not fitted on, with per-customer contributions.

:class:`ChurnRiskModel` follows the scikit-learn estimator contract: ``__init__`` stores
its keyword arguments, :meth:`~ChurnRiskModel.fit` validates, learns and returns ``self``,
fitted attributes end in ``_``.

Why these defaults
------------------
The default (``kind="lightgbm"``) is LightGBM with **shallow trees whose depth is chosen
by validation**, the way early stopping chooses the number of rounds: depth 1 (an additive
model, like a GAM), then 2, 3, ... for as long as the validation log-loss improves. Churn
tables are small and mostly additive (contract, tenure, charges); deep trees chase noise
there, while behavioural tables with strong interactions get deeper trees because the
validation rows ask for them. The learning rate (0.05), ``min_child_samples`` (20), L2
penalty (1), row and column subsampling (0.8) are conventional values that were checked
on the public telco table *and* on a synthetic churn table with interactions
(``benchmarks/telco.py``, BENCHMARKS.md): on telco the default reaches a mean 5-fold
ROC-AUC of about 0.851, above logistic regression (0.844), CatBoost (0.847), LightGBM's
own defaults (0.834), XGBoost (0.822) and scikit-learn's HistGradientBoosting (0.832).
Shallow trees also score fast: scoring evaluates them column-wise over all customers
(:mod:`churnradar.predict.forest`, about 3x LightGBM's own row-by-row predictor).

Two ways to fit
---------------
*Time mode* (``fit(X, y, time=...)``, stacked observation dates): the rows of the latest
date are held out; the model is trained on rows observed at least ``horizon_days``
earlier (so no training label window overlaps the held-out one); the held-out rows are
split, stratified, into an early-stopping half (rounds and depth) and a calibration half.
With too few rows or dates the model falls back to snapshot mode and says why (a log
record, a ``UserWarning`` and ``fit_info_["fallback_reason"]``).

*Snapshot mode* (no ``time``, e.g. one table of customers): ``cv_folds``-fold stratified
cross-validation inside ``fit`` chooses the depth and the number of rounds and gives an
out-of-fold score for every row (cross-fitting); the calibrator is fitted on those
out-of-fold scores and the final model on all rows.

Calibration
-----------
``"auto"`` uses isotonic regression when the calibration rows are many (at least 1,000
rows and 100 churners), else Platt's sigmoid. Isotonic regression is a step function:
customers of one step would tie and the ranking (ROC-AUC, lift) would lose a little. The
isotonic calibrator therefore adds ``1e-6`` times the model's own sigmoid
(``p = (1 - 1e-6) * isotonic(s) + 1e-6 * sigmoid(s)``): strictly increasing, so the
calibrated probabilities rank customers exactly as the model does, and never more than
``1e-6`` from the isotonic fit.

Contributions
-------------
:meth:`ChurnRiskModel.contributions` splits each customer's (uncalibrated) log-odds into
one term per input column plus :attr:`expected_value_`: TreeSHAP values for LightGBM [1]_
(``Booster.predict(pred_contrib=True)``), ``coef * standardised value`` for the logistic
regression, summed over the one-hot and missing-indicator columns of each input column.

References
----------
.. [1] Lundberg, S. M., Erion, G. et al. (2020). From local explanations to global
   understanding with explainable AI for trees. Nature Machine Intelligence 2, 56-67.
.. [2] Platt, J. (1999). Probabilistic outputs for support vector machines and
   comparisons to regularized likelihood methods. Advances in Large Margin Classifiers.
.. [3] Zadrozny, B. & Elkan, C. (2002). Transforming classifier scores into accurate
   multiclass probability estimates. KDD 2002.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from churnradar.exceptions import (
    ConvergenceWarning,
    InputError,
    NotFittedError,
    SchemaError,
    WorkspaceError,
)

log = logging.getLogger(__name__)

Kind = Literal["lightgbm", "logistic"]
Calibration = Literal["auto", "isotonic", "sigmoid", "none"]
KINDS: tuple[str, ...] = get_args(Kind)
CALIBRATIONS: tuple[str, ...] = get_args(Calibration)

FloatArray = npt.NDArray[np.float64]

#: LightGBM parameters of the default model (``params`` overrides any of them)
LIGHTGBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "min_child_samples": 20,
    "lambda_l2": 1.0,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "max_bin": 255,
    "cat_smooth": 10.0,
    "metric": "binary_logloss",
}
#: tree depths tried in turn (deeper only while the validation loss improves)
DEPTHS: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
#: the most boosting rounds, and the patience of early stopping
MAX_ROUNDS = 3000
EARLY_STOPPING_ROUNDS = 100
#: inverse L2 strengths tried for the logistic regression
LOGISTIC_CS: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)
#: the logistic regression one-hot encodes at most this many levels per column
#: (the most frequent); rarer levels share one "other" column
MAX_ONEHOT_LEVELS = 100
#: folds of the internal cross-validation in snapshot mode
CV_FOLDS = 5
#: isotonic calibration needs at least these many calibration rows and churners
ISOTONIC_MIN_ROWS = 1000
ISOTONIC_MIN_POSITIVES = 100
#: weight of the model's own sigmoid in the isotonic calibrator (breaks its ties)
ISOTONIC_TIE_BREAK = 1e-6
#: time mode needs this much in the held-out slice (per half) and in the training rows
MIN_HOLDOUT_ROWS = 200
MIN_HOLDOUT_CLASS = 10
MIN_TRAIN_ROWS = 200
#: rows encoded and scored at a time (bounds the memory of scoring millions of rows)
CHUNK_ROWS = 200_000

_MODEL_FORMAT = 1


# --------------------------------------------------------------------------- helpers


def _threads(n_jobs: int) -> int:
    if n_jobs > 0:
        return n_jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _seed(random_state: int | None) -> int:
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**31 - 1))
    return int(random_state) % (2**31 - 1)


def _sigmoid(z: FloatArray) -> FloatArray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


def _chunks(n: int, size: int = CHUNK_ROWS) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def _log_loss(y: FloatArray, raw: FloatArray) -> float:
    # log(1 + exp(-z)) for churners, log(1 + exp(z)) for the others
    z = np.where(y > 0.5, -raw, raw)
    return float(np.mean(np.logaddexp(0.0, z)))


def _stratified_folds(y: npt.NDArray[np.int8], k: int, seed: int,
                      ) -> list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]:
    from sklearn.model_selection import StratifiedKFold

    k = max(2, min(k, int(np.bincount(y, minlength=2).min())))
    split = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(split.split(np.zeros(len(y)), y))


def _is_categorical(s: pd.Series) -> bool:
    dt = s.dtype
    return (isinstance(dt, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dt)
            or pd.api.types.is_object_dtype(dt) or pd.api.types.is_string_dtype(dt))


def _check_frame(X: Any, where: str) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise InputError(f"{where}: X must be a pandas DataFrame (one column per feature), "
                         f"got {type(X).__name__}")
    return X


def _labels(y: Any, n: int) -> npt.NDArray[np.int8]:
    s = pd.Series(np.asarray(y).ravel() if not isinstance(y, pd.Series) else y.to_numpy())
    if len(s) != n:
        raise InputError(f"y has {len(s)} values but X has {n} rows")
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype(np.int8)
    num = pd.to_numeric(s, errors="coerce")
    bad = ~num.isin([0, 1])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"y must hold only 0 (stayed) and 1 (churned); row {i} holds "
                         f"{s.iloc[i]!r}. Suggestion: map the label to 0/1 first")
    out = num.to_numpy(dtype=np.int8)
    positives = int(out.sum())
    if positives in (0, n):
        which = "no churner (1)" if positives == 0 else "only churners (1)"
        raise InputError(f"y holds {which} among {n} rows; a churn model needs both classes")
    return out


# --------------------------------------------------------------------------- encoding


@dataclass
class _Encoder:
    """Numeric columns as float64, categorical columns as integer codes of the levels
    seen in training (NaN = missing or unseen)."""

    columns: list[str]
    categorical: list[str]
    levels: dict[str, list[str]]

    @classmethod
    def fit(cls, X: pd.DataFrame) -> _Encoder:
        if X.shape[1] == 0:
            raise InputError("X has no columns: a churn model needs at least one feature")
        if X.columns.has_duplicates:
            dup = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
            raise SchemaError(f"X has duplicate columns: {', '.join(dup)}")
        columns = [str(c) for c in X.columns]
        categorical, levels = [], {}
        for name, col in zip(columns, X.columns, strict=True):
            s = X[col]
            if pd.api.types.is_datetime64_any_dtype(s.dtype) or pd.api.types.is_timedelta64_dtype(
                    s.dtype) or pd.api.types.is_complex_dtype(s.dtype):
                raise SchemaError(f"column {name!r} has type {s.dtype}, which is not a feature "
                                  "type. Suggestion: turn dates into numbers (e.g. days since)")
            if _is_categorical(s):
                categorical.append(name)
                levels[name] = sorted(str(v) for v in pd.unique(_as_text(s).dropna()))
        return cls(columns, categorical, levels)

    def check(self, X: pd.DataFrame) -> None:
        _check_frame(X, "predict")
        have = {str(c) for c in X.columns}
        missing = [c for c in self.columns if c not in have]
        if missing:
            raise SchemaError(
                f"X lacks {len(missing)} feature column(s) the model was fitted on: "
                f"{', '.join(repr(c) for c in missing[:20])}"
                f"{' ...' if len(missing) > 20 else ''}. Suggestion: build the same features "
                "as for training, or retrain")

    def _column(self, X: pd.DataFrame, name: str) -> pd.Series:
        if name in X.columns:
            return X[name]
        return X[[c for c in X.columns if str(c) == name][0]]

    def codes(self, s: pd.Series, name: str) -> FloatArray:
        levels = pd.Index(self.levels[name])
        if isinstance(s.dtype, pd.CategoricalDtype):
            # map the (few) categories, then gather by the codes: fast for millions of rows
            cat_map = levels.get_indexer(pd.Index(s.cat.categories.astype(str)))
            raw = s.cat.codes.to_numpy()
            idx = np.where(raw >= 0, cat_map[np.maximum(raw, 0)], -1)
        else:
            idx = levels.get_indexer(_as_text(s))
        out = idx.astype(np.float64)
        out[idx < 0] = np.nan
        return out

    def numeric(self, s: pd.Series, name: str) -> FloatArray:
        if _is_categorical(s):
            raise SchemaError(f"column {name!r} was numeric when the model was fitted but "
                              f"holds {s.dtype} values now. Suggestion: convert it to numbers")
        out = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        out[~np.isfinite(out)] = np.nan
        return out

    def matrix(self, X: pd.DataFrame) -> FloatArray:
        """The rows of X as a float64 matrix in the order of ``columns``.

        Column-major: each column is written contiguously (3x faster than strided writes
        into a row-major matrix), and LightGBM reads column-major input without a copy."""
        out = np.empty((len(X), len(self.columns)), dtype=np.float64, order="F")
        cats = set(self.categorical)
        for j, name in enumerate(self.columns):
            s = self._column(X, name)
            out[:, j] = self.codes(s, name) if name in cats else self.numeric(s, name)
        return out


def _as_text(s: pd.Series) -> pd.Series:
    out = s.astype("string")
    return out


# --------------------------------------------------------------------------- calibration


@dataclass
class Calibrator:
    """Maps a model's raw log-odds to calibrated churn probabilities.

    ``method`` is ``"isotonic"`` (Zadrozny & Elkan 2002, with a ``1e-6`` sigmoid tie
    breaker, see the module docstring), ``"sigmoid"`` (Platt 1999) or ``"none"``.
    """

    method: str
    slope: float = 1.0
    intercept: float = 0.0
    x: FloatArray = field(default_factory=lambda: np.zeros(0))
    y: FloatArray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def fit(cls, method: str, raw: FloatArray, y: npt.NDArray[np.int8]) -> Calibrator:
        if method == "none":
            return cls("none")
        if method == "sigmoid":
            from sklearn.linear_model import LogisticRegression

            lr = LogisticRegression(C=1e6, max_iter=1000)
            lr.fit(raw.reshape(-1, 1), y)
            return cls("sigmoid", slope=float(lr.coef_[0, 0]),
                       intercept=float(lr.intercept_[0]))
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        iso.fit(raw, y.astype(np.float64))
        return cls("isotonic", x=np.asarray(iso.X_thresholds_, np.float64),
                   y=np.asarray(iso.y_thresholds_, np.float64))

    def transform(self, raw: FloatArray) -> FloatArray:
        if self.method == "none":
            return _sigmoid(raw)
        if self.method == "sigmoid":
            return _sigmoid(self.slope * raw + self.intercept)
        p = np.interp(raw, self.x, self.y)
        eps = ISOTONIC_TIE_BREAK
        return np.clip((1.0 - eps) * p + eps * _sigmoid(raw), 0.0, 1.0)


def _calibration_method(choice: str, rows: int, positives: int) -> str:
    if choice != "auto":
        return choice
    if rows >= ISOTONIC_MIN_ROWS and positives >= ISOTONIC_MIN_POSITIVES:
        return "isotonic"
    return "sigmoid"


# --------------------------------------------------------------------------- LightGBM


def _lgb_params(extra: dict[str, Any], depth: int | None, seed: int,
                threads: int) -> dict[str, Any]:
    params = {**LIGHTGBM_PARAMS, "verbose": -1, "deterministic": True, "seed": seed,
              "num_threads": threads, "force_col_wise": True}
    if depth is not None:
        params.update(max_depth=depth, num_leaves=max(2, min(2**depth, 63)))
    params.update(extra)
    return params


def _lgb_dataset(Z: FloatArray, y: npt.NDArray[np.int8], names: list[str],
                 cat_idx: list[int], params: dict[str, Any], reference: Any = None) -> Any:
    import lightgbm as lgb

    return lgb.Dataset(Z, label=y, feature_name=names, categorical_feature=cat_idx,
                       free_raw_data=False, reference=reference,
                       params={k: params[k] for k in ("max_bin", "verbose", "seed")
                               if k in params})


def _rounds(extra: dict[str, Any]) -> int:
    for key in ("num_iterations", "num_boost_round", "n_estimators", "num_rounds"):
        if key in extra:
            return int(extra.pop(key))
    return MAX_ROUNDS


def _depths(extra: dict[str, Any]) -> Sequence[int | None]:
    if "max_depth" in extra or "num_leaves" in extra:
        return (None,)  # the caller fixed the tree size
    return DEPTHS


@dataclass
class _LgbSearch:
    depth: int | None
    rounds: int
    loss: float
    oof: FloatArray | None = None
    booster: Any = None


def _lgb_cv(Z: FloatArray, y: npt.NDArray[np.int8], names: list[str], cat_idx: list[int],
            extra: dict[str, Any], seed: int, threads: int, folds: int,
            ) -> tuple[_LgbSearch, list[dict[str, Any]]]:
    """Depth and rounds by stratified K-fold CV; out-of-fold raw scores of the best."""
    import lightgbm as lgb

    extra = dict(extra)
    max_rounds = _rounds(extra)
    splits = _stratified_folds(y, folds, seed)
    best: _LgbSearch | None = None
    tried: list[dict[str, Any]] = []
    for depth in _depths(extra):
        params = _lgb_params(extra, depth, seed, threads)
        data = _lgb_dataset(Z, y, names, cat_idx, params)
        res = lgb.cv(params, data, num_boost_round=max_rounds, folds=splits, stratified=False,
                     return_cvbooster=True,
                     callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)])
        key = next(k for k in res if k.startswith("valid ") and k.endswith("-mean"))
        curve = np.asarray(res[key], np.float64)
        rounds = int(len(curve))
        loss = float(curve[-1])
        tried.append({"depth": depth, "rounds": rounds, "cv_loss": loss})
        if best is not None and loss >= best.loss:
            break  # deeper trees stopped helping
        oof = np.zeros(len(y))
        boosters = res["cvbooster"].boosters  # type: ignore[union-attr]
        for (_, valid), booster in zip(splits, boosters, strict=True):
            oof[valid] = booster.predict(Z[valid], raw_score=True, num_iteration=rounds,
                                         num_threads=threads)
        best = _LgbSearch(depth, rounds, loss, oof=oof)
    assert best is not None
    return best, tried


#: time mode: the depth search starts here and climbs up or down while the loss improves
START_DEPTH = 3
#: time mode on many rows: a larger learning rate, fewer rounds. Measured on the telecom
#: demo (20,000 subscribers, 156k stacked rows): with this and the climbing search the fit
#: took 8 s instead of 238 s (0.05 and every depth from 1), backtest ROC-AUC 0.9620 vs 0.9628
LARGE_ROWS = 50_000
LARGE_LEARNING_RATE = 0.1
#: very many rows (stacked dates of a large customer base): larger steps again and at most
#: this many trees, so that scoring a million customers stays a second or two (each tree
#: costs scoring time; 800 depth-3 trees scored ~100,000 rows/s on two cores)
HUGE_ROWS = 500_000
HUGE_LEARNING_RATE = 0.25
HUGE_MAX_ROUNDS = 200


def _lgb_holdout(Z: FloatArray, y: npt.NDArray[np.int8], Zv: FloatArray,
                 yv: npt.NDArray[np.int8], names: list[str], cat_idx: list[int],
                 extra: dict[str, Any], seed: int, threads: int,
                 ) -> tuple[_LgbSearch, list[dict[str, Any]]]:
    """Depth and rounds by early stopping on a held-out set.

    Stacked observation dates are large: instead of trying every depth from 1, the
    search starts at :data:`START_DEPTH` and moves one step at a time towards the
    lower held-out loss (usually three fits instead of four to six).
    """
    import lightgbm as lgb

    extra = dict(extra)
    if "learning_rate" not in extra:
        if len(y) >= HUGE_ROWS:
            extra["learning_rate"] = HUGE_LEARNING_RATE
        elif len(y) >= LARGE_ROWS:
            extra["learning_rate"] = LARGE_LEARNING_RATE
    max_rounds = _rounds(extra)
    if len(y) >= HUGE_ROWS:
        max_rounds = min(max_rounds, HUGE_MAX_ROUNDS)
    tried: list[dict[str, Any]] = []
    cache: dict[int | None, _LgbSearch] = {}

    def fit(depth: int | None) -> _LgbSearch:
        if depth in cache:
            return cache[depth]
        params = _lgb_params(extra, depth, seed, threads)
        train = _lgb_dataset(Z, y, names, cat_idx, params)
        valid = _lgb_dataset(Zv, yv, names, cat_idx, params, reference=train)
        booster = lgb.train(params, train, num_boost_round=max_rounds, valid_sets=[valid],
                            valid_names=["holdout"],
                            callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)])
        rounds = int(booster.best_iteration or booster.current_iteration())
        loss = _log_loss(yv.astype(np.float64),
                         np.asarray(booster.predict(Zv, raw_score=True, num_iteration=rounds,
                                                    num_threads=threads), np.float64))
        tried.append({"depth": depth, "rounds": rounds, "holdout_loss": loss,
                      "learning_rate": params["learning_rate"]})
        cache[depth] = _LgbSearch(depth, rounds, loss, booster=booster)
        return cache[depth]

    depths = _depths(extra)
    if depths == (None,):
        return fit(None), tried
    lo, hi = min(d for d in depths if d is not None), max(d for d in depths if d is not None)
    best = fit(START_DEPTH)
    for step in (1, -1):  # climb up first; down only if one step up did not help
        depth = START_DEPTH
        while lo <= depth + step <= hi:
            cand = fit(depth + step)
            if cand.loss >= best.loss:
                break
            best, depth = cand, depth + step
        if best.depth != START_DEPTH:
            break
    return best, tried


def _compact(booster: Any, rounds: int) -> Any:
    """The booster cut to its first ``rounds`` trees (smaller to save, faster to score)."""
    import lightgbm as lgb

    return lgb.Booster(model_str=booster.model_to_string(num_iteration=rounds))


# --------------------------------------------------------------------------- logistic


@dataclass
class _LinearDesign:
    """One-hot + median-imputed numerics with missing indicators, standardised."""

    n_inputs: int
    numeric_idx: list[int]
    medians: FloatArray
    indicator_idx: list[int]
    onehot: list[tuple[int, FloatArray]]  # (input column, its codes with a column)
    source: npt.NDArray[np.intp]  # input column of each design column
    mean: FloatArray
    scale: FloatArray

    @classmethod
    def fit(cls, Z: FloatArray, categorical: list[bool]) -> _LinearDesign:
        n_inputs = Z.shape[1]
        numeric_idx = [j for j in range(n_inputs) if not categorical[j]]
        medians = np.zeros(len(numeric_idx))
        indicator_idx: list[int] = []
        for i, j in enumerate(numeric_idx):
            col = Z[:, j]
            finite = ~np.isnan(col)
            medians[i] = float(np.median(col[finite])) if finite.any() else 0.0
            if not finite.all():
                indicator_idx.append(j)
        onehot: list[tuple[int, FloatArray]] = []
        for j in range(n_inputs):
            if not categorical[j]:
                continue
            col = Z[:, j]
            codes, counts = np.unique(np.where(np.isnan(col), -1.0, col), return_counts=True)
            # the most frequent levels get a column each; missing (-1) is a level too
            keep = codes[np.argsort(-counts, kind="stable")[:MAX_ONEHOT_LEVELS]]
            onehot.append((j, np.sort(keep)))
        source = np.asarray(numeric_idx + indicator_idx
                            + [j for j, keep in onehot for _ in range(len(keep) + 1)], np.intp)
        design = cls(n_inputs, numeric_idx, medians, indicator_idx, onehot, source,
                     np.zeros(len(source)), np.ones(len(source)))
        raw = design._raw(Z)
        design.mean = raw.mean(axis=0)
        sd = raw.std(axis=0)
        design.scale = np.where(sd > 0, sd, 1.0)
        return design

    def _raw(self, Z: FloatArray) -> FloatArray:
        n = Z.shape[0]
        out = np.zeros((n, len(self.source)), np.float64)
        k = 0
        for i, j in enumerate(self.numeric_idx):
            col = Z[:, j]
            out[:, k] = np.where(np.isnan(col), self.medians[i], col)
            k += 1
        for j in self.indicator_idx:
            out[:, k] = np.isnan(Z[:, j])
            k += 1
        for j, keep in self.onehot:
            col = np.where(np.isnan(Z[:, j]), -1.0, Z[:, j])
            pos = np.searchsorted(keep, col)
            pos_c = np.minimum(pos, len(keep) - 1)
            hit = keep[pos_c] == col
            # rare levels share the last ("other") column; unseen levels are missing
            # (-1), which has its own column only when training had missing values
            rows = np.arange(n)
            out[rows[hit], k + pos_c[hit]] = 1.0
            other = ~hit & (col >= 0)
            out[other, k + len(keep)] = 1.0
            k += len(keep) + 1
        return out

    def transform(self, Z: FloatArray) -> FloatArray:
        return (self._raw(Z) - self.mean) / self.scale


def _fit_logistic(D: FloatArray, y: npt.NDArray[np.int8], C: float, seed: int) -> Any:
    from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=C, max_iter=2000, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SkConvergenceWarning)
        lr.fit(D, y)
    if any(issubclass(w.category, SkConvergenceWarning) for w in caught):
        warnings.warn(f"the logistic regression (C={C}) did not converge in 2000 "
                      "iterations; its coefficients are approximate", ConvergenceWarning,
                      stacklevel=3)
    return lr


# --------------------------------------------------------------------------- the model


class ChurnRiskModel:
    """Calibrated probability that a customer churns within the horizon.

    Parameters
    ----------
    kind : {"lightgbm", "logistic"}, default "lightgbm"
        Gradient-boosted trees with validated depth (the default, see the module
        docstring for why) or a regularised logistic regression (one-hot encoding,
        median imputation with missing indicators, standardisation; ``C`` chosen on
        validation rows from :data:`LOGISTIC_CS`).
    calibration : {"auto", "isotonic", "sigmoid", "none"}, default "auto"
        How raw scores become probabilities; ``"auto"`` is isotonic when the calibration
        rows hold at least 1,000 rows and 100 churners, else sigmoid (Platt).
    horizon_days : int or None, default None
        The label window in days (time mode): training rows are those observed at least
        this long before the latest observation date. ``None``: every earlier date.
    random_state : int or None, default 0
        Seed of the folds, splits and LightGBM; the same data and seed give the same
        probabilities bit for bit (with the same ``n_jobs``).
    params : dict or None, default None
        Overrides: LightGBM parameters for ``kind="lightgbm"`` (fixing ``max_depth`` or
        ``num_leaves`` turns off the depth search, ``num_iterations`` caps the rounds),
        ``{"C": ...}`` for ``kind="logistic"``; ``{"cv_folds": k}`` for either.
    n_jobs : int, default 0
        Threads; 0 = every core this process may use.

    Attributes
    ----------
    feature_names_ : list of str
        The input columns, in order.
    categorical_features_ : list of str
        The columns treated as categorical (object, string, category or bool).
    categories_ : dict of str to list of str
        The levels of each categorical column seen in training; other levels are
        treated as missing when scoring.
    n_iter_ : int
        Boosting rounds (LightGBM) or solver iterations (logistic).
    booster_ : lightgbm.Booster
        The trees (``kind="lightgbm"``).
    depth_ : int or None
        The tree depth chosen (``None`` when fixed by ``params``).
    coef_, intercept_ : ndarray, float
        The logistic regression on the standardised design (``kind="logistic"``).
    calibrator_ : Calibrator
        Raw log-odds to probability.
    expected_value_ : float
        The log-odds of an average customer: contributions of a row plus this value
        equal the row's raw log-odds.
    classes_ : ndarray
        ``array([0, 1])``.
    fit_info_ : dict
        Rows, positives, the split mode (``"time"`` or ``"snapshot"``), the sizes of the
        training, early-stopping and calibration sets, the depths tried, and the reason
        for a fallback to snapshot mode, if any.

    Examples
    --------
    >>> from churnradar.datasets import load_telco  # doctest: +SKIP
    >>> df = load_telco()  # doctest: +SKIP
    >>> y = (df.pop("churn") == "Yes").astype(int)  # doctest: +SKIP
    >>> model = ChurnRiskModel().fit(df.drop(columns="customerid"), y)  # doctest: +SKIP
    >>> model.predict_proba(df.drop(columns="customerid"))[:3, 1]  # doctest: +SKIP
    """

    def __init__(self, *, kind: Kind = "lightgbm", calibration: Calibration = "auto",
                 horizon_days: int | None = None, random_state: int | None = 0,
                 params: dict[str, Any] | None = None, n_jobs: int = 0):
        self.kind = kind
        self.calibration = calibration
        self.horizon_days = horizon_days
        self.random_state = random_state
        self.params = params
        self.n_jobs = n_jobs

    # -- scikit-learn plumbing ------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (scikit-learn's ``clone`` uses them)."""
        return {"kind": self.kind, "calibration": self.calibration,
                "horizon_days": self.horizon_days, "random_state": self.random_state,
                "params": self.params, "n_jobs": self.n_jobs}

    def set_params(self, **params: Any) -> Self:
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise InputError(f"ChurnRiskModel has no parameter {key!r}; "
                                 f"valid: {', '.join(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items()
                   if v != ChurnRiskModel().get_params()[k]}
        return f"ChurnRiskModel({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # -- fit ------------------------------------------------------------------------
    def _check_settings(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.calibration not in CALIBRATIONS:
            raise InputError(f"calibration must be one of {CALIBRATIONS}, "
                             f"got {self.calibration!r}")
        if self.horizon_days is not None and (isinstance(self.horizon_days, bool)
                                              or int(self.horizon_days) < 0):
            raise InputError(f"horizon_days must be a whole number of days >= 0 or None, "
                             f"got {self.horizon_days!r}")
        if self.params is not None and not isinstance(self.params, dict):
            raise InputError(f"params must be a dict or None, got {type(self.params).__name__}")

    def fit(self, X: pd.DataFrame, y: Any, *, time: Any = None) -> Self:
        """Fit the model (and its calibrator) to customers ``X`` with outcomes ``y``.

        Parameters
        ----------
        X : pandas.DataFrame
            One row per customer (and observation date); numeric columns are numeric
            features, object/string/category/bool columns categorical. NaN = missing.
        y : array-like of {0, 1}
            1 = churned within the horizon.
        time : array-like of dates, optional
            The observation date of each row (time mode, see the module docstring).

        Returns
        -------
        ChurnRiskModel
            ``self``, fitted.

        Raises
        ------
        InputError
            Invalid settings, ``y`` not 0/1, a single class, or ``time`` of the wrong
            length or with missing dates.
        SchemaError
            Duplicate columns or a column of an unsupported type (dates).
        """
        self._check_settings()
        X = _check_frame(X, "fit")
        n = len(X)
        yv = _labels(y, n)
        extra = dict(self.params or {})
        folds = int(extra.pop("cv_folds", CV_FOLDS))
        encoder = _Encoder.fit(X)
        Z = encoder.matrix(X)
        seed = _seed(self.random_state)
        threads = _threads(self.n_jobs)
        info: dict[str, Any] = {"rows": n, "positives": int(yv.sum()), "seed": seed,
                                "threads": threads}

        split = None
        if time is not None:
            split, reason = self._time_split(time, n, yv, seed)
            if split is None:
                info["fallback_reason"] = reason
                msg = f"time mode not possible ({reason}); fitting in snapshot mode"
                log.warning(msg)
                warnings.warn(msg, UserWarning, stacklevel=2)
            else:
                info.update(split.info)

        categorical = [c in set(encoder.categorical) for c in encoder.columns]
        if self.kind == "lightgbm":
            raw_cal, y_cal = self._fit_lightgbm(Z, yv, encoder, extra, seed, threads, folds,
                                                split, info)
        else:
            raw_cal, y_cal = self._fit_logistic(Z, yv, categorical, extra, seed, folds,
                                                split, info)

        method = _calibration_method(self.calibration, len(y_cal), int(y_cal.sum()))
        self.calibrator_ = Calibrator.fit(method, raw_cal, y_cal)
        info["calibration"] = method
        info["calibration_rows"] = len(y_cal)
        self.encoder_ = encoder
        self.feature_names_ = list(encoder.columns)
        self.categorical_features_ = list(encoder.categorical)
        self.categories_ = {k: list(v) for k, v in encoder.levels.items()}
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = len(encoder.columns)
        self.fit_info_ = info
        self.expected_value_ = self._expected_value(Z[:1])
        return self

    def _time_split(self, time: Any, n: int, y: npt.NDArray[np.int8], seed: int,
                    ) -> tuple[_TimeSplit | None, str]:
        values = np.asarray(time).ravel() if not isinstance(time, pd.Series) else time.to_numpy()
        if len(values) != n:
            raise InputError(f"time has {len(values)} values but X has {n} rows")
        try:
            t = pd.to_datetime(pd.Series(values)).to_numpy()
        except (TypeError, ValueError) as exc:
            raise InputError(f"time must hold observation dates: {exc}") from exc
        if pd.isna(t).any():
            i = int(np.flatnonzero(pd.isna(t))[0])
            raise InputError(f"time has a missing observation date at row {i}")
        latest = t.max()
        horizon = int(self.horizon_days) if self.horizon_days is not None else 0
        cutoff = latest - np.timedelta64(horizon, "D")
        holdout = np.flatnonzero(t == latest)
        train = np.flatnonzero((t <= cutoff) & (t < latest))
        dates = int(len(np.unique(t)))
        if dates < 2:
            return None, "a single observation date"
        if len(train) < MIN_TRAIN_ROWS or len(np.unique(y[train])) < 2:
            return None, (f"{len(train)} training rows observed at least {horizon} days "
                          f"before the latest date, with {int(y[train].sum())} churners")
        yh = y[holdout]
        if (len(holdout) < 2 * MIN_HOLDOUT_ROWS or int(yh.sum()) < 2 * MIN_HOLDOUT_CLASS
                or int((1 - yh).sum()) < 2 * MIN_HOLDOUT_CLASS):
            return None, (f"the latest date holds {len(holdout)} rows and {int(yh.sum())} "
                          f"churners; at least {2 * MIN_HOLDOUT_ROWS} rows and "
                          f"{2 * MIN_HOLDOUT_CLASS} of each class are needed")
        from sklearn.model_selection import train_test_split

        es, cal = train_test_split(holdout, test_size=0.5, stratify=yh, random_state=seed)
        es, cal = np.sort(es), np.sort(cal)
        ts = pd.Timestamp(latest)
        info = {"mode": "time", "latest_time": ts.isoformat(),
                "train_max_time": pd.Timestamp(t[train].max()).isoformat(),
                "horizon_days": horizon, "dates": dates, "train_rows": len(train),
                "holdout_rows": len(holdout), "early_stopping_rows": len(es),
                "unused_rows": n - len(train) - len(holdout)}
        return _TimeSplit(train, es, cal, info), ""

    def _fit_lightgbm(self, Z: FloatArray, y: npt.NDArray[np.int8], encoder: _Encoder,
                      extra: dict[str, Any], seed: int, threads: int, folds: int,
                      split: _TimeSplit | None, info: dict[str, Any],
                      ) -> tuple[FloatArray, npt.NDArray[np.int8]]:
        import lightgbm as lgb

        names = [f"f{j}" for j in range(Z.shape[1])]  # LightGBM rejects some characters
        cat_set = set(encoder.categorical)
        cat_idx = [j for j, c in enumerate(encoder.columns) if c in cat_set]
        if split is not None:
            best, tried = _lgb_holdout(Z[split.train], y[split.train], Z[split.es],
                                       y[split.es], names, cat_idx, extra, seed, threads)
            booster = _compact(best.booster, best.rounds)
            raw_cal = booster.predict(Z[split.cal], raw_score=True, num_threads=threads)
            y_cal = y[split.cal]
        else:
            best, tried = _lgb_cv(Z, y, names, cat_idx, extra, seed, threads, folds)
            params = _lgb_params({k: v for k, v in extra.items()
                                  if k not in ("num_iterations", "num_boost_round",
                                               "n_estimators", "num_rounds")},
                                 best.depth, seed, threads)
            data = _lgb_dataset(Z, y, names, cat_idx, params)
            booster = lgb.train(params, data, num_boost_round=best.rounds)
            assert best.oof is not None
            raw_cal, y_cal = best.oof, y
            info.update(mode="snapshot", train_rows=len(y), cv_folds=folds,
                        holdout_rows=0, early_stopping_rows=0)
        self.booster_ = booster
        self.depth_ = best.depth
        self.n_iter_ = best.rounds
        info.update(depth=best.depth, n_iter=best.rounds, search=tried)
        return raw_cal, y_cal

    def _fit_logistic(self, Z: FloatArray, y: npt.NDArray[np.int8], categorical: list[bool],
                      extra: dict[str, Any], seed: int, folds: int,
                      split: _TimeSplit | None, info: dict[str, Any],
                      ) -> tuple[FloatArray, npt.NDArray[np.int8]]:
        unknown = set(extra) - {"C"}
        if unknown:
            raise InputError(f"params for kind='logistic' may only set 'C' (and 'cv_folds'), "
                             f"got {', '.join(sorted(unknown))}")
        cs = (float(extra["C"]),) if "C" in extra else LOGISTIC_CS
        tried: list[dict[str, Any]] = []
        if split is not None:
            design = _LinearDesign.fit(Z[split.train], categorical)
            D, De = design.transform(Z[split.train]), design.transform(Z[split.es])
            best_c, best_loss, best_lr = cs[0], np.inf, None
            for c in cs:
                lr = _fit_logistic(D, y[split.train], c, seed)
                loss = _log_loss(y[split.es].astype(np.float64), lr.decision_function(De))
                tried.append({"C": c, "holdout_loss": loss})
                if loss < best_loss:
                    best_c, best_loss, best_lr = c, loss, lr
            assert best_lr is not None
            raw_cal = best_lr.decision_function(design.transform(Z[split.cal]))
            y_cal = y[split.cal]
            final = best_lr
        else:
            splits = _stratified_folds(y, folds, seed)
            best_c, best_loss, best_oof = cs[0], np.inf, np.zeros(0)
            for c in cs:
                oof = np.zeros(len(y))
                for tr, va in splits:
                    d = _LinearDesign.fit(Z[tr], categorical)
                    lr = _fit_logistic(d.transform(Z[tr]), y[tr], c, seed)
                    oof[va] = lr.decision_function(d.transform(Z[va]))
                loss = _log_loss(y.astype(np.float64), oof)
                tried.append({"C": c, "cv_loss": loss})
                if loss < best_loss:
                    best_c, best_loss, best_oof = c, loss, oof
            design = _LinearDesign.fit(Z, categorical)
            final = _fit_logistic(design.transform(Z), y, best_c, seed)
            raw_cal, y_cal = best_oof, y
            info.update(mode="snapshot", train_rows=len(y), cv_folds=len(splits),
                        holdout_rows=0, early_stopping_rows=0)
        self.design_ = design
        self.coef_ = np.asarray(final.coef_[0], np.float64)
        self.intercept_ = float(final.intercept_[0])
        self.C_ = best_c
        self.n_iter_ = int(np.max(final.n_iter_))
        # coef summed into one column per input: contributions = design @ weights
        weights = np.zeros((len(self.coef_), design.n_inputs))
        weights[np.arange(len(self.coef_)), design.source] = self.coef_
        self.weights_ = weights
        info.update(C=best_c, n_iter=self.n_iter_, search=tried)
        return raw_cal, y_cal

    # -- scoring --------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "calibrator_"):
            raise NotFittedError("this ChurnRiskModel is not fitted yet; call fit(X, y) "
                                 "before predict_proba, predict or contributions")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_cache", None)  # rebuilt on first use after loading
        return state

    def _threads(self) -> int:
        return int(self.fit_info_["threads"]) if self.n_jobs <= 0 else self.n_jobs

    def _booster_cache(self, name: str, build: Callable[[Any], Any]) -> Any:
        """``build(booster_)``, kept until the next fit (keyed on the booster object)."""
        cache = self.__dict__.setdefault("_cache", {})
        held = cache.get(name)
        if held is None or held[0] is not self.booster_:
            held = cache[name] = (self.booster_, build(self.booster_))
        return held[1]

    def _forest(self) -> Any:
        """The booster compiled for column-wise scoring (:mod:`.forest`), or None when
        the model uses something that module leaves to LightGBM."""
        from churnradar.predict.forest import Unsupported, compile_forest

        def build(booster: Any) -> Any:
            try:
                return compile_forest(booster)
            except Unsupported:
                return None

        return self._booster_cache("forest", build)

    def _raw_matrix(self, Z: FloatArray) -> FloatArray:
        threads = self._threads()
        if self.kind == "lightgbm":
            forest = self._forest()
            if forest is not None:
                return np.asarray(forest.raw_score(Z, num_threads=threads), np.float64)
            return np.asarray(self.booster_.predict(Z, raw_score=True, num_threads=threads),
                              np.float64)
        return np.asarray(self.design_.transform(Z) @ self.coef_ + self.intercept_,
                          np.float64)

    def _contrib_matrix(self, Z: FloatArray, method: str = "exact") -> FloatArray:
        """(n, features + 1): contributions, then the expected value."""
        if self.kind == "lightgbm":
            threads = self._threads()
            if method == "path":
                from churnradar.predict.attribution import path_contributions, path_table

                table = self._booster_cache("path_table", path_table)
                return path_contributions(self.booster_, Z, table, num_threads=threads,
                                          forest=self._forest())
            return np.asarray(self.booster_.predict(Z, pred_contrib=True, num_threads=threads),
                              np.float64)
        out = np.empty((Z.shape[0], self.design_.n_inputs + 1))
        out[:, :-1] = self.design_.transform(Z) @ self.weights_
        out[:, -1] = self.intercept_
        return out

    def _expected_value(self, Z: FloatArray) -> float:
        return float(self._contrib_matrix(Z)[0, -1])

    def decision_function(self, X: pd.DataFrame) -> FloatArray:
        """Raw (uncalibrated) log-odds of churn, one per row."""
        self._check_fitted()
        self.encoder_.check(X)
        out = np.empty(len(X), np.float64)
        for part in _chunks(len(X)):
            out[part] = self._raw_matrix(self.encoder_.matrix(X.iloc[part]))
        return out

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        """Calibrated probabilities: column 0 = stays, column 1 = churns.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        SchemaError
            When ``X`` lacks a feature column of the fit (extra columns are ignored).
        """
        self._check_fitted()
        p = self.calibrator_.transform(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> npt.NDArray[np.int64]:
        """1 where the calibrated churn probability is at least 0.5, else 0."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def contributions(self, X: pd.DataFrame, *, method: str = "auto") -> pd.DataFrame:
        """Per-row, per-feature contributions to the raw (uncalibrated) log-odds.

        Each row sums, plus :attr:`expected_value_`, to :meth:`decision_function`.

        Parameters
        ----------
        X : pandas.DataFrame
            The customers.
        method : {"auto", "exact", "path"}
            LightGBM only: ``"exact"`` = TreeSHAP (``pred_contrib``), ``"path"`` = path
            attribution (:mod:`churnradar.predict.attribution`, ~10x faster, also exactly
            additive, but around the trees' root values: its row sums differ from the
            exact ones by one constant, so add ``expected_value_`` to exact ones only),
            ``"auto"`` = exact up to :data:`~churnradar.predict.attribution.EXACT_MAX_ROWS`
            rows, else path.

        Returns
        -------
        pandas.DataFrame
            One column per entry of :attr:`feature_names_`, indexed like ``X``.
        """
        from churnradar.predict.attribution import EXACT_MAX_ROWS

        if method not in ("auto", "exact", "path"):
            raise InputError(f"method must be auto, exact or path, got {method!r}")
        if method == "auto":
            method = "exact" if len(X) <= EXACT_MAX_ROWS else "path"
        self._check_fitted()
        self.encoder_.check(X)
        p = len(self.feature_names_)
        out = np.empty((len(X), p), np.float64)
        for part in _chunks(len(X)):
            out[part] = self._contrib_matrix(self.encoder_.matrix(X.iloc[part]), method)[:, :p]
        return pd.DataFrame(out, columns=list(self.feature_names_), index=X.index)


@dataclass
class _TimeSplit:
    train: npt.NDArray[np.intp]
    es: npt.NDArray[np.intp]
    cal: npt.NDArray[np.intp]
    info: dict[str, Any]


# --------------------------------------------------------------------------- save/load


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for pkg in ("churnradar", "lightgbm", "scikit-learn", "numpy", "pandas"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[pkg] = "not installed"
    return out


def save_model(model: ChurnRiskModel, path: Path, *, metadata: dict[str, Any]) -> None:
    """Save a fitted model (joblib) and a JSON sidecar ``<path>.json``, each atomically.

    The sidecar records the format, the kind, parameters, features, the package versions,
    the SHA-256 of the model file (checked by :func:`load_model`) and the caller's
    ``metadata`` (settings, data fingerprints...), which must be JSON-serialisable
    (other objects are written with ``str``).

    Raises
    ------
    NotFittedError
        When ``model`` is not fitted.
    """
    import joblib

    from churnradar.fsutil import atomic_path, atomic_write_text

    model._check_fitted()
    path = Path(path)
    with atomic_path(path) as tmp:
        joblib.dump(model, tmp, compress=3)
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    info = {
        "format": _MODEL_FORMAT,
        "kind": model.kind,
        "params": model.get_params(),
        "features": list(model.feature_names_),
        "categorical_features": list(model.categorical_features_),
        "fit_info": model.fit_info_,
        "versions": _versions(),
        "sha256": digest,
        "metadata": metadata,
    }
    atomic_write_text(_sidecar(path), json.dumps(info, ensure_ascii=False, indent=1,
                                                 default=str))


def load_model(path: Path) -> tuple[ChurnRiskModel, dict[str, Any]]:
    """Load a model saved by :func:`save_model`: ``(model, metadata)``.

    Only load files you trust: joblib files can run code when loaded.

    Raises
    ------
    WorkspaceError
        When the model file or its sidecar is missing.
    InputError
        When either is corrupt, they do not belong together, or the file holds no
        :class:`ChurnRiskModel`.
    """
    import joblib

    path = Path(path)
    side = _sidecar(path)
    if not path.is_file():
        raise WorkspaceError(key="err_model_missing", path=str(path))
    if not side.is_file():
        raise WorkspaceError(f"the model file {path} has no sidecar {side.name}. "
                             "Suggestion: retrain (churnradar predict train)")
    retrain = "Suggestion: retrain the model (churnradar predict train)"
    try:
        info = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{side} is not a readable model description ({exc}). "
                         f"{retrain}") from exc
    if not isinstance(info, dict) or "sha256" not in info:
        raise InputError(f"{side} is not a churnradar model description. {retrain}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != info["sha256"]:
        raise InputError(f"{path} is corrupt or was replaced: its checksum does not match "
                         f"{side.name}. {retrain}")
    try:
        model = joblib.load(path)
    except Exception as exc:  # a damaged pickle can raise almost anything
        raise InputError(f"{path} could not be loaded ({type(exc).__name__}: {exc}). "
                         f"{retrain}") from exc
    if not isinstance(model, ChurnRiskModel) or not hasattr(model, "calibrator_"):
        raise InputError(f"{path} does not hold a fitted ChurnRiskModel. {retrain}")
    meta = dict(info.get("metadata") or {})
    # what produced the model, next to the caller's own description
    meta.setdefault("versions", info.get("versions", {}))
    meta.setdefault("fit_info", info.get("fit_info", {}))
    return model, meta
