"""Win-back list: the window, malicious and natural churn excluded, ranked by expected."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from churnradar.exceptions import SchemaError
from churnradar.retention.winback import WINBACK_ACTION, winback_list

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture()
def churned() -> pd.DataFrame:
    return pd.DataFrame([
        ("a", "2025-06-01", "price", "competitive", 5000.0, "A"),
        ("b", "2025-05-01", "service", "retaliatory", 2000.0, "B"),
        ("m", "2025-06-10", "price", "malicious", 90000.0, "A"),     # never
        ("n", "2025-06-10", "natural", "natural", 90000.0, "A"),     # moved away / died
        ("o", "2025-06-10", "natural", None, 3000.0, "B"),           # "other": kept
        ("old", "2024-06-01", "price", "competitive", 9000.0, "A"),  # outside the window
        ("future", "2025-07-02", "price", "competitive", 9000.0, "A"),
        ("cheap", "2025-06-01", "price", "competitive", 400.0, "A"),  # 400×0.1 − 50 < 0
        ("nan", "2025-06-01", "price", "competitive", None, "A"),
        ("twice", "2025-02-01", "price", "competitive", 1000.0, "A"),
        ("twice", "2025-06-20", "price", "competitive", 1000.0, "A"),
        ("back", "2025-06-01", "price", "competitive", 8000.0, "A"),
    ], columns=["customer_id", "churn_date", "reason_category", "churn_type", "value",
                "region"])


def test_winback_list(churned: pd.DataFrame) -> None:
    out = winback_list(churned, as_of=AS_OF, days=180, cost=50.0, success=0.1,
                       exclude={"back"})
    assert list(out.customer_id) == ["a", "o", "b", "twice"]
    assert list(out.expected) == pytest.approx([450.0, 250.0, 150.0, 50.0])
    assert list(out["rank"]) == [1, 2, 3, 4]
    assert (out.action == WINBACK_ACTION).all()
    assert "region" in out.columns  # other columns kept
    twice = out.set_index("customer_id").loc["twice"]
    assert twice.churn_date == pd.Timestamp("2025-06-20") and twice.days_since_churn == 10
    assert out.attrs["excluded"] == {"malicious": 1, "natural": 1, "excluded": 1,
                                     "not_worth": 2}


def test_malicious_and_natural_never_listed_whatever_their_value(
        churned: pd.DataFrame) -> None:
    out = winback_list(churned, as_of=AS_OF, days=10_000, cost=0.0, success=1.0)
    assert not set(out.churn_type.dropna()) & {"malicious", "natural"}
    assert {"m", "n"}.isdisjoint(out.customer_id)


def test_missing_columns(churned: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="value"):
        winback_list(churned.drop(columns="value"), as_of=AS_OF, days=30, cost=1,
                     success=0.1)
    bare = churned[["customer_id", "churn_date", "value"]]
    out = winback_list(bare, as_of=AS_OF, days=180, cost=50.0, success=0.1)
    assert "m" in set(out.customer_id)  # without a type nothing can be excluded
