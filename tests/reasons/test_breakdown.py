"""Churn by reason: counts, rates, losses, controllable share, by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from churnradar.reasons.breakdown import reason_breakdown


def _att() -> pd.DataFrame:
    rows = [
        # customer, churn date, spell start, category, type, group, controllable
        ("a", "2025-01-10", "2023-01-01", "price", "competitive", "active", True),
        ("b", "2025-01-20", "2023-01-01", "price", "competitive", "active", True),
        ("c", "2025-01-25", "2024-06-01", "natural", "natural", "active", False),
        ("d", "2025-02-05", "2023-01-01", "service", "retaliatory", "passive", True),
        ("e", "2025-02-07", "2023-01-01", None, None, None, None),
        ("f", "2025-02-20", "2025-02-01", "price", "competitive", "active", True),  # in & out
    ]
    return pd.DataFrame({
        "customer_id": [r[0] for r in rows], "at": pd.to_datetime([r[1] for r in rows]),
        "start_date": pd.to_datetime([r[2] for r in rows]),
        "reason_category": [r[3] for r in rows], "churn_type": [r[4] for r in rows],
        "type_group": [r[5] for r in rows], "controllable": [r[6] for r in rows]})


def test_counts_rates_losses_by_hand() -> None:
    p_jan = 2025 * 12 + 0
    starts = pd.DataFrame({"p": [p_jan, p_jan + 1], "start_count": [100, 80]})
    losses = pd.DataFrame({"customer_id": list("abcdef"),
                           "churn_date": _att()["at"],
                           "lost_revenue": [100.0, 200.0, 50.0, 400.0, 10.0, 999.0],
                           "churn_loss": [10.0, 20.0, 5.0, 40.0, 1.0, 99.9]})
    bd = reason_breakdown(_att(), period="month", starts=starts, losses=losses)
    jan = bd.by_category[bd.by_category["label"] == "2025-01"].set_index("reason_category")
    assert jan.loc["price", "churned"] == 2
    assert jan.loc["price", "rate"] == pytest.approx(2 / 100)
    assert jan.loc["price", "churn_loss"] == pytest.approx(30.0)
    assert jan.loc["price", "share"] == pytest.approx(2 / 3)
    assert jan.loc["natural", "controllable"] == "uncontrollable"
    feb = bd.by_category[bd.by_category["label"] == "2025-02"].set_index("reason_category")
    # f joined and left in February: not a churn the metrics count
    assert set(feb.index) == {"service", "unknown"}
    assert feb["churned"].sum() == 2
    assert feb.loc["service", "rate"] == pytest.approx(1 / 80)
    ctl = bd.controllable.set_index("label")
    assert ctl.loc["2025-01", "controllable"] == 2
    assert ctl.loc["2025-01", "uncontrollable"] == 1
    assert ctl.loc["2025-01", "controllable_share"] == pytest.approx(2 / 3)
    assert ctl.loc["2025-01", "controllable_loss_share"] == pytest.approx(30 / 35)
    assert ctl.loc["2025-02", "unknown"] == 1
    tot = bd.totals
    assert tot["churned"] == 5
    assert tot["controllable"] == 3 and tot["uncontrollable"] == 1 and tot["unknown"] == 1
    assert tot["controllable_share"] == pytest.approx(3 / 4)
    assert tot["churn_loss"] == pytest.approx(76.0)
    assert tot["controllable_loss"] == pytest.approx(70.0)
    # the matrix holds every counted churn once
    assert int(bd.matrix.to_numpy().sum()) == 5
    assert bd.by_type["churned"].sum() == 5


def test_quarters_and_no_losses() -> None:
    bd = reason_breakdown(_att(), period="quarter")
    assert list(bd.by_category["label"].unique()) == ["2025-Q1"]
    # f joined in Q1 and left in Q1: left out
    assert bd.by_category["churned"].sum() == 5
    assert bd.by_category["rate"].isna().all()
    assert bd.totals["churn_loss"] is None
