"""Risk tiers and per-customer drivers (pure functions; the end-to-end scoring is in
test_jobs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from churnradar.predict.scoring import risk_tiers, top_drivers


def test_risk_tiers_by_share():
    p = np.array([0.9, 0.1, 0.5, 0.3, 0.8, 0.2, 0.7, 0.05, 0.6, 0.4])
    tiers = risk_tiers(p, high_share=0.2, medium_share=0.3)
    assert list(tiers[np.argsort(-p)]) == ["high"] * 2 + ["medium"] * 3 + ["low"] * 5


@given(st.lists(st.floats(0, 1), min_size=1, max_size=200),
       st.floats(0.01, 0.5), st.floats(0, 0.5))
def test_risk_tiers_properties(values, high, medium):
    p = np.asarray(values)
    tiers = risk_tiers(p, high_share=high, medium_share=medium)
    n = len(p)
    assert (tiers == "high").sum() == round(high * n)
    assert (tiers != "low").sum() == round((high + medium) * n)
    # nobody in a lower tier has a higher probability than someone in a higher tier
    rank = {"high": 0, "medium": 1, "low": 2}
    r = np.array([rank[x] for x in tiers])
    for a in range(3):
        for b in range(a + 1, 3):
            if (r == a).any() and (r == b).any():
                assert p[r == a].min() >= p[r == b].max()


def test_top_drivers_pick_the_largest_positive_contributions():
    contrib = pd.DataFrame({
        "complaints_unresolved": [0.9, -0.2, 0.0],
        "orders_90d": [0.3, 0.5, -0.1],
        "owner_left": [0.1, 0.7, -0.3],
        "price_vs_plan": [-0.4, 0.6, -0.2],
    })
    out = top_drivers(contrib, 2)
    assert list(out["driver_1"]) == ["complaints_unresolved", "owner_left", None]
    assert list(out["driver_2"][:2]) == ["orders_90d", "price_vs_plan"]
    assert out.loc[0, "driver_1_effect"] == 0.9
    assert list(out["driver_1_reason"][:2]) == ["service", "management"]
    # orders_90d implies no reason: the first driver with one names the likely reason
    assert out.loc[0, "top_reason"] == "service"
    assert out.loc[1, "top_reason"] == "management"
    assert pd.isna(out.loc[2, "top_reason"])  # nothing pushes the risk up
