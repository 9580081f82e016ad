"""Point-in-time features: no leakage, hand-checked values, the population at as_of."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from churnradar import schema as s
from churnradar.datasets import make_demo_data
from churnradar.features import build_features, make_plan, reason_of
from churnradar.settings import ChurnSettings

AS_OF = dt.date(2024, 12, 31)

#: the date column that says when a row happened, per table
ROW_TIME = {
    "customers": s.SIGNUP_DATE, "subscriptions": s.START_DATE, "transactions": s.DATE,
    "events": s.TIME, "complaints": s.TIME, "surveys": s.TIME,
    "churn_records": s.CHURN_DATE, "staff": s.HIRED_AT, "retention_actions": s.DATE,
}
#: values on earlier rows that may lie after as_of
LATER_VALUES = {"subscriptions": s.END_DATE, "complaints": s.RESOLVED_AT, "staff": s.LEFT_AT}
#: keys of the tables with one row per key: a later row keeps its own key
KEYS = {"customers": s.CUSTOMER_ID, "staff": s.OWNER_ID}


def _after(table: pa.Table, column: str, as_of: dt.date) -> np.ndarray:
    col = table.column(column)
    if pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.date32())
    mask = pc.greater(col, pa.scalar(as_of, pa.date32()))
    return np.asarray(mask.fill_null(False))


def _truncate(tables: dict[str, pa.Table], as_of: dt.date) -> dict[str, pa.Table]:
    """Delete every row after as_of; blank every later value on earlier rows."""
    out = {}
    for name, t in tables.items():
        t = t.filter(pa.array(~_after(t, ROW_TIME[name], as_of)))
        later = LATER_VALUES.get(name)
        if later in t.column_names:
            late = pa.array(_after(t, later, as_of))
            i = t.column_names.index(later)
            t = t.set_column(i, later, pc.if_else(late, pa.nulls(len(t), t.column(later).type),
                                                  t.column(later)))
        out[name] = t
    return out


def _scramble(tables: dict[str, pa.Table], as_of: dt.date, seed: int) -> dict[str, pa.Table]:
    """Keep every row up to as_of; replace the later rows by nonsense dated later."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, t in tables.items():
        late = _after(t, ROW_TIME[name], as_of)
        df = t.to_pandas()
        idx = np.flatnonzero(late)
        for col in df.columns:
            if col in (ROW_TIME[name], s.CUSTOMER_ID, KEYS.get(name)):
                continue
            if len(idx) and df[col].notna().any():
                df.loc[df.index[idx], col] = rng.permutation(df[col].to_numpy())[: len(idx)]
        # later rows move to other later dates, and go to random customers
        if len(idx):
            shift = pd.to_timedelta(rng.integers(1, 400, len(idx)), unit="D")
            base = pd.Timestamp(as_of) + shift
            col = df[ROW_TIME[name]]
            df.loc[df.index[idx], ROW_TIME[name]] = (
                base if pd.api.types.is_datetime64_any_dtype(col) else base.date)
        if len(idx) and name not in KEYS:
            df.loc[df.index[idx], s.CUSTOMER_ID] = rng.permutation(
                df[s.CUSTOMER_ID].to_numpy())[: len(idx)]
        later = LATER_VALUES.get(name)
        if later in df.columns:
            rows = np.flatnonzero(_after(t, later, as_of))
            shift = pd.to_timedelta(rng.integers(1, 400, len(rows)), unit="D")
            moved = pd.Timestamp(as_of) + shift
            is_ts = pa.types.is_timestamp(t.column(later).type)
            df.loc[df.index[rows], later] = moved if is_ts else moved.date
        out[name] = pa.Table.from_pandas(df, schema=t.schema, preserve_index=False)
    return out


def _features(tables: dict[str, pa.Table], settings: ChurnSettings, plan=None) -> pd.DataFrame:
    con = ibis.duckdb.connect()
    ibis_tables = {name: con.create_table(name, t) for name, t in tables.items()}
    return build_features(ibis_tables, settings, as_of=AS_OF, plan=plan)


@pytest.fixture(scope="module", params=["telecom", "dealers"])
def demo(request):
    data = make_demo_data(request.param, n_customers=1500, random_state=3)
    settings = ChurnSettings(inactivity_days=180 if request.param == "dealers" else 90)
    return data, settings


def test_deleting_later_rows_leaves_features_identical(demo):
    data, settings = demo
    full = _features(data.tables, settings)
    cut = _features(_truncate(data.tables, AS_OF), settings)
    assert len(full) > 500 and full.shape[1] > 30
    pd.testing.assert_frame_equal(full, cut)


@pytest.mark.parametrize("seed", [0, 1])
def test_scrambling_later_rows_leaves_features_identical(demo, seed):
    data, settings = demo
    full = _features(data.tables, settings)
    scrambled = _scramble(data.tables, AS_OF, seed)
    # the scramble really changed the later data
    assert any(not scrambled[n].equals(data.tables[n]) for n in data.tables)
    pd.testing.assert_frame_equal(full, _features(scrambled, settings))


