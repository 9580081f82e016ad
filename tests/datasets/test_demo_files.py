"""write_demo_files: the files read back to the same tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from churnradar.datasets import CUSTOMER_HEADERS_ZH, DemoData, make_demo_data, write_demo_files
from churnradar.schema import BUILTIN_HEADER_MAP, CONTRACTS


@pytest.fixture(scope="module", params=["telecom", "dealers"])
def small(request: pytest.FixtureRequest) -> DemoData:
    return make_demo_data(request.param, 1_500, random_state=11)


def read_back(path: Path, like: pa.Table) -> pa.Table:
    return pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types=like.schema, strings_can_be_null=True,
            true_values=["true"], false_values=["false"],
        ),
    )


def test_chinese_export(small: DemoData, tmp_path: Path) -> None:
    paths = write_demo_files(small, tmp_path, lang="zh-CN")
    assert set(paths) == set(small.tables)
    assert all(p.parent == tmp_path and p.suffix == ".csv" for p in paths.values())

    raw = paths["customers"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    header = text.splitlines()[0].split(",")
    assert header == [CUSTOMER_HEADERS_ZH[small.industry][c]
                      for c in small.tables["customers"].column_names]
    mapped = [BUILTIN_HEADER_MAP[h] for h in header]
    assert mapped == small.tables["customers"].column_names
    assert set(mapped) <= {c.name for c in CONTRACTS["customers"].columns}

    df = pd.read_csv(paths["customers"], encoding="gb18030", dtype=str, keep_default_na=False)
    df.columns = mapped
    original = small.tables["customers"].to_pandas()
    assert (df.customer_id == original.customer_id).all()
    assert (df.name == original.name).all()
    assert (df.signup_date == original.signup_date.astype(str)).all()
    assert set(df.is_key_account) <= {"是", "否"}
    assert ((df.is_key_account == "是") == original.is_key_account).all()
    assert (df.owner_id.replace("", None).fillna("-") == original.owner_id.fillna("-")).all()

    for name, table in small.tables.items():
        if name == "customers":
            continue
        assert paths[name].read_bytes().decode("utf-8")  # plain UTF-8
        back = read_back(paths[name], table)
        assert back.column_names == table.column_names
        assert back.equals(table), name


def test_english_export(small: DemoData, tmp_path: Path) -> None:
    paths = write_demo_files(small, tmp_path / "new" / "folder", lang="en")
    customers = small.tables["customers"]
    first = paths["customers"].read_text(encoding="utf-8").splitlines()[0]
    assert first.split(",") == customers.column_names
    assert read_back(paths["customers"], customers).equals(customers)


def test_dates_are_iso(tmp_path: Path) -> None:
    data = make_demo_data("telecom", 200, random_state=2)
    paths = write_demo_files(data, tmp_path, lang="en")
    line = paths["subscriptions"].read_text(encoding="utf-8").splitlines()[1]
    assert "2023-01-01" in line or line.split(",")[2][:2] == "20"
    churn = pd.read_csv(paths["churn_records"], dtype=str)
    assert churn.churn_date.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    complaints = pd.read_csv(paths["complaints"], dtype=str)
    assert complaints.time.str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}").all()


def test_bad_language(tmp_path: Path) -> None:
    from churnradar.exceptions import SettingsError

    with pytest.raises(SettingsError, match="language"):
        write_demo_files(make_demo_data("dealers", 50), tmp_path, lang="fr")
