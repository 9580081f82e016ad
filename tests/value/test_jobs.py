"""The value job on demo workspaces: CLV, tiers, the matrix, files, the report section."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from churnradar.datasets import make_demo_data, write_demo_files
from churnradar.io import import_table
from churnradar.pipeline import build_report
from churnradar.value.jobs import km_by_tenure, value_job
from churnradar.workspace import Workspace


def _workspace(folder, industry: str, n: int, seed: int) -> Workspace:
    ws = Workspace.create(folder, language="en")
    data = make_demo_data(industry, n_customers=n, random_state=seed)
    ws.set_setting("churn", "as_of", data.as_of)
    if industry == "dealers":
        ws.set_setting("churn", "inactivity_days", 180)
    for table, path in write_demo_files(data, folder / "exports", lang="en").items():
        import_table(ws, table, path, lang="en")
    return Workspace.open(folder)


@pytest.fixture(scope="module")
def dealers(tmp_path_factory):
    return _workspace(tmp_path_factory.mktemp("value") / "dealers", "dealers", 800, 3)


@pytest.fixture(scope="module")
def telecom(tmp_path_factory):
    return _workspace(tmp_path_factory.mktemp("value") / "telecom", "telecom", 800, 4)


def test_non_contractual_value(dealers):
    out = value_job(dealers)
    c = out.customers
    assert out.business == "non_contractual" and out.risk_source == "p_alive"
    assert len(c) > 100 and c["customer_id"].is_unique
    assert np.isfinite(c["clv"]).all() and (c["clv"] >= 0).all()
    assert ((c["p_alive"] > 0) & (c["p_alive"] <= 1)).all()
    np.testing.assert_allclose(c["risk"], 1 - c["p_alive"])
    # CLV = discounted expected purchases x spend x margin: never above the undiscounted
    margin = dealers.settings.metrics.margin
    bound = c["expected_purchases"] * c["expected_spend"] * margin
    assert (c["clv"] <= bound * (1 + 1e-9)).all()
    assert (c["clv"] >= 0.8 * bound).all()  # 10 % a year cannot take more than 20 % off
    # the tiers follow the CLV: every high-value customer is worth more than every low one
    assert c.loc[c.value_tier == "high", "clv"].min() >= c.loc[c.value_tier == "low", "clv"].max()
    m = out.matrix
    assert len(m) == 9 and m["customers"].sum() == len(c)
    assert m["clv"].sum() == pytest.approx(c["clv"].sum())
    # the model check: predicted purchases in the holdout near the actual ones
    hs = out.holdout_summary
    assert hs["actual_purchases"] > 0
    assert abs(hs["total_error"]) < 0.25
    assert set(out.models) == {"bgnbd", "gammagamma"}
    for name in ("customers.parquet", "matrix.csv", "summary.json", "holdout.csv",
                 "segments.csv"):
        assert (out.run_dir / name).exists()
    summary = json.loads((out.run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["customers"] == len(c)
    back = pd.read_parquet(out.run_dir / "customers.parquet")
    assert len(back) == len(c)


def test_paretonbd_setting(dealers, tmp_path):
    dealers.set_setting("value", "transaction_model", "paretonbd")
    try:
        out = value_job(Workspace.open(dealers.root))
    finally:
        dealers.set_setting("value", "transaction_model", "bgnbd")
    assert "paretonbd" in out.models and set(out.models["paretonbd"]["params"]) == {
        "r", "alpha", "s", "beta"}


def test_contractual_value(telecom):
    out = value_job(telecom)
    c = out.customers
    assert out.business == "contractual" and out.risk_source == "sbg"
    assert (c["amount_per_month"] >= 0).all() and (c["amount_per_month"] > 0).mean() > 0.9
    H = telecom.settings.value.horizon_months
    assert ((c["expected_months"] > 1) & (c["expected_months"] <= H)).all()
    np.testing.assert_allclose(c["clv"], c["amount_per_month"]
                               * telecom.settings.metrics.margin * c["expected_months"])
    # sBG: the longer the tenure, the lower the risk (the mix of customers)
    by_tenure = c.groupby("tenure_months")["risk"].first().sort_index()
    assert (np.diff(by_tenure.to_numpy()) <= 1e-12).all()
    ret = out.retention
    assert ret["survival"].iloc[0] == pytest.approx(1.0)
    assert np.abs(ret["survival"] - ret["sbg_survival"]).max() < 0.05


def test_km_by_tenure_by_hand():
    spells = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "start_date": pd.to_datetime(["2025-01-01"] * 4),
        # b churns after ~1.5 months, c after ~2.5, a and d run on (censored at as_of)
        "churn_date": pd.to_datetime([None, "2025-02-15", "2025-03-16", None]),
    })
    km = km_by_tenure(spells, pd.Timestamp("2025-06-30").date(), 4)
    # S = 1 until month 1; 3/4 from 1.5 months; 3/4 * 2/3 = 1/2 from 2.4 months
    np.testing.assert_allclose(km["survival"], [1.0, 1.0, 0.75, 0.5, 0.5])
    assert list(km["at_risk"]) == [4, 4, 3, 2, 2]


def test_report_has_the_value_section(dealers, telecom, tmp_path):
    for ws, lang in ((dealers, "en"), (telecom, "zh-CN")):
        res = build_report(ws, lang=lang, out=tmp_path / f"{lang}.html")
        html = res.html.read_text(encoding="utf-8")
        assert 'id="customer-value"' in html and 'data-chart="value-matrix"' in html
        assert "value-clv" in html
        assert ("value-palive" in html) == (ws is dealers)
        assert ("value-retention" in html) == (ws is telecom)
        if lang == "zh-CN":
            assert "价值 × 风险矩阵" in html and "重点挽留" in html
        else:
            assert "Value x risk matrix" in html and "Retain now" in html
        assert 'id="survival"' in html and 'data-chart="survival-km-all"' in html
        assert ("对数秩检验" in html) if lang == "zh-CN" else ("Log-rank test" in html)
        done = {c.analysis: c.status for c in res.result.completeness}
        assert done["customer_value"] == "ran" and done["survival"] == "ran"


def test_report_says_why_value_and_survival_could_not_run(dealers, tmp_path, monkeypatch):
    import churnradar.survival.jobs as survival_jobs
    import churnradar.value.jobs as value_jobs
    from churnradar.exceptions import InputError, ModelFitError

    def no_value(*_a, **_k):
        raise ModelFitError(key="value_err_empty", model="BG/NBD")

    def no_survival(*_a, **_k):
        raise InputError(key="matrix_err_no_churn")

    monkeypatch.setattr(value_jobs, "value_job", no_value)
    monkeypatch.setattr(survival_jobs, "survival_job", no_survival)
    res = build_report(dealers, lang="zh-CN", out=tmp_path / "r.html")
    html = res.html.read_text(encoding="utf-8")
    assert "本次未能计算客户价值" in html and "本次未能进行生存分析" in html
    assert 'data-chart="value-matrix"' not in html
    done = {c.analysis: c.status for c in res.result.completeness}
    assert done["customer_value"] != "ran" and done["survival"] != "ran"