def test_plan_does_not_see_later_data(demo):
    data, settings = demo
    con = ibis.duckdb.connect()
    full = {n: con.create_table(f"a_{n}", t) for n, t in data.tables.items()}
    cut = {n: con.create_table(f"b_{n}", t)
           for n, t in _truncate(data.tables, AS_OF).items()}
    business = "contractual" if "subscriptions" in full else "non_contractual"
    assert make_plan(full, business=business, as_of=AS_OF) == make_plan(
        cut, business=business, as_of=AS_OF)


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _hand_tables() -> dict[str, pa.Table]:
    customers = pa.table({
        s.CUSTOMER_ID: ["A", "B", "C"], s.SIGNUP_DATE: [_d("2023-01-01")] * 3,
        s.GRADE: ["A", "B", None], s.OWNER_ID: ["S1", "S1", "S2"],
    })
    transactions = pa.table({
        s.CUSTOMER_ID: ["A", "A", "A", "A", "B", "B", "C", "A"],
        s.DATE: [_d(x) for x in ("2024-03-01", "2024-09-15", "2024-11-10", "2024-12-20",
                                 "2024-06-01", "2024-10-01", "2024-01-05", "2025-01-05")],
        s.AMOUNT: [100.0, 50.0, 30.0, 20.0, 10.0, 40.0, 5.0, 999.0],
    })
    complaints = pa.table({
        s.CUSTOMER_ID: ["A", "A", "B"],
        s.TIME: pa.array([dt.datetime(2024, 12, 1, 9), dt.datetime(2024, 6, 1, 9),
                          dt.datetime(2024, 12, 30, 8)], pa.timestamp("us")),
        s.RESOLVED_AT: pa.array([dt.datetime(2024, 12, 2, 9), None,
                                 dt.datetime(2025, 1, 3, 8)], pa.timestamp("us")),
    })
    staff = pa.table({s.OWNER_ID: ["S1", "S2"], s.HIRED_AT: [_d("2020-01-01")] * 2,
                      s.LEFT_AT: [_d("2024-12-01"), _d("2025-02-01")]})
    return {"customers": customers, "transactions": transactions,
            "complaints": complaints, "staff": staff}


def test_hand_checked_values():
    df = _features(_hand_tables(), ChurnSettings(inactivity_days=180)).set_index(s.CUSTOMER_ID)
    # C bought last on 2024-01-05: churned on 2024-07-03 (180 days), not in the population
    assert list(df.index) == ["A", "B"]
    a, b = df.loc["A"], df.loc["B"]
    assert a["recency_days"] == 11 and b["recency_days"] == 91
    assert a["orders_30d"] == 1 and a["orders_90d"] == 2 and a["orders_365d"] == 4
    assert a["amount_90d"] == 50.0 and a["amount_365d"] == 200.0
    assert a["first_purchase_days"] == (AS_OF - _d("2024-03-01")).days
    assert a["mean_order_gap_days"] == pytest.approx((_d("2024-12-20") - _d("2024-03-01")).days / 3)
    # A's spell: 2024-03-01 (the 2024-09-15 purchase is 198 days later: a new spell)
    assert a["tenure_days"] == (AS_OF - _d("2024-09-15")).days and a["previous_spells"] == 1
    # per day, the last 30 days (20.0) against the 90 before them (50.0 + 30.0)
    assert a["amount_trend_30_90"] == pytest.approx((20.0 / 30) / (80.0 / 90))
    # complaints: A has one resolved in 24 h and one never resolved; B's is resolved later
    assert a["complaints_365d"] == 2 and a["complaints_unresolved"] == 1
    assert a["complaint_resolution_hours"] == pytest.approx(24.0)
    assert a["days_since_complaint"] == 30
    assert b["complaints_unresolved"] == 1 and np.isnan(b["complaint_resolution_hours"])
    # owner S1 left on 2024-12-01 (S2 leaves after as_of: not known yet)
    assert a["owner_left"] == 1 and a["days_since_owner_left"] == 30
    assert a["grade"] == "A" and str(df["grade"].dtype) == "category"


def test_owner_churn_rate_by_hand():
    tables = _hand_tables()
    df = _features(tables, ChurnSettings(inactivity_days=180)).set_index(s.CUSTOMER_ID)
    # S1's customers active on 2023-12-31: none (first purchases are in 2024)
    assert np.isnan(df.loc["A", "owner_churn_rate_365d"])
    assert df.loc["A", "owner_active_customers"] == 2


@pytest.mark.parametrize(("feature", "category"), [
    ("complaints_unresolved", "service"), ("complaints_price_365d", "price"),
    ("owner_left", "management"), ("amount_change_90d", "price"),
    ("survey_csat_last", "service"), ("payment_failures_90d", "management"),
    ("orders_90d", None), ("tenure_days", None),
])
def test_feature_reasons(feature, category):
    assert reason_of(feature)[0] == category
