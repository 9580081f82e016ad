"""Demo telecom operator: a contractual business (subscriptions with monthly plans).

What is planted, so that later analyses can be checked against it:

- a stock of subscribers at the window start, plus new ones every month and an
  acquisition peak (a deep-discount promotion month) whose cohort churns more;
- ordinary churn with the causes of :data:`TELECOM_CAUSES` (price, service, network,
  billing mistakes, relocation, forgotten payments, fraud ...);
- a competitor's price war month with a spike of price / competitive churn;
- plan changes (ARPU up and down), with a downgrade shortly before many voluntary churns;
- complaints and low satisfaction scores before service-related churn;
- usage that fades in the months before leaving;
- win-backs: some churned subscribers sign a new plan after a gap;
- a retention campaign five months before the window end (``retention_actions``): at-risk
  and random subscribers get a playbook, a random 20% are held back as the control group,
  and the playbooks avert some churns with known probabilities (:mod:`._campaign`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa

from churnradar.datasets import _arrow, _campaign, _feedback, _text
from churnradar.datasets._causes import TELECOM_CAUSES
from churnradar.datasets._common import (
    Episodes,
    Shock,
    Window,
    acquisition_days,
    group_offsets,
    monthly_to_daily,
    seconds_in_days,
    simulate_episodes,
)
from churnradar.schema import (
    AMOUNT_PER_MONTH,
    CANCEL_KIND,
    CANCEL_KINDS,
    CANCEL_REASON,
    CHANNEL,
    CUSTOMER_ID,
    END_DATE,
    EVENT_TYPE,
    GRADE,
    HIRED_AT,
    IS_KEY_ACCOUNT,
    LEFT_AT,
    NAME,
    OWNER_ID,
    PRODUCT,
    REASON_CATEGORIES,
    REGION,
    SEGMENT,
    SIGNUP_DATE,
    START_DATE,
    TIME,
    VALUE,
)

SEGMENTS = ("个人", "家庭", "政企")
SEGMENT_P = (0.70, 0.22, 0.08)
CITIES = (
    "广州", "深圳", "佛山", "东莞", "杭州", "宁波", "南京", "苏州", "成都", "武汉",
    "西安", "郑州", "长沙", "济南", "合肥", "福州", "昆明", "南宁",
)
CITY_P = (9, 9, 5, 5, 7, 4, 6, 6, 7, 6, 5, 5, 4, 4, 4, 4, 3, 3)
CHANNELS = ("营业厅", "线上", "代理商")
CHANNEL_P = (0.45, 0.35, 0.20)
#: plans by segment, cheapest first; tier 0 is where downgrading customers end up
PLANS: dict[str, tuple[tuple[str, float], ...]] = {
    "个人": (
        ("保号套餐8元", 8.0), ("畅享套餐19元", 19.0), ("畅享套餐39元", 39.0),
        ("5G畅享套餐59元", 59.0), ("5G畅享套餐99元", 99.0), ("5G畅享套餐159元", 159.0),
        ("5G尊享套餐239元", 239.0),
    ),
    "家庭": (
        ("单宽带套餐79元（100M）", 79.0), ("家庭融合套餐129元（300M宽带）", 129.0),
        ("家庭融合套餐169元（500M宽带）", 169.0), ("家庭融合套餐199元（千兆宽带）", 199.0),
        ("家庭融合套餐299元（千兆宽带+IPTV）", 299.0),
    ),
    "政企": (
        ("政企基础专线380元", 380.0), ("政企云专线680元", 680.0), ("商务专线100M", 1280.0),
        ("商务专线500M", 3880.0), ("政企云专线旗舰版", 8800.0),
    ),
}
#: where new subscribers start on each segment's plan ladder
START_TIER_P: dict[str, tuple[float, ...]] = {
    "个人": (0.0, 0.15, 0.30, 0.25, 0.18, 0.08, 0.04),
    "家庭": (0.05, 0.35, 0.30, 0.20, 0.10),
    "政企": (0.10, 0.35, 0.30, 0.18, 0.07),
}
#: monthly churn probability by segment (before grade and key-account effects)
MONTHLY_CHURN = (0.014, 0.009, 0.005)
#: extra monthly churn of new subscribers in their first half year; promotion cohort
NEW_EXTRA, PROMO_EXTRA = 0.02, 0.05
#: share of subscribers of each segment lost to the competitor in the price-war month
PRICE_WAR_P = (0.035, 0.02, 0.005)
EVENT_TYPES = ("data_gb", "voice_minutes", "app_login")
#: at most this many usage rows: larger populations keep only the latest months
EVENT_BUDGET = 24_000_000
CHANGE_REASONS = ("套餐升档", "套餐降档")

# planted months, as fractions of the window (2024-09 and 2023-11 for 2023-2025)
PRICE_WAR_AT = (5, 9)
PROMOTION_AT = (5, 18)


def simulate(window: Window, n: int, rng: np.random.Generator) -> tuple[dict[str, pa.Table],
                                                                        dict[str, Any]]:
    """Simulate ``n`` telecom subscribers over ``window``.

    Returns
    -------
    tables : dict of str to pyarrow.Table
        customers, subscriptions, events, complaints, surveys, churn_records, staff,
        retention_actions.
    planted : dict
        The planted effects (price-war month, promotion month, the retention campaign:
        see :func:`churnradar.datasets._campaign.planted`).
    """
    causes = TELECOM_CAUSES
    start_day = window.start_day
    n_old = int(round(0.6 * n))
    ids = _arrow.id_array("T", np.arange(1, n + 1), _arrow.digits_for(n, 7))

    # --- who the subscribers are
    segment = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_P)
    promo_month = window.planted_month(*PROMOTION_AT)
    signup = np.empty(n, dtype=np.int64)
    signup[:n_old] = start_day - rng.integers(30, 5000, n_old)
    signup[n_old:] = acquisition_days(rng, window, n - n_old, promo_month, 4.0)
    new = signup >= start_day
    promo = new & (window.month_of(signup) == promo_month)
    entry = np.maximum(signup, start_day)

    offsets, prices, products = _plan_ladder()
    top_tier = np.array([len(PLANS[s]) - 1 for s in SEGMENTS])[segment]
    tier0 = _start_tiers(rng, segment)
    discount = np.where(rng.random(n) < 0.8, 1.0, rng.choice([0.5, 0.7, 0.8, 0.9], n))
    discount = np.where(promo, np.where(rng.random(n) < 0.3, 1.0, rng.choice([0.5, 0.6], n)),
                        discount)
    value = prices[offsets[segment] + tier0] * discount * rng.lognormal(0.0, 0.3, n)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(-value, kind="stable")] = np.arange(n)
    grade = np.where(rank < 0.15 * n, 0, np.where(rank < 0.5 * n, 1, 2))
    key = rank < max(1, round(0.03 * n))

    managed = key | (segment == 2)
    n_mgr = max(3, math.ceil(managed.sum() / 60))
    owner = np.where(managed, rng.integers(0, n_mgr, n), -1)
    mgr_digits = _arrow.digits_for(n_mgr, 3)

    # --- when and why they leave
    hazard = monthly_to_daily(
        np.asarray(MONTHLY_CHURN)[segment]
        * np.asarray([0.7, 1.0, 1.2])[grade]
        * np.where(key, 0.6, 1.0)
    )
    new_hazard = np.where(new, monthly_to_daily(np.where(promo, PROMO_EXTRA, NEW_EXTRA)), 0.0)
    war_month = window.planted_month(*PRICE_WAR_AT)
    war_day = window.month_first_day(war_month)
    war_len = window.month_first_day(war_month + 1) - war_day
    war = Shock(
        war_day - 1, war_len, np.asarray(PRICE_WAR_P)[segment],
        (causes.code("price_war"),), (1.0,),
    )
    eps = simulate_episodes(rng, window, entry, hazard, new_hazard, causes, [war],
                            winback_prob=0.12, winback_gap=(60, 365))
    # the campaign draws from its own stream: every other draw stays as without it
    eps, campaign = _campaign.run_campaign(rng.spawn(1)[0], window, eps, causes, key)

    subs = _subscriptions(rng, window, eps, ids, segment, tier0, top_tier, discount,
                          offsets, prices, products)
    complaints, callbacks = _feedback.complaints(
        rng, window, eps, causes, ids, _text.telecom_complaints(),
        channels=(("热线", "APP", "营业厅"), (0.5, 0.3, 0.2)),
        base_per_year=0.12,
        base_mix={"service": 0.35, "product": 0.30, "price": 0.15, "management": 0.12,
                  "benefit": 0.08},
    )
    tables = {
        "customers": _customers(rng, ids, signup, grade, key, segment, owner, mgr_digits),
        "subscriptions": subs,
        "events": _events(rng, window, eps, ids, segment, tier0, top_tier),
        "complaints": complaints,
        "surveys": _feedback.surveys(rng, window, eps, causes, ids, n, 0.5, callbacks),
        "churn_records": _feedback.churn_records(rng, eps, causes, ids),
        "staff": _staff(rng, window, n_mgr, mgr_digits),
        "retention_actions": _campaign.actions_table(campaign, ids),
    }
    planted = {
        "price_war_month": window.month_date(war_month),
        "promotion_month": window.month_date(promo_month),
        **_campaign.planted(campaign, ids),
    }
    return tables, planted


def _plan_ladder() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Flatten :data:`PLANS`: first index of each segment, price and name of each plan."""
    offsets: list[int] = []
    prices: list[float] = []
    names: list[str] = []
    for seg in SEGMENTS:
        offsets.append(len(names))
        for name, price in PLANS[seg]:
            names.append(name)
            prices.append(price)
    return np.array(offsets), np.array(prices), names


