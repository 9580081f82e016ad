"""Shared demo data and the contract check every demo table must pass."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from churnradar.datasets import DemoData, make_demo_data
from churnradar.schema import (
    ACTION_GROUPS,
    CANCEL_KIND,
    CANCEL_KINDS,
    CATEGORY,
    CHURN_TYPE,
    CHURN_TYPES,
    CONTRACTS,
    GROUP,
    KIND,
    OUTCOME,
    OUTCOMES,
    REASON_CATEGORIES,
    REASON_CATEGORY,
    SIGNUP_DATE,
    SURVEY_KINDS,
)

ARROW_TYPES = {
    "id": pa.string(),
    "string": pa.string(),
    "enum": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("s"),
    "float": pa.float64(),
    "bool": pa.bool_(),
}
VOCABULARIES = {
    REASON_CATEGORY: REASON_CATEGORIES,
    CATEGORY: REASON_CATEGORIES,
    CHURN_TYPE: CHURN_TYPES,
    CANCEL_KIND: CANCEL_KINDS,
    KIND: SURVEY_KINDS,
    GROUP: ACTION_GROUPS,
    OUTCOME: OUTCOMES,
}


def _as_datetime(day: dt.date, end_of_day: bool = False) -> dt.datetime:
    time = dt.time(23, 59, 59) if end_of_day else dt.time(0, 0, 0)
    return dt.datetime.combine(day, time)


def check_table(name: str, table: pa.Table, start: dt.date, end: dt.date) -> None:
    """Assert that ``table`` fits ``CONTRACTS[name]`` and the window ``[start, end]``."""
    contract = CONTRACTS[name]
    expected = [c.name for c in contract.columns]
    # contract columns, in contract order (customers.margin_rate may be left out)
    assert table.column_names == [c for c in expected if c in table.column_names], name
    missing = set(expected) - set(table.column_names)
    assert missing <= {"margin_rate"}, (name, missing)
    for column in contract.columns:
        if column.name not in table.column_names:
            continue
        where = f"{name}.{column.name}"
        values = table.column(column.name)
        assert values.type == ARROW_TYPES[column.kind], (where, values.type)
        if column.required:
            assert values.null_count == 0, where
        if column.nonnegative:
            assert pc.min(values).as_py() >= 0, where
        if column.low is not None and values.null_count < len(values):
            assert pc.min(values).as_py() >= column.low, where
            assert pc.max(values).as_py() <= column.high, where
        if column.name in VOCABULARIES:
            seen = set(pc.unique(values.drop_null()).to_pylist())
            assert seen <= set(VOCABULARIES[column.name]), (where, seen)
        if column.kind in ("date", "timestamp") and values.null_count < len(values):
            low, high = pc.min(values).as_py(), pc.max(values).as_py()
            if column.kind == "timestamp":
                assert high <= _as_datetime(end, end_of_day=True), where
                assert low >= _as_datetime(start), where
            else:
                assert high <= end, where
                if column.name != SIGNUP_DATE:
                    assert low >= start, where
        if column.kind in ("id", "string", "enum") and values.null_count < len(values):
            assert pc.min(pc.utf8_length(values.drop_null())).as_py() > 0, where
    key = contract.key or contract.optional_key
    if key and table.num_rows:
        groups = table.group_by(list(key)).aggregate([])
        assert groups.num_rows == table.num_rows, (name, "duplicate key", key)
    for earlier, later in contract.ordered:
        a, b = table.column(earlier), table.column(later)
        both = pc.and_(a.is_valid(), b.is_valid())
        assert pc.all(pc.less_equal(a.filter(both), b.filter(both))).as_py() in (True, None), (
            name, earlier, later,
        )


def check_demo(data: DemoData) -> None:
    """Every table, plus references between tables."""
    assert set(data.tables) <= set(CONTRACTS)
    for name, table in data.tables.items():
        check_table(name, table, data.start, data.as_of)
    customers = set(data.tables["customers"].column("customer_id").to_pylist())
    for name, table in data.tables.items():
        if "customer_id" in table.column_names and name != "customers":
            refs = set(pc.unique(table.column("customer_id")).to_pylist())
            assert refs <= customers, name
    if "staff" in data.tables:
        owners = set(pc.unique(data.tables["customers"].column("owner_id").drop_null())
                     .to_pylist())
        assert owners <= set(data.tables["staff"].column("owner_id").to_pylist())


@pytest.fixture(scope="session")
def contract_check() -> Callable[[DemoData], None]:
    return check_demo


@pytest.fixture(scope="session")
def telecom() -> DemoData:
    return make_demo_data("telecom", 20_000, random_state=0)


@pytest.fixture(scope="session")
def dealers() -> DemoData:
    return make_demo_data("dealers", 20_000, random_state=0)


@pytest.fixture(scope="session")
def demos(telecom: DemoData, dealers: DemoData) -> dict[str, DemoData]:
    return {"telecom": telecom, "dealers": dealers}
