"""The retention plan: whom to contact with which playbook, within a budget and a contact
capacity, with a random control group held back to measure whether it works.

Each at-risk customer gets the first matching playbook (:mod:`.playbooks`); its value is

    expected_saved = P(churn) × value × P(success)
    priority       = expected_saved − cost

(domain.md §4: different retention effort for different value). The plan chooses the set
of customers with the largest total priority whose costs fit the budget and whose number
fits the capacity: a 0/1 knapsack with up to two constraints (:func:`select_plan`).
A random share of the chosen customers is held back (:func:`control_group`) so that the
effect of each playbook can be measured afterwards (:mod:`.effect`).

The optimiser
-------------
:func:`optimise_selection` solves

    max Σ priority_i x_i   s.t.  Σ cost_i x_i ≤ budget,  Σ x_i ≤ capacity,  x_i ∈ {0, 1}

over the customers with priority > 0, in this order, stopping at the first step that
proves its answer optimal (up to the relative gap ``mip_rel_gap``, default 1e-4):

1. No budget: the ``capacity`` customers of highest priority (all of them without a
   capacity). Exact.
2. Budget and capacity: if the top customers by priority already fit the budget they are
   the optimum. Exact.
3. Lagrangian greedy: the budget constraint is moved into the objective with a price μ
   per unit of cost; for a given μ the best set of at most ``capacity`` customers simply
   takes the largest positive ``priority − μ·cost`` (for the budget alone: the customers
   in order of priority/cost ratio, Dantzig's greedy). Bisection finds the smallest μ whose
   set fits the budget; the remaining budget is filled in ratio order, and when the
   capacity is full, low-priority customers are swapped for better, costlier ones while
   the budget allows (this repairs the degenerate case of many ties at μ, e.g. priorities
   equal to cost plus a constant). Every μ also gives an upper bound
   ``μ·budget + Σ max-set (priority − μ·cost)`` on the optimum (weak duality; the smallest
   of them equals the LP relaxation, as the capacity-only problem is integral), so the
   answer comes with a proven gap. An optimal LP vertex has at most two fractional
   customers (two constraints), so rounding it down loses at most the priority of two
   customers: negligible for large candidate sets, where this step usually proves
   optimality (gap ≤ ``mip_rel_gap``) by itself. It is a heuristic with a certificate,
   not an exact method: the reported gap is what is proven.
4. Otherwise, for at most ``milp_max_candidates`` candidates (default 20,000), the exact
   MILP by :func:`scipy.optimize.milp` (HiGHS branch and bound) with ``mip_rel_gap`` and
   ``time_limit``; the better of its answer and the greedy one is kept, with the better of
   the two bounds. HiGHS's presolve is switched off: on the single dense knapsack row it
   spent 30 s on 10,000 candidates without a solution (time limit 5 s), while without it
   the same model solved in 1.4 s. Larger sets keep the greedy answer and its proven gap:
   on 100,000 candidates HiGHS overran a 5 s limit by 75–130 s and returned a solution far
   worse than the greedy one.

Measured (2 shared cores, 200,000 candidates, realistic priorities and the playbook
costs): 0.04 s without a budget, 0.1–0.3 s with a budget and/or capacity, always with a
proven gap below 1e-5; a strongly correlated synthetic instance (priority = cost + 100,
with ties) 0.5 s, gap 1e-8.

:class:`Selection` reports the method, the objective, the bound and the relative gap.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from churnradar import schema as s
from churnradar.exceptions import InputError, SchemaError
from churnradar.i18n import t
from churnradar.retention.playbooks import Playbook, assign_playbooks, load_playbooks
from churnradar.settings import RetentionSettings

log = logging.getLogger(__name__)

CHURN_PROBABILITY = "churn_probability"
COST = "cost"
SUCCESS = "success"
EXPECTED_SAVED = "expected_saved"
PRIORITY = "priority"
ELIGIBLE = "eligible"
SELECTED = "selected"
RANK = "rank"
TREATMENT, CONTROL = s.ACTION_GROUPS

#: columns :func:`build_plan` adds to the customers' table
PLAN_COLUMNS: tuple[str, ...] = (s.ACTION, COST, SUCCESS, EXPECTED_SAVED, PRIORITY, ELIGIBLE,
                                 SELECTED, s.GROUP, RANK)
#: columns of :func:`compare_strategies`
STRATEGY_COLUMNS: tuple[str, ...] = ("strategy", "contacted", "cost", "expected_saved", "net")
STRATEGIES: tuple[str, ...] = ("optimised", "top_risk", "random")


def expected_saved(churn_probability: ArrayLike, value: ArrayLike, success: ArrayLike
                   ) -> np.ndarray:
    """Value expected to be kept by the action: P(churn) × value × P(success)."""
    return (np.asarray(churn_probability, dtype=float) * np.asarray(value, dtype=float)
            * np.asarray(success, dtype=float))


def priority(churn_probability: ArrayLike, value: ArrayLike, success: ArrayLike,
             cost: ArrayLike) -> np.ndarray:
    """The net expected value of acting: P(churn) × value × P(success) − cost."""
    return expected_saved(churn_probability, value, success) - np.asarray(cost, dtype=float)


# --- the optimiser ---------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """The answer of :func:`optimise_selection`.

    ``objective`` is the total priority of the selection, ``bound`` a proven upper bound
    on the best possible total, ``gap = (bound − objective) / |bound|`` (0: optimal).
    ``exact`` is true when the gap is within the requested ``mip_rel_gap``.
    """

    selected: np.ndarray
    method: str
    objective: float
    bound: float
    gap: float
    exact: bool
    candidates: int
    seconds: float


def _check_limits(budget: float | None, capacity: int | None) -> None:
    if budget is not None and (not math.isfinite(budget) or budget < 0):
        raise InputError(key="retention_err_out_of_range", name="budget", rule="≥ 0",
                         value=budget)
    if capacity is not None and (isinstance(capacity, bool) or capacity < 0
                                 or int(capacity) != capacity):
        raise InputError(key="retention_err_out_of_range", name="capacity",
                         rule="≥ 0 (whole number)", value=capacity)


def _top(score: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest positive scores."""
    pos = np.flatnonzero(score > 0)
    if len(pos) > k:
        pos = pos[np.argpartition(-score[pos], k - 1)[:k]] if k > 0 else pos[:0]
    return pos