def _start_tiers(rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    tier = np.zeros(len(segment), dtype=np.int64)
    for s, seg in enumerate(SEGMENTS):  # three segments, not rows
        who = np.flatnonzero(segment == s)
        p = np.asarray(START_TIER_P[seg])
        tier[who] = rng.choice(len(p), size=len(who), p=p / p.sum())
    return tier


def _customers(
    rng: np.random.Generator, ids: pa.Array, signup: np.ndarray, grade: np.ndarray,
    key: np.ndarray, segment: np.ndarray, owner: np.ndarray, mgr_digits: int,
) -> pa.Table:
    n = len(signup)
    city = rng.choice(len(CITIES), size=n, p=np.asarray(CITY_P) / sum(CITY_P))
    people = _text.masked_names()
    firms = _text.company_names(CITIES)
    per_city = len(firms) // len(CITIES)
    firm = city * per_city + rng.integers(0, per_city, n)
    person = rng.integers(0, len(people), n)
    name = np.where(segment == 2, len(people) + firm, person)
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_P)
    return pa.table({
        CUSTOMER_ID: ids,
        NAME: _arrow.pick(people + firms, name),
        SIGNUP_DATE: _arrow.dates(signup),
        GRADE: _arrow.pick(("A", "B", "C"), grade),
        IS_KEY_ACCOUNT: _arrow.bools(key),
        SEGMENT: _arrow.pick(SEGMENTS, segment),
        REGION: _arrow.pick(CITIES, city),
        CHANNEL: _arrow.pick(CHANNELS, channel),
        OWNER_ID: _arrow.pick_ids("M", owner, mgr_digits),
    })


