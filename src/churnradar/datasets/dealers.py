"""Demo dealer network: a non-contractual business (orders from A/B/C-grade dealers).

What is planted, so that later analyses can be checked against it:

- a stock of dealers at the window start plus new ones, with an acquisition peak (a
  recruitment promotion month) whose cohort churns more;
- ordinary churn with the causes of :data:`DEALER_CAUSES` (price, quality, rebates,
  cross-region dumping 窜货, late delivery, closures, bad debt ...);
- one salesperson leaves and takes a large share of his/her dealers within two months;
- a few other salespeople (3 per 100, at least 2) leave with a proper handover, in
  the middle half of the window: their dealers churn no more than anyone's (the
  negatives a staff-departure analysis must not flag);
- a harsh channel-policy change after which six-month churn of A-grade dealers is far
  higher than of B-grade dealers (domain.md, case 01: 42% vs 23%);
- seasonal ordering (stocking before the Spring Festival, a slump in February);
- churned dealers simply stop ordering, their orders shrinking in the last months;
- win-backs: some dealers order again after a long gap.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa

from churnradar.datasets import _arrow, _feedback, _text
from churnradar.datasets._causes import DEALER_CAUSES
from churnradar.datasets._common import (
    EPOCH,
    Episodes,
    Shock,
    Window,
    acquisition_days,
    group_offsets,
    monthly_to_daily,
    simulate_episodes,
)
from churnradar.schema import (
    AMOUNT,
    CHANNEL,
    CUSTOMER_ID,
    DATE,
    GRADE,
    HIRED_AT,
    IS_KEY_ACCOUNT,
    LEFT_AT,
    MARGIN,
    NAME,
    OWNER_ID,
    PRODUCT,
    REGION,
    SEGMENT,
    SIGNUP_DATE,
    TRANSACTION_ID,
)

GRADES = ("A", "B", "C")
GRADE_P = (0.10, 0.25, 0.65)
SEGMENTS = ("五金", "家电", "建材", "日化")
SEGMENT_P = (0.35, 0.25, 0.25, 0.15)
PRODUCTS: dict[str, tuple[str, ...]] = {
    "五金": ("电动工具", "手动工具", "紧固件", "锁具", "五金配件"),
    "家电": ("小家电", "厨卫电器", "空调配件", "照明灯具"),
    "建材": ("瓷砖", "卫浴洁具", "涂料", "管材管件"),
    "日化": ("洗护用品", "清洁用品", "纸品"),
}
REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")
REGION_P = (0.30, 0.20, 0.15, 0.13, 0.10, 0.06, 0.06)
PLACES: dict[str, tuple[str, ...]] = {
    "华东": ("杭州", "温州", "苏州", "宁波", "南京", "上海", "合肥"),
    "华南": ("广州", "佛山", "东莞", "厦门", "南宁"),
    "华北": ("北京", "天津", "石家庄", "太原", "济南"),
    "华中": ("武汉", "长沙", "郑州", "南昌"),
    "西南": ("成都", "重庆", "昆明", "贵阳"),
    "西北": ("西安", "兰州", "银川"),
    "东北": ("沈阳", "哈尔滨", "长春", "大连"),
}
CHANNELS = ("直营", "分销")
#: monthly churn probability by grade; extra for new dealers and the promotion cohort
MONTHLY_CHURN = (0.008, 0.012, 0.016)
NEW_EXTRA, PROMO_EXTRA = 0.02, 0.05
#: six-month churn after the policy change (domain.md case 01; C-grade not in the case)
POLICY_TARGET = (0.42, 0.23, 0.14)
#: share of the departing salesperson's active dealers who leave with him/her
DEPARTURE_P = 0.6
#: salespeople who leave with a proper handover: a share of all, and at least this many
BENIGN_SHARE, BENIGN_MIN = 0.03, 2
#: mean days between orders by grade, and the regularity (gamma shape) of the gaps
ORDER_GAP = (24.0, 50.0, 110.0)
GAP_SHAPE = 3.0
#: typical order amount by grade (median, CNY)
ORDER_AMOUNT = (30_000.0, 8_000.0, 2_000.0)
#: ordering intensity by calendar month (January stocking before the Spring Festival)
SEASON = (1.25, 0.55, 1.05, 1.0, 1.0, 0.95, 0.85, 0.85, 1.1, 1.15, 1.1, 1.2)
DEALERS_PER_SALESPERSON = 150

# planted dates, as fractions of the window (2023-10, 2024-03-15, 2024-07-01 for 2023-2025)
PROMOTION_AT = (1, 4)
DEPARTURE_AT = (7, 18)
POLICY_AT = (1, 2)


def simulate(window: Window, n: int, rng: np.random.Generator) -> tuple[dict[str, pa.Table],
                                                                        dict[str, Any]]:
    """Simulate ``n`` dealers over ``window``.

    Returns
    -------
    tables : dict of str to pyarrow.Table
        customers, transactions, complaints, churn_records, staff.
    planted : dict
        The planted effects: ``promotion_month``, ``departed_owner_id`` and
        ``departed_on`` (the salesperson who takes dealers along), ``benign_departures``
        (owner ids of the salespeople who leave with a handover, no extra churn) and
        ``policy_change``.
    """
    causes = DEALER_CAUSES
    start_day = window.start_day
    n_old = int(round(0.55 * n))
    ids = _arrow.id_array("D", np.arange(1, n + 1), _arrow.digits_for(n, 6))

    # --- who the dealers are
    grade = rng.choice(3, size=n, p=GRADE_P)
    segment = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_P)
    region = rng.choice(len(REGIONS), size=n, p=REGION_P)
    key = rng.random(n) < np.array([0.6, 0.03, 0.0])[grade]
    promo_month = window.planted_month(*PROMOTION_AT)
    signup = np.empty(n, dtype=np.int64)
    signup[:n_old] = start_day - rng.integers(30, 3650, n_old)
    signup[n_old:] = acquisition_days(rng, window, n - n_old, promo_month, 4.0)
    new = signup >= start_day
    promo = new & (window.month_of(signup) == promo_month)
    entry = np.maximum(signup, start_day)

    n_staff = max(len(REGIONS), round(n / DEALERS_PER_SALESPERSON))
    staff_region, owner = _assign_owners(rng, region, n_staff)
    staff_digits = _arrow.digits_for(n_staff, 3)
    # the departing salesperson: one of the largest region's team
    team = np.flatnonzero(staff_region == 0)
    leaver = int(team[rng.integers(0, len(team))])
    leave_day = window.month_first_day(window.planted_month(*DEPARTURE_AT)) + 14
    policy_day = window.month_first_day(window.planted_month(*POLICY_AT))

    # --- when and why they leave
    monthly = np.asarray(MONTHLY_CHURN)[grade] * np.where(key, 0.8, 1.0)
    hazard = monthly_to_daily(monthly)
    new_hazard = np.where(new, monthly_to_daily(np.where(promo, PROMO_EXTRA, NEW_EXTRA)), 0.0)
    # extra policy churn so that baseline + policy reaches the target six-month rate
    base6 = 1.0 - (1.0 - np.asarray(MONTHLY_CHURN)) ** 6
    policy_p = 1.0 - (1.0 - np.asarray(POLICY_TARGET)) / (1.0 - base6)
    shocks = [
        Shock(leave_day, 60, np.where(owner == leaver, DEPARTURE_P, 0.0),
              (causes.code("salesperson_left"), causes.code("salesperson_left_orphan")),
              (0.75, 0.25)),
        Shock(policy_day - 1, 183, policy_p[grade],
              (causes.code("policy_change"), causes.code("policy_rebate")), (0.55, 0.45),
              shape=(1.2, 2.0)),
    ]
    eps = simulate_episodes(rng, window, entry, hazard, new_hazard, causes, shocks,
                            winback_prob=0.12, winback_gap=(120, 400))

    complaints, _ = _feedback.complaints(
        rng, window, eps, causes, ids, _text.dealer_complaints(),
        channels=(("电话", "微信", "业务员反馈", "邮件"), (0.35, 0.35, 0.2, 0.1)),
        base_per_year=0.1,
        base_mix={"benefit": 0.25, "management": 0.25, "service": 0.2, "product": 0.2,
                  "price": 0.1},
    )
    tables = {
        "customers": _customers(rng, ids, signup, grade, key, segment, region, owner,
                                staff_digits),
        "transactions": _transactions(rng, window, eps, ids, grade, segment),
        "complaints": complaints,
        "churn_records": _feedback.churn_records(rng, eps, causes, ids),
        "staff": _staff(rng, window, n_staff, staff_digits, leaver, leave_day),
    }
    owner_ids = tables["staff"].column(OWNER_ID)
    left_ids = owner_ids.filter(tables["staff"].column(LEFT_AT).is_valid()).to_pylist()
    planted = {
        "promotion_month": window.month_date(promo_month),
        "departed_owner_id": owner_ids[leaver].as_py(),
        "departed_on": EPOCH + dt.timedelta(days=leave_day),
        "benign_departures": [o for o in left_ids if o != owner_ids[leaver].as_py()],
        "policy_change": window.month_date(window.planted_month(*POLICY_AT)),
    }
    return tables, planted


def _assign_owners(
    rng: np.random.Generator, region: np.ndarray, n_staff: int
) -> tuple[np.ndarray, np.ndarray]:
    """Salespeople work one region each, in proportion to the region's dealers."""
    share = np.maximum(1, np.floor(np.asarray(REGION_P) * n_staff)).astype(np.int64)
    share[0] += n_staff - share.sum()
    staff_region = np.repeat(np.arange(len(REGIONS)), share)
    first = np.cumsum(share) - share
    owner = first[region] + (rng.random(len(region)) * share[region]).astype(np.int64)
    return staff_region, owner


