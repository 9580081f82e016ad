"""The same metrics on DuckDB and on PySpark give identical results (slow: starts Spark)."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pytest

from churnradar import engine
from churnradar.metrics import compute_metrics_from_tables
from churnradar.settings import ChurnSettings, Settings
from tests.requirements import require

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark_con():
    require(shutil.which("java") is not None, "Java (default-jre-headless)")
    try:
        import pyspark  # noqa: F401
    except ImportError:
        require(False, "PySpark (the test extra)")
    session = engine.local_spark_session("churnradar-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield engine.connect("pyspark", spark=session)
    session.stop()


def _random_business(seed: int, contractual: bool):
    rng = np.random.default_rng(seed)
    n = 300
    ids = [f"c{i:03d}" for i in range(n)]
    customers = pd.DataFrame({
        "customer_id": ids,
        "grade": rng.choice(["A", "B", "C"], n),
        "region": rng.choice(["华东", "华南", "西南"], n),
        "is_key_account": rng.random(n) < 0.1,
        "signup_date": [dt.date(2022, 6, 1) + dt.timedelta(days=int(x))
                        for x in rng.integers(0, 900, n)],
    })
    start = dt.date(2023, 1, 1)
    if contractual:
        rows = []
        for cid in ids:
            day = int(rng.integers(0, 500))
            for _ in range(int(rng.integers(1, 4))):
                length = int(rng.integers(20, 400))
                end = day + length
                rows.append({"customer_id": cid, "start_date": start + dt.timedelta(days=day),
                             "end_date": (start + dt.timedelta(days=end)
                                          if rng.random() < 0.7 else None),
                             "amount_per_month": float(rng.integers(10, 200))})
                if rows[-1]["end_date"] is None:
                    break
                day = end + int(rng.integers(0, 120))
        return customers, {"subscriptions": pd.DataFrame(rows)}
    k = 4000
    tx = pd.DataFrame({
        "customer_id": rng.choice(ids, k),
        "date": [start + dt.timedelta(days=int(x)) for x in rng.integers(0, 730, k)],
        "amount": rng.gamma(2.0, 300.0, k).round(2),
        "margin": rng.gamma(2.0, 30.0, k).round(2),
    })
    return customers, {"transactions": tx}


def _tables(con, prefix, customers, other):
    out = {"customers": engine.register(con, f"{prefix}_customers", customers)}
    for name, df in other.items():
        out[name] = engine.register(con, f"{prefix}_{name}", df)
    return out


def _assert_same(a: pd.DataFrame, b: pd.DataFrame):
    a = a.reset_index(drop=True)
    b = b.reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for col in a.columns:
        if pd.api.types.is_float_dtype(a[col]) or pd.api.types.is_float_dtype(b[col]):
            np.testing.assert_allclose(a[col].astype(float), b[col].astype(float),
                                       rtol=1e-9, atol=1e-6, err_msg=col)
        else:
            assert a[col].tolist() == b[col].tolist(), col


@pytest.mark.parametrize("contractual", [False, True], ids=["orders", "contracts"])
@pytest.mark.parametrize("period", ["month", "quarter"])
def test_duckdb_and_pyspark_agree(spark_con, contractual, period):
    customers, other = _random_business(7, contractual)
    settings = Settings(churn=ChurnSettings(inactivity_days=60))
    as_of = dt.date(2024, 12, 31)
    results = []
    for name, con in (("duck", engine.connect("duckdb")), ("spark", spark_con)):
        tables = _tables(con, f"{name}_{int(contractual)}_{period}", customers, other)
        results.append(compute_metrics_from_tables(tables, settings, period=period,
                                                   as_of=as_of))
    duck, spark = results
    assert duck.overall["churned_count"].sum() > 10  # the data exercises churn
    _assert_same(duck.overall, spark.overall)
    assert duck.by.keys() == spark.by.keys()
    for dim in duck.by:
        key = ["label", "segment"]
        _assert_same(duck.by[dim].sort_values(key), spark.by[dim].sort_values(key))
    pd.testing.assert_frame_equal(duck.cohorts, spark.cohorts)
    # sums may differ in the last bit with the order of addition: values to 1e-9
    for a, b in zip(duck.safety, spark.safety, strict=True):
        assert (a.check, a.status, a.message_key, a.params) == \
            (b.check, b.status, b.message_key, b.params)
        assert a.value == pytest.approx(b.value, rel=1e-9)
