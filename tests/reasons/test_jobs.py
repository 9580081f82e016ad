"""The reasons job on the demo workspaces: against the simulations' ground truth."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from churnradar.reasons.jobs import reasons_job


@pytest.fixture(scope="module")
def telecom(demo_sources, tmp_path_factory):
    import shutil

    from churnradar.workspace import Workspace
    src, data = demo_sources["telecom"]
    dst = tmp_path_factory.mktemp("rj") / "ws"
    shutil.copytree(src, dst)
    ws = Workspace.open(dst)
    return ws, data, reasons_job(ws)


def test_counts_add_up_to_the_metrics(telecom):
    from churnradar.metrics import compute_metrics

    ws, _data, out = telecom
    res = compute_metrics(ws, period="month", dimensions=[])
    churned = res.overall.set_index("label")["churned_count"]
    by = out.breakdown.by_category.groupby("label")["churned"].sum()
    common = by.index.intersection(churned.index)
    assert len(common) > 12
    assert (by[common] == churned[common]).all()
    start = res.overall.set_index("label")["start_count"]
    bc = out.breakdown.by_category
    rate = bc["churned"] / bc["label"].map(start)
    assert rate.to_numpy() == pytest.approx(bc["rate"].to_numpy())
    # the churn loss by reason adds up to the metrics' churn loss
    loss = out.breakdown.by_category.groupby("label")["churn_loss"].sum()
    assert loss[common].to_numpy() == pytest.approx(
        res.overall.set_index("label")["churn_loss"][common].to_numpy(), rel=1e-9)


def test_recorded_reasons_are_used_and_checked_blind(telecom):
    _ws, data, out = telecom
    rec = data.tables["churn_records"].to_pandas()
    assert (out.attributed["source"] == "recorded").mean() > 0.99
    s = out.summary()
    assert s["attribution_checked"] >= 0.95 * len(rec)
    # blind: notes classified by a classifier that never saw their labels
    assert s["attribution_accuracy"] > 0.9
    assert s["attribution_type_accuracy"] > 0.85
    # without the notes only complaints and rules speak: far weaker, but not zero
    assert 0.2 < s["attribution_accuracy_without_notes"] < s["attribution_accuracy"]
    assert s["complaint_accuracy"] > 0.85


def test_controllable_share_matches_the_truth(telecom):
    _ws, data, out = telecom
    rec = data.tables["churn_records"].to_pandas()
    truth = rec["reason_category"].isin(["product", "price", "service", "benefit",
                                         "management"]).mean()
    assert out.breakdown.totals["controllable_share"] == pytest.approx(truth, abs=0.03)


def test_results_are_written(telecom):
    _ws, _data, out = telecom
    d = out.run_dir
    for name in ("attribution.parquet", "by_category.parquet", "by_type.parquet",
                 "controllable.parquet", "matrix.csv", "summary.json", "classifiers.json",
                 "complaints.parquet"):
        assert (d / name).exists(), name
    summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
    assert summary["classified"] > 0
    att = pd.read_parquet(d / "attribution.parquet")
    assert len(att) == len(out.attributed)


def test_dealers_staff_departure_found(demo_ws):
    ws, data = demo_ws("dealers")
    out = reasons_job(ws)
    dep = out.departures.set_index("owner_id")
    assert bool(dep.loc[data.planted["departed_owner_id"], "flagged"])
    for owner in data.planted["benign_departures"]:
        assert not bool(dep.loc[owner, "flagged"]), owner
    # the policy change of case 01 is management / benefit churn
    bc = out.breakdown.by_category
    assert set(bc["reason_category"]) >= {"management", "benefit", "price"}