def _fill(chosen: np.ndarray, p: np.ndarray, c: np.ndarray, budget: float, k: int) -> None:
    """Add customers in priority/cost ratio order while budget and capacity allow."""
    room = budget - float(c[chosen].sum())
    slots = k - int(chosen.sum())
    if slots <= 0 or room < 0:
        return
    paid = c > 0
    ratio = np.where(paid, p / np.where(paid, c, 1.0), np.inf)
    rest = np.flatnonzero(~chosen)
    rest = rest[np.argsort(-ratio[rest], kind="stable")]
    cheapest = np.minimum.accumulate(c[rest][::-1])[::-1]
    for j, i in enumerate(rest):
        if slots == 0 or room < cheapest[j]:
            break
        if c[i] <= room:
            chosen[i] = True
            room -= c[i]
            slots -= 1


def _swap(chosen: np.ndarray, p: np.ndarray, c: np.ndarray, budget: float) -> None:
    """Replace the lowest-priority chosen customers by higher-priority others while the
    budget allows (each swap raises the total priority and keeps the count)."""
    room = budget - float(c[chosen].sum())
    inside = np.flatnonzero(chosen)
    inside = inside[np.argsort(p[inside], kind="stable")]
    outside = np.flatnonzero(~chosen)
    outside = outside[np.argsort(-p[outside], kind="stable")]
    j = 0
    for o in outside:
        if j >= len(inside) or p[o] <= p[inside[j]]:
            break
        i = inside[j]
        if c[o] - c[i] <= room:
            chosen[i], chosen[o] = False, True
            room -= c[o] - c[i]
            j += 1


