"""The retention plan: the optimiser against brute force, limits, the control group, the
comparison with simpler lists, the export in the retention_actions format."""

from __future__ import annotations

import datetime as dt
import itertools
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnradar.exceptions import InputError, SchemaError
from churnradar.retention.plan import (
    PLAN_COLUMNS,
    STRATEGY_COLUMNS,
    build_plan,
    compare_strategies,
    control_group,
    export_actions,
    optimise_selection,
    priority,
    select_plan,
)
from churnradar.schema import CONTRACTS, OUTCOMES
from churnradar.settings import RetentionSettings


def brute_force(p: np.ndarray, c: np.ndarray, budget: float | None,
                capacity: int | None) -> float:
    best = 0.0
    for mask in itertools.product((False, True), repeat=len(p)):
        m = np.array(mask, dtype=bool)
        if budget is not None and c[m].sum() > budget:
            continue
        if capacity is not None and m.sum() > capacity:
            continue
        best = max(best, float(p[m].sum()))
    return best


def feasible(sel: np.ndarray, p: np.ndarray, c: np.ndarray, budget: float | None,
             capacity: int | None) -> bool:
    return bool((budget is None or c[sel].sum() <= budget + 1e-9)
                and (capacity is None or sel.sum() <= capacity)
                and (p[sel] > 0).all())


def instance(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float | None,
                                                int | None]:
    n = int(rng.integers(1, 11))
    cost = rng.choice([0.0, 1.0, 2.0, 5.0, 10.0, 30.0], n) * rng.uniform(0.5, 1.5, n)
    prio = rng.normal(5, 10, n)
    budget = None if rng.random() < 0.2 else float(rng.uniform(0, cost.sum() + 1))
    capacity = None if rng.random() < 0.4 else int(rng.integers(0, n + 1))
    return prio, cost, budget, capacity


def test_priority_is_expected_saved_minus_cost() -> None:
    assert priority(0.5, 1000.0, 0.2, 30.0) == pytest.approx(0.5 * 1000 * 0.2 - 30)
    out = priority([0.1, 0.9], [100.0, 50.0], [0.5, 0.05], [2.0, 10.0])
    assert out == pytest.approx([3.0, -7.75])


def test_select_plan_equals_brute_force_on_random_tiny_instances() -> None:
    rng = np.random.default_rng(0)
    methods = set()
    for _ in range(400):
        p, c, budget, capacity = instance(rng)
        best = brute_force(p, c, budget, capacity)
        sel = optimise_selection(p, c, budget=budget, capacity=capacity, mip_rel_gap=0.0)
        methods.add(sel.method)
        assert feasible(sel.selected, p, c, budget, capacity)
        assert sel.objective == pytest.approx(best, rel=1e-9, abs=1e-9)
        assert sel.bound >= best - 1e-9
        mask = select_plan(p, c, budget=budget, capacity=capacity)
        assert feasible(mask, p, c, budget, capacity)
        assert p[mask].sum() >= best * (1 - 1e-4) - 1e-9
    # every path of the optimiser was taken
    assert {"milp", "lagrangian", "top_priority", "all_positive"} <= methods


def test_the_greedy_alone_is_feasible_and_its_bound_is_valid() -> None:
    rng = np.random.default_rng(1)
    for _ in range(300):
        p, c, budget, capacity = instance(rng)
        best = brute_force(p, c, budget, capacity)
        sel = optimise_selection(p, c, budget=budget, capacity=capacity,
                                 milp_max_candidates=0)
        assert feasible(sel.selected, p, c, budget, capacity)
        assert sel.objective <= best + 1e-9 <= sel.bound + 2e-9


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-50, 100), st.floats(0, 40)), min_size=1, max_size=40),
       st.one_of(st.none(), st.floats(0, 300)), st.one_of(st.none(), st.integers(0, 40)))
def test_budget_and_capacity_are_respected(rows: list[tuple[float, float]],
                                           budget: float | None,
                                           capacity: int | None) -> None:
    p = np.array([r[0] for r in rows])
    c = np.array([r[1] for r in rows])
    sel = optimise_selection(p, c, budget=budget, capacity=capacity)
    assert feasible(sel.selected, p, c, budget, capacity)
    assert sel.objective <= sel.bound + 1e-9
    assert 0 <= sel.gap <= 1