def _customers(
    rng: np.random.Generator, ids: pa.Array, signup: np.ndarray, grade: np.ndarray,
    key: np.ndarray, segment: np.ndarray, region: np.ndarray, owner: np.ndarray,
    staff_digits: int,
) -> pa.Table:
    n = len(signup)
    pool: list[str] = []
    first = np.zeros((len(SEGMENTS), len(REGIONS)), dtype=np.int64)
    size = np.zeros_like(first)
    for s, seg in enumerate(SEGMENTS):  # a few pools, not rows
        for r, reg in enumerate(REGIONS):
            names = _text.dealer_names(seg, PLACES[reg])
            first[s, r], size[s, r] = len(pool), len(names)
            pool.extend(names)
    name = first[segment, region] + (rng.random(n) * size[segment, region]).astype(np.int64)
    direct = rng.random(n) < np.array([0.6, 0.35, 0.2])[grade]
    return pa.table({
        CUSTOMER_ID: ids,
        NAME: _arrow.pick(pool, name),
        SIGNUP_DATE: _arrow.dates(signup),
        GRADE: _arrow.pick(GRADES, grade),
        IS_KEY_ACCOUNT: _arrow.bools(key),
        SEGMENT: _arrow.pick(SEGMENTS, segment),
        REGION: _arrow.pick(REGIONS, region),
        CHANNEL: _arrow.pick(CHANNELS, np.where(direct, 0, 1)),
        OWNER_ID: _arrow.pick_ids("S", owner, staff_digits),
    })


