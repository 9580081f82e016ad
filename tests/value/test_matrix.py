"""Value tiers and the value x risk matrix, checked by hand on small tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnradar.value.matrix import ACTIONS, TIERS, value_risk_matrix, value_risk_table, value_tiers


def test_value_tiers_cut_by_share() -> None:
    clv = np.array([5.0, 100.0, 1.0, 50.0, 20.0, 0.0, 7.0, 9.0, 30.0, 10.0])
    tiers = value_tiers(clv, high_share=0.2, medium_share=0.3)
    # ranked: 100, 50 | 30, 20, 10 | rest
    assert list(tiers) == ["low", "high", "low", "high", "medium", "low", "low", "low",
                           "medium", "medium"]


def test_matrix_cells_sums_and_actions() -> None:
    table = pd.DataFrame({
        "customer_id": list("abcdefghij"),
        "clv": [100.0, 90.0, 80.0, 70.0, 60.0, 50.0, 40.0, 30.0, 20.0, 10.0],
        "risk": [0.9, 0.1, 0.2, 0.3, 0.8, 0.05, 0.4, 0.6, 0.7, 0.01],
    })
    out = value_risk_table(table, high_value_share=0.2, medium_value_share=0.3,
                           high_risk_share=0.2, medium_risk_share=0.3)
    a = out.set_index("customer_id")
    assert a.loc["a", "value_tier"] == "high" and a.loc["a", "risk_tier"] == "high"
    assert a.loc["a", "action"] == "retain_now"
    assert a.loc["b", "risk_tier"] == "low" and a.loc["b", "action"] == "keep_grow"
    assert a.loc["e", "value_tier"] == "medium" and a.loc["e", "risk_tier"] == "high"
    assert a.loc["a", "value_at_risk"] == pytest.approx(90.0)
    m = value_risk_matrix(out)
    assert len(m) == 9
    assert list(m["value_tier"].unique()) == list(TIERS)
    assert m["customers"].sum() == 10
    assert m["clv"].sum() == pytest.approx(550.0)
    assert m["value_at_risk"].sum() == pytest.approx(float((table.clv * table.risk).sum()))
    cell = m[(m.value_tier == "high") & (m.risk_tier == "high")].iloc[0]
    assert cell.customers == 1 and cell.clv == pytest.approx(100.0)
    empty = m[(m.value_tier == "low") & (m.risk_tier == "medium")].iloc[0]
    # low value: g(40, 0.4 medium), h(30, 0.6 medium), i(20, 0.7 medium), j(10, low), f(50, low)
    assert empty.customers == 3
    assert set(m["action"]) <= set(ACTIONS.values())


def test_missing_column_is_an_error() -> None:
    with pytest.raises(KeyError, match="risk"):
        value_risk_table(pd.DataFrame({"customer_id": [1], "clv": [1.0]}))