def test_without_limits_every_positive_priority() -> None:
    p = np.array([3.0, -1.0, 0.0, np.nan, 2.5])
    c = np.array([1.0, 1.0, 1.0, 1.0, 100.0])
    assert list(select_plan(p, c, budget=None, capacity=None)) == \
        [True, False, False, False, True]
    assert list(select_plan(p, c, budget=None, capacity=1)) == \
        [True, False, False, False, False]
    assert list(select_plan(p, c, budget=0.0, capacity=None)) == [False] * 5
    assert list(select_plan(p, c, budget=50, capacity=None)) == \
        [True, False, False, False, False]


def test_bad_limits_are_refused() -> None:
    with pytest.raises(InputError, match="budget"):
        select_plan([1.0], [1.0], budget=-1, capacity=None)
    with pytest.raises(InputError, match="capacity"):
        select_plan([1.0], [1.0], budget=None, capacity=-2)
    with pytest.raises(InputError, match="cost"):
        select_plan([1.0], [-1.0], budget=None, capacity=None)


def test_the_classical_greedy_trap_is_solved_exactly() -> None:
    # ratio greedy takes the small item and cannot fit the big one: 2 vs the optimum 10
    p = np.array([2.0, 10.0])
    c = np.array([1.0, 10.0])
    sel = optimise_selection(p, c, budget=10.0, capacity=None)
    assert list(sel.selected) == [False, True] and sel.exact


@pytest.mark.slow
def test_200k_candidates_within_seconds_and_a_proven_gap() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    prob = rng.beta(2, 5, n)
    value = rng.lognormal(7, 1, n)
    cost = rng.choice([2, 10, 30, 40, 60, 80, 300], n).astype(float)
    success = rng.choice([0.05, 0.2, 0.25, 0.3, 0.35, 0.5], n)
    p = priority(prob, value, success, cost)
    total = cost[p > 0].sum()
    for budget, capacity in ((total * 0.1, None), (total * 0.02, 50_000),
                             (total * 0.05, 15_000), (10_000.0, None)):
        start = time.perf_counter()
        sel = optimise_selection(p, cost, budget=budget, capacity=capacity)
        assert time.perf_counter() - start < 20
        assert feasible(sel.selected, p, cost, budget, capacity)
        assert sel.exact and sel.gap <= 1e-4


# --- control group -----------------------------------------------------------------

def test_control_group_exact_share_and_reproducible() -> None:
    rng = np.random.default_rng(3)
    selected = rng.random(1000) < 0.37
    n = int(selected.sum())
    for share in (0.0, 0.1, 0.25, 0.5, 1.0):
        ctrl = control_group(selected, share, 7)
        assert ctrl.sum() == int(np.floor(share * n + 0.5))
        assert not (ctrl & ~selected).any()
        assert (control_group(selected, share, 7) == ctrl).all()
    assert (control_group(selected, 0.3, 7) != control_group(selected, 0.3, 8)).any()
    # halves round up: 5 selected × 0.1 = 0.5 → 1
    assert control_group(np.ones(5, dtype=bool), 0.1, 0).sum() == 1
    with pytest.raises(InputError, match="control_share"):
        control_group(selected, 1.5, 0)


def test_control_group_by_strata_keeps_the_total_and_the_proportions() -> None:
    rng = np.random.default_rng(4)
    n = 5000
    selected = rng.random(n) < 0.6
    strata = rng.choice(np.array(["reminder", "care_call", "price_review", None],
                                 dtype=object), n, p=[0.5, 0.3, 0.19, 0.01])
    ctrl = control_group(selected, 0.1, 0, strata=strata)
    assert ctrl.sum() == int(np.floor(0.1 * selected.sum() + 0.5))
    assert not (ctrl & ~selected).any()
    for name in ("reminder", "care_call", "price_review"):
        in_s = selected & (strata == name)
        assert abs(ctrl[in_s].sum() - 0.1 * in_s.sum()) < 1
    assert (control_group(selected, 0.1, 0, strata=strata) == ctrl).all()


# --- the plan ----------------------------------------------------------------------