def _lagrangian(p: np.ndarray, c: np.ndarray, budget: float, k: int
                ) -> tuple[np.ndarray, float]:
    """Greedy selection by the Lagrangian price of the budget, and its upper bound."""
    paid = c > 0
    hi = float(np.max(p[paid] / c[paid])) * (1 + 1e-9) + 1e-300 if paid.any() else 0.0
    lo = 0.0
    bound = math.inf
    best = _top(p - hi * c, k)
    for mu in (lo, hi):
        score = p - mu * c
        bound = min(bound, mu * budget + float(score[_top(score, k)].sum()))
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        score = p - mid * c
        pick = _top(score, k)
        bound = min(bound, mid * budget + float(score[pick].sum()))
        if c[pick].sum() <= budget:
            hi, best = mid, pick
        else:
            lo = mid
        if hi - lo <= 1e-13 * hi:
            break
    chosen = np.zeros(len(p), dtype=bool)
    chosen[best] = True
    _fill(chosen, p, c, budget, k)
    if chosen.sum() == k:
        # capacity full but budget left (ties at the price μ, e.g. priorities that are
        # cost + a constant): swap cheap low-priority customers for better costlier ones
        _swap(chosen, p, c, budget)
        _fill(chosen, p, c, budget, k)
    _repair(chosen, p, c, budget, k)
    # the best single customer (the classical guard of the greedy's worst case)
    single = int(np.argmax(p))
    if p[single] > p[chosen].sum() and k >= 1:
        chosen[:] = False
        chosen[single] = True
    return chosen, bound


def _milp(p: np.ndarray, c: np.ndarray, budget: float, capacity: int | None,
          mip_rel_gap: float, time_limit: float) -> tuple[np.ndarray | None, float]:
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    rows = [c] if capacity is None else [c, np.ones_like(c)]
    upper = [budget] if capacity is None else [budget, float(capacity)]
    res = milp(-p, integrality=np.ones_like(p), bounds=Bounds(0, 1),
               constraints=LinearConstraint(sparse.csr_array(np.vstack(rows)), -np.inf,
                                            upper),
               options={"mip_rel_gap": mip_rel_gap, "time_limit": time_limit,
                        "presolve": False, "disp": False})
    dual = getattr(res, "mip_dual_bound", None)
    bound = -float(dual) if dual is not None and np.isfinite(dual) else math.inf
    if res.x is None:
        return None, bound
    x = res.x > 0.5
    # integer solutions are within the solver's tolerance of 0/1: repair any overshoot
    _repair(x, p, c, budget, len(p) if capacity is None else capacity)
    return x, bound


def _repair(x: np.ndarray, p: np.ndarray, c: np.ndarray, budget: float, k: int) -> None:
    """Drop the lowest-ratio customers until budget and capacity hold exactly (guards
    against rounding in the solver and in running sums)."""
    if c[x].sum() <= budget and x.sum() <= k:
        return
    ratio = np.where(c > 0, p / np.where(c > 0, c, 1.0), np.inf)
    for i in np.flatnonzero(x)[np.argsort(ratio[x], kind="stable")]:
        if c[x].sum() <= budget and x.sum() <= k:
            break
        x[i] = False


