"""Point-in-time feature tables (design.md module ``features``).

:func:`build_features` returns one row per customer active at ``as_of`` — by the
lifecycle rules applied to the data up to ``as_of`` — with behavioural features that use
only data on or before ``as_of``. Nothing dated later can reach a feature: every source
block filters its rows first, values after ``as_of`` on earlier rows count as unknown,
and the lifecycle is rebuilt at ``as_of`` itself. ``tests/features`` proves it by
deleting, and by scrambling, every later row.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd

from churnradar import schema as s
from churnradar.features import sources
from churnradar.features.plan import FeaturePlan, make_plan
from churnradar.lifecycle import SPELL_NO, build_lifecycle
from churnradar.settings import ChurnSettings

AS_OF = "as_of"
#: columns of a feature table that are not features
KEY_COLUMNS: tuple[str, ...] = (s.CUSTOMER_ID, AS_OF)
_EPOCH = dt.date(1970, 1, 1)


def day_number(date: dt.date) -> int:
    return (date - _EPOCH).days


def _profile(customers: ir.Table, td: int, plan: FeaturePlan) -> ir.Table:
    cols: dict[str, ir.Value] = {}
    for name in plan.profile:
        col = customers[name]
        if name == s.IS_KEY_ACCOUNT:
            cols[name] = col.cast("int64")
        elif name == s.MARGIN_RATE:
            cols[name] = col.cast("float64")
        else:
            cols[name] = col.cast("string")
    if s.SIGNUP_DATE in customers.columns:
        signup = sources.days(customers[s.SIGNUP_DATE])
        cols["customer_age_days"] = ibis.ifelse(signup <= td, td - signup, ibis.null("int64"))
    return customers.select(s.CUSTOMER_ID, **cols)


def feature_expr(tables: dict[str, ir.Table], spells: ir.Table, *, as_of: dt.date,
                 plan: FeaturePlan) -> ir.Table:
    """The feature table as one Ibis expression (``spells``: the lifecycle at ``as_of``)."""
    td = day_number(as_of)
    active = spells.filter(spells[s.CHURN_DATE].isnull()
                           & (sources.days(spells[s.START_DATE]) <= td))
    out = active.select(
        s.CUSTOMER_ID,
        tenure_days=td - sources.days(active[s.START_DATE]),
        previous_spells=active[SPELL_NO] - 1,
    )
    blocks: list[ir.Table] = []
    if "customers" in tables:
        blocks.append(_profile(tables["customers"], td, plan))
        if s.OWNER_ID in tables["customers"].columns:
            blocks.append(sources.owners(spells, tables["customers"], tables.get("staff"), td))
    if "subscriptions" in tables:
        blocks.append(sources.subscriptions(tables["subscriptions"], td))
    if "transactions" in tables:
        blocks.append(sources.transactions(tables["transactions"], td, plan))
    if "events" in tables:
        blocks.append(sources.events(tables["events"], td, plan))
    if "complaints" in tables:
        blocks.append(sources.complaints(tables["complaints"], td, plan))
    if "surveys" in tables and plan.survey_kinds:
        block = sources.surveys(tables["surveys"], td, plan)
        if block is not None:
            blocks.append(block)
    for block in blocks:
        block = block.view()
        out = out.left_join(block, s.CUSTOMER_ID).select(
            out, *[block[c] for c in block.columns if c != s.CUSTOMER_ID]
        ).view()
    # counts of nothing are zero, not missing (recency-type columns stay missing)
    zero_fill = [c for c in out.columns
                 if c.startswith(("orders_", "amount_", "complaints_", "ev_",
                                  "payment_failures_", "discounts_"))
                 and "trend" not in c and "change" not in c and "vs_" not in c]
    if zero_fill:
        out = out.mutate(**{c: out[c].fill_null(0) for c in zero_fill})
    # one numeric type for every number (nullable integers would come back as objects)
    out = out.mutate(**{c: out[c].cast("float64") for c in out.columns
                        if c != s.CUSTOMER_ID and (out[c].type().is_numeric()
                                                   or out[c].type().is_boolean())})
    return out.mutate(**{AS_OF: ibis.literal(as_of)}).order_by(s.CUSTOMER_ID)


def build_features(tables: dict[str, ir.Table], settings: ChurnSettings, *, as_of: dt.date,
                   plan: FeaturePlan | None = None) -> pd.DataFrame:
    """Features of every customer active at ``as_of``, from data on or before ``as_of``.

    Parameters
    ----------
    tables
        The workspace's tables as Ibis expressions (:func:`churnradar.engine.tables`).
    settings
        The ``[churn]`` settings (the lifecycle rules that say who is active).
    as_of
        The observation date.
    plan
        Which columns to build; by default :func:`make_plan` from the data up to
        ``as_of``. A saved model passes its own plan so that scoring builds its columns.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``as_of`` and the feature columns, sorted by customer; text
        columns are categoricals, counts of nothing are 0, "days since" of nothing is
        missing.
    """
    life = build_lifecycle(tables, settings, as_of=as_of)
    if plan is None:
        plan = make_plan(tables, business=life.business, as_of=as_of)
    df = feature_expr(tables, life.spells, as_of=as_of, plan=plan).to_pandas()
    df[AS_OF] = pd.to_datetime(df[AS_OF])
    for col in df.columns:
        if col not in KEY_COLUMNS and (df[col].dtype == object
                                       or pd.api.types.is_string_dtype(df[col])):
            df[col] = df[col].astype("category")
    return df.reset_index(drop=True)


def feature_columns(df: pd.DataFrame) -> list[str]:
    """The feature columns of a feature table (everything but the keys)."""
    return [c for c in df.columns if c not in KEY_COLUMNS]
