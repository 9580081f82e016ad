"""compute_metrics on tiny datasets whose every number was computed by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from churnradar.exceptions import InputError, WorkspaceError
from churnradar.metrics import compute_metrics_from_tables
from churnradar.settings import ChurnSettings, MetricsSettings, Settings

from .conftest import d


def _tiny_orders():
    customers = pd.DataFrame({
        "customer_id": list("abcd"), "grade": ["A", "A", "B", "B"],
        "is_key_account": [True, False, False, False],
    })
    rows = [("a", "2024-01-05", 100), ("a", "2024-02-05", 100), ("a", "2024-03-05", 50),
            *[("b", f"2024-{m:02d}-10", 200) for m in range(1, 7)],
            ("c", "2024-02-20", 80), ("c", "2024-05-01", 80), ("d", "2024-03-15", 10)]
    tx = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    tx["date"] = [d(x) for x in tx["date"]]
    tx["amount"] = tx["amount"].astype(float)
    return customers, tx


@pytest.fixture()
def tiny(make_tables):
    customers, tx = _tiny_orders()
    tables = make_tables(customers=customers, transactions=tx)
    settings = Settings(churn=ChurnSettings(inactivity_days=45))
    return compute_metrics_from_tables(tables, settings, as_of=d("2024-06-30"))


def test_flows_by_hand(tiny):
    # inactivity 45 days. a: 01-05..03-05 -> churn 04-19. b: monthly to 06-10, active.
    # c: 02-20 (churn 04-05), back 05-01 (win-back, churn 06-15). d: 03-15 -> churn 04-29.
    # history starts 01-05; +45 days warm-up -> first reported month is March.
    o = tiny.overall.set_index("label")
    assert list(o.index) == ["2024-03", "2024-04", "2024-05", "2024-06"]
    assert o["start_count"].tolist() == [3, 4, 1, 2]
    assert o["new_count"].tolist() == [1, 0, 0, 0]
    assert o["winback_count"].tolist() == [0, 0, 1, 0]
    assert o["churned_count"].tolist() == [0, 3, 0, 1]
    assert o["end_count"].tolist() == [4, 1, 2, 1]
    assert o.loc["2024-04", "churn_rate_start"] == pytest.approx(3 / 4)
    assert o.loc["2024-04", "churn_rate_end"] == pytest.approx(3 / 1)  # the end basis can pass 1
    assert o.loc["2024-06", "retention_rate_start"] == pytest.approx(0.5)
    assert o["complete"].all()


def test_revenue_by_hand(tiny):
    o = tiny.overall.set_index("label")
    # March: revenue a 50 + b 200 + d 10; base = Feb revenue of S={a,b,c} = 100+200+80
    assert o.loc["2024-03", "revenue"] == pytest.approx(260)
    assert o.loc["2024-03", "base_revenue"] == pytest.approx(380)
    # nobody churned in March; a fell 100->50 and c 80->0: contraction 130
    assert o.loc["2024-03", "contraction"] == pytest.approx(130)
    assert o.loc["2024-03", "churned_revenue"] == 0
    assert o.loc["2024-03", "gross_revenue_churn"] == pytest.approx(130 / 380)
    assert o.loc["2024-03", "contraction_loss"] == pytest.approx(130 * 0.2)
    # April: S={a,b,c,d}, March revenue 50+200+0+10; a, c, d churned -> 60
    assert o.loc["2024-04", "base_revenue"] == pytest.approx(260)
    assert o.loc["2024-04", "churned_revenue"] == pytest.approx(60)
    assert o.loc["2024-04", "net_revenue_retention"] == pytest.approx(200 / 260)
    # lost revenue = each churned customer's last month of activity: a 50, c 80, d 10
    assert o.loc["2024-04", "lost_revenue"] == pytest.approx(140)
    assert o.loc["2024-04", "churn_loss"] == pytest.approx(140 * 0.2)
    # June: c's win-back spell churned; its May revenue 80 is lost
    assert o.loc["2024-06", "lost_revenue"] == pytest.approx(80)
    assert o.loc["2024-06", "arpu"] == pytest.approx(280 / 2)


def test_segments_add_up_and_carry_wilson(tiny):
    g = tiny.by["grade"]
    assert set(g["segment"]) == {"A", "B"}
    summed = g.groupby("label")[["start_count", "churned_count", "end_count",
                                 "lost_revenue"]].sum()
    o = tiny.overall.set_index("label")
    for col in summed.columns:
        assert summed[col].tolist() == pytest.approx(o[col].tolist())
    a_apr = g[(g["segment"] == "A") & (g["label"] == "2024-04")].iloc[0]
    assert (a_apr["start_count"], a_apr["churned_count"]) == (2, 1)
    assert a_apr["ci_low"] < 0.5 < a_apr["ci_high"]
    assert a_apr["too_small"]  # 2 < 30 customers


def test_cohort_matrix_by_hand(tiny):
    # only d joined inside the reported window (March); it churned in April
    c = tiny.cohorts
    assert list(c.index) == ["2024-03"]
    assert c.loc["2024-03", "size"] == 1
    assert c.loc["2024-03", 0] == 1.0 and c.loc["2024-03", 1] == 0.0


def test_contracts_by_hand(make_tables):
    customers = pd.DataFrame({"customer_id": ["x", "y", "z"]})
    subs = pd.DataFrame({
        "customer_id": ["x", "x", "y", "z", "z"],
        "start_date": [d("2024-01-01"), d("2024-03-01"), d("2024-01-01"), d("2024-01-01"),
                       d("2024-05-01")],
        # x renews on the day its first contract ends (one spell); z leaves and comes back
        "end_date": [d("2024-03-01"), None, d("2024-04-16"), d("2024-02-01"), None],
        "amount_per_month": [30.0, 60.0, 90.0, 10.0, 10.0],
    })
    tables = make_tables(customers=customers, subscriptions=subs)
    r = compute_metrics_from_tables(tables, Settings(), as_of=d("2024-06-30"))
    o = r.overall.set_index("label")
    assert list(o.index)[0] == "2024-02"  # the first month after the history start
    assert o["start_count"].tolist() == [3, 2, 2, 1, 2]
    assert o["churned_count"].tolist() == [1, 0, 1, 0, 0]  # z in Feb, y in April
    assert o["winback_count"].tolist() == [0, 0, 0, 1, 0]
    # y's April: 15 of 30 days of 90 -> 45; x pays 60 from March on
    assert o.loc["2024-04", "revenue"] == pytest.approx(60 + 45)
    # y churned in April: lost revenue = its March revenue (the prior period) = 90
    assert o.loc["2024-04", "lost_revenue"] == pytest.approx(90)
    assert o.loc["2024-04", "churned_revenue"] == pytest.approx(90)
    # x expanded from 30 to 60 in March
    assert o.loc["2024-03", "expansion"] == pytest.approx(30)
    assert o.loc["2024-06", "complete"]


def test_as_of_cuts_future_and_marks_incomplete(make_tables):
    customers, tx = _tiny_orders()
    tables = make_tables(customers=customers, transactions=tx)
    r = compute_metrics_from_tables(tables, Settings(churn=ChurnSettings(inactivity_days=45)),
                                    as_of=d("2024-05-20"))
    o = r.overall.set_index("label")
    assert o.index[-1] == "2024-05" and not o.loc["2024-05", "complete"]
    assert r.latest()["label"] == "2024-04"
    # b's June purchase is after as_of: it is not revenue of any reported period
    assert o["revenue"].sum() == pytest.approx(tx[tx["date"] <= d("2024-05-20")]
                                               .query("date >= @d('2024-03-01')")["amount"].sum())


def test_quarter_and_year_periods(make_tables):
    customers, tx = _tiny_orders()
    tables = make_tables(customers=customers, transactions=tx)
    st = Settings(churn=ChurnSettings(inactivity_days=45))
    q = compute_metrics_from_tables(tables, st, period="quarter", as_of=d("2024-06-30"))
    assert q.overall["label"].tolist() == ["2024-Q2"]
    row = q.overall.iloc[0]
    # at April 1: a, b, c, d active; churned in Q2: a, c, d. c's win-back began in May and
    # ended in June: joined and left within the quarter, neither new nor churned
    assert (row["start_count"], row["churned_count"], row["winback_count"]) == (4, 3, 0)
    assert row["joined_left_count"] == 1
    assert row["end_count"] == 1
    # lost revenue = the quarter (3 months) ending with each one's last purchase month:
    # a Jan-Mar 100+100+50, c Dec-Feb 80, d Jan-Mar 10
    assert row["lost_revenue"] == pytest.approx(250 + 80 + 10)
    m = compute_metrics_from_tables(tables, st, period="month", as_of=d("2024-06-30"))
    months = m.overall[m.overall["label"] >= "2024-04"]
    # c's May-June win-back is a churn in the months but joined-and-left in the quarter
    assert months["churned_count"].sum() == row["churned_count"] + row["joined_left_count"]
    assert months["revenue"].sum() == pytest.approx(row["revenue"])


def test_margin_per_customer_overrides_settings(make_tables):
    customers, tx = _tiny_orders()
    customers["margin_rate"] = [0.5, None, 0.1, None]
    tables = make_tables(customers=customers, transactions=tx)
    st = Settings(churn=ChurnSettings(inactivity_days=45), metrics=MetricsSettings(margin=0.2))
    r = compute_metrics_from_tables(tables, st, as_of=d("2024-06-30"))
    apr = r.overall.set_index("label").loc["2024-04"]
    # a: 50 x 0.5, c: 80 x 0.1, d: 10 x 0.2 (settings)
    assert apr["churn_loss"] == pytest.approx(25 + 8 + 2)


def test_transaction_margins_are_used(make_tables):
    customers, tx = _tiny_orders()
    tx["margin"] = tx["amount"] * 0.3
    tables = make_tables(customers=customers, transactions=tx)
    r = compute_metrics_from_tables(tables, Settings(churn=ChurnSettings(inactivity_days=45)),
                                    as_of=d("2024-06-30"))
    assert r.overall.set_index("label").loc["2024-04", "churn_loss"] == pytest.approx(140 * 0.3)


def test_errors(make_tables):
    customers, tx = _tiny_orders()
    tables = make_tables(customers=customers, transactions=tx)
    with pytest.raises(InputError, match="period must be one of"):
        compute_metrics_from_tables(tables, Settings(), period="week")
    with pytest.raises(InputError, match="--by must be one of"):
        compute_metrics_from_tables(tables, Settings(), dimensions=["colour"])
    with pytest.raises(WorkspaceError, match="no 'region' column"):
        compute_metrics_from_tables(tables, Settings(), dimensions=["region"])
    with pytest.raises(WorkspaceError, match="customers table has not been imported"):
        compute_metrics_from_tables({"transactions": tables["transactions"]}, Settings())
    with pytest.raises(WorkspaceError, match="subscriptions"):
        compute_metrics_from_tables({"customers": tables["customers"]}, Settings())


def test_annualised_rate_is_the_period_conversion(tiny):
    from churnradar.metrics.rates import convert_rate

    for _, row in tiny.overall.iterrows():
        if row["start_count"]:
            assert row["churn_rate_annualised"] == pytest.approx(
                convert_rate(row["churn_rate_start"], "month", "year"))
    assert tiny.annualised_churn_rate == pytest.approx(tiny.latest()["churn_rate_annualised"])