def optimise_selection(priority: ArrayLike, cost: ArrayLike, *, budget: float | None,
                       capacity: int | None, mip_rel_gap: float = 1e-4,
                       time_limit: float = 10.0, milp_max_candidates: int = 20_000
                       ) -> Selection:
    """Choose the customers maximising the total priority within budget and capacity.

    Parameters
    ----------
    priority, cost
        One value per customer; only customers with a finite priority > 0 (and a cost
        within the budget) are candidates. Costs must not be negative.
    budget
        Total cost at most this much; ``None`` = no limit (``0`` means no money: only
        free actions).
    capacity
        At most this many customers; ``None`` = no limit.
    mip_rel_gap
        Relative optimality gap at which a solution counts as optimal.
    time_limit
        Seconds for the MILP step.
    milp_max_candidates
        Larger candidate sets skip the MILP and keep the greedy answer with its proven gap.

    Returns
    -------
    Selection
        The boolean mask (one per input row), the method that produced it, its
        objective, the proven bound and gap (see the module docstring).
    """
    start = time.perf_counter()
    p_all = np.asarray(priority, dtype=float)
    c_all = np.asarray(cost, dtype=float)
    if p_all.shape != c_all.shape or p_all.ndim != 1:
        raise InputError(key="retention_err_out_of_range", name="priority/cost",
                         rule="1-D arrays of the same length",
                         value=f"{p_all.shape} and {c_all.shape}")
    _check_limits(budget, capacity)
    if (c_all[np.isfinite(c_all)] < 0).any():
        raise InputError(key="retention_err_out_of_range", name="cost", rule="≥ 0",
                         value=float(np.nanmin(c_all)))
    cand = np.isfinite(p_all) & np.isfinite(c_all) & (p_all > 0)
    if budget is not None:
        cand &= c_all <= budget
    idx = np.flatnonzero(cand)
    p, c = p_all[idx], c_all[idx]
    n = len(idx)
    k = n if capacity is None else min(int(capacity), n)

    def done(local: np.ndarray, method: str, bound: float, gap_goal: float) -> Selection:
        mask = np.zeros(len(p_all), dtype=bool)
        mask[idx[local]] = True
        obj = float(p[local].sum())
        bound = max(bound, obj)
        gap = (bound - obj) / abs(bound) if bound > 0 else 0.0
        return Selection(mask, method, obj, bound, gap, gap <= gap_goal + 1e-12, n,
                         time.perf_counter() - start)

    if n == 0 or k == 0:
        return done(np.zeros(n, dtype=bool), "none", 0.0, 0.0)
    top = np.zeros(n, dtype=bool)
    top[np.argsort(-p, kind="stable")[:k]] = True
    if budget is None or c[top].sum() <= budget:
        # the best unconstrained set fits: optimal
        return done(top, "all_positive" if k == n else "top_priority", float(p[top].sum()),
                    0.0)
    greedy, bound = _lagrangian(p, c, budget, k)
    value = float(p[greedy].sum())
    if bound <= value or (bound - value) / abs(bound) <= mip_rel_gap:
        return done(greedy, "lagrangian", bound, mip_rel_gap)
    if n > milp_max_candidates:
        log.info("plan: %d candidates, greedy answer within %.2g of the optimum", n,
                 (bound - value) / abs(bound))
        return done(greedy, "lagrangian", bound, mip_rel_gap)
    x, milp_bound = _milp(p, c, budget, capacity, mip_rel_gap, time_limit)
    bound = min(bound, milp_bound)
    if x is not None and float(p[x].sum()) > value:
        return done(x, "milp", bound, mip_rel_gap)
    return done(greedy, "lagrangian", bound, mip_rel_gap)


def select_plan(priority: ArrayLike, cost: ArrayLike, *, budget: float | None,
                capacity: int | None, mip_rel_gap: float = 1e-4, time_limit: float = 10.0
                ) -> np.ndarray:
    """The customers to contact: maximum total priority with Σ cost ≤ ``budget`` and
    count ≤ ``capacity`` (``None`` = no limit), only customers with priority > 0.

    Without budget and capacity every customer with a positive priority is chosen.
    See :func:`optimise_selection` for the method and what is exact.

    Returns
    -------
    numpy.ndarray
        Boolean mask, one per input row.
    """
    return optimise_selection(priority, cost, budget=budget, capacity=capacity,
                              mip_rel_gap=mip_rel_gap, time_limit=time_limit).selected


# --- the control group -----------------------------------------------------------------

def control_group(selected: ArrayLike, share: float, random_state: int | None, *,
                  strata: ArrayLike | None = None) -> np.ndarray:
    """A random share of the selected rows, held back as the control group.

    Exactly ``round(share × n_selected)`` rows (halves rounded up) are drawn without
    replacement with ``numpy.random.default_rng(random_state)``: the same inputs and seed
    give the same group. With ``strata`` (e.g. the playbook of each row) the count is
    split over the strata in proportion to their size (largest remainders, ties broken
    at random), so that every playbook has its own control group for measuring its effect;
    the total stays exact.

    Returns
    -------
    numpy.ndarray
        Boolean mask of the control rows (a subset of ``selected``).
    """
    sel = np.asarray(selected, dtype=bool)
    if not 0 <= share <= 1:
        raise InputError(key="retention_err_out_of_range", name="control_share",
                         rule="∈ [0, 1]", value=share)
    idx = np.flatnonzero(sel)
    total = int(math.floor(share * len(idx) + 0.5))
    rng = np.random.default_rng(random_state)
    out = np.zeros(len(sel), dtype=bool)
    if total == 0:
        return out
    if strata is None:
        out[rng.choice(idx, size=total, replace=False)] = True
        return out
    labels = pd.Series(np.asarray(strata, dtype=object)[idx]).astype(object)
    codes, _ = pd.factorize(labels.where(labels.notna(), "\0none"), sort=True)
    counts = np.bincount(codes)
    exact = share * counts
    quota = np.minimum(np.floor(exact).astype(int), counts)
    extra = total - int(quota.sum())
    if extra > 0:
        rem = exact - quota
        order = np.lexsort((rng.random(len(counts)), -rem))
        order = order[quota[order] < counts[order]][:extra]
        quota[order] += 1
    for code, q in enumerate(quota):
        if q > 0:
            out[rng.choice(idx[codes == code], size=int(q), replace=False)] = True
    return out


