"""The in-memory customer rows: every sorted, filtered page equals what pandas (and
DuckDB's ORDER BY … OFFSET) gives; lookups by customer_id; stored sort orders."""

from __future__ import annotations

import random

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from churnradar.web.rows import CustomerRows, order_file, sort_order, write_orders

SORTS = ("risk_rank", "churn_probability", "clv", "customer_id", "name", "grade", "owner_id")


@pytest.fixture(scope="module")
def table() -> pa.Table:
    """3,000 customers with ties, nulls, NaNs, Chinese names, a dictionary column and
    a numeric 'segment', in risk order (scored first by rank, then by id) like a
    snapshot."""
    rng = np.random.default_rng(7)
    n = 3_000
    ids = [f"C{i:05d}" for i in rng.permutation(n)]
    prob = rng.random(n).round(2)  # many ties
    prob[rng.random(n) < 0.3] = np.nan  # not scored
    clv = rng.gamma(2, 500, n).round(0)
    clv[rng.random(n) < 0.05] = np.nan
    df = pd.DataFrame({
        "customer_id": ids,
        "name": [["王记五金", "Acme Ltd", "acme 100%_off", "李四", None][i % 5] + str(i % 7)
                 if i % 5 != 4 else None for i in range(n)],
        "grade": rng.choice(["A", "B", "C", None], n),
        "region": pd.Categorical(rng.choice(["华东", "华北", "west"], n)),
        "segment": rng.choice([1, 2, 3], n),
        "owner_id": rng.choice(["s1", "s2", "s3", "s4"], n, p=[0.01, 0.3, 0.3, 0.39]),
        "churn_probability": prob,
        "risk_tier": np.where(np.isnan(prob), None,
                              np.where(prob > 0.8, "high", np.where(prob > 0.5, "medium",
                                                                    "low"))),
        "clv": clv,
    })
    scored = df["churn_probability"].notna()
    df["risk_rank"] = pd.array([pd.NA] * n, dtype="Int64")
    order = df[scored].sort_values(["churn_probability", "customer_id"],
                                   ascending=[False, True]).index
    df.loc[order, "risk_rank"] = np.arange(1, len(order) + 1)
    df = df.sort_values(["risk_rank", "customer_id"], na_position="last")
    return pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)


def _expected(df: pd.DataFrame, *, equals: dict[str, str], search: str | None,
              present: str | None, sort: str | None, descending: bool) -> list[str]:
    """The customer_ids pandas lists for the same query (the reference)."""
    keep = pd.Series(True, index=df.index)
    for col, value in equals.items():
        text = df[col].astype("object").map(lambda v: None if pd.isna(v) else str(v))
        keep &= text == value
    if search:
        hit = pd.Series(False, index=df.index)
        for col in ("customer_id", "name"):
            hit |= df[col].fillna("").str.lower().str.contains(search.lower(), regex=False)
        keep &= hit
    if present:
        keep &= df[present].notna()
    out = df[keep]
    if sort is not None:
        out = out.sort_values([sort, "customer_id"], ascending=[not descending, True],
                              na_position="last", kind="mergesort")
    return out["customer_id"].tolist()


def test_random_queries_equal_pandas(table):
    rows = CustomerRows(table)
    df = table.to_pandas()
    df["region"] = df["region"].astype(object)
    rng = random.Random(3)
    for _ in range(300):
        equals: dict[str, str] = {}
        if rng.random() < 0.5:
            equals["owner_id"] = rng.choice(["s1", "s2", "s3", "s4", "nobody"])
        if rng.random() < 0.4:
            equals["risk_tier"] = rng.choice(["high", "medium", "low"])
        if rng.random() < 0.3:
            col = rng.choice(["grade", "region", "segment"])
            equals[col] = rng.choice({"grade": ["A", "B", "C"], "region": ["华东", "west"],
                                      "segment": ["1", "3"]}[col])
        search = rng.choice([None, None, None, "acme", "ACME", "王记", "100%_", "c000"])
        present = rng.choice([None, "churn_probability"])
        sort = rng.choice([None, *SORTS])
        descending = rng.random() < 0.5 and sort is not None
        got = rows.select(equals=equals, search=search, present=present, sort=sort,
                          descending=descending)
        ids = rows.table.column("customer_id").take(pa.array(got)).to_pylist()
        want = _expected(df, equals=equals, search=search, present=present, sort=sort,
                         descending=descending)
        assert ids == want, (equals, search, present, sort, descending)


