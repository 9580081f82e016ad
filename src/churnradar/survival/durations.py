"""Durations: one row per customer, the time from the start of its relationship to churn.

The survival analyses (:mod:`churnradar.survival.km`, :mod:`churnradar.survival.cox`) take
this table, in the lifelines shape: a duration column, an event column, an optional entry
column (left truncation) and the customers' attributes.

**One row per customer, its first spell.** The lifecycle splits a customer's history into
spells (a win-back starts a new one). Survival analysis assumes independent subjects; the
spells of one customer are not (a win-back depends on how the first relationship ended),
and win-back spells are a different population (returned customers). The first spell is
the customer's lifetime from acquisition to the first churn, which is what "median
lifetime", cohort curves and the remaining lifetime of active customers mean.

**Durations follow the lifecycle's churn definition.**

- contractual: from the start of the first subscription to the churn date (the end date of
  the spell's last subscription, the first day without service);
- non-contractual: from the first purchase to the churn date of activity-based churn,
  ``last purchase + inactivity_days`` (the day the customer counts as churned), so a
  churned customer's duration includes the inactivity window.

A customer still active at ``as_of`` is censored there (``churned`` false, duration
``as_of - start``). Using the lifecycle's churn date as the event time keeps events and
censoring on one clock: nobody is called churned before ``as_of`` who is not churned by
the lifecycle at ``as_of``.

**Customers older than the data (left truncation).** Exports usually start at a date
(``history_start``), and many customers were already customers then: their first
subscription in the data starts at ``history_start`` although they signed up years
before. Measuring them from ``history_start`` would make long-standing customers look
new. When ``customers.signup_date`` is earlier than ``history_start`` and the first spell
starts at the beginning of the data (contractual: on ``history_start``; non-contractual:
first purchase less than ``inactivity_days`` after it, i.e. the customer was active when
the data began), the duration is measured from ``signup_date`` and the customer enters
the risk set only at ``entry_days = history_start - signup_date`` (delayed entry: it is
in the data because it survived until then). lifelines' Kaplan–Meier (``entry``), this
package's log-rank test and its Cox fitter (lifelines' with the entry in the baseline
hazard too, see :mod:`churnradar.survival.cox`) account for it. Customers without a
signup date, stock customers whose first purchase comes later (by the churn definition
they were not active when the data began) and the rare ones that churned on the data's
first day are measured from their first activity. (Unlike the cohort matrix of
:mod:`churnradar.metrics.cohorts`, which dates every customer by ``signup_date``, a
signup long before a first contract that starts inside the data does not count here:
years without a contract are not years of relationship.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from churnradar import schema as s
from churnradar.exceptions import InputError, SchemaError
from churnradar.lifecycle import LAST_ACTIVE_DATE, SPELL_NO, Lifecycle, build_lifecycle
from churnradar.metrics.periods import period_index_of, period_label
from churnradar.metrics.rates import PERIOD_MONTHS
from churnradar.settings import PERIODS, ChurnSettings, Period

# --- columns of the durations table ---------------------------------------------------
#: date the duration is measured from (first activity, or signup for stock customers)
START = "start"
#: churn date, or as_of for customers still active (censored)
END = "end"
DURATION_DAYS = "duration_days"
#: event observed: the customer churned on or before as_of
CHURNED = "churned"
#: days after START when the customer enters the risk set (0 unless left-truncated)
ENTRY_DAYS = "entry_days"
LEFT_TRUNCATED = "left_truncated"
#: start of the first spell in the data (first subscription / first purchase)
FIRST_ACTIVITY = "first_activity"
LAST_ACTIVE_DATE_COL = LAST_ACTIVE_DATE
#: period (month / quarter / year) of START; "<label" for starts before the data
COHORT = "cohort"
#: contractual: the product of the customer's first subscription
PLAN = "plan"

#: customer attributes used as groupings and covariates when present
ATTRIBUTES: tuple[str, ...] = (s.GRADE, s.SEGMENT, s.REGION, s.CHANNEL, s.IS_KEY_ACCOUNT,
                               s.OWNER_ID)
#: every grouping the survival analyses know, in display order
GROUPINGS: tuple[str, ...] = (*ATTRIBUTES, PLAN, COHORT)

BASE_COLUMNS: tuple[str, ...] = (
    s.CUSTOMER_ID, START, END, DURATION_DAYS, CHURNED, ENTRY_DAYS, LEFT_TRUNCATED,
    FIRST_ACTIVITY, LAST_ACTIVE_DATE_COL, COHORT,
)


def build_durations(
    tables: Mapping[str, ir.Table],
    settings: ChurnSettings,
    *,
    as_of: dt.date | None = None,
    lifecycle: Lifecycle | None = None,
    attributes: Sequence[str] | None = None,
    cohort_period: Period = "quarter",
    left_truncation: bool = True,
) -> pd.DataFrame:
    """One row per customer: the duration of its first spell, censoring and attributes.

    Parameters
    ----------
    tables
        The workspace's tables as Ibis expressions (:func:`churnradar.engine.tables`);
        ``subscriptions`` or ``transactions``, and ``customers`` for the attributes.
    settings
        The ``[churn]`` settings (business, inactivity_days, contract_gap_days, as_of).
    as_of
        Overrides ``settings.as_of``; by default the latest date in the data.
    lifecycle
        An already built :class:`~churnradar.lifecycle.Lifecycle` (its ``as_of`` wins).
    attributes
        Columns of ``customers`` to carry as groupings / covariates. Default: those of
        :data:`ATTRIBUTES` the table has. The contractual ``plan`` column (product of the
        first subscription) is added whenever ``subscriptions`` has a ``product``.
    cohort_period
        ``"month"``, ``"quarter"`` or ``"year"``: the cohort is the period of ``start``,
        e.g. ``2024-Q3``; customers that started before the data get ``<2023-Q1``.
    left_truncation
        Measure stock customers from their signup date with delayed entry (see the
        module docstring). ``False`` measures everyone from the first activity in the
        data (simpler, but long-standing customers then look new).

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``start``, ``end`` (datetime64), ``duration_days`` (int64),
        ``churned`` (bool), ``entry_days`` (int64), ``left_truncated`` (bool),
        ``first_activity``, ``last_active_date`` (datetime64), ``cohort`` (str),
        ``plan`` (contractual, when known), then the attributes; sorted by customer_id.

    Raises
    ------
    SchemaError
        A requested attribute is not a column of ``customers`` (or there is no
        ``customers`` table).
    InputError
        ``cohort_period`` is not a period; no customer has any activity up to ``as_of``.
    """
    if cohort_period not in PERIODS:
        raise InputError(key="survival_err_choice", name="cohort_period",
                         choices=", ".join(PERIODS), value=cohort_period)
    life = lifecycle or build_lifecycle(dict(tables), settings, as_of=as_of)
    customers = tables.get("customers")
    attrs = _attributes(customers, attributes)
    signup = customers is not None and s.SIGNUP_DATE in customers.columns

    sp = life.spells
    first = sp.filter(sp[SPELL_NO] == 1).select(
        s.CUSTOMER_ID,
        **{FIRST_ACTIVITY: sp[s.START_DATE], LAST_ACTIVE_DATE_COL: sp[LAST_ACTIVE_DATE],
           s.CHURN_DATE: sp[s.CHURN_DATE]},
    )
    if customers is not None and (attrs or signup):
        cols = {c: customers[c] for c in (*attrs, *([s.SIGNUP_DATE] if signup else []))}
        cust = customers.select(_cid=customers[s.CUSTOMER_ID], **cols)
        first = first.left_join(cust, first[s.CUSTOMER_ID] == cust._cid).drop("_cid")
    plan = False
    if life.business == "contractual":
        subs = tables["subscriptions"]
        if s.PRODUCT in subs.columns:
            plan = True
            subs = subs.filter(subs[s.START_DATE] <= ibis.literal(life.as_of))
            w = ibis.window(group_by=subs[s.CUSTOMER_ID],
                            order_by=[subs[s.START_DATE], subs[s.PRODUCT]])
            subs = subs.mutate(_rn=ibis.row_number().over(w))
            firsts = subs.filter(subs._rn == 0).select(
                _pid=subs[s.CUSTOMER_ID], **{PLAN: subs[s.PRODUCT]})
            first = first.left_join(firsts, first[s.CUSTOMER_ID] == firsts._pid).drop("_pid")
    df = first.to_pandas()
    if df.empty:
        raise InputError(key="survival_err_too_few", n=0, minimum=1)
    return _finish(df, life, settings, attrs=attrs, plan=plan, signup=signup,
                   cohort_period=cohort_period, left_truncation=left_truncation)


def _attributes(customers: ir.Table | None, wanted: Sequence[str] | None) -> list[str]:
    have = [] if customers is None else list(customers.columns)
    if wanted is None:
        return [c for c in ATTRIBUTES if c in have]
    missing = [c for c in wanted if c not in have or c == s.CUSTOMER_ID]
    if missing:
        raise SchemaError(key="survival_err_group_missing", column=missing[0],
                          table="customers", available=", ".join(have) or "-")
    return list(dict.fromkeys(wanted))


def _finish(df: pd.DataFrame, life: Lifecycle, settings: ChurnSettings, *, attrs: list[str],
            plan: bool, signup: bool, cohort_period: str, left_truncation: bool,
            ) -> pd.DataFrame:
    as_of = pd.Timestamp(life.as_of)
    history_start = pd.Timestamp(life.history_start)
    first = pd.to_datetime(df[FIRST_ACTIVITY])
    churn = pd.to_datetime(df[s.CHURN_DATE])
    end = churn.fillna(as_of)

    # stock customers: active when the data began and signed up before it
    window = 1 if life.business == "contractual" else settings.inactivity_days
    truncated = pd.Series(False, index=df.index)
    if left_truncation and signup:
        sign = pd.to_datetime(df[s.SIGNUP_DATE])
        # (and observed for some time: a churn on the data's first day cannot be split
        # into "entered" and "churned"; such customers are measured from that day)
        truncated = ((first - history_start).dt.days < window) & sign.notna() & (
            sign < history_start) & (end > history_start)
        start = first.where(~truncated, sign)
    else:
        start = first
    entry = np.where(truncated, (history_start - start).dt.days, 0).astype(np.int64)

    out = pd.DataFrame({
        s.CUSTOMER_ID: df[s.CUSTOMER_ID].to_numpy(),
        START: start,
        END: end,
        DURATION_DAYS: (end - start).dt.days.astype(np.int64),
        CHURNED: churn.notna().to_numpy(),
        ENTRY_DAYS: entry,
        LEFT_TRUNCATED: truncated.to_numpy(dtype=bool),
        FIRST_ACTIVITY: first,
        LAST_ACTIVE_DATE_COL: pd.to_datetime(df[LAST_ACTIVE_DATE_COL]),
        COHORT: cohort_labels(start, cohort_period, history_start=life.history_start),
    })
    if plan:
        out[PLAN] = df[PLAN].to_numpy()
    for c in attrs:
        out[c] = df[c].to_numpy()
    return out.sort_values(s.CUSTOMER_ID, kind="stable").reset_index(drop=True)


def cohort_labels(start: pd.Series, period: str, *, history_start: dt.date) -> pd.Series:
    """Period label of each start date (``2024-Q3``); ``<2023-Q1`` before the data."""
    before = "<" + period_label(period_index_of(history_start, period), period)
    stamps = pd.to_datetime(start)
    idx = (stamps.dt.year * 12 + stamps.dt.month - 1) // PERIOD_MONTHS[period]
    labels = {int(p): period_label(int(p), period) for p in idx.unique()}
    out = idx.map(lambda p: labels[int(p)]).astype(object)
    out[stamps < pd.Timestamp(history_start)] = before
    return out