# --- the plan --------------------------------------------------------------------------

@dataclass
class PlanResult:
    """A retention plan.

    ``table``: the input customers, in input order, with the columns of
    :data:`PLAN_COLUMNS` added: ``action`` (playbook key), ``cost``, ``success``,
    ``expected_saved``, ``priority``, ``eligible`` (may be contacted: the playbook
    contacts and probability and value are known), ``selected``, ``group``
    ("treatment" / "control" / None) and ``rank`` (1 = highest priority among the
    selected; <NA> otherwise).

    ``summary``: candidates, selected, treated, control, total_cost (of the selection,
    what the budget covers), treated_cost, expected_saved (treated), expected_saved_selected,
    net (treated: expected_saved − treated_cost), net_selected, budget, capacity (None =
    no limit), customers, missing (rows without probability or value), no_offer (rows of
    a playbook that never contacts: malicious churn), no_playbook (rows no playbook
    matches: only when the workspace removed the catch-all), and the optimiser's method,
    objective, bound, gap, exact, seconds (:class:`Selection`).

    ``comparison``: :func:`compare_strategies` of the selection.
    """

    table: pd.DataFrame
    summary: dict[str, Any]
    comparison: pd.DataFrame
    playbooks: tuple[Playbook, ...] = field(default_factory=tuple)