def _staff(rng: np.random.Generator, window: Window, count: int, digits: int) -> pa.Table:
    """Account managers. Those hired before the window have no hire date in the export."""
    names = _text.person_names()
    incumbent = rng.random(count) < 0.8
    hired = window.start_day + rng.integers(0, max(1, (window.end_day - window.start_day) // 2),
                                            count)
    return pa.table({
        OWNER_ID: _arrow.id_array("M", np.arange(1, count + 1), digits),
        NAME: _arrow.pick(names, rng.integers(0, len(names), count)),
        HIRED_AT: _arrow.dates(hired, null=incumbent),
        LEFT_AT: _arrow.dates(np.zeros(count, dtype=np.int64), null=np.ones(count, dtype=bool)),
    })


def _subscriptions(
    rng: np.random.Generator, window: Window, eps: Episodes, ids: pa.Array,
    segment: np.ndarray, tier0: np.ndarray, top_tier: np.ndarray, discount: np.ndarray,
    offsets: np.ndarray, prices: np.ndarray, products: list[str],
) -> pa.Table:
    """Contiguous plan rows per episode: a plan change ends one row the day the next
    starts; the last row of a churned episode ends on the churn day. A downgrade before
    a churn that a retention action averted stays (the subscriber stays on that plan)."""
    causes = TELECOM_CAUSES
    m = len(eps)
    cust = eps.customer
    length = eps.stop - eps.start
    cause = np.maximum(eps.cause, 0)
    risk_cause = np.maximum(eps.risk_cause, 0)
    company_side = [REASON_CATEGORIES.index(r)
                    for r in ("product", "price", "service", "benefit", "management")]
    voluntary = (eps.at_risk & ~causes.involuntary[risk_cause]
                 & np.isin(causes.reason[risk_cause], company_side))
    downgrade = voluntary & (eps.risk_day - eps.start > 60) & (rng.random(m) < 0.45)
    down_day = np.where(downgrade, eps.risk_day - rng.integers(30, 121, m), eps.stop)
    down_day = np.maximum(down_day, eps.start + 15)
    downgrade &= down_day < eps.signal_end
    limit = np.where(downgrade, down_day, eps.stop)

    years = length / 365.25
    n_change = np.minimum(rng.poisson(0.25 * years), 3)
    n_change = np.where(limit - eps.start >= 3, n_change, 0)
    ch_ep = np.repeat(np.arange(m), n_change)
    ch_day = eps.start[ch_ep] + 1 + (
        rng.random(len(ch_ep)) * (limit[ch_ep] - eps.start[ch_ep] - 1)
    ).astype(np.int64)
    dn_ep = np.flatnonzero(downgrade)

    # rows: kind 0 = first plan, 1 = ordinary change, 2 = downgrade before leaving
    row_ep = np.concatenate([np.arange(m), ch_ep, dn_ep])
    row_day = np.concatenate([eps.start, ch_day, down_day[dn_ep]])
    row_kind = np.concatenate([np.zeros(m, np.int8), np.ones(len(ch_ep), np.int8),
                               np.full(len(dn_ep), 2, np.int8)])
    order = np.lexsort((row_kind, row_day, row_ep))
    row_ep, row_day, row_kind = row_ep[order], row_day[order], row_kind[order]
    # two changes on one day: keep the later kind (the downgrade)
    last_of_day = np.ones(len(row_ep), dtype=bool)
    last_of_day[:-1] = (row_ep[1:] != row_ep[:-1]) | (row_day[1:] != row_day[:-1])
    row_ep, row_day, row_kind = row_ep[last_of_day], row_day[last_of_day], row_kind[last_of_day]
    _, rank = group_offsets(np.bincount(row_ep, minlength=m))

    # plan tiers along each episode: a bounded walk, mostly upward (ARPU growth)
    top = top_tier[cust[row_ep]]
    tier = np.zeros(len(row_ep), dtype=np.int64)
    first = rank == 0
    back = eps.number[row_ep] == 2
    redraw = _start_tiers(rng, segment[cust[row_ep]])
    tier[first] = np.where(back[first], redraw[first], tier0[cust[row_ep[first]]])
    up = rng.random(len(row_ep)) < 0.65
    for k in range(1, int(rank.max(initial=0)) + 1):  # at most four positions
        at = np.flatnonzero(rank == k)
        prev = tier[at - 1]
        step = np.where((row_kind[at] == 2) | ~up[at], -1, 1)
        nxt = prev + step
        nxt = np.where(nxt < 0, np.where(row_kind[at] == 2, 0, 1), nxt)
        nxt = np.where(nxt > top[at], prev - 1, nxt)
        tier[at] = nxt
    # a "change" to the same plan is no change: merge it into the previous row
    keep = first | (tier != np.roll(tier, 1))
    row_ep, row_day, tier = row_ep[keep], row_day[keep], tier[keep]

    n_rows = len(row_ep)
    last = np.ones(n_rows, dtype=bool)
    last[:-1] = row_ep[1:] != row_ep[:-1]
    next_day = np.empty(n_rows, dtype=np.int64)
    next_day[:-1] = row_day[1:]
    next_day[-1] = 0
    ep_churned = eps.churned[row_ep]
    end = np.where(last, eps.stop[row_ep], next_day)
    open_end = last & ~ep_churned
    next_tier = np.empty(n_rows, dtype=np.int64)
    next_tier[:-1] = tier[1:]
    next_tier[-1] = 0

    product = offsets[segment[cust[row_ep]]] + tier
    winback_offer = np.where(eps.number[row_ep] == 2, 0.7, 1.0)
    amount = np.round(prices[product] * discount[cust[row_ep]] * winback_offer, 2)

    pool, cancel_text = causes.texts(rng, cause[row_ep], "cancel")
    reasons = list(CHANGE_REASONS) + pool
    reason = np.where(last, 2 + cancel_text, np.where(next_tier > tier, 0, 1))
    reason_null = open_end
    kind = np.where(causes.involuntary[cause[row_ep]], 1, 0)
    kind_null = ~(last & ep_churned)
    return pa.table({
        CUSTOMER_ID: ids.take(pa.array(cust[row_ep])),
        PRODUCT: _arrow.pick(products, product),
        START_DATE: _arrow.dates(row_day),
        END_DATE: _arrow.dates(end, null=open_end),
        AMOUNT_PER_MONTH: _arrow.floats(amount),
        CANCEL_REASON: _arrow.pick(reasons, reason, null=reason_null),
        CANCEL_KIND: _arrow.pick(CANCEL_KINDS, kind, null=kind_null),
    })


def _events(
    rng: np.random.Generator, window: Window, eps: Episodes, ids: pa.Array,
    segment: np.ndarray, tier0: np.ndarray, top_tier: np.ndarray,
) -> pa.Table:
    """Monthly usage per subscriber: data volume, voice minutes and app logins, fading in
    the three months before leaving. Large populations keep only the latest months."""
    bounds = window.month_bounds
    n_months = window.n_months
    n_customers = len(segment)
    keep_months = max(3, min(n_months, EVENT_BUDGET // (len(EVENT_TYPES) * max(n_customers, 1))))
    first_month = n_months - keep_months
    lo = np.maximum(eps.start, bounds[first_month])
    live = lo < eps.stop
    ma = window.month_of(lo)
    mb = window.month_of(eps.stop - 1)
    count = np.where(live, mb - ma + 1, 0)
    ep, k = group_offsets(count)
    month = ma[ep] + k
    day_lo = np.maximum(bounds[month], eps.start[ep])
    day_hi = np.minimum(bounds[month + 1], eps.stop[ep])
    share = (day_hi - day_lo) / (bounds[month + 1] - bounds[month])
    # (before an averted churn too, up to the action that averted it)
    fading = (eps.at_risk[ep] & (bounds[month + 1] > eps.risk_day[ep] - 90)
              & (day_lo < eps.signal_end[ep]))
    fade = np.where(fading, rng.uniform(0.3, 0.8, len(ep)), 1.0)
    cust = eps.customer[ep]
    seg = segment[cust]
    level = 0.5 + tier0[cust] / np.maximum(top_tier[cust], 1)

    rows = len(ep)
    data_mean = np.array([12.0, 300.0, 2000.0])[seg] * level
    voice_mean = np.array([260.0, 180.0, 3000.0])[seg] * level
    login_mean = np.array([18.0, 8.0, 6.0])[seg]
    noise = rng.gamma(4.0, 0.25, (len(EVENT_TYPES), rows))
    values = np.stack([
        np.round(data_mean * noise[0] * fade * share, 2),
        np.rint(voice_mean * noise[1] * fade * share),
        np.rint(login_mean * noise[2] * fade * fade * share),
    ])
    time = seconds_in_days(rng, day_lo, day_hi)
    # three rows per customer-month, ordered by time then customer then type
    order = np.lexsort((cust, time))
    n_types = len(EVENT_TYPES)
    row = np.repeat(order, n_types)
    etype = np.tile(np.arange(n_types), rows)
    return pa.table({
        CUSTOMER_ID: ids.take(pa.array(cust[row])),
        TIME: _arrow.timestamps(time[row]),
        EVENT_TYPE: _arrow.pick(EVENT_TYPES, etype),
        VALUE: _arrow.floats(values[etype, row]),
    })

