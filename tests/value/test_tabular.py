"""Transaction files outside a workspace: parsing and its errors (file, row, column)."""

from __future__ import annotations

import pandas as pd
import pytest

from churnradar.exceptions import InputError
from churnradar.value.tabular import parse_surviving, transactions_frame


def test_parse_surviving_accepts_commas_spaces_and_chinese_commas() -> None:
    assert parse_surviving("100, 63.1，46.8 38.2") == [100.0, 63.1, 46.8, 38.2]


@pytest.mark.parametrize("text", ["100,abc,3", "100,50", "100,120,50", "100,50,0"])
def test_parse_surviving_rejects(text: str) -> None:
    with pytest.raises(InputError, match="surviving"):
        parse_surviving(text)


def test_dates_in_two_styles() -> None:
    df = pd.DataFrame({"id": [1, 2], "d": ["19970101", "19970315"], "amt": [1.5, 2.0]})
    out = transactions_frame(df, name="f.csv", id_col="id", date_col="d", amount_col="amt")
    assert list(out["date"].dt.strftime("%Y-%m-%d")) == ["1997-01-01", "1997-03-15"]
    df = pd.DataFrame({"id": [1, 2], "d": ["2025-01-31", "2025-02-01 10:30"]})
    out = transactions_frame(df, name="f.csv", id_col="id", date_col="d", amount_col=None)
    assert list(out["date"].dt.strftime("%Y-%m-%d")) == ["2025-01-31", "2025-02-01"]
    assert "amount" not in out.columns


def test_bad_date_names_file_row_and_column() -> None:
    df = pd.DataFrame({"id": [1, 2, 3], "d": ["2025-01-31", "31/02/2025x", "2025-02-01"]})
    with pytest.raises(InputError) as err:
        transactions_frame(df, name="orders.csv", id_col="id", date_col="d", amount_col=None)
    text = str(err.value)
    assert "orders.csv" in text and "row 3" in text and "'d'" in text
    assert "第 3 行" in err.value.localized("zh-CN")


def test_negative_amount_and_missing_column() -> None:
    df = pd.DataFrame({"id": [1, 2], "d": ["2025-01-31", "2025-02-01"], "amt": [3.0, -1.0]})
    with pytest.raises(InputError, match=r"orders.csv, row 3, column 'amt'"):
        transactions_frame(df, name="orders.csv", id_col="id", date_col="d", amount_col="amt")
    with pytest.raises(InputError, match="--id"):
        transactions_frame(df, name="orders.csv", id_col="cust", date_col="d", amount_col=None)
