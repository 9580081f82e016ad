"""The telecom demo's planted retention campaign, measured by playbook_effects on the
lifecycle spells: the planted effect lies inside the measured interval."""

from __future__ import annotations

from churnradar import engine
from churnradar.datasets import make_demo_data
from churnradar.lifecycle import build_lifecycle
from churnradar.predict.labels import spells_frame
from churnradar.retention.effect import playbook_effects
from churnradar.settings import ChurnSettings


def test_planted_campaign_effect_recovered():
    d = make_demo_data("telecom", n_customers=20_000, random_state=0)
    con = engine.connect("duckdb")
    tables = {k: engine.register(con, f"camp_{k}", d.tables[k].to_pandas())
              for k in ("customers", "subscriptions")}
    spells = spells_frame(build_lifecycle(tables, ChurnSettings(as_of=d.as_of)).spells)
    actions = d.tables["retention_actions"].to_pandas()
    eff = playbook_effects(actions, spells, as_of=d.as_of, effect_days=90).set_index("action")
    row = eff.loc["__all__"]
    # campaign_effect_all is treated churn minus the churn without the campaign (< 0);
    # the measured effect is control churn minus treated churn (> 0 when it worked)
    truth = -d.planted["campaign_effect_all"]
    assert truth > 0
    assert row["effect_low"] <= truth <= row["effect_high"]
    assert row["treated"] == (actions["group"] == "treatment").sum()
    # the reminder has the largest planted success: its measured effect is clearly positive
    assert eff.loc["reminder", "effect_low"] > 0
