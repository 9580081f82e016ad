"""Per-table feature blocks at one observation date.

Each function takes one input table (an Ibis expression), the observation date as a day
number (``td``, days since 1970-01-01) and returns one row per customer with feature
columns. Every block first drops the rows dated after ``as_of``; a value that lies after
``as_of`` on a row that started before it (a subscription's future end date, a
complaint resolved later, a salesperson who leaves later) is read as "not yet known".
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from churnradar import schema as s
from churnradar.features.plan import DISCOUNT, PAYMENT_FAILURE, FeaturePlan, safe_name


def days(col: ir.Value) -> ir.IntegerValue:
    """Day number (days since 1970-01-01) of a date or timestamp column."""
    return col.cast("date").epoch_days()


def _in(d: ir.IntegerValue, td: int, width: int, skip: int = 0) -> ir.BooleanValue:
    """``d`` within the ``width`` days ending ``skip`` days before the observation date."""
    return (d > td - skip - width) & (d <= td - skip)


def _ratio(a: ir.NumericValue, b: ir.NumericValue) -> ir.FloatingValue:
    return ibis.ifelse(b > 0, a.cast("float64") / b.cast("float64"), ibis.null("float64"))


def transactions(t: ir.Table, td: int, plan: FeaturePlan) -> ir.Table:
    """Recency, frequency and monetary value over several windows, and their trends."""
    d = days(t[s.DATE])
    t = t.select(s.CUSTOMER_ID, d=d, amount=t[s.AMOUNT].cast("float64"),
                 margin=(t[s.MARGIN].cast("float64") if s.MARGIN in t.columns
                         else ibis.literal(None, "float64")))
    t = t.filter(t.d <= td)
    zero = ibis.literal(0.0)
    aggs: dict[str, ir.Value] = {
        "last_d": t.d.max(), "first_d": t.d.min(),
        "orders_total": t.count(), "amount_total": t.amount.sum(),
        "amount_prev_90_30": ibis.ifelse(_in(t.d, td, 90, 30), t.amount, zero).sum(),
        "amount_prev_270_90": ibis.ifelse(_in(t.d, td, 270, 90), t.amount, zero).sum(),
        "margin_365d": ibis.ifelse(_in(t.d, td, 365), t.margin, zero).sum(),
    }
    for w in plan.windows:
        inside = _in(t.d, td, w)
        aggs[f"orders_{w}d"] = inside.cast("int64").sum()
        aggs[f"amount_{w}d"] = ibis.ifelse(inside, t.amount, zero).sum()
    g = t.group_by(s.CUSTOMER_ID).aggregate(**aggs)
    return g.select(
        s.CUSTOMER_ID,
        *[c for c in g.columns if c.startswith(("orders_", "amount_")) and "prev" not in c],
        "margin_365d",
        recency_days=td - g.last_d,
        first_purchase_days=td - g.first_d,
        mean_order_gap_days=ibis.ifelse(
            g.orders_total > 1,
            (g.last_d - g.first_d).cast("float64") / (g.orders_total - 1).cast("float64"),
            ibis.null("float64")),
        # last 30 days against the 90 before them, per day; last 90 against the 270 before
        amount_trend_30_90=_ratio(g.amount_30d * 3, g.amount_prev_90_30)
        if 30 in plan.windows else ibis.null("float64"),
        amount_trend_90_270=_ratio(g.amount_90d * 3, g.amount_prev_270_90)
        if 90 in plan.windows else ibis.null("float64"),
    )


def subscriptions(t: ir.Table, td: int) -> ir.Table:
    """Plan, monthly price now and before, price against the plan's usual price, changes."""
    start = days(t[s.START_DATE])
    end = days(t[s.END_DATE])
    amount = (t[s.AMOUNT_PER_MONTH].cast("float64") if s.AMOUNT_PER_MONTH in t.columns
              else ibis.literal(None, "float64"))
    product = (t[s.PRODUCT].cast("string") if s.PRODUCT in t.columns
               else ibis.literal(None, "string"))
    t = t.select(s.CUSTOMER_ID, start=start, end=end, amount=amount, product=product)
    t = t.filter(t.start <= td)

    def open_at(day: int) -> ir.BooleanValue:
        # an end after the observation date is not known yet: the contract is open
        return (t.start <= day) & (t.end.isnull() | (t.end > day))

    zero = ibis.literal(0.0)
    now = open_at(td)
    t = t.mutate(now=now)
    g = t.group_by(s.CUSTOMER_ID).aggregate(
        active_subscriptions=now.cast("int64").sum(),
        monthly_amount=ibis.ifelse(now, t.amount, zero).sum(),
        monthly_amount_90d_ago=ibis.ifelse(open_at(td - 90), t.amount, zero).sum(),
        monthly_amount_365d_ago=ibis.ifelse(open_at(td - 365), t.amount, zero).sum(),
        max_amount_365d=ibis.ifelse(t.end.isnull() | (t.end > td - 365), t.amount,
                                    ibis.null("float64")).max(),
        plan_changes_365d=_in(t.start, td, 365).cast("int64").sum(),
        last_change_d=t.start.max(),
        product=t["product"].argmax(ibis.ifelse(now, t.start, ibis.literal(-10**9))),
    )
    # the usual monthly price of each plan among contracts running at as_of
    running = t.filter(t.now & t.amount.notnull() & t["product"].notnull())
    usual = running.group_by("product").aggregate(usual_amount=running.amount.median())
    g = g.left_join(usual, "product").select(g, usual_amount=usual.usual_amount)
    return g.select(
        s.CUSTOMER_ID, "product", "active_subscriptions", "monthly_amount",
        "plan_changes_365d",
        amount_change_90d=g.monthly_amount - g.monthly_amount_90d_ago,
        amount_change_365d=g.monthly_amount - g.monthly_amount_365d_ago,
        amount_vs_max_365d=_ratio(g.monthly_amount, g.max_amount_365d),
        price_vs_plan=_ratio(g.monthly_amount, g.usual_amount),
        days_since_plan_change=td - g.last_change_d,
    )