def _require(frame: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(key="retention_err_missing_columns", table=table,
                          columns=", ".join(missing))


def _limit(value: float | None, default: float) -> float | None:
    v = default if value is None else value
    return None if v == 0 else v


def build_plan(customers: pd.DataFrame, settings: RetentionSettings, *,
               budget: float | None = None, capacity: int | None = None,
               playbooks: tuple[Playbook, ...] | None = None) -> PlanResult:
    """The retention plan for the at-risk customers.

    Parameters
    ----------
    customers
        One row per customer: ``customer_id``, ``churn_probability`` (in [0, 1]),
        ``value`` (what keeping the customer is worth, e.g. CLV), and where known
        ``reason_category``, ``churn_type``, ``is_key_account``. Other columns (owner_id,
        risk_tier, value_tier ...) are kept. Rows without probability or value are never
        selected.
    settings
        Budget, capacity, control share, seed and playbook overrides.
    budget, capacity
        Override the settings; ``0`` (and a setting of 0) means no limit.
    playbooks
        Default: :func:`~churnradar.retention.playbooks.load_playbooks` of ``settings``.

    Raises
    ------
    SchemaError
        A required column is missing, or a customer appears twice.
    InputError
        A probability outside [0, 1], a negative budget or capacity.
    """
    _require(customers, (s.CUSTOMER_ID, CHURN_PROBABILITY, s.VALUE), "customers")
    if customers[s.CUSTOMER_ID].duplicated().any():
        dup = customers.loc[customers[s.CUSTOMER_ID].duplicated(), s.CUSTOMER_ID].iloc[0]
        raise SchemaError(key="retention_err_out_of_range", name="customers.customer_id",
                          rule="unique", value=dup)
    prob = pd.to_numeric(customers[CHURN_PROBABILITY], errors="coerce").to_numpy(float)
    value = pd.to_numeric(customers[s.VALUE], errors="coerce").to_numpy(float)
    bad = np.isfinite(prob) & ((prob < 0) | (prob > 1))
    if bad.any():
        raise InputError(key="retention_err_out_of_range", name=CHURN_PROBABILITY,
                         rule="∈ [0, 1]", value=float(prob[bad][0]))
    budget_ = _limit(budget, settings.budget)
    capacity_ = _limit(capacity, settings.capacity)
    cap = None if capacity_ is None else int(capacity_)
    _check_limits(budget_, cap)
    books = load_playbooks(settings) if playbooks is None else playbooks
    by_key = {b.key: b for b in books}

    action = assign_playbooks(customers, books)
    known = pd.notna(action)
    keys = np.where(known, action, "")
    cost = _lookup(keys, {k: b.cost for k, b in by_key.items()})
    success = _lookup(keys, {k: b.success for k, b in by_key.items()})
    contact = _lookup(keys, {k: float(b.contact) for k, b in by_key.items()}) > 0
    saved = expected_saved(prob, value, success)
    prio = saved - cost
    eligible = contact & known & np.isfinite(prio)
    sel = optimise_selection(np.where(eligible, prio, np.nan), cost, budget=budget_,
                             capacity=cap)
    control = control_group(sel.selected, settings.control_share, settings.random_state,
                            strata=action)
    group = np.full(len(customers), None, dtype=object)
    group[sel.selected] = TREATMENT
    group[control] = CONTROL
    chosen = np.flatnonzero(sel.selected)
    ranks = np.zeros(len(customers), dtype=np.int64)
    ranks[chosen[np.argsort(-prio[chosen], kind="stable")]] = np.arange(1, len(chosen) + 1)
    rank = pd.arrays.IntegerArray(ranks, ~sel.selected)

    table = customers.copy()
    for name, col in ((s.ACTION, action), (COST, cost), (SUCCESS, success),
                      (EXPECTED_SAVED, saved), (PRIORITY, prio), (ELIGIBLE, eligible),
                      (SELECTED, sel.selected), (s.GROUP, group), (RANK, rank)):
        table[name] = col
    treated = sel.selected & ~control
    summary: dict[str, Any] = {
        "customers": len(customers),
        "candidates": sel.candidates,
        "selected": int(sel.selected.sum()),
        "treated": int(treated.sum()),
        "control": int(control.sum()),
        "total_cost": float(cost[sel.selected].sum()),
        "treated_cost": float(cost[treated].sum()),
        "expected_saved": float(saved[treated].sum()),
        "expected_saved_selected": float(saved[sel.selected].sum()),
        "net": float((saved - cost)[treated].sum()),
        "net_selected": float((saved - cost)[sel.selected].sum()),
        "budget": budget_,
        "capacity": cap,
        "missing": int((~(np.isfinite(prob) & np.isfinite(value))).sum()),
        "no_offer": int((known & ~contact).sum()),
        "no_playbook": int((~known).sum()),
        "method": sel.method,
        "objective": sel.objective,
        "bound": sel.bound,
        "gap": sel.gap,
        "exact": sel.exact,
        "seconds": sel.seconds,
    }
    comparison = compare_strategies(table, budget=budget_, capacity=cap,
                                    random_state=settings.random_state)
    return PlanResult(table=table, summary=summary, comparison=comparison, playbooks=books)


def _lookup(keys: np.ndarray, values: dict[str, float]) -> np.ndarray:
    """Per-row value of the playbook key ('' = no playbook: 0), vectorised."""
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object))
    table = np.array([values.get(u, 0.0) for u in uniques], dtype=float)
    return table[codes] if len(codes) else np.zeros(0)


# --- the comparison --------------------------------------------------------------------

def _prefix(order: np.ndarray, cost: np.ndarray, budget: float | None,
            capacity: int | None) -> np.ndarray:
    """The longest prefix of ``order`` within budget and capacity."""
    n = len(order)
    if budget is not None:
        n = int(np.searchsorted(np.cumsum(cost[order]), budget, side="right"))
    if capacity is not None:
        n = min(n, capacity)
    return order[:n]


def _random_prefix(rng: np.random.Generator, elig: np.ndarray, cost: np.ndarray,
                   budget: float | None, capacity: int | None) -> np.ndarray:
    """:func:`_prefix` of a random order of ``elig``, drawing only as much of the order
    as the limits can use (a full permutation of a million rows per draw is slow)."""
    n = len(elig)
    if budget is None and capacity is None:
        return elig
    m = n if capacity is None else min(n, capacity)
    if budget is not None and n:
        mean = float(cost[elig].mean())
        m = min(m, int(budget / mean * 1.2) + 64 if mean > 0 else n)
    order = rng.choice(elig, size=m, replace=False)
    while True:
        pick = _prefix(order, cost, budget, capacity)
        if len(pick) < len(order) or len(order) == n:
            return pick
        # every drawn customer fits: draw the next part of the same random order
        rest = np.setdiff1d(elig, order, assume_unique=True)
        more = rng.choice(rest, size=min(len(rest), len(order)), replace=False)
        order = np.concatenate([order, more])


