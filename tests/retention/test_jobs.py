"""The plan job on the telecom demo workspace: budget and capacity hold, malicious churn
gets no offer, the control group is held back, the planted campaign's effect is measured."""

from __future__ import annotations

import pandas as pd
import pytest

from churnradar.retention.jobs import plan_job
from churnradar.workspace import Workspace


@pytest.fixture(scope="module")
def trained(trained_telecom):
    return trained_telecom


def test_plan_respects_budget_and_capacity(trained):
    ws, _data, pdata = trained
    out = plan_job(ws, data=pdata, budget=200.0, capacity=15)
    tab = out.plan.table
    sel = tab[tab["selected"]]
    assert sel["cost"].sum() <= 200.0 + 1e-9
    assert len(sel) <= 15
    assert (sel["priority"] > 0).all()
    # the at-risk customers are those of the configured risk tiers
    assert set(tab["risk_tier"]) <= {"high", "medium"}
    # malicious churn never gets an offer
    assert not tab.loc[tab["churn_type"] == "malicious", "selected"].any()
    # the control group is a random part of the selection, never contacted
    assert set(sel["group"]) <= {"treatment", "control"}
    assert tab.loc[~tab["selected"], "group"].isna().all()
    st = out.strategies.set_index("strategy")
    assert st.loc["optimised", "net"] >= st.loc["top_risk", "net"] - 1e-9
    assert st.loc["optimised", "net"] >= st.loc["random", "net"] - 1e-9
    assert (out.run_dir / "plan.parquet").exists()
    assert (out.run_dir / "summary.json").exists()


def test_campaign_effect_is_measured(trained):
    ws, data, pdata = trained
    out = plan_job(ws, data=pdata)
    eff = out.effects.set_index("action")
    actions = data.tables["retention_actions"].to_pandas()
    allrow = eff.loc["__all__"]
    counted = allrow["treated"] + allrow["control"] + allrow["pending"] + allrow["inactive"]
    assert counted == len(actions)
    assert allrow["control"] + allrow["control_pending"] == (actions["group"] == "control").sum()
    assert allrow["effect_low"] <= allrow["effect"] <= allrow["effect_high"]
    assert out.summary()["effect"]["treated"] == allrow["treated"]


def test_export_round_trip(trained, tmp_path):
    from churnradar.io import import_table

    ws, _data, pdata = trained
    path = tmp_path / "plan.csv"
    out = plan_job(ws, data=pdata, export=path)
    assert out.exported == path
    df = pd.read_csv(path, encoding="utf-8-sig")
    assert list(df.columns[:4]) == ["customer_id", "action", "date", "group"]
    assert len(df) == int(out.plan.table["selected"].sum())
    # it imports back as the retention_actions table
    fresh = Workspace.create(tmp_path / "ws2", language="en")
    res = import_table(fresh, "retention_actions", path)
    assert res.rows_imported == len(df)
