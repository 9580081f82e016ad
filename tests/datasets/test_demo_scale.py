"""A million dealers: about ten million orders (time and memory: see benchmarks/)."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from churnradar.datasets import make_demo_data


@pytest.mark.slow
def test_million_dealers() -> None:
    data = make_demo_data("dealers", 1_000_000, random_state=0)
    orders = data.tables["transactions"]
    assert orders.num_rows == pytest.approx(10_000_000, rel=0.2)
    assert data.tables["customers"].num_rows == 1_000_000
    assert data.tables["customers"].column("customer_id")[-1].as_py() == "D1000000"
    assert pc.count_distinct(orders.column("transaction_id")).as_py() == orders.num_rows
    assert pc.count_distinct(orders.column("customer_id")).as_py() == 1_000_000
    assert pc.max(orders.column("date")).as_py() <= data.as_of
    assert pc.min(orders.column("date")).as_py() >= data.start
    assert pc.min(orders.column("amount")).as_py() >= 0
    churn = data.tables["churn_records"]
    assert churn.group_by(["customer_id", "churn_date"]).aggregate([]).num_rows == churn.num_rows
