"""The ground truth agrees with the activity tables, and the planted effects are there.

Every statistic is recomputed here from the tables, not read from the generator.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from churnradar.datasets import DemoData
from churnradar.schema import CHURN_TYPES, REASON_CATEGORIES

#: which churn types may go with which reason category (domain.md §3)
ALLOWED_TYPES = {
    "product": {"competitive", "fault"},
    "price": {"competitive"},
    "service": {"competitive", "retaliatory", "non_malicious"},
    "benefit": {"competitive", "fault"},
    "management": {"competitive", "fault", "non_malicious"},
    "industry": {"natural"},
    "natural": {"natural", "malicious"},
}


def frame(data: DemoData, table: str) -> pd.DataFrame:
    df = data.tables[table].to_pandas()
    for col in ("signup_date", "start_date", "end_date", "date", "churn_date", "hired_at",
                "left_at"):
        if col in df:
            df[col] = pd.to_datetime(df[col])
    return df


def two_proportion_z(k1: int, n1: int, k2: int, n2: int) -> float:
    p1, p2, p = k1 / n1, k2 / n2, (k1 + k2) / (n1 + n2)
    return (p1 - p2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))


def active_on(data: DemoData, day: pd.Timestamp) -> pd.Index:
    """Customers in a relationship on ``day`` by the ground truth: joined by then, and
    not churned on or before it unless they came back (a later activity row)."""
    customers = frame(data, "customers")
    churn = frame(data, "churn_records")
    joined = set(customers.loc[customers.signup_date <= day, "customer_id"])
    if data.industry == "telecom":
        subs = frame(data, "subscriptions")
        live = subs[(subs.start_date <= day) & (subs.end_date.isna() | (subs.end_date > day))]
        return pd.Index(sorted(joined & set(live.customer_id)))
    orders = frame(data, "transactions")
    last_churn = churn[churn.churn_date <= day].groupby("customer_id").churn_date.max()
    first_after = orders[orders.date <= day].groupby("customer_id").date.max()
    gone = last_churn[last_churn >= first_after.reindex(last_churn.index).fillna(
        pd.Timestamp.min)].index
    return pd.Index(sorted(joined - set(gone)))


def churned_between(data: DemoData, who: pd.Index, lo: pd.Timestamp,
                    hi: pd.Timestamp) -> np.ndarray:
    churn = frame(data, "churn_records")
    hit = churn[(churn.churn_date > lo) & (churn.churn_date <= hi)].customer_id
    return np.isin(who, hit.unique())


# --- ground truth consistency -------------------------------------------------------

@pytest.mark.parametrize("industry", ["telecom", "dealers"])
def test_reasons_and_types_go_together(demos, industry: str) -> None:
    churn = frame(demos[industry], "churn_records")
    pairs = churn.groupby(["reason_category", "churn_type"]).size()
    for (reason, kind), _ in pairs.items():
        assert kind in ALLOWED_TYPES[reason], (reason, kind)
    assert set(churn.reason_category) == set(REASON_CATEGORIES)
    assert churn.note.str.len().min() > 0
    assert churn.note.str.contains(r"[\u4e00-\u9fff]").all()


def test_both_industries_cover_every_churn_type(demos) -> None:
    kinds = set()
    for data in demos.values():
        kinds |= set(frame(data, "churn_records").churn_type)
    assert kinds == set(CHURN_TYPES)


def test_telecom_churn_date_is_the_end_of_the_last_subscription(telecom) -> None:
    subs = frame(telecom, "subscriptions")
    churn = frame(telecom, "churn_records")
    ends = subs.dropna(subset=["end_date"])[["customer_id", "end_date", "cancel_kind"]]
    matched = churn.merge(ends, left_on=["customer_id", "churn_date"],
                          right_on=["customer_id", "end_date"], how="left")
    assert matched.end_date.notna().all()
    assert matched.cancel_kind.notna().all()  # the churn row says voluntary / involuntary
    # nothing continues the relationship on the churn day or during the following gap
    starts = subs[["customer_id", "start_date"]]
    after = churn.merge(starts, on="customer_id")
    gap = (after.start_date - after.churn_date).dt.days
    assert not ((gap >= 0) & (gap < 60)).any()
    # customers who never came back: churn date == their last end date, no open row
    last = subs.groupby("customer_id").agg(last_end=("end_date", "max"),
                                           open=("end_date", lambda s: s.isna().any()),
                                           last_start=("start_date", "max"))
    final = churn.groupby("customer_id").churn_date.max()
    gone = last.loc[final.index]
    stayed_away = gone.last_start < final
    assert (gone.last_end[stayed_away] == final[stayed_away]).all()
    assert not gone.open[stayed_away].any()
    # and every subscriber who never churned still has an open subscription
    never = last.index.difference(final.index)
    assert last.loc[never, "open"].all()
    assert subs.customer_id.nunique() == telecom.n_customers


def test_telecom_plan_changes_are_contiguous(telecom) -> None:
    subs = frame(telecom, "subscriptions").sort_values(["customer_id", "start_date"])
    nxt = subs.groupby("customer_id").start_date.shift(-1)
    changed = subs.cancel_reason.isin(["套餐升档", "套餐降档"])
    assert (subs.end_date[changed] == nxt[changed]).all()
    assert subs.cancel_kind[changed].isna().all()
    same = subs.groupby("customer_id").product.shift(-1)
    assert (subs["product"][changed] != same[changed]).all()


def test_dealers_stop_ordering_before_the_churn_date(dealers) -> None:
    orders = frame(dealers, "transactions")
    churn = frame(dealers, "churn_records")
    both = churn.merge(orders[["customer_id", "date"]], on="customer_id")
    after = both[both.date >= both.churn_date]
    first_after = (after.date - after.churn_date).dt.days.groupby(
        [after.customer_id, after.churn_date]).min()
    # an order after a churn date is a win-back, after a long gap
    assert (first_after >= 120).all()
    before = both[both.date < both.churn_date].groupby(["customer_id", "churn_date"]).size()
    assert len(before) == len(churn)  # every churn follows at least one order
    assert orders.customer_id.nunique() == dealers.n_customers


@pytest.mark.parametrize("industry", ["telecom", "dealers"])
def test_a_few_percent_come_back(demos, industry: str) -> None:
    data = demos[industry]
    churn = frame(data, "churn_records")
    if industry == "telecom":
        act = frame(data, "subscriptions").rename(columns={"start_date": "day"})
    else:
        act = frame(data, "transactions").rename(columns={"date": "day"})
    first = churn.groupby("customer_id").churn_date.min()
    later = act.merge(first.rename("first").reset_index(), on="customer_id")
    back = later[later.day > later["first"]].customer_id.nunique()
    assert 0.01 <= back / data.n_customers <= 0.08


def test_existing_stock_at_start_and_new_customers_later(demos) -> None:
    for data in demos.values():
        customers = frame(data, "customers")
        before = (customers.signup_date < pd.Timestamp(data.start)).mean()
        assert 0.4 < before < 0.7
        month = customers.signup_date.dt.to_period("M")
        assert month[customers.signup_date >= pd.Timestamp(data.start)].nunique() == 36


# --- planted effects: telecom ------------------------------------------------------------

def test_telecom_price_war_month_spikes(telecom) -> None:
    subs = frame(telecom, "subscriptions")
    churn = frame(telecom, "churn_records")
    war = pd.Period(telecom.planted["price_war_month"], "M")
    assert war == pd.Period("2024-09", "M")
    rates = {}
    for month in [war - 2, war - 1, war, war + 1, war + 2]:
        first = month.start_time
        who = active_on(telecom, first)
        rates[month] = churned_between(telecom, who, first - pd.Timedelta(days=1),
                                       month.end_time.normalize()).mean()
    neighbours = [rates[m] for m in rates if m != war]
    assert rates[war] > 2.0 * max(neighbours)
    in_war = churn[churn.churn_date.dt.to_period("M") == war]
    assert (in_war.reason_category == "price").mean() > 0.6
    assert (in_war.churn_type == "competitive").mean() > 0.6
    assert len(subs)  # the rates above come from the subscription table


def test_telecom_downgrade_before_voluntary_churn(telecom) -> None:
    subs = frame(telecom, "subscriptions").sort_values(["customer_id", "start_date"])
    churn = frame(telecom, "churn_records")
    voluntary = churn.merge(subs, left_on=["customer_id", "churn_date"],
                            right_on=["customer_id", "end_date"])
    voluntary = voluntary[voluntary.cancel_kind == "voluntary"]
    prev_amount = subs.groupby("customer_id").amount_per_month.shift(1)
    subs = subs.assign(prev=prev_amount)
    rows = voluntary.merge(subs[["customer_id", "start_date", "prev"]],
                           on=["customer_id", "start_date"])
    down = (rows.prev > rows.amount_per_month).mean()
    # subscribers still active: how often is the current plan a downgrade?
    current = subs[subs.end_date.isna()]
    down_active = (current.prev > current.amount_per_month).mean()
    assert down > 0.3 and down > 2 * down_active


def test_telecom_grievances_before_service_churn(telecom) -> None:
    churn = frame(telecom, "churn_records")
    complaints = telecom.tables["complaints"].to_pandas()
    surveys = telecom.tables["surveys"].to_pandas()
    window = pd.Timedelta(days=182)

    def per_customer(events: pd.DataFrame, who: pd.DataFrame) -> pd.DataFrame:
        joined = who.merge(events, on="customer_id")
        return joined[(joined.time < joined.churn_date)
                      & (joined.time >= joined.churn_date - window)]

    angry = churn[churn.churn_type == "retaliatory"]
    calm = churn[churn.reason_category == "natural"]
    n_angry = len(per_customer(complaints, angry)) / len(angry)
    n_calm = len(per_customer(complaints, calm)) / len(calm)
    assert n_angry > 5 * n_calm
    unresolved = per_customer(complaints, angry).resolved_at.isna().mean()
    assert unresolved > complaints.resolved_at.isna().mean()
    assert complaints.text.str.contains(r"[\u4e00-\u9fff]").all()
    assert complaints.groupby("category").text.nunique().min() >= 1

    csat = surveys[surveys.kind == "CSAT"]
    before = per_customer(csat, churn[churn.reason_category == "service"]).score
    assert before.mean() < csat.score.mean() - 0.5
    assert surveys[surveys.kind == "CSAT"].score.between(1, 5).all()
    assert surveys[surveys.kind == "NPS"].score.between(0, 10).all()


def test_telecom_usage_fades_before_churn(telecom) -> None:
    events = telecom.tables["events"].to_pandas()
    churn = frame(telecom, "churn_records")
    logins = events[events.event_type == "app_login"].merge(
        churn.drop_duplicates("customer_id"), on="customer_id", how="left")
    to_go = (logins.churn_date - logins.time).dt.days
    last = logins[to_go.between(0, 60)].value.mean()
    earlier = logins[to_go.between(240, 420)].value.mean()
    assert last < 0.75 * earlier


def test_telecom_key_accounts_and_grades(telecom) -> None:
    customers = frame(telecom, "customers")
    assert customers.is_key_account.mean() == pytest.approx(0.03, abs=0.005)
    key = customers[customers.is_key_account]
    assert (key.segment == "政企").mean() > 0.7
    assert key.owner_id.notna().all()
    assert set(customers.grade) == {"A", "B", "C"}
    assert (customers.grade == "A").mean() == pytest.approx(0.15, abs=0.01)


@pytest.mark.parametrize("industry", ["telecom", "dealers"])
def test_promotion_cohort_churns_more(demos, industry: str) -> None:
    data = demos[industry]
    customers = frame(data, "customers")
    churn = frame(data, "churn_records")
    new = customers[customers.signup_date >= pd.Timestamp(data.start)]
    new = new[new.signup_date <= pd.Timestamp("2025-06-01")]
    first = churn.groupby("customer_id").churn_date.min()
    left = (first.reindex(new.customer_id).values - new.signup_date.values) \
        <= np.timedelta64(182, "D")
    promo = new.signup_date.dt.to_period("M") == pd.Period(data.planted["promotion_month"], "M")
    assert promo.mean() > 2.0 / 36  # the peak: several ordinary months of recruits
    p_promo, p_rest = left[promo.values].mean(), left[~promo.values].mean()
    assert p_promo > 1.5 * p_rest
    z = two_proportion_z(int(left[promo.values].sum()), int(promo.sum()),
                         int(left[~promo.values].sum()), int((~promo).sum()))
    assert z > 4


# --- planted effects: dealers ------------------------------------------------------------

def test_dealers_policy_change_hits_a_grade(dealers) -> None:
    """Six-month churn after the policy change: A-grade ~42%, B-grade ~23% (case 01)."""
    day = pd.Timestamp(dealers.planted["policy_change"])
    assert day == pd.Timestamp("2024-07-01")
    customers = frame(dealers, "customers").set_index("customer_id")
    who = active_on(dealers, day - pd.Timedelta(days=1))
    left = churned_between(dealers, who, day - pd.Timedelta(days=1),
                           day + pd.DateOffset(months=6) - pd.Timedelta(days=1))
    grade = customers.loc[who, "grade"].to_numpy()
    a, b = left[grade == "A"], left[grade == "B"]
    assert a.mean() == pytest.approx(0.42, abs=0.06)
    assert b.mean() == pytest.approx(0.23, abs=0.05)
    assert two_proportion_z(a.sum(), len(a), b.sum(), len(b)) > 6
    # the half year before the change shows no such gap
    before = active_on(dealers, day - pd.DateOffset(months=6))
    left0 = churned_between(dealers, before, day - pd.DateOffset(months=6),
                            day - pd.Timedelta(days=1))
    g0 = customers.loc[before, "grade"].to_numpy()
    assert left0[g0 == "A"].mean() < 0.15
    assert left0[g0 == "A"].mean() <= left0[g0 == "B"].mean() + 0.03
    churn = frame(dealers, "churn_records")
    after = churn[(churn.churn_date >= day) & (churn.churn_date < day + pd.DateOffset(months=6))]
    assert after.reason_category.isin(["management", "benefit"]).mean() > 0.6


def test_dealers_departing_salesperson_takes_customers(dealers) -> None:
    staff = frame(dealers, "staff").set_index("owner_id")
    leavers = staff[staff.left_at.notna()]
    owner = dealers.planted["departed_owner_id"]
    day = leavers.loc[owner, "left_at"]
    assert day == pd.Timestamp(dealers.planted["departed_on"])
    assert set(leavers.index) == {owner, *dealers.planted["benign_departures"]}
    customers = frame(dealers, "customers").set_index("customer_id")
    who = active_on(dealers, day)
    left = churned_between(dealers, who, day, day + pd.Timedelta(days=61))
    mine = (customers.loc[who, "owner_id"] == owner).to_numpy()
    assert mine.sum() >= 30
    assert left[mine].mean() > 0.4
    assert left[mine].mean() > 5 * left[~mine].mean()
    churn = frame(dealers, "churn_records")
    taken = churn[churn.customer_id.isin(who[mine][left[mine]])]
    taken = taken[(taken.churn_date > day) & (taken.churn_date <= day + pd.Timedelta(days=61))]
    assert (taken.reason_category == "management").mean() > 0.8
    assert taken.churn_type.isin(["competitive", "fault"]).mean() > 0.8
    # visible in the orders too: no order in the two months after the churn window
    orders = frame(dealers, "transactions")
    gone = who[mine][left[mine]]
    later = orders[(orders.date > day + pd.Timedelta(days=61))
                   & (orders.date <= day + pd.Timedelta(days=120))]
    assert not later.customer_id.isin(gone).any()


def test_dealers_benign_departures_take_no_customers(dealers) -> None:
    """3 per 100 salespeople leave with a handover: their dealers churn as everyone's."""
    staff = frame(dealers, "staff").set_index("owner_id")
    benign = dealers.planted["benign_departures"]
    assert len(benign) == max(2, round(0.03 * len(staff)))
    assert dealers.planted["departed_owner_id"] not in benign
    start, end = pd.Timestamp(dealers.start), pd.Timestamp(dealers.as_of)
    quarter = (end - start) / 4
    customers = frame(dealers, "customers").set_index("customer_id")
    mine_left = others_left = mine_n = others_n = 0
    for owner in benign:
        day = staff.loc[owner, "left_at"]
        assert start + quarter - pd.Timedelta(days=1) <= day <= end - quarter
        hired = staff.loc[owner, "hired_at"]
        assert pd.isna(hired) or day >= hired + pd.Timedelta(days=90)
        who = active_on(dealers, day)
        left = churned_between(dealers, who, day, day + pd.Timedelta(days=61))
        mine = (customers.loc[who, "owner_id"] == owner).to_numpy()
        mine_left, mine_n = mine_left + left[mine].sum(), mine_n + mine.sum()
        others_left, others_n = others_left + left[~mine].sum(), others_n + (~mine).sum()
    # pooled over the benign leavers: no excess churn (the planted leaver's is > 5x)
    assert mine_n >= 100
    assert abs(two_proportion_z(mine_left, mine_n, others_left, others_n)) < 3


def test_dealers_orders_shape(dealers) -> None:
    orders = frame(dealers, "transactions")
    customers = frame(dealers, "customers")
    per_customer = len(orders) / dealers.n_customers
    assert 8 <= per_customer <= 12
    grade = orders.merge(customers[["customer_id", "grade"]]).groupby("grade").amount.median()
    assert grade["A"] > 2.5 * grade["B"]
    assert grade["B"] > 2.5 * grade["C"]
    rate = orders.margin / orders.amount
    assert rate.between(0.049, 0.151).all()
    # seasonality: January above February every year
    by_month = orders.groupby(orders.date.dt.to_period("M")).size()
    for year in (2023, 2024, 2025):
        assert by_month[pd.Period(f"{year}-01", "M")] > 1.5 * by_month[pd.Period(f"{year}-02", "M")]
    assert orders.transaction_id.is_unique
    shares = customers.grade.value_counts(normalize=True)
    assert shares["A"] == pytest.approx(0.10, abs=0.01)
    assert shares["B"] == pytest.approx(0.25, abs=0.015)
    key = customers[customers.is_key_account]
    assert (key.grade == "A").mean() > 0.7