def events(t: ir.Table, td: int, plan: FeaturePlan) -> ir.Table:
    """Usage per event type (30/90 days and the trend), payment failures, discounts."""
    value = (t[s.VALUE].cast("float64").fill_null(1.0) if s.VALUE in t.columns
             else ibis.literal(1.0))
    t = t.select(s.CUSTOMER_ID, d=days(t[s.TIME]), etype=t[s.EVENT_TYPE].cast("string"),
                 value=value)
    t = t.filter(t.d <= td)
    zero = ibis.literal(0.0)
    aggs: dict[str, ir.Value] = {"last_event_d": t.d.max()}
    for etype in plan.event_types:
        name = safe_name(etype)
        is_type = t.etype == etype
        aggs[f"ev_{name}_30d"] = ibis.ifelse(is_type & _in(t.d, td, 30), t.value, zero).sum()
        aggs[f"ev_{name}_90d"] = ibis.ifelse(is_type & _in(t.d, td, 90), t.value, zero).sum()
        aggs[f"_prev_{name}"] = ibis.ifelse(is_type & _in(t.d, td, 90, 30), t.value, zero).sum()
    pay = [e for e in plan.event_types if PAYMENT_FAILURE.search(e)]
    disc = [e for e in plan.event_types if DISCOUNT.search(e)]
    for label, types in (("payment_failures", pay), ("discounts", disc)):
        if types:
            hit = t.etype.isin(types)
            aggs[f"{label}_90d"] = (hit & _in(t.d, td, 90)).cast("int64").sum()
            aggs[f"{label}_365d"] = (hit & _in(t.d, td, 365)).cast("int64").sum()
    g = t.group_by(s.CUSTOMER_ID).aggregate(**aggs)
    trends = {
        f"ev_{safe_name(e)}_trend": _ratio(g[f"ev_{safe_name(e)}_30d"] * 3,
                                           g[f"_prev_{safe_name(e)}"])
        for e in plan.event_types
    }
    keep = [c for c in g.columns if not c.startswith("_") and c != "last_event_d"]
    return g.select(s.CUSTOMER_ID, *[c for c in keep if c != s.CUSTOMER_ID], **trends,
                    days_since_event=td - g.last_event_d)


def complaints(t: ir.Table, td: int, plan: FeaturePlan) -> ir.Table:
    """Complaints: counts, unresolved at as_of, days since the last, resolution time."""
    resolved = (t[s.RESOLVED_AT] if s.RESOLVED_AT in t.columns
                else ibis.literal(None, "timestamp"))
    category = (t[s.CATEGORY].cast("string") if s.CATEGORY in t.columns
                else ibis.literal(None, "string"))
    t = t.select(s.CUSTOMER_ID, d=days(t[s.TIME]), rd=days(resolved),
                 hours=(resolved.epoch_seconds() - t[s.TIME].epoch_seconds()) / 3600.0,
                 category=category)
    t = t.filter(t.d <= td)
    known = t.rd.notnull() & (t.rd <= td)  # resolved on or before as_of
    aggs: dict[str, ir.Value] = {
        "complaints_90d": _in(t.d, td, 90).cast("int64").sum(),
        "complaints_365d": _in(t.d, td, 365).cast("int64").sum(),
        "complaints_total": t.count(),
        "complaints_unresolved": (~known).cast("int64").sum(),
        "complaint_resolution_hours": ibis.ifelse(known & _in(t.d, td, 365), t.hours,
                                                  ibis.null("float64")).mean(),
        "last_complaint_d": t.d.max(),
    }
    for cat in plan.complaint_categories:
        aggs[f"complaints_{cat}_365d"] = ((t.category == cat) & _in(t.d, td, 365)
                                          ).cast("int64").sum()
    g = t.group_by(s.CUSTOMER_ID).aggregate(**aggs)
    return g.select(*[c for c in g.columns if c != "last_complaint_d"],
                    days_since_complaint=td - g.last_complaint_d)


