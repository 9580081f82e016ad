"""Staff departures (domain.md §3 management churn, case 01): counts by hand, the test
against scipy run here, and the planted salesperson of the dealers demo."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from churnradar import engine
from churnradar.datasets import DemoData, make_demo_data
from churnradar.exceptions import InputError, SchemaError
from churnradar.lifecycle import build_lifecycle
from churnradar.predict.labels import spells_frame
from churnradar.reasons.staff import COLUMNS, departure_summary, staff_departures
from churnradar.settings import ChurnSettings

AS_OF = dt.date(2024, 12, 31)
W = 30
T = pd.Timestamp
NAT = pd.NaT


def _spell(cid: str, start: str, churn: str | None = None) -> dict[str, object]:
    return {"customer_id": cid, "start_date": T(start),
            "churn_date": NAT if churn is None else T(churn)}


@pytest.fixture
def tiny() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """S1 leaves on 2024-06-01 and takes customers; S3 leaves on 2024-09-01 and takes
    none; S2 stays; S4 leaves after as_of (not known yet). Window 30 days."""
    sp = [
        _spell("a1", "2024-01-01", "2024-06-10"),   # churned after
        _spell("a2", "2024-01-01", "2024-07-01"),   # on left_at + 30: churned after
        _spell("a3", "2024-01-01", "2024-07-02"),   # one day too late
        _spell("a4", "2024-01-01"),
        _spell("a5", "2024-06-15"),                  # joined after left_at: not counted
        _spell("a6", "2024-01-01", "2024-06-01"),   # gone on left_at: only in 'before'
        _spell("a7", "2024-01-01", "2024-05-10"),   # churned before, won back,
        _spell("a7", "2024-05-25", "2024-06-20"),   # ... and churned after
        _spell("a8", "2024-05-15"),                  # active on left_at, not before
        # S2: 20 customers, b1 churns in S1's window, b2 in S3's; b21 joins later
        *[_spell(f"b{i}", "2023-06-01") for i in range(3, 21)],
        _spell("b1", "2023-06-01", "2024-06-15"),
        _spell("b2", "2023-06-01", "2024-09-10"),
        _spell("b21", "2024-07-01"),
        # S3: 10 customers, c10 churns before S3 leaves
        *[_spell(f"c{i}", "2023-06-01") for i in range(1, 10)],
        _spell("c10", "2023-06-01", "2024-08-01"),
        # no owner: churns in S1's window, ignored everywhere
        _spell("u1", "2023-06-01", "2024-06-05"),
        # not in the customers table: ignored
        _spell("x1", "2023-06-01", "2024-06-05"),
    ]
    owner = {**{f"a{i}": "S1" for i in range(1, 9)}, **{f"b{i}": "S2" for i in range(1, 22)},
             **{f"c{i}": "S3" for i in range(1, 11)}, "u1": None}
    customers = pd.DataFrame({"customer_id": list(owner), "owner_id": list(owner.values()),
                              "grade": "B"})
    staff = pd.DataFrame({
        "owner_id": ["S1", "S2", "S3", "S4"],
        "name": ["张伟", "王芳", "李娜", "刘洋"],
        "hired_at": [dt.date(2020, 1, 1)] * 4,
        # dates as pyarrow's to_pandas gives them (objects)
        "left_at": [dt.date(2024, 6, 1), None, dt.date(2024, 9, 1), dt.date(2025, 2, 1)],
    })
    return customers, pd.DataFrame(sp), staff


def test_counts_rates_and_test_by_hand(tiny) -> None:
    customers, spells, staff = tiny
    out = staff_departures(customers, spells, staff, as_of=AS_OF, window_days=W)
    assert list(out.columns) == list(COLUMNS)
    assert list(out.owner_id) == ["S1", "S3"]  # S4 leaves after as_of
    s1, s3 = out.iloc[0], out.iloc[1]
    # S1 on 2024-06-01: a1 a2 a3 a4 a7 a8 active; a1 a2 a7 churned by 2024-07-01
    assert (s1.customers, s1.churned_after) == (6, 3)
    # on 2024-05-02: a1 a2 a3 a4 a6 a7 active; a6 (06-01) and a7 (05-10) churned
    assert (s1.customers_before, s1.churned_before) == (6, 2)
    # peers: b1..b20 and c1..c10 (not u1, x1, b21); b1 churned
    assert (s1.peer_customers, s1.peer_churned) == (30, 1)
    assert s1.rate_after == 0.5 and s1.rate_before == pytest.approx(1 / 3)
    assert s1.peer_rate_after == pytest.approx(1 / 30)
    assert s1.ratio_vs_peers == pytest.approx(15.0) and s1.ratio_vs_before == pytest.approx(1.5)
    assert s1["name"] == "张伟" and s1.left_at == T("2024-06-01") and s1.complete
    # S3 on 2024-09-01: c1..c9; before (2024-08-02): c1..c9 (c10 gone on 08-01)
    assert (s3.customers, s3.churned_after, s3.customers_before, s3.churned_before) == (
        9, 0, 9, 0)
    # peers: a4 a5 a8, b2..b21; b2 churned
    assert (s3.peer_customers, s3.peer_churned) == (23, 1)
    p1 = fisher_exact([[3, 3], [1, 29]], alternative="greater").pvalue
    p3 = fisher_exact([[0, 9], [1, 22]], alternative="greater").pvalue
    assert s1.p_value == pytest.approx(p1, rel=1e-12)
    assert s3.p_value == pytest.approx(p3, rel=1e-12)
    # Benjamini-Hochberg by hand over the two tests (p1 < p3 = 1)
    assert s1.p_adjusted == pytest.approx(min(2 * p1, p3))
    assert s3.p_adjusted == pytest.approx(p3)
    assert s1.p_adjusted < 0.05
    assert bool(s1.flagged) and not bool(s3.flagged)  # S3: no extra churn
    assert np.isnan(s3.ratio_vs_before)  # 0 / 0


def test_flag_needs_enough_customers_and_a_rise(tiny) -> None:
    customers, spells, staff = tiny
    out = staff_departures(customers, spells, staff, as_of=AS_OF, window_days=W,
                           min_customers=7)
    assert not out.flagged.any()
    # the same churn after as before is no rise, however the peers churn
    more_before = pd.concat([spells, pd.DataFrame([
        _spell("a9", "2024-01-01", "2024-05-20"), _spell("a10", "2024-01-01", "2024-05-21"),
    ])], ignore_index=True)
    more = pd.concat([customers, pd.DataFrame({"customer_id": ["a9", "a10"],
                                               "owner_id": "S1"})], ignore_index=True)
    out = staff_departures(more, more_before, staff, as_of=AS_OF, window_days=W)
    s1 = out.set_index("owner_id").loc["S1"]
    assert (s1.customers_before, s1.churned_before) == (8, 4) and s1.rate_after == 0.5
    assert not s1.flagged


def test_incomplete_window_is_tested_on_what_is_observed(tiny) -> None:
    customers, spells, staff = tiny
    as_of = dt.date(2024, 6, 12)
    out = staff_departures(customers, spells, staff, as_of=as_of, window_days=W)
    s1 = out.set_index("owner_id").loc["S1"]
    assert not s1.complete
    # only what is known on 06-12: a1 churned, a2 and a7 not yet
    assert (s1.customers, s1.churned_after) == (6, 1)
    assert (s1.peer_customers, s1.peer_churned) == (30, 0)
    assert s1.p_value == pytest.approx(
        fisher_exact([[1, 5], [0, 30]], alternative="greater").pvalue)


def test_customers_without_owner_are_ignored(tiny) -> None:
    customers, spells, staff = tiny
    orphaned = customers.assign(owner_id=customers.owner_id.where(
        ~customers.customer_id.isin(["a1", "a2"])))
    s1 = staff_departures(orphaned, spells, staff, as_of=AS_OF,
                          window_days=W).set_index("owner_id").loc["S1"]
    assert (s1.customers, s1.churned_after, s1.peer_customers) == (4, 1, 30)
    nobody = customers.assign(owner_id=customers.owner_id.where(
        ~customers.owner_id.eq("S1")))
    out = staff_departures(nobody, spells, staff, as_of=AS_OF, window_days=W)
    s1 = out.set_index("owner_id").loc["S1"]
    assert s1.customers == 0 and np.isnan(s1.p_value) and not s1.flagged
    assert out.owner_id.iloc[-1] == "S1"  # untested last
    # BH over the one owner tested
    s3 = out.set_index("owner_id").loc["S3"]
    assert s3.p_adjusted == pytest.approx(s3.p_value)


@pytest.mark.parametrize("left_at", [[None, None], [dt.date(2025, 3, 1), None], []])
def test_no_departures_gives_an_empty_frame(tiny, left_at) -> None:
    customers, spells, _ = tiny
    staff = pd.DataFrame({"owner_id": ["S1", "S2"][:len(left_at)], "left_at": left_at})
    out = staff_departures(customers, spells, staff, as_of=AS_OF)
    assert out.empty and list(out.columns) == list(COLUMNS)
    assert out.flagged.dtype == bool and out.p_value.dtype == np.float64
    summary = departure_summary(out)
    assert (summary.departures, summary.tested, summary.flagged) == (0, 0, 0)


def test_summary(tiny) -> None:
    customers, spells, staff = tiny
    out = staff_departures(customers, spells, staff, as_of=AS_OF, window_days=W)
    summary = departure_summary(out)
    assert summary.as_dict() == {
        "departures": 2, "tested": 2, "flagged": 1, "flagged_owner_ids": ["S1"],
        "customers_lost_after_departures": 3, "excess_lost": pytest.approx(3 - 6 / 30),
        "incomplete": 0,
    }


def test_bad_input(tiny) -> None:
    customers, spells, staff = tiny
    with pytest.raises(SchemaError, match="staff has no column 'left_at'"):
        staff_departures(customers, spells, staff.drop(columns="left_at"), as_of=AS_OF)
    with pytest.raises(SchemaError, match="spells has no column 'churn_date'"):
        staff_departures(customers, spells.drop(columns="churn_date"), staff, as_of=AS_OF)
    with pytest.raises(SchemaError, match="customers has no column 'owner_id'"):
        staff_departures(customers.drop(columns="owner_id"), spells, staff, as_of=AS_OF)
    for kwargs in ({"window_days": 0}, {"alpha": 1.0}, {"min_customers": 0}):
        with pytest.raises(InputError):
            staff_departures(customers, spells, staff, as_of=AS_OF, **kwargs)


# --- the dealers demo: one salesperson takes dealers along, a few hand over ---------------

def truth_spells(demo: DemoData) -> pd.DataFrame:
    """The simulated relationships from the ground truth: signup to the first churn
    record; a win-back from the first order after it to the second record."""
    churn = demo.tables["churn_records"].to_pandas()
    orders = demo.tables["transactions"].to_pandas()
    customers = demo.tables["customers"].to_pandas()
    churn["churn_date"] = pd.to_datetime(churn.churn_date)
    orders["date"] = pd.to_datetime(orders.date)
    churn = churn.sort_values(["customer_id", "churn_date"])
    nth = churn.groupby("customer_id").cumcount()
    first, second = (churn[nth == k].set_index("customer_id").churn_date for k in (0, 1))
    one = pd.DataFrame({"customer_id": customers.customer_id,
                        "start_date": pd.to_datetime(customers.signup_date)})
    one["churn_date"] = one.customer_id.map(first)
    back = orders[orders.date > orders.customer_id.map(first)]
    two = back.groupby("customer_id").date.min().rename("start_date").reset_index()
    two["churn_date"] = two.customer_id.map(second)
    return pd.concat([one, two], ignore_index=True)


def activity_spells(demo: DemoData, inactivity_days: int) -> pd.DataFrame:
    con = engine.connect("duckdb")
    tables = {n: engine.register(con, f"staff_{id(demo)}_{n}", t)
              for n, t in demo.tables.items()}
    life = build_lifecycle(tables, ChurnSettings(inactivity_days=inactivity_days),
                           as_of=demo.as_of)
    return spells_frame(life.spells)


@pytest.fixture(scope="module", params=[0, 1])
def demo(request: pytest.FixtureRequest) -> DemoData:
    return make_demo_data("dealers", n_customers=20_000, random_state=request.param)


def _check_demo(demo: DemoData, out: pd.DataFrame) -> None:
    planted = demo.planted
    assert set(out.owner_id) == {planted["departed_owner_id"], *planted["benign_departures"]}
    assert list(out.owner_id[out.flagged]) == [planted["departed_owner_id"]]
    assert out.owner_id.iloc[0] == planted["departed_owner_id"]
    assert out.complete.all()


def test_demo_planted_leaver_flagged_benign_not(demo: DemoData) -> None:
    """Churn dated when it happened: the leaver stands out by far (p < 1e-30 for these
    seeds), the benign leavers not at all (p > 0.2)."""
    customers = demo.tables["customers"].to_pandas()
    staff = demo.tables["staff"].to_pandas()
    out = staff_departures(customers, truth_spells(demo), staff, as_of=demo.as_of)
    _check_demo(demo, out)
    leaver = out.iloc[0]
    assert leaver.p_adjusted < 1e-30 and leaver.rate_after > 0.5
    assert leaver.ratio_vs_peers > 8 and leaver.ratio_vs_before > 5
    assert out.p_value.iloc[1:].min() > 0.2
    summary = departure_summary(out)
    assert summary.flagged_owner_ids == (demo.planted["departed_owner_id"],)
    assert summary.customers_lost_after_departures == leaver.churned_after


def test_demo_with_activity_based_churn(demo: DemoData) -> None:
    """Activity-based churn is dated ``inactivity_days`` after the last order, so the
    window must cover that delay plus the weeks customers take to leave."""
    customers = demo.tables["customers"].to_pandas()
    staff = demo.tables["staff"].to_pandas()
    out = staff_departures(customers, activity_spells(demo, 120), staff, as_of=demo.as_of,
                           window_days=180)
    _check_demo(demo, out)
    assert out.p_adjusted.iloc[0] < 1e-3
    assert out.p_value.iloc[1:].min() > 0.05