def test_pages_equal_duckdb_order_by_offset(table):
    """The old way (SQL ORDER BY … NULLS LAST, customer_id LIMIT … OFFSET) as a second,
    independent reference, for deep pages of a filtered, sorted list."""
    rows = CustomerRows(table)
    con = duckdb.connect()
    con.register("customers", table)
    for sort, desc in (("clv", True), ("name", False), ("churn_probability", True)):
        found = rows.select(equals={"owner_id": "s2"}, present="churn_probability",
                            sort=sort, descending=desc)
        for page in (1, 5, 9):
            got = [r["customer_id"] for r in rows.take(found[(page - 1) * 50:page * 50])]
            want = [r[0] for r in con.execute(
                "SELECT customer_id FROM customers WHERE owner_id = 's2' AND "
                f"churn_probability IS NOT NULL AND NOT isnan(churn_probability) "
                f"ORDER BY \"{sort}\" {'DESC' if desc else 'ASC'} NULLS LAST, customer_id "
                f"LIMIT 50 OFFSET {(page - 1) * 50}").fetchall()]
            assert got == want


def test_missing_values_sort_last_both_ways(table):
    rows = CustomerRows(table)
    clv = table.column("clv").to_numpy(zero_copy_only=False)
    for desc in (False, True):
        ordered = clv[np.asarray(rows.order("clv", desc))]
        missing = np.isnan(ordered)
        assert missing.any() and missing[np.argmax(missing):].all()


def test_position_finds_every_customer_and_nothing_else(table):
    rows = CustomerRows(table)
    ids = table.column("customer_id").to_pylist()
    for pos, cid in enumerate(ids):
        assert rows.position(cid) == pos
    for absent in ("", "C", "C99999", "Z", "C0000", "\U0010ffff", "c00001"):
        assert rows.position(absent) is None


def test_stored_orders_are_used_and_a_wrong_one_is_not(table, tmp_path):
    write_orders(table, tmp_path, ["clv", "name", "not_a_column"])
    assert order_file(tmp_path, "clv", True).exists()
    assert not order_file(tmp_path, "not_a_column", False).exists()
    rows = CustomerRows(table, tmp_path)
    assert isinstance(rows.order("clv", True), np.memmap)  # mapped, not recomputed
    assert np.array_equal(rows.order("clv", True), sort_order(table, "clv", True))
    np.save(order_file(tmp_path, "name", False), np.arange(10, dtype=np.int32))
    fresh = CustomerRows(table, tmp_path)
    assert np.array_equal(fresh.order("name", False), sort_order(table, "name", False))


def test_distinct_is_text_sorted_without_missing(table):
    rows = CustomerRows(table)
    assert rows.distinct("grade") == ["A", "B", "C"]
    assert rows.distinct("segment") == ["1", "2", "3"]
    assert rows.distinct("region") == sorted(["华东", "华北", "west"])
    s1 = rows.select(equals={"owner_id": "s1"})
    want = sorted({str(v) for v in table.column("grade").take(pa.array(s1)).to_pylist()
                   if v is not None})
    assert rows.distinct("grade", within=s1) == want


def test_an_unknown_filter_column_matches_nothing(table):
    rows = CustomerRows(table)
    assert len(rows.select(equals={"no_such_column": "x"})) == 0
    assert len(rows.select()) == table.num_rows
