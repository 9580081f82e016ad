"""Value parsing: dates, times, numbers, booleans, enums (vectorised converters)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnradar.io.validate import convert_column, parse_datetime_text
from churnradar.schema import CONTRACTS, Column


def _convert(values: list[str | None], column: Column) -> tuple[list, dict[str, list[int]]]:
    out, checks = convert_column(pa.array(values, pa.string()), column)
    bad = {c.key: [i for i, b in enumerate(c.mask.to_pylist()) if b] for c in checks}
    return out.to_pylist(), bad


DATE = Column("d", "date")
TIME = Column("t", "timestamp")
AMOUNT = CONTRACTS["transactions"].column("amount")
assert AMOUNT is not None


def test_date_forms() -> None:
    values = ["2024-01-05", "2024/1/5", "2024.01.05", "20240105", "2024年1月5日",
              "2024-01-05 13:45:00", "2024/01/05T08:00", " 2024-1-5 ", "2024年01月05日 9:30"]
    out, bad = _convert(values, DATE)
    assert out == [dt.date(2024, 1, 5)] * len(values)
    assert bad == {}


def test_bad_and_impossible_dates() -> None:
    values = ["2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "05/01/2024", "yesterday",
              "2024-02-29", "", None, "202401", "45296", "2024-01-05 25:00"]
    out, bad = _convert(values, DATE)
    assert bad == {"io_r_bad_date": [0, 1, 2, 3, 11], "io_r_not_date": [4, 5, 9, 10]}
    assert out[6] == dt.date(2024, 2, 29)
    assert out[7] is None and out[8] is None


def test_timestamps() -> None:
    values = ["2024-01-05 08:30:15", "2024-01-05", "2024/1/5 8:30", "2024-01-05T08:30:15.250",
              "2024-01-05 24:00:00", "2024-01-05 08:61"]
    out, bad = _convert(values, TIME)
    assert out[:4] == [dt.datetime(2024, 1, 5, 8, 30, 15), dt.datetime(2024, 1, 5),
                       dt.datetime(2024, 1, 5, 8, 30), dt.datetime(2024, 1, 5, 8, 30, 15)]
    assert bad == {"io_r_bad_date": [4, 5]}


def test_numbers() -> None:
    good = ["1234.5", "1,234,567.89", "¥1,200", "$3", "-¥5", "¥-5", "+7", ".5", "1e3",
            "0", "  42  ", "１"[:0] + "12"]
    out, bad = _convert(good, Column("x", "float"))
    assert out == [1234.5, 1234567.89, 1200.0, 3.0, -5.0, -5.0, 7.0, 0.5, 1000.0, 0.0,
                   42.0, 12.0]
    assert bad == {}
    not_numbers = ["12,5", "1,23", "1,2345", "abc", "1.2.3", "nan", "inf", "--1", "1e999",
                   "12 5", "¥"]
    out, bad = _convert(not_numbers, Column("x", "float"))
    assert bad == {"io_r_not_number": list(range(len(not_numbers)))}
    assert out == [None] * len(not_numbers)


def test_amount_rules() -> None:
    out, bad = _convert(["10", "-0.01", "", "0"], AMOUNT)
    assert bad == {"io_r_negative": [1], "io_r_empty": [2]}


def test_bounds() -> None:
    margin = CONTRACTS["customers"].column("margin_rate")
    assert margin is not None
    _, bad = _convert(["-1", "1", "1.01", "-2"], margin)
    assert bad == {"io_r_range": [2, 3]}


def test_bools() -> None:
    values = ["true", "FALSE", "1", "0", "Yes", "no", "Y", "n", "是", "否", "", "maybe", "2"]
    out, bad = _convert(values, Column("b", "bool"))
    assert out[:10] == [True, False] * 5
    assert out[10] is None
    assert bad == {"io_r_not_bool": [11, 12]}


def test_enum_aliases() -> None:
    col = CONTRACTS["subscriptions"].column("cancel_kind")
    assert col is not None
    out, bad = _convert(["Voluntary", "被动", "自愿", "", "unknown"], col)
    assert out == ["voluntary", "involuntary", "voluntary", None, None]
    assert bad == {"io_r_bad_enum": [4]}


def test_ids_are_trimmed_and_required() -> None:
    col = Column("customer_id", "id", required=True)
    out, bad = _convert([" C1 ", "\u3000C2", "", "   "], col)
    assert out == ["C1", "C2", None, None]
    assert bad == {"io_r_empty": [2, 3]}


def test_typed_inputs() -> None:
    out, checks = convert_column(pa.array([20240105, None]), DATE)
    assert out.to_pylist() == [dt.date(2024, 1, 5), None] and not checks
    out, checks = convert_column(pa.array([1.0, float("nan")]), Column("x", "float"))
    assert out.to_pylist() == [1.0, None] and not checks
    out, checks = convert_column(pa.array([1, 0, 2]), Column("b", "bool"))
    assert out.to_pylist() == [True, False, None] and checks[0].key == "io_r_not_bool"


_FORMATS = ["{y:04d}-{m:02d}-{d:02d}", "{y:04d}/{m}/{d}", "{y:04d}.{m:02d}.{d:02d}",
            "{y:04d}{m:02d}{d:02d}", "{y:04d}年{m}月{d}日", "{y:04d}-{m:02d}-{d:02d} 23:59:59"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
                          st.sampled_from(_FORMATS)), min_size=1, max_size=20))
def test_every_real_date_in_every_form_parses_back(items: list[tuple[dt.date, str]]) -> None:
    texts = [f.format(y=d.year, m=d.month, d=d.day) for d, f in items]
    out, not_parsed, impossible = parse_datetime_text(pa.array(texts), with_time=False)
    assert out.to_pylist() == [d for d, _ in items]
    assert not any(not_parsed.to_pylist()) and not any(impossible.to_pylist())


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 9999), st.integers(1, 12), st.integers(29, 31))
def test_days_past_the_month_end_are_rejected(y: int, m: int, d: int) -> None:
    try:
        dt.date(y, m, d)
        real = True
    except ValueError:
        real = False
    out, _, impossible = parse_datetime_text(pa.array([f"{y:04d}/{m}/{d}"]), with_time=False)
    assert impossible.to_pylist() == [not real]
    assert (out[0].as_py() is not None) == real


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False))
def test_thousands_separated_numbers_parse(value) -> None:  # type: ignore[no-untyped-def]
    text = f"{value:,.2f}"
    out, bad = _convert([text], Column("x", "float"))
    assert bad == {} and out[0] == pytest.approx(float(value))
