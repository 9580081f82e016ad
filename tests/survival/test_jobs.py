"""The survival job on small demo workspaces: files, summary and consistency."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from churnradar import schema as s
from churnradar.datasets import make_demo_data
from churnradar.exceptions import InputError, SchemaError, WorkspaceError
from churnradar.survival import survival_job
from churnradar.survival.durations import CHURNED, DURATION_DAYS, ENTRY_DAYS, PLAN
from churnradar.workspace import Workspace
from tests.survival.conftest import d

FILES = ["cox_summary.parquet", "durations.parquet", "km_curve.parquet",
         "km_summary.parquet", "logrank.parquet", "logrank_pairwise.parquet",
         "remaining.parquet"]


def _workspace(folder, industry: str, n: int, seed: int, inactivity: int) -> Workspace:
    """customers + subscriptions / transactions of a demo, written as imported tables."""
    ws = Workspace.create(folder, language="en")
    data = make_demo_data(industry, n_customers=n, random_state=seed)  # type: ignore[arg-type]
    for name in ("customers", "subscriptions", "transactions"):
        if name in data.tables:
            ws.write_table(name, data.tables[name])
    ws.set_setting("churn", "as_of", data.as_of)
    ws.set_setting("churn", "inactivity_days", inactivity)
    return ws


@pytest.fixture(scope="module")
def telecom(tmp_path_factory):
    ws = _workspace(tmp_path_factory.mktemp("survival") / "telecom", "telecom", 1200, 5, 90)
    return ws, survival_job(ws)


@pytest.fixture(scope="module")
def dealers_ws(tmp_path_factory):
    return _workspace(tmp_path_factory.mktemp("survival") / "dealers", "dealers", 1000, 6, 180)


def test_job_writes_its_tables(telecom):
    ws, out = telecom
    assert out.run_dir.parent == ws.runs_dir and out.run_dir.name.endswith("-survival")
    assert sorted(p.name for p in out.run_dir.glob("*.parquet")) == FILES
    manifest = json.loads((out.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "survival"
    assert set(manifest["data"]) == {"customers", "subscriptions"}
    stored = {f: pd.read_parquet(out.run_dir / f) for f in FILES}
    pairs = {"durations.parquet": out.durations, "km_curve.parquet": out.km.curve,
             "km_summary.parquet": out.km.summary, "logrank.parquet": out.km.logrank,
             "logrank_pairwise.parquet": out.km.pairwise,
             "remaining.parquet": out.remaining}
    assert out.cox is not None
    pairs["cox_summary.parquet"] = out.cox.summary
    for name, frame in pairs.items():
        assert len(stored[name]) == len(frame), name
        assert list(stored[name].columns) == list(frame.columns), name
    summary = json.loads((out.run_dir / "survival.json").read_text(encoding="utf-8"))
    assert summary == out.summary | {"files": FILES}
    assert dataclasses.is_dataclass(out) and dataclasses.fields(out)


def test_summary_is_consistent(telecom):
    _ws, out = telecom
    dur, sm = out.durations, out.summary
    assert sm["business"] == "contractual" and sm["as_of"] == "2025-12-31"
    assert sm["customers"] == len(dur) == 1200
    assert sm["churned"] + sm["active"] == len(dur)
    assert sm["left_truncated"] == int(dur["left_truncated"].sum()) > 0
    assert sm["remaining_model"] == "cox" and sm["cox_skipped"] is None
    assert sm["cox"]["n"] == len(dur) and 0.5 < sm["cox"]["concordance"] < 1
    # the headline median is lifelines' on the saved durations, with delayed entry
    ref = KaplanMeierFitter().fit(dur[DURATION_DAYS], dur[CHURNED], entry=dur[ENTRY_DAYS])
    assert sm["median_days"] == ref.median_survival_time_ and sm["median_reached"]
    assert sm["median_lower"] <= sm["median_days"] <= sm["median_upper"]
    assert sm["survival"]["365"] == pytest.approx(ref.survival_function_at_times(365).iloc[0])
    # every grouping the telecom data has, plan and cohort included
    assert sm["groupings"] == [s.GRADE, s.SEGMENT, s.REGION, s.CHANNEL, s.IS_KEY_ACCOUNT,
                               s.OWNER_ID, PLAN, "cohort"]
    assert set(sm["logrank_p"]) == set(sm["groupings"])
    # remaining survival: exactly the active customers, riskiest first
    rem = out.remaining
    assert sorted(rem[s.CUSTOMER_ID]) == sorted(dur.loc[~dur[CHURNED], s.CUSTOMER_ID])
    assert sm["remaining_customers"] == len(rem)
    assert rem["p_stay_30d"].is_monotonic_increasing
    cols = ["p_stay_30d", "p_stay_90d", "p_stay_180d", "p_stay_365d"]
    assert (np.diff(rem[cols].to_numpy(), axis=1) <= 1e-12).all()


def test_non_contractual_job_with_a_path_and_options(dealers_ws):
    steps = []
    out = survival_job(str(dealers_ws.root), groupings=[s.GRADE, "cohort"],
                       horizons=(180, 365), remaining_horizons=(90,), cohort_period="year",
                       confidence=0.9, step=lambda name, done, total: steps.append(
                           (name, done, total)))
    assert steps == [(f"survival_{n}", i, 1) for n in ("durations", "km", "cox", "save")
                     for i in (0, 1)]
    sm = out.summary
    assert sm["business"] == "non_contractual" and PLAN not in out.durations.columns
    assert sm["groupings"] == [s.GRADE, "cohort"]
    assert set(out.km.summary["grouping"]) == {"all", s.GRADE, "cohort"}
    assert set(out.durations["cohort"]) <= {"<2023", "2023", "2024", "2025"}
    assert sm["cox"]["covariates"] == [s.GRADE, "cohort"]
    assert list(out.remaining.columns)[3:5] == ["p_stay_90d", "median_remaining_days"]
    # activity-based churn: nobody counts as churned before 180 silent days
    curve = out.km.curve[out.km.curve["grouping"] == "all"]
    assert curve.loc[curve["t"] < 180, "events"].sum() == 0
    assert sm["survival"]["180"] is not None and sm["parameters"]["confidence"] == 0.9


def test_settings_override_the_workspace(dealers_ws):
    settings = dealers_ws.settings.with_overrides(
        churn=dataclasses.replace(dealers_ws.settings.churn, as_of=d("2024-12-31")))
    out = survival_job(dealers_ws, settings, groupings=[s.GRADE])
    assert out.summary["as_of"] == "2024-12-31"
    assert out.durations["end"].max() == pd.Timestamp("2024-12-31")


def test_without_covariates_the_curve_gives_the_remaining_lifetime(dealers_ws):
    out = survival_job(dealers_ws, groupings=[])
    assert out.cox is None and out.summary["cox_skipped"] == "survival_err_no_covariates"
    assert out.summary["remaining_model"] == "kaplan_meier"
    assert "cox_summary.parquet" not in out.summary["files"]
    assert not (out.run_dir / "cox_summary.parquet").exists()
    assert set(out.km.summary["grouping"]) == {"all"} and out.km.logrank.empty
    assert len(out.remaining) == out.summary["active"]
    assert "relative_hazard" not in out.remaining.columns


def test_job_errors(dealers_ws, tmp_path):
    runs_before = sorted(p.name for p in dealers_ws.runs_dir.iterdir())
    with pytest.raises(SchemaError, match="no grouping column 'tier'"):
        survival_job(dealers_ws, groupings=["tier"])
    with pytest.raises(InputError, match="distinct positive numbers of days"):
        survival_job(dealers_ws, remaining_horizons=(0,))
    settings = dealers_ws.settings.with_overrides(
        churn=dataclasses.replace(dealers_ws.settings.churn, as_of=d("2023-03-31")))
    with pytest.raises(InputError, match="has churned yet"):
        survival_job(dealers_ws, settings)
    with pytest.raises(WorkspaceError):
        survival_job(tmp_path / "nowhere")
    # failed jobs leave no run folder behind
    assert sorted(p.name for p in dealers_ws.runs_dir.iterdir()) == runs_before