def surveys(t: ir.Table, td: int, plan: FeaturePlan) -> ir.Table | None:
    """Satisfaction: the latest score and the 365-day mean and minimum per survey kind."""
    t = t.select(s.CUSTOMER_ID, d=days(t[s.TIME]), ts=t[s.TIME].epoch_seconds(),
                 kind=t[s.KIND].cast("string"), score=t[s.SCORE].cast("float64"))
    t = t.filter(t.d <= td)
    out: ir.Table | None = None
    for kind in plan.survey_kinds:
        k = t.filter(t.kind == kind)
        name = safe_name(kind)
        g = k.group_by(s.CUSTOMER_ID).aggregate(**{
            f"survey_{name}_last": k.score.argmax(k.ts),
            f"survey_{name}_mean_365d": ibis.ifelse(_in(k.d, td, 365), k.score,
                                                    ibis.null("float64")).mean(),
            f"survey_{name}_min_365d": ibis.ifelse(_in(k.d, td, 365), k.score,
                                                   ibis.null("float64")).min(),
            f"_last_{name}": k.d.max(),
        })
        g = g.select(*[c for c in g.columns if not c.startswith("_")],
                     **{f"survey_{name}_days_since": td - g[f"_last_{name}"]})
        if out is None:
            out = g
        else:
            out = out.outer_join(g, s.CUSTOMER_ID).select(
                customer_id=ibis.coalesce(out[s.CUSTOMER_ID], g[s.CUSTOMER_ID]),
                **{c: out[c] for c in out.columns if c != s.CUSTOMER_ID},
                **{c: g[c] for c in g.columns if c != s.CUSTOMER_ID},
            ).view()
    return out


def owners(spells: ir.Table, customers: ir.Table, staff: ir.Table | None,
           td: int) -> ir.Table:
    """The owner's own recent churn rate (365 days) and whether the owner has left."""
    sp = spells.select(s.CUSTOMER_ID, start=days(spells[s.START_DATE]),
                       churn=days(spells[s.CHURN_DATE]))
    c = customers.select(s.CUSTOMER_ID, owner=customers[s.OWNER_ID].cast("string"))
    j = sp.inner_join(c, s.CUSTOMER_ID).select(sp.start, sp.churn, c.owner)
    base = (j.start <= td - 365) & (j.churn.isnull() | (j.churn > td - 365))
    rates = j.filter(j.owner.notnull()).group_by("owner").aggregate(
        _base=base.cast("int64").sum(),
        _churned=(base & j.churn.notnull() & (j.churn <= td)).cast("int64").sum(),
        owner_active_customers=(j.churn.isnull() | (j.churn > td)).cast("int64").sum(),
    )
    rates = rates.select("owner", "owner_active_customers",
                         owner_churn_rate_365d=_ratio(rates._churned, rates._base))
    out = c.left_join(rates, "owner").select(c[s.CUSTOMER_ID], c.owner,
                                             rates.owner_active_customers,
                                             rates.owner_churn_rate_365d)
    if staff is None or s.LEFT_AT not in staff.columns:
        return out.drop("owner")
    st = staff.select(owner=staff[s.OWNER_ID].cast("string"), left=days(staff[s.LEFT_AT]))
    st = st.group_by("owner").aggregate(left=st.left.min())
    gone = st.left.notnull() & (st.left <= td)  # a departure after as_of is not known yet
    st = st.select("owner", owner_left=gone.cast("int64"),
                   days_since_owner_left=ibis.ifelse(gone, td - st.left, ibis.null("int64")))
    out = out.view()
    return out.left_join(st, "owner").select(
        out[s.CUSTOMER_ID], out.owner_active_customers, out.owner_churn_rate_365d,
        owner_left=ibis.ifelse(out.owner.isnull(), ibis.null("int64"),
                               st.owner_left.fill_null(0)),
        days_since_owner_left=st.days_since_owner_left,
    )
