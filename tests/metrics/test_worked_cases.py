"""domain.md's worked cases reproduced from customer-level data, not just from counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnradar.metrics import compute_metrics_from_tables
from churnradar.settings import ChurnSettings, MetricsSettings, Settings

from .conftest import d


def _monthly(ids, first: str, last: str, yearly_amount: float) -> pd.DataFrame:
    months = pd.date_range(first, last, freq="MS") + pd.Timedelta(days=14)
    ids = np.asarray(ids)
    return pd.DataFrame({
        "customer_id": np.repeat(ids, len(months)),
        "date": np.tile(months.date, len(ids)),
        "amount": yearly_amount / 12,
    })


def test_case_02_small_appliances_from_orders(make_tables):
    """3000 retail points at the start of 2024, 500 opened, 3300 at the end; half of the
    churned points sold 100,000 a year and half 200,000; margin 5%."""
    stay = [f"S{i}" for i in range(2800)]
    gone_small = [f"L{i}" for i in range(100)]
    gone_big = [f"B{i}" for i in range(100)]
    new = [f"N{i}" for i in range(500)]
    tx = pd.concat([
        _monthly(stay, "2023-01-01", "2024-12-01", 60_000),
        # the churned points last ordered in December 2023; 90 days later they are churned
        _monthly(gone_small, "2023-01-01", "2023-12-01", 100_000),
        _monthly(gone_big, "2023-01-01", "2023-12-01", 200_000),
        _monthly(new, "2024-06-01", "2024-12-01", 30_000),
    ], ignore_index=True)
    customers = pd.DataFrame({"customer_id": stay + gone_small + gone_big + new})
    tables = make_tables(customers=customers, transactions=tx)
    settings = Settings(churn=ChurnSettings(inactivity_days=90),
                        metrics=MetricsSettings(margin=0.05))
    r = compute_metrics_from_tables(tables, settings, period="year", as_of=d("2024-12-31"))
    y = r.overall.set_index("label").loc["2024"]
    assert (y["start_count"], y["new_count"], y["end_count"]) == (3000, 500, 3300)
    assert y["churned_count"] == 200
    assert round(y["churn_rate_start"], 4) == 0.0667
    assert round(y["churn_rate_end"], 4) == 0.0606
    assert y["lost_revenue"] == pytest.approx(30_000_000)
    assert y["churn_loss"] == pytest.approx(1_500_000)


def test_case_03_telecom_from_subscriptions(make_tables):
    """300,000 subscribers at the start, 50,000 new, 320,000 at the end; last year's bill
    1,000, this year's 900; margin 3%."""
    n_keep, n_gone, n_new = 270_000, 30_000, 50_000
    keep = np.array([f"K{i}" for i in range(n_keep)])
    gone = np.array([f"G{i}" for i in range(n_gone)])
    new = np.array([f"N{i}" for i in range(n_new)])
    y23, y24 = d("2023-01-01"), d("2024-01-01")
    subs = pd.concat([
        # retained: 1,000 a year in 2023, then a cheaper plan (900 a year) from 2024
        pd.DataFrame({"customer_id": keep, "start_date": y23, "end_date": y24,
                      "amount_per_month": 1000 / 12}),
        pd.DataFrame({"customer_id": keep, "start_date": y24, "end_date": None,
                      "amount_per_month": 900 / 12}),
        pd.DataFrame({"customer_id": gone, "start_date": y23, "end_date": d("2024-07-01"),
                      "amount_per_month": 1000 / 12}),
        pd.DataFrame({"customer_id": new, "start_date": d("2024-03-01"), "end_date": None,
                      "amount_per_month": 900 / 12}),
    ], ignore_index=True)
    subs["end_date"] = subs["end_date"].astype("object")
    customers = pd.DataFrame({"customer_id": np.concatenate([keep, gone, new])})
    tables = make_tables(customers=customers, subscriptions=subs)
    settings = Settings(metrics=MetricsSettings(margin=0.03))
    r = compute_metrics_from_tables(tables, settings, period="year", as_of=d("2024-12-31"),
                                    dimensions=[])
    y = r.overall.set_index("label").loc["2024"]
    assert (y["start_count"], y["new_count"], y["end_count"]) == (300_000, 50_000, 320_000)
    assert y["churned_count"] == 30_000
    assert y["churn_rate_start"] == pytest.approx(0.10)
    assert y["churn_rate_end"] == pytest.approx(0.09375)
    # churn loss = churned x last year's 1,000 x 3%
    assert y["lost_revenue"] == pytest.approx(30_000_000)
    assert y["churn_loss"] == pytest.approx(900_000)
    # ARPU contraction of the 270,000 retained, reported apart: 270,000 x 100 x 3%
    assert y["contraction"] == pytest.approx(27_000_000)
    assert y["contraction_loss"] == pytest.approx(810_000)
    assert y["arpu"] == pytest.approx(1000)


