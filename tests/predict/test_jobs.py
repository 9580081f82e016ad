"""Prediction on a workspace end to end: train, score, backtest, report, model files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from churnradar import schema as s
from churnradar.exceptions import SchemaError
from churnradar.pipeline import build_report, run_demo
from churnradar.predict.jobs import (
    backtest_job,
    load_trained,
    model_path,
    open_data,
    score_job,
    train_job,
)
from churnradar.predict.training import train_risk_model
from churnradar.workspace import Workspace


@pytest.fixture(scope="module")
def telecom(tmp_path_factory):
    """A demo workspace (run_demo trains, backtests and reports already)."""
    folder = tmp_path_factory.mktemp("predict") / "telecom"
    run_demo(folder, industry="telecom", n_customers=2000, lang="en", random_state=1)
    return Workspace.open(folder)


@pytest.fixture(scope="module")
def dealers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict") / "dealers"
    run_demo(folder, industry="dealers", n_customers=1200, lang="zh-CN", random_state=2)
    return Workspace.open(folder)


def test_demo_trains_a_model_with_its_metadata(telecom):
    path = model_path(telecom)
    assert path.is_file()
    trained = load_trained(path)
    meta = trained.metadata
    assert meta["horizon_days"] == telecom.settings.predict.horizon_days
    assert len(meta["dates"]) == telecom.settings.predict.observation_months
    assert set(meta["data"]) == set(telecom.tables())  # fingerprints of every table
    assert meta["features"] == list(trained.model.feature_names_)
    assert "churnradar" in json.dumps(meta)  # package versions are recorded
    ev = meta["evaluation"]
    # usage fades before a subscriber leaves: the out-of-time check must see it
    assert ev["roc_auc"] > 0.8 and ev["top_decile_lift"] > 3


def test_scores_cover_every_active_customer(telecom):
    res = score_job(telecom)
    sc = res.scores
    data = open_data(telecom)
    from churnradar.lifecycle import build_lifecycle

    life = build_lifecycle(data.tables, telecom.settings.churn, as_of=data.data_end)
    active = life.spells.filter(life.spells[s.CHURN_DATE].isnull()).to_pandas()
    assert sorted(sc[s.CUSTOMER_ID]) == sorted(active[s.CUSTOMER_ID])
    assert sc["churn_probability"].between(0, 1).all()
    assert sc["churn_probability"].is_monotonic_decreasing
    assert list(sc["risk_rank"]) == list(range(1, len(sc) + 1))
    shares = sc["risk_tier"].value_counts(normalize=True)
    assert shares["high"] == pytest.approx(0.10, abs=0.01)
    assert shares["medium"] == pytest.approx(0.20, abs=0.01)
    reasons = set(sc["top_reason"].dropna())
    assert reasons and reasons <= set(s.REASON_CATEGORIES)
    assert (res.run_dir / "scores.parquet").is_file()
    stored = pd.read_parquet(res.run_dir / "scores.parquet")
    assert len(stored) == len(sc)


def test_the_high_tier_really_churns_more(telecom):
    """What the scores said at the last labelled date against what happened."""
    trained = load_trained(model_path(telecom))
    data = open_data(telecom)
    when = trained.dates[-1]
    test = data.labelled(when, trained.plan, trained.horizon_days)
    p = trained.model.predict_proba(test[trained.model.feature_names_])[:, 1]
    top = p >= np.quantile(p, 0.9)
    assert test["churned"][top].mean() > 2 * test["churned"].mean()


def test_backtest_beats_the_naive_baselines(telecom):
    res = backtest_job(telecom, dates=2)
    mean = res.result.mean().set_index("contender")
    assert mean.loc["model", "roc_auc"] > mean.loc["recency_baseline", "roc_auc"]
    assert mean.loc["model", "roc_auc"] > mean.loc["segment_rate_baseline", "roc_auc"]
    saved = json.loads((res.run_dir / "backtest.json").read_text(encoding="utf-8"))
    assert {r["contender"] for r in saved["mean"]} == {
        "model", "recency_baseline", "segment_rate_baseline"}
    assert len(saved["dates"]) == 2


def test_training_is_reproducible(telecom):
    data = open_data(telecom)
    a = train_risk_model(data, telecom.settings.predict, evaluate=False)
    b = train_risk_model(open_data(telecom), telecom.settings.predict, evaluate=False)
    x = data.features(data.data_end, a.plan)[a.model.feature_names_]
    np.testing.assert_array_equal(a.model.predict_proba(x), b.model.predict_proba(x))


def test_a_model_from_another_workspace_with_other_columns_is_refused(telecom, dealers):
    with pytest.raises(SchemaError, match="feature columns"):
        score_job(dealers, model=model_path(telecom))


def test_train_job_saves_and_reports(telecom):
    res = train_job(telecom)
    assert res.path == model_path(telecom) and res.path.with_name(
        res.path.name + ".json").is_file()
    assert json.loads((res.run_dir / "model.json").read_text(encoding="utf-8"))["evaluation"]


def test_report_has_the_at_risk_section_in_both_languages(telecom, dealers, tmp_path):
    en = build_report(telecom, lang="en", out=tmp_path / "en.html")
    text = en.html.read_text(encoding="utf-8")
    assert 'id="at-risk"' in text and "At-risk customers" in text
    assert 'data-chart="risk-drivers"' in text and 'data-chart="risk-calibration"' in text
    assert 'data-chart="risk-lift"' in text
    zh = build_report(dealers, lang="zh-CN", out=tmp_path / "zh.html")
    text = zh.html.read_text(encoding="utf-8")
    assert "流失风险预警" in text and "回测" in text
    statuses = {c.analysis: c.status for c in zh.result.completeness}
    assert statuses["risk_prediction"] == "ran"