def compare_strategies(table: pd.DataFrame, *, budget: float | None,
                       capacity: int | None, random_state: int | None = 0,
                       draws: int = 20) -> pd.DataFrame:
    """The optimised selection against two simpler lists at the same budget and capacity.

    - ``optimised``: the rows with ``selected`` (before the control group is held back).
    - ``top_risk``: contact by descending ``churn_probability``, as many customers as fit
      the budget and capacity (the longest such prefix).
    - ``random``: contact in random order, as many as fit; the mean over ``draws`` seeded
      draws.

    Only eligible rows (``eligible`` column when present, else a known priority) are
    contacted by the two lists, so malicious churners get no offer from any strategy.
    ``expected_saved`` sums P(churn) × value × P(success) of the contacted customers and
    ``net`` subtracts their cost.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`STRATEGY_COLUMNS` (strategy, contacted, cost, expected_saved, net),
        one row per strategy of :data:`STRATEGIES`.
    """
    _require(table, (CHURN_PROBABILITY, COST, EXPECTED_SAVED, SELECTED), "plan table")
    cost = table[COST].to_numpy(float)
    saved = table[EXPECTED_SAVED].to_numpy(float)
    if ELIGIBLE in table.columns:
        eligible = table[ELIGIBLE].to_numpy(bool)
    else:
        eligible = table[PRIORITY].notna().to_numpy() if PRIORITY in table.columns \
            else np.isfinite(saved)
    elig = np.flatnonzero(eligible)

    def row(name: str, rows: np.ndarray) -> dict[str, Any]:
        c, e = float(cost[rows].sum()), float(saved[rows].sum())
        return {"strategy": name, "contacted": float(len(rows)), "cost": c,
                "expected_saved": e, "net": e - c}

    out = [row("optimised", np.flatnonzero(table[SELECTED].to_numpy(bool)))]
    prob = table[CHURN_PROBABILITY].to_numpy(float)[elig]
    by_risk = elig[np.argsort(-prob, kind="stable")]
    out.append(row("top_risk", _prefix(by_risk, cost, budget, capacity)))
    rng = np.random.default_rng(random_state)
    drawn = [row("random", _random_prefix(rng, elig, cost, budget, capacity))
             for _ in range(max(draws, 1))]
    mean = pd.DataFrame(drawn).drop(columns="strategy").mean()
    out.append({"strategy": "random", **mean.to_dict()})
    return pd.DataFrame(out, columns=list(STRATEGY_COLUMNS))


# --- the export ------------------------------------------------------------------------

def export_actions(plan: PlanResult, as_of: dt.date, *, lang: str | None = None
                   ) -> pd.DataFrame:
    """The plan as a ``retention_actions`` table to fill in and import back.

    One row per selected customer, treatment first in rank order, then the control group:
    ``customer_id``, ``action`` (the playbook key; for the control group the playbook it
    would have had, so each playbook's effect can be measured), ``date`` (``as_of``),
    ``group``, ``outcome`` (empty: to be filled with open / contacted / retained / lost /
    not_reachable) and ``note`` (the playbook's name; "do not contact" for the control).
    """
    tab = plan.table
    chosen = tab[tab[s.GROUP].notna()].copy()
    chosen["_g"] = (chosen[s.GROUP] == CONTROL).astype(int)
    chosen = chosen.sort_values(["_g", RANK], kind="stable")
    names = {b.key: b.name(lang) for b in plan.playbooks}
    control_note = t("playbook_note_control", lang)
    note = [control_note if g == CONTROL else names.get(a, a)
            for a, g in zip(chosen[s.ACTION], chosen[s.GROUP], strict=True)]
    return pd.DataFrame({
        s.CUSTOMER_ID: chosen[s.CUSTOMER_ID].to_numpy(),
        s.ACTION: chosen[s.ACTION].to_numpy(),
        s.DATE: [as_of] * len(chosen),
        s.GROUP: chosen[s.GROUP].to_numpy(),
        s.OUTCOME: [None] * len(chosen),
        s.NOTE: note,
    })


__all__ = ["PLAN_COLUMNS", "STRATEGIES", "STRATEGY_COLUMNS", "PlanResult", "Selection",
           "build_plan", "compare_strategies", "control_group", "expected_saved",
           "export_actions", "optimise_selection", "priority", "select_plan"]
