"""Did it work: Newcombe's interval against the published table, exact counts on a
hand-built table, and a planted effect recovered from a simulated campaign."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from churnradar.exceptions import SchemaError
from churnradar.retention.effect import ALL, EFFECT_COLUMNS, newcombe_interval, playbook_effects
from churnradar.retention.plan import control_group

#: Newcombe (1998), Table II, method 10 (score interval, no continuity correction):
#: (x1, n1, x2, n2) -> (lower, upper) of p1 − p2, 95%
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "interval"), NEWCOMBE_TABLE_II)
def test_newcombe_against_the_published_table(counts: tuple[int, int, int, int],
                                              interval: tuple[float, float]) -> None:
    d, lo, hi = newcombe_interval(*counts)
    x1, n1, x2, n2 = counts
    assert d == pytest.approx(x1 / n1 - x2 / n2)
    assert (round(lo, 4), round(hi, 4)) == interval


def test_newcombe_by_hand() -> None:
    # 56/70 − 48/80: Wilson intervals written out, z = 1.959964
    z = 1.959963984540054

    def wilson(x: int, n: int) -> tuple[float, float]:
        p = x / n
        centre = (2 * n * p + z * z) / (2 * (n + z * z))
        half = z * np.sqrt(z * z + 4 * n * p * (1 - p)) / (2 * (n + z * z))
        return centre - half, centre + half

    (l1, u1), (l2, u2) = wilson(56, 70), wilson(48, 80)
    lower = 0.2 - np.sqrt((0.8 - l1) ** 2 + (u2 - 0.6) ** 2)
    upper = 0.2 + np.sqrt((u1 - 0.8) ** 2 + (0.6 - l2) ** 2)
    assert newcombe_interval(56, 70, 48, 80) == pytest.approx((0.2, lower, upper))
    assert np.isnan(newcombe_interval(1, 0, 1, 2)).all()


def test_newcombe_against_statsmodels() -> None:
    sm = pytest.importorskip("statsmodels.stats.proportion")
    for (x1, n1, x2, n2), _ in NEWCOMBE_TABLE_II:
        ref = sm.confint_proportions_2indep(x1, n1, x2, n2, method="newcomb",
                                            compare="diff")
        assert newcombe_interval(x1, n1, x2, n2)[1:] == pytest.approx(ref, abs=1e-8)


AS_OF = dt.date(2024, 12, 31)


def _hand_built() -> tuple[pd.DataFrame, pd.DataFrame]:
    d = "2024-06-01"
    actions = pd.DataFrame([
        ("c1", "reminder", d, "treatment", "lost"),
        ("c2", "reminder", d, "treatment", "retained"),
        ("c3", "reminder", d, None, "contacted"),          # missing group = treatment
        ("c4", "reminder", d, "control", None),
        ("c5", "reminder", d, "对照组", None),               # alias of control
        ("c6", "reminder", "2024-11-01", "treatment", "open"),  # window ends after as_of
        ("c7", "reminder", d, "treatment", "not_reachable"),  # gone before the action
        ("c8", "care_call", d, "treatment", "retained"),
        ("c9", "care_call", d, "control", None),
        ("c2", "care_call", "2024-07-01", "treatment", "retained"),
        ("c10", "care_call", "2024-09-01", "control", None),
    ], columns=["customer_id", "action", "date", "group", "outcome"])
    nat = None
    spells = pd.DataFrame([
        ("c1", "2023-01-01", "2024-07-01"),   # churned 30 days after
        ("c2", "2023-01-01", nat),
        ("c3", "2023-01-01", "2024-10-01"),   # 122 days after: outside the window
        ("c4", "2023-01-01", "2024-06-15"),   # control churned
        ("c5", "2023-01-01", nat),
        ("c6", "2023-01-01", "2024-11-15"),   # churned, but its window is not complete
        ("c7", "2023-01-01", "2024-05-01"),
        ("c8", "2022-01-01", "2023-01-01"),   # an earlier spell ...
        ("c8", "2024-01-01", "2024-08-01"),   # ... and the one active at the action
        ("c9", "2023-01-01", nat),
        ("c10", "2023-01-01", "2025-01-05"),  # after as_of: not seen
    ], columns=["customer_id", "start_date", "churn_date"])
    spells["start_date"] = pd.to_datetime(spells.start_date)
    spells["churn_date"] = pd.to_datetime(spells.churn_date)
    return actions, spells


def test_exact_counts_on_a_hand_built_table() -> None:
    actions, spells = _hand_built()
    out = playbook_effects(actions, spells, as_of=AS_OF, effect_days=90).set_index("action")
    assert list(out.index) == ["care_call", "reminder", ALL]
    assert list(out.columns)[:len(EFFECT_COLUMNS) - 1] == list(EFFECT_COLUMNS[1:])
    r = out.loc["reminder"]
    assert (r.treated, r.treated_churned, r.control, r.control_churned) == (3, 1, 2, 1)
    assert (r.pending, r.treated_pending, r.control_pending, r.inactive) == (1, 1, 0, 1)
    assert r.treated_rate == pytest.approx(1 / 3) and r.control_rate == pytest.approx(0.5)
    assert r.effect == pytest.approx(0.5 - 1 / 3)
    d, lo, hi = newcombe_interval(1, 2, 1, 3)
    assert (r.effect_low, r.effect_high) == pytest.approx((lo, hi))
    assert r.p_value == pytest.approx(1.0)
    assert r.customers_saved == pytest.approx(3 * (0.5 - 1 / 3))
    assert (r.open, r.contacted, r.retained, r.lost, r.not_reachable) == (1, 1, 1, 1, 1)
    c = out.loc["care_call"]
    assert (c.treated, c.treated_churned, c.control, c.control_churned) == (2, 1, 2, 0)
    assert c.effect == pytest.approx(-0.5)
    assert c.retained == 2
    a = out.loc[ALL]  # c2 once (its earlier action), all customers once per group
    assert (a.treated, a.treated_churned, a.control, a.control_churned) == (4, 2, 4, 1)
    assert (a.pending, a.inactive) == (1, 1)


def test_errors_and_no_outcome_column() -> None:
    actions, spells = _hand_built()
    out = playbook_effects(actions.drop(columns=["outcome", "group"]), spells, as_of=AS_OF)
    assert list(out.columns) == list(EFFECT_COLUMNS)
    assert (out.control == 0).all() and out.effect.isna().all()
    with pytest.raises(SchemaError, match="date"):
        playbook_effects(actions.drop(columns="date"), spells, as_of=AS_OF)
    with pytest.raises(SchemaError, match="group"):
        playbook_effects(actions.assign(group="maybe"), spells, as_of=AS_OF)


def test_a_planted_effect_is_recovered_within_the_interval() -> None:
    rng = np.random.default_rng(11)
    n = 8000
    day = pd.Timestamp("2024-03-01")
    action = rng.choice(["reminder", "care_call"], n, p=[0.5, 0.5])
    control = control_group(np.ones(n, dtype=bool), 0.25, 3, strata=action)
    base = np.where(action == "reminder", 0.30, 0.20)
    planted = {"reminder": 0.12, "care_call": 0.03}
    lift = np.where(action == "reminder", planted["reminder"], planted["care_call"])
    p_churn = np.where(control, base, base - lift)
    churns = rng.random(n) < p_churn
    churn_day = day + pd.to_timedelta(rng.integers(1, 91, n), unit="D")
    spells = pd.DataFrame({
        "customer_id": np.arange(n),
        "start_date": pd.Timestamp("2022-01-01"),
        "churn_date": pd.Series(churn_day).where(churns),
    })
    actions = pd.DataFrame({"customer_id": np.arange(n), "action": action, "date": day,
                            "group": np.where(control, "control", "treatment")})
    out = playbook_effects(actions, spells, as_of=dt.date(2024, 12, 31)).set_index("action")
    for name, truth in planted.items():
        row = out.loc[name]
        assert row.effect_low <= truth <= row.effect_high
        assert row.treated + row.control == (action == name).sum()
    assert out.loc["reminder", "effect_low"] > 0 and out.loc["reminder", "p_value"] < 1e-6
    overall = (planted["reminder"] + planted["care_call"]) / 2
    assert out.loc[ALL, "effect_low"] <= overall <= out.loc[ALL, "effect_high"]
