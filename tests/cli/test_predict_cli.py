"""``churnradar predict …`` through Typer's CliRunner."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from churnradar.cli import build_app
from churnradar.datasets import load_telco
from tests.requirements import require

runner = CliRunner()
SUB = ["train", "backtest", "score", "evaluate"]


def invoke(args, lang="en"):
    return runner.invoke(build_app(lang), args)


@pytest.mark.parametrize("command", SUB)
def test_predict_help_in_both_languages(command):
    zh = invoke(["predict", command, "--help"], lang="zh-CN")
    en = invoke(["predict", command, "--help"], lang="en")
    assert zh.exit_code == 0 and en.exit_code == 0
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.stdout)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en.stdout.replace("是/否", ""))


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    path = tmp_path_factory.mktemp("pcli") / "demo"
    r = invoke(["demo", str(path), "--customers", "1000", "--industry", "telecom"])
    assert r.exit_code == 0, r.output
    return path


def test_score_and_train_and_backtest(ws):
    r = invoke(["predict", "score", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["customers"] == sum(data["tiers"].values()) and not data["trained_now"]
    scores = pd.read_parquet(data["scores"])
    assert len(scores) == data["customers"]
    table = invoke(["predict", "score", str(ws), "--top", "5", "--lang", "zh-CN"])
    assert table.exit_code == 0 and "风险最高的 5 名客户" in table.stdout
    t = invoke(["predict", "train", str(ws), "--no-check"])
    assert t.exit_code == 0 and "Model trained on" in t.stdout
    b = invoke(["predict", "backtest", str(ws), "--dates", "1", "--json"])
    assert b.exit_code == 0, b.output
    assert {r["contender"] for r in json.loads(b.stdout)["mean"]} == {
        "model", "recency_baseline", "segment_rate_baseline"}
    bad = invoke(["predict", "score", str(ws), "--model", str(ws / "nope.joblib")])
    assert bad.exit_code == 1 and "nope.joblib" in bad.output


def test_evaluate_any_table(tmp_path):
    rng = np.random.default_rng(0)
    n = 800
    tenure = rng.integers(1, 72, n)
    p = 1 / (1 + np.exp(-(0.5 - 0.06 * tenure)))
    df = pd.DataFrame({"id": range(n), "tenure": tenure,
                       "plan": rng.choice(["a", "b"], n),
                       "churn": np.where(rng.random(n) < p, "Yes", "No")})
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    r = invoke(["predict", "evaluate", str(path), "--label", "churn", "--id", "id",
                "--folds", "3", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert {"roc_auc", "pr_auc", "brier", "top_decile_lift", "emp"} <= set(out)
    assert out["roc_auc"] > 0.7
    shown = invoke(["predict", "evaluate", str(path), "--label", "churn", "--id", "id",
                    "--folds", "3"])
    assert shown.exit_code == 0 and "ROC-AUC" in shown.stdout
    bad = invoke(["predict", "evaluate", str(path), "--label", "nope"])
    assert bad.exit_code == 1 and "'nope'" in bad.output and "Traceback" not in bad.output


@pytest.mark.slow
def test_telco_default_model_reaches_the_target(tmp_path):
    """The issue's bar on the public telco table: mean 5-fold ROC-AUC >= 0.850 and at
    least logistic regression's on the same folds (the full peer comparison is in
    benchmarks/telco.py)."""
    try:
        df = load_telco()
    except Exception as exc:  # the data wheel is installed by `make test`
        require(False, f"telco data ({exc})")
        return
    path = tmp_path / "telco.csv"
    df.to_csv(path, index=False)
    r = invoke(["predict", "evaluate", str(path), "--label", "churn", "--id", "customerid",
                "--json"])
    ours = json.loads(r.stdout)
    lr = invoke(["predict", "evaluate", str(path), "--label", "churn", "--id", "customerid",
                 "--model", "logistic", "--json"])
    assert ours["roc_auc"] >= 0.850
    assert ours["roc_auc"] >= json.loads(lr.stdout)["roc_auc"]
