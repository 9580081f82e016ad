"""make_demo_data: the API, argument checks, determinism, sizes and windows."""

from __future__ import annotations

import datetime as dt

import pytest

from churnradar import i18n
from churnradar.datasets import INDUSTRIES, DemoData, make_demo_data
from churnradar.exceptions import InputError

TABLES = {
    "telecom": {"customers", "subscriptions", "events", "complaints", "surveys",
                "churn_records", "staff", "retention_actions"},
    "dealers": {"customers", "transactions", "complaints", "churn_records", "staff"},
}


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_shape_and_fields(demos: dict[str, DemoData], industry: str) -> None:
    data = demos[industry]
    assert data.industry == industry
    assert data.as_of == dt.date(2025, 12, 31)
    assert data.start == dt.date(2023, 1, 1)
    assert set(data.tables) == TABLES[industry]
    assert data.tables["customers"].num_rows == 20_000
    assert data.n_customers == 20_000
    prefix = {"telecom": "T0000001", "dealers": "D000001"}[industry]
    assert data.tables["customers"].column("customer_id")[0].as_py() == prefix


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_every_table_respects_its_contract(demos, contract_check, industry: str) -> None:
    contract_check(demos[industry])


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_description_in_both_languages(demos: dict[str, DemoData], industry: str) -> None:
    data = demos[industry]
    zh, en = data.describe("zh-CN"), data.describe("en")
    assert "20,000" in zh and "20,000" in en
    assert zh != en
    assert ("演示数据" in zh) and ("demo data" in en)
    assert data.description == data.describe(i18n.default_language())
    if industry == "telecom":
        assert "2024-09" in en
    else:
        assert "2024-07-01" in en and data.planted["departed_owner_id"] in en


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_same_seed_same_tables_other_seed_other_tables(industry: str) -> None:
    a = make_demo_data(industry, 3_000, random_state=7)
    b = make_demo_data(industry, 3_000, random_state=7)
    c = make_demo_data(industry, 3_000, random_state=8)
    assert a.tables.keys() == b.tables.keys()
    for name in a.tables:
        assert a.tables[name].equals(b.tables[name]), name
    assert a.planted == b.planted
    differs = [name for name in a.tables if not a.tables[name].equals(c.tables[name])]
    assert {"customers", "churn_records"} <= set(differs)


def test_default_seed_is_reproducible() -> None:
    a, b = make_demo_data("dealers", 500), make_demo_data("dealers", 500)
    assert a.tables["transactions"].equals(b.tables["transactions"])


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_no_seed_still_valid(industry: str, contract_check) -> None:
    contract_check(make_demo_data(industry, 300, random_state=None))


@pytest.mark.parametrize("industry", INDUSTRIES)
@pytest.mark.parametrize("n", [1, 2, 17, 250])
def test_tiny_populations(industry: str, n: int, contract_check) -> None:
    data = make_demo_data(industry, n, random_state=n)
    assert data.tables["customers"].num_rows == n
    contract_check(data)


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_other_window_moves_the_planted_dates(industry: str, contract_check) -> None:
    start, end = dt.date(2021, 3, 15), dt.date(2022, 8, 20)
    data = make_demo_data(industry, 2_000, random_state=3, start=start, end=end)
    assert data.as_of == end and data.start == start
    contract_check(data)
    for value in data.planted.values():
        if isinstance(value, dt.date):
            assert start <= value <= end


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"industry": "retail"}, "industry must be one of"),
        ({"n_customers": 0}, "n_customers"),
        ({"n_customers": -5}, "n_customers"),
        ({"n_customers": 2.5}, "n_customers"),
        ({"n_customers": True}, "n_customers"),
        ({"n_customers": 10**9}, "n_customers"),
        ({"start": dt.date(2025, 1, 1), "end": dt.date(2024, 1, 1)}, "12 months to 80 years"),
        ({"start": dt.date(2025, 1, 1), "end": dt.date(2025, 6, 30)}, "12 months to 80 years"),
        ({"start": dt.date(1900, 1, 1), "end": dt.date(2025, 6, 30)}, "12 months to 80 years"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        make_demo_data(**kwargs)