@pytest.fixture()
def customers() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 400
    return pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(n)],
        "churn_probability": rng.beta(2, 3, n),
        "value": rng.lognormal(6, 1, n),
        "reason_category": rng.choice(np.array(["price", "service", "benefit", None],
                                               dtype=object), n),
        "churn_type": rng.choice(np.array(["competitive", "non_malicious", "retaliatory",
                                           "malicious", None], dtype=object), n),
        "is_key_account": rng.random(n) < 0.05,
        "owner_id": rng.choice(["S1", "S2"], n),
    })


def test_build_plan_table_and_summary(customers: pd.DataFrame) -> None:
    settings = RetentionSettings(budget=3000.0, capacity=60, control_share=0.2)
    plan = build_plan(customers, settings)
    tab = plan.table
    assert list(tab.columns) == [*customers.columns, *PLAN_COLUMNS]
    assert (tab.customer_id == customers.customer_id).all()
    sel = tab.selected.to_numpy(bool)
    assert tab.cost[sel].sum() <= 3000 and sel.sum() <= 60
    assert (tab.priority[sel] > 0).all()
    assert tab.expected_saved.to_numpy() == pytest.approx(
        tab.churn_probability * tab.value * tab.success)
    assert set(tab.group[sel]) == {"treatment", "control"}
    assert tab.group[~sel].isna().all()
    s = plan.summary
    assert s["selected"] == sel.sum() == s["treated"] + s["control"]
    assert s["control"] == int(np.floor(0.2 * sel.sum() + 0.5))
    assert s["budget"] == 3000.0 and s["capacity"] == 60
    assert s["total_cost"] == pytest.approx(tab.cost[sel].sum())
    treated = (tab.group == "treatment").to_numpy()
    assert s["expected_saved"] == pytest.approx(tab.expected_saved[treated].sum())
    assert s["net"] == pytest.approx(s["expected_saved"] - s["treated_cost"])
    assert s["candidates"] == int((tab.eligible & (tab.priority > 0)).sum())
    # rank: 1..selected by descending priority among the selected
    ranked = tab[sel].sort_values("rank")
    assert list(ranked["rank"]) == list(range(1, sel.sum() + 1))
    assert ranked.priority.is_monotonic_decreasing
    assert tab["rank"][~sel].isna().all()
    # same inputs, same plan
    again = build_plan(customers, settings)
    pd.testing.assert_frame_equal(again.table, tab)


def test_limits_default_to_the_settings_and_zero_means_none(customers: pd.DataFrame) -> None:
    unlimited = build_plan(customers, RetentionSettings())
    tab = unlimited.table
    assert unlimited.summary["budget"] is None and unlimited.summary["capacity"] is None
    assert (tab.selected == (tab.eligible & (tab.priority > 0))).all()
    by_arg = build_plan(customers, RetentionSettings(budget=10_000.0), budget=500.0,
                        capacity=10)
    assert by_arg.summary["budget"] == 500.0 and by_arg.summary["selected"] <= 10
    zero = build_plan(customers, RetentionSettings(budget=500.0), budget=0)
    assert zero.summary["budget"] is None


def test_plan_input_errors(customers: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="value"):
        build_plan(customers.drop(columns="value"), RetentionSettings())
    bad = customers.assign(churn_probability=customers.churn_probability * 3)
    with pytest.raises(InputError, match="churn_probability"):
        build_plan(bad, RetentionSettings())
    with pytest.raises(SchemaError, match="unique"):
        build_plan(pd.concat([customers, customers.iloc[:1]]), RetentionSettings())


def test_rows_without_probability_or_value_are_never_selected(
        customers: pd.DataFrame) -> None:
    gaps = customers.copy()
    gaps.loc[:9, "value"] = np.nan
    plan = build_plan(gaps, RetentionSettings())
    assert not plan.table.selected[:10].any()
    assert plan.summary["missing"] == 10


@pytest.mark.parametrize(("budget", "capacity"), [(2000.0, None), (None, 25), (4000.0, 40),
                                                  (150.0, 3)])
