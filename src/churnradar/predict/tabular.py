"""Train and evaluate the default churn model on any labelled table (snapshot data).

For a table with one row per customer and a churn label — like the public telco set —
:func:`evaluate_table` runs stratified k-fold cross-validation (or train/test when a test
table is given) of :class:`~churnradar.predict.model.ChurnRiskModel` and reports the
metrics of :mod:`churnradar.predict.evaluation` per fold and their mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from churnradar.exceptions import InputError
from churnradar.predict.evaluation import Evaluation, evaluate_scores, mean_evaluations
from churnradar.predict.model import ChurnRiskModel

#: label values read as churned / not churned (lower-cased, stripped)
YES: frozenset[str] = frozenset({"yes", "y", "1", "1.0", "true", "t", "是", "流失", "已流失",
                                 "churned", "churn"})
NO: frozenset[str] = frozenset({"no", "n", "0", "0.0", "false", "f", "否", "未流失", "在网",
                                "active", "stayed", "retained"})
#: a text column becomes numeric when at least this share of its non-blank values parse
NUMERIC_SHARE = 0.95


@dataclass
class TabularEvaluation:
    kind: str
    n_rows: int
    positives: int
    folds: list[Evaluation] = field(default_factory=list)

    @property
    def mean(self) -> dict[str, float]:
        return mean_evaluations(self.folds)


def read_table_file(path: str | Path) -> pd.DataFrame:
    """A CSV / XLSX / Parquet file as pandas (encoding detected as on import)."""
    from churnradar.io.readers import read_table_file as read_arrow

    table = read_arrow(path)
    if table.num_rows == 0:
        raise InputError(f"{Path(path).name}: the file has no data rows")
    return table.to_pandas()


def parse_labels(values: pd.Series, column: str) -> np.ndarray:
    """0/1 from Yes/No, 1/0, true/false, 是/否 …; a clear error at the first other value."""
    text = values.astype("string").str.strip().str.lower()
    yes = text.isin(YES).to_numpy(bool)
    no = text.isin(NO).to_numpy(bool)
    bad = np.flatnonzero(~(yes | no))
    if len(bad):
        i = int(bad[0])
        raise InputError(f"label column {column!r}, row {i + 2}: {values.iloc[i]!r} is not a "
                         f"churn label. Accepted: Yes/No, 1/0, true/false, 是/否")
    return yes.astype(np.int8)


def prepare(df: pd.DataFrame, *, label: str, id_column: str | None = None,
            ) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and labels: the id column dropped, numeric-looking text made numeric."""
    for col in (label, id_column):
        if col is not None and col not in df.columns:
            raise InputError(f"column {col!r} is not in the table. Columns: "
                             f"{', '.join(map(str, df.columns))}")
    y = parse_labels(df[label], label)
    x = df.drop(columns=[c for c in (label, id_column) if c is not None])
    for col in x.columns:
        if x[col].dtype == object or pd.api.types.is_string_dtype(x[col]):
            text = x[col].astype("string").str.strip().replace("", pd.NA)
            num = pd.to_numeric(text, errors="coerce")
            filled = text.notna().sum()
            if filled and num.notna().sum() >= NUMERIC_SHARE * filled:
                x[col] = num.astype("float64")
            else:
                x[col] = text.astype("category")
    return x, y


def evaluate_table(df: pd.DataFrame, *, label: str, id_column: str | None = None,
                   test: pd.DataFrame | None = None, folds: int = 5, kind: str = "lightgbm",
                   random_state: int = 0, **model_args: Any) -> TabularEvaluation:
    """Cross-validate (or train/test) the churn model on a labelled table."""
    if kind not in ("lightgbm", "logistic"):
        raise InputError(f"--model must be lightgbm or logistic, got {kind!r}")
    if test is None and not 2 <= folds <= 20:
        raise InputError(f"--folds must be between 2 and 20, got {folds}")
    x, y = prepare(df, label=label, id_column=id_column)
    out = TabularEvaluation(kind=kind, n_rows=len(y), positives=int(y.sum()))

    def model() -> ChurnRiskModel:
        return ChurnRiskModel(kind=kind, random_state=random_state,  # type: ignore[arg-type]
                              **model_args)

    if test is not None:
        xt, yt = prepare(test, label=label, id_column=id_column)
        p = model().fit(x, y).predict_proba(xt.reindex(columns=x.columns))[:, 1]
        out.folds.append(evaluate_scores(yt, p))
        return out
    if min(int(y.sum()), int(len(y) - y.sum())) < folds:
        raise InputError(f"too few churners or non-churners for {folds} folds")
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    for train, valid in cv.split(x, y):
        p = model().fit(x.iloc[train], y[train]).predict_proba(x.iloc[valid])[:, 1]
        out.folds.append(evaluate_scores(y[valid], p))
    return out
