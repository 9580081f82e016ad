"""Invariants of the metrics on random order histories (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnradar.metrics import compute_metrics_from_tables
from churnradar.settings import ChurnSettings, Settings

START = dt.date(2023, 1, 1)
AS_OF = dt.date(2024, 12, 31)
SPAN = (AS_OF - START).days

customer = st.tuples(
    st.sampled_from(["A", "B", "C"]),
    st.lists(st.tuples(st.integers(0, SPAN), st.floats(0, 1e5, allow_nan=False)),
             min_size=1, max_size=8),
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(people=st.lists(customer, min_size=1, max_size=15), inactivity=st.integers(1, 120))
def test_flow_and_segment_invariants(make_tables, people, inactivity):
    rows, cust = [], []
    for i, (grade, orders) in enumerate(people):
        cust.append({"customer_id": f"c{i}", "grade": grade})
        rows += [{"customer_id": f"c{i}", "date": START + dt.timedelta(days=day),
                  "amount": amount} for day, amount in orders]
    tx = pd.DataFrame(rows)
    tables = make_tables(customers=pd.DataFrame(cust), transactions=tx)
    st_ = Settings(churn=ChurnSettings(inactivity_days=inactivity))
    r = compute_metrics_from_tables(tables, st_, as_of=AS_OF, dimensions=["grade"])
    o = r.overall
    S, N, W, C, E = (o[c] for c in ("start_count", "new_count", "winback_count",
                                    "churned_count", "end_count"))
    assert (E == S + N + W - C).all()
    assert (E.iloc[:-1].to_numpy() == S.iloc[1:].to_numpy()).all()
    # who joins and leaves within a period is neither new nor churned: C <= S always
    assert (C <= S + N + W).all() and (C <= S).all()
    assert (S >= 0).all() and (E >= 0).all()
    judged = o[S > 0]
    assert judged["churn_rate_start"].between(0, 1).all()
    assert (judged["churn_rate_start"] * judged["start_count"]).round(9).tolist() == \
        pytest.approx(judged["churned_count"].tolist())
    assert (judged["churn_rate_start"] + judged["retention_rate_start"]).round(12).eq(1).all()
    ends = o[E > 0]
    assert (ends["churn_rate_end"] * ends["end_count"]).tolist() == \
        pytest.approx(ends["churned_count"].tolist())
    # segment totals add up to the whole
    g = r.by["grade"].groupby("label")[["start_count", "new_count", "winback_count",
                                        "churned_count", "end_count", "revenue",
                                        "base_revenue", "lost_revenue", "churn_loss",
                                        "contraction", "expansion"]].sum()
    whole = o.set_index("label")[g.columns]
    for col in g.columns:
        assert g[col].tolist() == pytest.approx(whole.loc[g.index, col].tolist(), abs=1e-6)
    seg = r.by["grade"]
    rated = seg[seg["ci_low"].notna()]
    assert (rated["ci_low"] <= rated["churn_rate_start"] + 1e-12).all()
    assert (rated["churn_rate_start"] <= rated["ci_high"] + 1e-12).all()
    # revenue of every reported period equals the orders dated in it
    for _, row in o.iterrows():
        inside = tx[(tx["date"] >= row["period_start"]) & (tx["date"] < row["period_end"])]
        assert row["revenue"] == pytest.approx(inside["amount"].sum(), abs=1e-6)
    assert (o["gross_revenue_churn"].dropna().between(0, 1 + 1e-12)).all()