def _staff(
    rng: np.random.Generator, window: Window, count: int, digits: int, leaver: int,
    leave_day: int,
) -> pa.Table:
    """Salespeople. Those hired before the window have no hire date in the export.

    Besides ``leaver`` (who leaves on ``leave_day`` and takes dealers along), 3 per 100
    salespeople (at least 2) leave with a proper handover on a random day of the middle
    half of the window, at least 90 days after their hiring. They are drawn from a child
    generator (``rng.spawn``), after ``rng``'s own draws, so that adding them left every
    other table and column bit for bit as it was.
    """
    names = _text.person_names()
    incumbent = rng.random(count) < 0.75
    incumbent[leaver] = True
    span = max(1, (window.end_day - window.start_day) * 2 // 3)
    hired = window.start_day + rng.integers(0, span, count)
    left = np.full(count, leave_day, dtype=np.int64)
    stayed = np.ones(count, dtype=bool)
    stayed[leaver] = False
    name = rng.integers(0, len(names), count)
    benign, benign_day = _benign_departures(rng.spawn(1)[0], window, incumbent, hired,
                                            leaver)
    left[benign], stayed[benign] = benign_day, False
    return pa.table({
        OWNER_ID: _arrow.id_array("S", np.arange(1, count + 1), digits),
        NAME: _arrow.pick(names, name),
        HIRED_AT: _arrow.dates(hired, null=incumbent),
        LEFT_AT: _arrow.dates(left, null=stayed),
    })


def _benign_departures(
    rng: np.random.Generator, window: Window, incumbent: np.ndarray, hired: np.ndarray,
    leaver: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Who leaves with a handover (indices, never ``leaver``) and on which day."""
    count = len(hired)
    length = window.end_day - window.start_day
    lo, hi = window.start_day + length // 4, window.start_day + 3 * length // 4
    earliest = np.where(incumbent, lo, np.maximum(lo, hired + 90))
    eligible = np.flatnonzero(earliest <= hi)
    eligible = eligible[eligible != leaver]
    n = min(len(eligible), max(BENIGN_MIN, round(BENIGN_SHARE * count)))
    who = np.sort(rng.choice(eligible, size=n, replace=False))
    day = earliest[who] + (rng.random(n) * (hi - earliest[who] + 1)).astype(np.int64)
    return who, day


def _season_clock(window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative ordering intensity at each day boundary of the window (mean 1 per day)
    and the day numbers: orders are spread evenly on this clock, then mapped back."""
    days = np.arange(window.start_day, window.stop_day + 1, dtype=np.int64)
    month = days[:-1].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    weight = np.asarray(SEASON)[month]
    weight /= weight.mean()
    clock = np.concatenate([[0.0], np.cumsum(weight)])
    return clock, days.astype(np.float64)


def _transactions(
    rng: np.random.Generator, window: Window, eps: Episodes, ids: pa.Array,
    grade: np.ndarray, segment: np.ndarray,
) -> pa.Table:
    """Orders as a renewal process per episode: gamma gaps (dealers restock on a rough
    cycle) on a seasonal clock. Orders fall strictly before the churn day; a dealer who
    joins (or returns) orders on that day."""
    clock, days = _season_clock(window)
    cust = eps.customer
    g = grade[cust]
    mean_gap = np.asarray(ORDER_GAP)[g]
    lo = np.interp(eps.start, days, clock)
    length = np.interp(eps.stop, days, clock) - lo
    joined = (eps.start > window.start_day) | (eps.number == 2)
    first = np.where(joined, 0.0, rng.random(len(eps)) * rng.gamma(GAP_SHAPE, mean_gap / GAP_SHAPE))
    first = np.where(first < length, first, rng.random(len(eps)) * length)
    expected = length / mean_gap
    draws = 1 + np.ceil(expected + 4.0 * np.sqrt(expected / GAP_SHAPE) + 2.0).astype(np.int64)

    ep, rank = group_offsets(draws)
    step = rng.gamma(GAP_SHAPE, 1.0 / GAP_SHAPE, len(ep)) * mean_gap[ep]
    step[rank == 0] = first[ep[rank == 0]]
    total = np.cumsum(step)
    before = total[np.cumsum(draws) - draws] - step[rank == 0]
    offset = total - np.repeat(before, draws)
    del step, total
    inside = offset < length[ep]
    ep, offset = ep[inside], offset[inside]
    day = np.floor(np.interp(lo[ep] + offset, clock, days)).astype(np.int64)
    day = np.clip(day, eps.start[ep], eps.stop[ep] - 1)
    del offset

    # by date, then customer: rows are already in customer order, so a stable sort on the
    # day (a 16-bit radix sort) is enough
    order = np.argsort((day - window.start_day).astype(np.int16), kind="stable")
    ep, day = ep[order], day[order]
    c = cust[ep]
    n = len(ep)
    base = rng.lognormal(0.0, 0.5, len(grade)) * np.asarray(ORDER_AMOUNT)[grade]
    calendar = np.arange(window.start_day, window.stop_day).astype("datetime64[D]")
    month_of_day = calendar.astype("datetime64[M]").astype(np.int64) % 12
    month = month_of_day[day - window.start_day]
    fading = eps.churned[ep] & (day >= eps.stop[ep] - 120)
    amount = np.round(
        base[c] * rng.lognormal(0.0, 0.35, n) * np.sqrt(np.asarray(SEASON)[month])
        * np.where(fading, 0.6, 1.0),
        2,
    )
    margin = np.round(amount * rng.uniform(0.05, 0.15, n), 2)
    products: list[str] = []
    first_product = np.zeros(len(SEGMENTS), dtype=np.int64)
    n_products = np.zeros(len(SEGMENTS), dtype=np.int64)
    for s, seg in enumerate(SEGMENTS):
        first_product[s], n_products[s] = len(products), len(PRODUCTS[seg])
        products.extend(PRODUCTS[seg])
    seg = segment[c]
    product = first_product[seg] + (rng.random(n) * n_products[seg]).astype(np.int64)
    return pa.table({
        CUSTOMER_ID: ids.take(pa.array(c)),
        TRANSACTION_ID: _arrow.id_array("O", np.arange(1, n + 1), _arrow.digits_for(n, 8)),
        DATE: _arrow.dates(day),
        AMOUNT: _arrow.floats(amount),
        MARGIN: _arrow.floats(margin),
        PRODUCT: _arrow.pick(products, product),
    })