def test_case_01_grades_are_tracked_apart(make_tables):
    """Industrial tools: after a harsh policy change, six-month churn was 42% for A-grade
    and 23% for B-grade dealers (here 21 of 50 and 23 of 100, churning in 2024 H2)."""
    a = [f"A{i}" for i in range(50)]
    b = [f"B{i}" for i in range(100)]
    gone = set(a[:21]) | set(b[:23])
    frames = []
    for cid in a + b:
        last = "2024-06-01" if cid in gone else "2024-12-01"
        frames.append(_monthly([cid], "2023-01-01", last, 120_000))
    tx = pd.concat(frames, ignore_index=True)
    customers = pd.DataFrame({"customer_id": a + b, "grade": ["A"] * 50 + ["B"] * 100})
    tables = make_tables(customers=customers, transactions=tx)
    settings = Settings(churn=ChurnSettings(inactivity_days=60),
                        metrics=MetricsSettings(min_segment_size=30))
    r = compute_metrics_from_tables(tables, settings, period="quarter", as_of=d("2024-12-31"),
                                    dimensions=["grade"])
    g = r.by["grade"]
    # the churn dates (last order + 60 days) fall in Q3 2024
    h2 = g[g["label"].isin(["2024-Q3", "2024-Q4"])].groupby("segment")["churned_count"].sum()
    assert h2["A"] == 21 and h2["B"] == 23
    q3 = g[g["label"] == "2024-Q3"].set_index("segment")
    assert q3.loc["A", "churn_rate_start"] == pytest.approx(0.42)
    assert q3.loc["B", "churn_rate_start"] == pytest.approx(0.23)
    # both grades are large enough to judge, but 50 A-grade dealers leave a wide interval
    assert not q3["too_small"].any()
    assert q3.loc["A", "ci_high"] - q3.loc["A", "ci_low"] > 0.25
    assert q3.loc["A", "ci_low"] > 0.23  # still clearly above B's rate
    q3_total = r.overall.set_index("label").loc["2024-Q3"]
    assert q3_total["churn_rate_start"] == pytest.approx(44 / 150)


def test_case_01_alerts_early(make_tables):
    """Seen at the end of Q3, the A-grade spike is ranked first and the safety line alerts."""
    a = [f"A{i}" for i in range(50)]
    b = [f"B{i}" for i in range(100)]
    gone = set(a[:21]) | set(b[:23])
    tx = pd.concat([_monthly([c], "2023-01-01", "2024-06-01" if c in gone else "2024-09-01",
                             120_000) for c in a + b], ignore_index=True)
    customers = pd.DataFrame({"customer_id": a + b, "grade": ["A"] * 50 + ["B"] * 100})
    tables = make_tables(customers=customers, transactions=tx)
    r = compute_metrics_from_tables(tables, Settings(churn=ChurnSettings(inactivity_days=60)),
                                    period="quarter", as_of=d("2024-09-30"),
                                    dimensions=["grade"])
    assert r.latest()["label"] == "2024-Q3"
    ranked = r.latest_by("grade")
    assert ranked["segment"].tolist() == ["A", "B"]
    assert ranked["rank"].tolist() == [1.0, 2.0]
    dev = next(c for c in r.safety if c.check == "deviation")
    assert dev.status == "alert"