def test_the_optimised_list_beats_top_risk_and_random(customers: pd.DataFrame,
                                                      budget: float | None,
                                                      capacity: int | None) -> None:
    plan = build_plan(customers, RetentionSettings(control_share=0.1), budget=budget,
                      capacity=capacity)
    cmp = plan.comparison.set_index("strategy")
    assert list(plan.comparison.columns) == list(STRATEGY_COLUMNS)
    assert list(cmp.index) == ["optimised", "top_risk", "random"]
    for other in ("top_risk", "random"):
        assert cmp.loc["optimised", "net"] >= cmp.loc[other, "net"] - 1e-6
        if budget is not None:
            assert cmp.loc[other, "cost"] <= budget + 1e-9
        if capacity is not None:
            assert cmp.loc[other, "contacted"] <= capacity
    assert cmp.loc["optimised", "net"] == pytest.approx(plan.summary["net_selected"])


def test_top_risk_is_the_longest_prefix_that_fits() -> None:
    table = pd.DataFrame({
        "churn_probability": [0.9, 0.8, 0.7, 0.6],
        "cost": [10.0, 50.0, 10.0, 10.0],
        "expected_saved": [20.0, 60.0, 5.0, 30.0],
        "selected": [True, False, False, True],
    })
    cmp = compare_strategies(table, budget=55.0, capacity=None).set_index("strategy")
    # 0.9 (10) fits, 0.8 (50) would make 60 > 55: the prefix stops at one customer
    assert cmp.loc["top_risk", "contacted"] == 1
    assert cmp.loc["top_risk", "net"] == 10.0
    assert cmp.loc["optimised", "net"] == (20 - 10) + (30 - 10)
    same = compare_strategies(table, budget=55.0, capacity=None, random_state=3)
    assert same.equals(compare_strategies(table, budget=55.0, capacity=None,
                                          random_state=3))


def test_export_is_a_retention_actions_table(customers: pd.DataFrame) -> None:
    plan = build_plan(customers, RetentionSettings(capacity=50, control_share=0.2))
    out = export_actions(plan, dt.date(2025, 6, 30), lang="en")
    contract = CONTRACTS["retention_actions"]
    assert list(out.columns) == [c.name for c in contract.columns]
    assert len(out) == plan.summary["selected"]
    assert out.customer_id.is_unique and (out.date == dt.date(2025, 6, 30)).all()
    assert out.group.iloc[0] == "treatment" and out.group.iloc[-1] == "control"
    assert (out.group == "control").sum() == plan.summary["control"]
    assert out.outcome.isna().all()
    assert set(OUTCOMES) >= set(out.outcome.dropna())
    control = out[out.group == "control"]
    assert control.note.str.contains("do not contact").all()
    # the control rows keep the playbook they would have had, to measure each playbook
    tab = plan.table.set_index("customer_id")
    assert (control.action.to_numpy() == tab.loc[control.customer_id, "action"].to_numpy()).all()
    assert "no_offer" not in set(out.action)


def test_the_random_list_is_a_prefix_of_a_uniform_random_order() -> None:
    from churnradar.retention.plan import _prefix, _random_prefix

    # mostly free actions: the first draw is too short and is extended
    cost = np.r_[np.zeros(1000), np.full(10, 100.0)]
    elig = np.arange(len(cost))
    rng = np.random.default_rng(0)
    fast = [len(_random_prefix(rng, elig, cost, 150.0, None)) for _ in range(3000)]
    full = [len(_prefix(rng.permutation(elig), cost, 150.0, None)) for _ in range(3000)]
    # the prefix ends before the second costly customer: 1010 × 2/11 on average
    assert np.mean(fast) == pytest.approx(np.mean(full), rel=0.03)
    assert np.mean(fast) == pytest.approx(1010 * 2 / 11, rel=0.03)


def test_ties_at_the_budget_price_are_repaired() -> None:
    # priority = cost + 100: at the price μ = 1 every customer ties, the greedy set jumps
    # from the costliest to the cheapest; the swap step must use the budget left
    rng = np.random.default_rng(2)
    n = 50_000
    c = rng.uniform(1, 1000, n).round()
    p = c + 100
    sel = optimise_selection(p, c, budget=float(c.sum() * 0.3), capacity=10_000)
    assert sel.method == "lagrangian" and sel.exact
    assert c[sel.selected].sum() <= c.sum() * 0.3 and sel.selected.sum() <= 10_000
