"""Any labelled table: label parsing, preparation, k-fold and train/test evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnradar.exceptions import InputError
from churnradar.predict.tabular import evaluate_table, parse_labels, prepare, read_table_file


@pytest.mark.parametrize(("values", "expected"), [
    (["Yes", "no ", "YES"], [1, 0, 1]), (["1", "0"], [1, 0]), ([1, 0], [1, 0]),
    (["true", "False"], [1, 0]), (["是", "否"], [1, 0]),
])
def test_labels(values, expected):
    assert list(parse_labels(pd.Series(values), "y")) == expected


def test_bad_label_names_column_row_and_value():
    # rows are counted as in the file: the header is row 1
    with pytest.raises(InputError, match=r"'churn', row 4: 'maybe'"):
        parse_labels(pd.Series(["Yes", "No", "maybe"]), "churn")


def _table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, n)
    contract = rng.choice(["月付", "一年", "两年"], n)
    p = 1 / (1 + np.exp(-(-0.5 - 0.05 * tenure + 1.5 * (contract == "月付"))))
    charges = [("" if i % 50 == 0 else f"{v:.2f}") for i, v in enumerate(rng.normal(70, 20, n))]
    return pd.DataFrame({"客户编号": [f"C{i}" for i in range(n)], "tenure": tenure,
                         "contract": contract, "total": charges,
                         "是否流失": np.where(rng.random(n) < p, "是", "否")})


def test_prepare_drops_the_id_and_reads_numbers():
    x, y = prepare(_table(), label="是否流失", id_column="客户编号")
    assert "客户编号" not in x.columns and "是否流失" not in x.columns
    assert x["total"].dtype == "float64" and x["total"].isna().sum() == 12
    assert str(x["contract"].dtype) == "category"
    with pytest.raises(InputError, match="'label'"):
        prepare(_table(), label="label")


def test_kfold_and_train_test(tmp_path):
    df = _table()
    res = evaluate_table(df, label="是否流失", id_column="客户编号", folds=3)
    assert len(res.folds) == 3 and res.n_rows == 600
    assert res.mean["roc_auc"] > 0.7
    assert {"roc_auc", "pr_auc", "brier", "top_decile_lift", "emp"} <= set(res.mean)
    tt = evaluate_table(df.iloc[:400], label="是否流失", id_column="客户编号",
                        test=df.iloc[400:])
    assert len(tt.folds) == 1 and tt.folds[0].n == 200
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False, encoding="gb18030")
    assert read_table_file(path).shape == df.shape
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(Exception, match="empty.csv"):
        read_table_file(empty)
