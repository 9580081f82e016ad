"""Tables every demo industry shares: churn records (the ground truth), complaints and
surveys, all derived from the simulated episodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from churnradar.datasets import _arrow
from churnradar.datasets._common import (
    SECONDS_PER_DAY,
    CauseTable,
    Episodes,
    Window,
    seconds_in_days,
)
from churnradar.schema import (
    CATEGORY,
    CHANNEL,
    CHURN_DATE,
    CHURN_TYPE,
    CHURN_TYPES,
    COMPLAINT_ID,
    CUSTOMER_ID,
    KIND,
    NOTE,
    REASON_CATEGORIES,
    REASON_CATEGORY,
    RESOLVED_AT,
    SCORE,
    SURVEY_KINDS,
    TEXT,
    TIME,
)

#: complaints come from the half year before a customer leaves
PRE_CHURN_DAYS = 182


@dataclass(frozen=True)
class CallBacks:
    """Resolved complaints, each followed by a satisfaction call-back (回访)."""

    customer: np.ndarray
    resolved: np.ndarray
    #: how much lower the call-back scores (higher before churn)
    drop: np.ndarray
    #: end of the customer's episode (seconds): no call-back after the customer left
    stop: np.ndarray


def churn_records(
    rng: np.random.Generator, eps: Episodes, causes: CauseTable, ids: pa.Array
) -> pa.Table:
    """One row per churned episode: the churn day, reason category, churn type and note."""
    done = eps.take(np.flatnonzero(eps.churned))
    order = np.lexsort((done.customer, done.stop))
    done = done.take(order)
    pool, notes = causes.texts(rng, done.cause, "notes")
    return pa.table({
        CUSTOMER_ID: ids.take(pa.array(done.customer)),
        CHURN_DATE: _arrow.dates(done.stop),
        REASON_CATEGORY: _arrow.pick(REASON_CATEGORIES, causes.reason[done.cause]),
        CHURN_TYPE: _arrow.pick(CHURN_TYPES, causes.churn_type[done.cause]),
        NOTE: _arrow.pick(pool, notes),
    })


def complaints(
    rng: np.random.Generator,
    window: Window,
    eps: Episodes,
    causes: CauseTable,
    ids: pa.Array,
    texts: Mapping[str, Sequence[str]],
    channels: tuple[Sequence[str], Sequence[float]],
    base_per_year: float,
    base_mix: Mapping[str, float],
    id_digits: int = 7,
) -> tuple[pa.Table, CallBacks]:
    """Complaints: a low background rate for everyone, plus a burst in the half year
    before leaving for causes that come with grievances (service, product, billing ...).

    Unresolved complaints (``resolved_at`` null) are more common before retaliatory churn.
    Also returns the resolved complaints, for satisfaction call-backs.
    """
    span = (eps.stop - eps.start).astype(np.float64)
    # background complaints, any time in an episode
    n_base = rng.poisson(base_per_year * span / 365.25)
    base_ep = np.repeat(np.arange(len(eps)), n_base)
    cats = list(base_mix)
    base_cat = rng.choice(
        [REASON_CATEGORIES.index(c) for c in cats], size=len(base_ep),
        p=np.array([base_mix[c] for c in cats]) / sum(base_mix.values()),
    )
    base_time = seconds_in_days(rng, eps.start[base_ep], eps.stop[base_ep])
    base_open = np.full(len(base_ep), 0.08)

    # grievances before leaving (also before a churn a retention action averted, up to
    # the action: the past does not depend on whether the action later worked)
    cause = np.maximum(eps.risk_cause, 0)
    lam = np.where(eps.at_risk, causes.complaints[cause], 0.0)
    n_pre = rng.poisson(lam)
    pre_ep = np.repeat(np.arange(len(eps)), n_pre)
    pre_cat = causes.reason[cause[pre_ep]]
    risk_day = eps.risk_day[pre_ep]
    low = np.maximum(eps.start[pre_ep], risk_day - PRE_CHURN_DAYS)
    pre_time = seconds_in_days(rng, low, risk_day)
    pre_open = causes.unresolved[cause[pre_ep]]
    before = pre_time < eps.signal_end[pre_ep] * SECONDS_PER_DAY
    if not before.all():
        pre_ep, pre_cat, pre_time, pre_open = (
            pre_ep[before], pre_cat[before], pre_time[before], pre_open[before])

    episode = np.concatenate([base_ep, pre_ep])
    category = np.concatenate([base_cat, pre_cat])
    time = np.concatenate([base_time, pre_time])
    open_p = np.concatenate([base_open, pre_open])
    pre = np.concatenate([np.zeros(len(base_ep), dtype=bool), np.ones(len(pre_ep), dtype=bool)])
    order = np.lexsort((eps.customer[episode], time))
    episode, category, time = episode[order], category[order], time[order]
    open_p, pre = open_p[order], pre[order]
    n = len(episode)

    hours = rng.lognormal(np.log(20.0), 1.2, n)
    resolved = time + np.maximum(600, (hours * 3600).astype(np.int64))
    unresolved = (rng.random(n) < open_p) | (resolved > window.end_second)

    pool: list[str] = []
    first = np.zeros(len(REASON_CATEGORIES), dtype=np.int64)
    size = np.zeros(len(REASON_CATEGORIES), dtype=np.int64)
    for i, reason in enumerate(REASON_CATEGORIES):
        options = list(texts.get(reason) or texts["service"])
        first[i], size[i] = len(pool), len(options)
        pool.extend(options)
    text = first[category] + (rng.random(n) * size[category]).astype(np.int64)
    names, weights = channels
    channel = rng.choice(len(names), size=n, p=np.asarray(weights) / np.sum(weights))

    done = ~unresolved
    mood = np.where(pre, causes.survey_drop[np.maximum(eps.risk_cause[episode], 0)], 0.0)
    callbacks = CallBacks(
        eps.customer[episode][done], resolved[done], 0.15 + 0.5 * mood[done],
        eps.stop[episode][done] * SECONDS_PER_DAY,
    )
    table = pa.table({
        CUSTOMER_ID: ids.take(pa.array(eps.customer[episode])),
        COMPLAINT_ID: _arrow.id_array("C", np.arange(1, n + 1), _arrow.digits_for(n, id_digits)),
        TIME: _arrow.timestamps(time),
        CHANNEL: _arrow.pick(names, channel),
        TEXT: _arrow.pick(pool, text),
        CATEGORY: _arrow.pick(REASON_CATEGORIES, category),
        RESOLVED_AT: _arrow.timestamps(resolved, null=unresolved),
    })
    return table, callbacks


def surveys(
    rng: np.random.Generator,
    window: Window,
    eps: Episodes,
    causes: CauseTable,
    ids: pa.Array,
    n_customers: int,
    per_year: float,
    callbacks: CallBacks | None = None,
) -> pa.Table:
    """CSAT (1-5) and NPS (0-10) scores.

    Each customer has a lasting satisfaction level; in the half year before leaving
    (or before a retention action that averted the churn), scores fall by the cause's
    ``survey_drop``. Besides periodic surveys, half of the
    resolved complaints get a CSAT call-back the next day (回访), low when the
    complaint preceded churn.
    """
    mood = rng.normal(0.0, 1.0, n_customers)
    span = (eps.stop - eps.start).astype(np.float64)
    count = rng.poisson(per_year * span / 365.25)
    ep = np.repeat(np.arange(len(eps)), count)
    time = seconds_in_days(rng, eps.start[ep], eps.stop[ep])
    csat = rng.random(len(ep)) < 0.55
    customer = eps.customer[ep]
    near = (
        eps.at_risk[ep]
        & (time >= (eps.risk_day[ep] - PRE_CHURN_DAYS) * SECONDS_PER_DAY)
        & (time < eps.signal_end[ep] * SECONDS_PER_DAY)
    )
    drop = np.where(near, causes.survey_drop[np.maximum(eps.risk_cause[ep], 0)], 0.0)

    if callbacks is not None:
        call_at = callbacks.resolved + SECONDS_PER_DAY
        keep = (
            (call_at <= window.end_second)
            & (call_at < callbacks.stop)
            & (rng.random(len(call_at)) < 0.5)
        )
        customer = np.concatenate([customer, callbacks.customer[keep]])
        time = np.concatenate([time, call_at[keep]])
        csat = np.concatenate([csat, np.ones(int(keep.sum()), dtype=bool)])
        drop = np.concatenate([drop, callbacks.drop[keep]])

    n = len(customer)
    noise = rng.normal(0.0, 1.0, n)
    z = mood[customer]
    csat_score = np.clip(np.rint(4.0 + 0.6 * z + 0.5 * noise - 3.0 * drop), 1, 5)
    nps_score = np.clip(np.rint(7.6 + 1.5 * z + 1.0 * noise - 7.0 * drop), 0, 10)
    score = np.where(csat, csat_score, nps_score)
    order = np.lexsort((customer, time))
    return pa.table({
        CUSTOMER_ID: ids.take(pa.array(customer[order])),
        TIME: _arrow.timestamps(time[order]),
        SCORE: _arrow.floats(score[order]),
        KIND: _arrow.pick(SURVEY_KINDS, np.where(csat[order], 0, 1)),
    })
