"""RFM summary against lifetimes and the published CDNOW summary; scores and segments by
hand; errors; the same on PySpark (slow)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources

import ibis
import numpy as np
import pandas as pd
import pytest

from churnradar import engine
from churnradar.exceptions import InputError, SchemaError
from churnradar.value.rfm import (
    SEGMENTS,
    quintile_scores,
    rfm_scores,
    rfm_segment,
    rfm_summary,
    segment_names,
)
from tests.metrics import test_engine_parity as parity

CAL, OBS = dt.date(1997, 9, 30), dt.date(1998, 6, 30)
#: the Spark session fixture of the engine parity tests (local[2]; one per module)
spark_con = parity.spark_con
MONEY = ["monetary_value", "monetary_value_holdout"]


def _dataset(name: str):
    return resources.files("lifetimes") / "datasets" / name


@cache
def cdnow_master() -> pd.DataFrame:
    """69,659 purchases of 23,570 CDNOW customers (first purchase in Q1 1997) to mid-1998."""
    df = pd.read_csv(_dataset("CDNOW_master.txt"), sep=r"\s+", header=None, skiprows=1,
                     names=["customer_id", "date", "cds", "amount"],
                     dtype={"customer_id": str, "date": str})
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df


@cache
def cdnow_sample() -> pd.DataFrame:
    """The 1/10 sample (2,357 customers) of Fader, Hardie & Lee (2005)."""
    df = pd.read_csv(_dataset("CDNOW_sample.txt"), sep=r"\s+", header=None,
                     names=["master_id", "customer_id", "date", "cds", "amount"],
                     dtype={"master_id": str, "customer_id": int, "date": str})
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df


def _table(df: pd.DataFrame) -> ibis.Table:
    return ibis.memtable(df.assign(date=df["date"].dt.date))


def _compare(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    """``ref`` is indexed by customer id (lifetimes); same customers, same order, same
    values (the means to floating-point rounding)."""
    assert list(ours["customer_id"]) == list(ref.index)
    for col in ref.columns:
        a, b = ours[col].to_numpy(), ref[col].to_numpy()
        assert ours[col].dtype == np.float64, col
        if col in MONEY:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=col)
        else:
            np.testing.assert_array_equal(a, b, err_msg=col)


# --- against lifetimes ---------------------------------------------------------------------
def _lifetimes(df: pd.DataFrame, unit: int, holdout: bool) -> pd.DataFrame:
    from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

    if holdout:
        ref = calibration_and_holdout_data(
            df, "customer_id", "date", calibration_period_end=CAL, observation_period_end=OBS,
            freq="D", freq_multiplier=unit, monetary_value_col="amount")
        return ref.rename(columns=lambda c: c.removesuffix("_cal"))
    return summary_data_from_transaction_data(
        df[df["date"] <= pd.Timestamp(CAL)], "customer_id", "date",
        observation_period_end=CAL, freq="D", freq_multiplier=unit,
        monetary_value_col="amount")


@pytest.mark.parametrize("holdout", [True, False], ids=["holdout", "calibration"])
@pytest.mark.parametrize("unit", [1, 7], ids=["days", "weeks"])
@pytest.mark.parametrize("data", [cdnow_master, cdnow_sample], ids=["master", "sample"])
def test_equal_to_lifetimes_on_cdnow(data, unit, holdout):
    """``calibration_and_holdout_data`` / ``summary_data_from_transaction_data`` with
    freq='D' and freq_multiplier=unit."""
    df = data()
    ours = rfm_summary(_table(df), calibration_end=CAL, observation_end=OBS if holdout else None,
                       time_unit_days=unit)
    columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    if holdout:
        columns += ["frequency_holdout", "monetary_value_holdout", "duration_holdout"]
    assert list(ours.columns) == columns
    assert len(ours) == (23_570 if data is cdnow_master else 2_357)
    _compare(ours, _lifetimes(df, unit, holdout))


def test_cdnow_sample_matches_the_published_summary():
    """Fader & Hardie's own calibration summary of the sample (x, t_x, T in weeks, zbar),
    shipped with lifetimes, rounded to 2 decimals."""
    pub = pd.read_csv(_dataset("cdnow_customers_summary_with_transactions.csv"))
    ours = rfm_summary(_table(cdnow_sample()), calibration_end=CAL, time_unit_days=7)
    assert list(ours["customer_id"]) == list(pub["ID"])
    for col, theirs in [("frequency", "x"), ("recency", "t_x"), ("T", "T"),
                        ("monetary_value", "zbar")]:
        np.testing.assert_allclose(ours[col], pub[theirs], rtol=0, atol=0.005 + 1e-9,
                                   err_msg=col)


def test_without_amounts():
    df = cdnow_sample()
    with_amount = rfm_summary(_table(df), calibration_end=CAL, observation_end=OBS)
    ours = rfm_summary(_table(df).drop("amount"), calibration_end=CAL, observation_end=OBS,
                       amount_col=None)
    assert list(ours.columns) == ["customer_id", "frequency", "recency", "T",
                                  "frequency_holdout", "duration_holdout"]
    pd.testing.assert_frame_equal(ours, with_amount[ours.columns])


# --- a tiny case by hand ------------------------------------------------------------------
def _tiny() -> ibis.Table:
    rows = [
        # a: two purchases on Jan 1 (one purchase of 15), Jan 11 (30), Jan 31 (20);
        #    holdout: Feb 5 (two rows: 4 and 6), Feb 20 (8)
        ("a", "2024-01-01", 10.0), ("a", "2024-01-01", 5.0), ("a", "2024-01-11", 30.0),
        ("a", "2024-01-31", 20.0), ("a", "2024-02-05", 4.0), ("a", "2024-02-05", 6.0),
        ("a", "2024-02-20", 8.0),
        # b: one purchase, nothing in the holdout
        ("b", "2024-01-17", 12.0),
        # c: first purchase in the holdout: not in the population
        ("c", "2024-02-02", 50.0),
        # d: after observation_end: ignored
        ("a", "2024-03-15", 1000.0),
    ]
    df = pd.DataFrame(rows, columns=["cid", "day", "spend"])
    # timestamps: the time of day does not matter
    df["day"] = pd.to_datetime(df["day"]) + pd.Timedelta(hours=15)
    return ibis.memtable(df)


def test_tiny_case_by_hand():
    out = rfm_summary(_tiny(), calibration_end=dt.date(2024, 1, 31),
                      observation_end=dt.date(2024, 2, 29), time_unit_days=2.0,
                      customer_col="cid", time_col="day", amount_col="spend")
    expected = pd.DataFrame({
        "customer_id": ["a", "b"],
        "frequency": [2.0, 0.0],
        "recency": [30 / 2, 0.0],
        "T": [30 / 2, 14 / 2],
        "monetary_value": [(30 + 20) / 2, 0.0],
        "frequency_holdout": [2.0, 0.0],
        # the mean of the holdout rows (4, 6, 8), as lifetimes
        "monetary_value_holdout": [6.0, 0.0],
        "duration_holdout": [29 / 2, 29 / 2],
    })
    pd.testing.assert_frame_equal(out, expected)


def test_nothing_after_calibration_end_reaches_the_summary():
    tx = _tiny()
    cal = dt.date(2024, 1, 31)
    kw = {"customer_col": "cid", "time_col": "day", "amount_col": "spend"}
    before = rfm_summary(tx, calibration_end=cal, **kw)
    only_past = rfm_summary(tx.filter(tx.day.date() <= cal), calibration_end=cal, **kw)
    pd.testing.assert_frame_equal(before, only_past)


# --- errors -----------------------------------------------------------------------------
def test_missing_columns():
    tx = _tiny()
    with pytest.raises(SchemaError, match="no column 'customer_id'"):
        rfm_summary(tx, calibration_end=dt.date(2024, 1, 31), time_col="day",
                    amount_col="spend")
    with pytest.raises(SchemaError, match="no column 'amount'"):
        rfm_summary(tx, calibration_end=dt.date(2024, 1, 31), customer_col="cid",
                    time_col="day")


def test_wrong_types():
    tx = ibis.memtable(pd.DataFrame({"customer_id": ["a"], "date": ["2024-01-01"],
                                     "amount": [1.0]}))
    with pytest.raises(SchemaError, match="must be a date or a timestamp"):
        rfm_summary(tx, calibration_end=dt.date(2024, 1, 31))


def test_no_transactions_before_calibration_end():
    with pytest.raises(InputError, match="no transactions on or before 2023-12-31 "
                                         r"\(the data run from 2024-01-01 to 2024-03-15\)"):
        rfm_summary(_tiny(), calibration_end=dt.date(2023, 12, 31), customer_col="cid",
                    time_col="day", amount_col="spend")
    empty = ibis.memtable(pd.DataFrame({"customer_id": pd.Series([], dtype=str),
                                        "date": pd.Series([], dtype="datetime64[ns]"),
                                        "amount": pd.Series([], dtype=float)}))
    with pytest.raises(InputError, match="has no rows"):
        rfm_summary(empty, calibration_end=dt.date(2024, 1, 1))


def test_observation_end_before_calibration_end():
    for obs in (dt.date(2024, 1, 1), dt.date(2024, 1, 31)):
        with pytest.raises(InputError, match="must be after calibration_end"):
            rfm_summary(_tiny(), calibration_end=dt.date(2024, 1, 31), observation_end=obs,
                        customer_col="cid", time_col="day", amount_col="spend")


def test_bad_time_unit():
    for unit in (0, -7, float("nan")):
        with pytest.raises(InputError, match="time_unit_days must be a positive"):
            rfm_summary(_tiny(), calibration_end=dt.date(2024, 1, 31), time_unit_days=unit,
                        customer_col="cid", time_col="day", amount_col="spend")


def test_negative_amounts_are_counted():
    df = pd.DataFrame({
        "customer_id": ["a", "a", "b", "b", "c"],
        "date": [dt.date(2024, 1, d) for d in (1, 2, 3, 4, 5)],
        "amount": [10.0, -3.0, 5.0, -2.5, -100.0],
    })
    tx = ibis.memtable(df)
    with pytest.raises(SchemaError, match=r"3 transactions up to 2024-01-31 have a negative "
                                          r"amount in column 'amount' \(the lowest is -100.00\)"):
        rfm_summary(tx, calibration_end=dt.date(2024, 1, 31))
    # only the rows used count: c's refund is after calibration_end
    with pytest.raises(SchemaError, match="2 transactions up to 2024-01-04"):
        rfm_summary(tx, calibration_end=dt.date(2024, 1, 4))
    # ... from the scores too, and in both languages
    with pytest.raises(SchemaError) as err:
        rfm_scores(tx, calibration_end=dt.date(2024, 1, 4))
    assert "2 笔交易" in err.value.localized("zh-CN")


def test_empty_amounts():
    df = pd.DataFrame({"customer_id": ["a", "a"], "date": [dt.date(2024, 1, 1)] * 2,
                       "amount": [1.0, None]})
    with pytest.raises(SchemaError, match="1 transactions up to 2024-01-31 have an empty"):
        rfm_summary(ibis.memtable(df), calibration_end=dt.date(2024, 1, 31))


# --- scores and segments ----------------------------------------------------------------
def test_quintile_scores():
    np.testing.assert_array_equal(quintile_scores(np.arange(10.0)),
                                  [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    np.testing.assert_array_equal(quintile_scores(np.arange(10.0), higher_is_better=False),
                                  [5, 5, 4, 4, 3, 3, 2, 2, 1, 1])
    # ties share the lower score: 6 of 10 bought once
    np.testing.assert_array_equal(quintile_scores([1, 1, 1, 1, 1, 1, 2, 2, 3, 9]),
                                  [1, 1, 1, 1, 1, 1, 4, 4, 5, 5])
    assert quintile_scores([]).size == 0


def test_segment_grid_covers_every_score_pair():
    r, f = np.meshgrid(np.arange(1, 6), np.arange(1, 6), indexing="ij")
    seg = rfm_segment(r.ravel(), f.ravel())
    assert set(seg) == set(SEGMENTS)
    by = dict(zip(zip(r.ravel(), f.ravel(), strict=True), seg, strict=True))
    assert by[5, 5] == by[5, 4] == "champions"
    assert by[5, 1] == "new_customers" and by[4, 1] == "promising"
    assert by[3, 3] == "need_attention" and by[3, 1] == by[3, 2] == "about_to_sleep"
    assert by[1, 5] == by[2, 5] == "cant_lose_them"
    assert by[1, 1] == "lost" and by[1, 2] == by[2, 1] == by[2, 2] == "hibernating"
    assert {by[x, y] for x in (1, 2) for y in (3, 4)} == {"at_risk"}
    assert {by[x, y] for x in (4, 5) for y in (2, 3)} == {"potential_loyalists"}
    assert {by[x, y] for x in (3, 4) for y in (4, 5)} == {"loyal_customers"}
    with pytest.raises(InputError):
        rfm_segment([0], [3])


def test_segment_names_in_both_languages():
    zh, en = segment_names("zh-CN"), segment_names("en")
    assert list(zh) == list(SEGMENTS)
    assert zh["champions"] == "冠军客户" and en["champions"] == "Champions"
    assert zh["lost"] == "已流失" and zh["cant_lose_them"] == "不能失去"
    assert len(set(zh.values())) == len(set(en.values())) == 11


def _ten_customers() -> ibis.Table:
    """Ten customers built so that each gets a known R, F and M score at 2024-12-31.

    Days since the last purchase 0, 10, ..., 90 (customer k: 10 k days) give R 5,5,4,4,
    ...,1,1; purchase days 1..10 in reverse order give F 1,1,2,2,...,5,5 to k = 9 ... 0;
    every purchase of customer k costs 10 + k, so M goes up with k.
    """
    end = dt.date(2024, 12, 31)
    rows = []
    for k in range(10):
        last = end - dt.timedelta(days=10 * k)
        for j in range(10 - k):
            rows.append((f"c{k}", last - dt.timedelta(days=100 + j) if j else last,
                         10.0 + k))
    # a purchase after the scoring date changes nothing
    rows.append(("c9", end + dt.timedelta(days=1), 999.0))
    return ibis.memtable(pd.DataFrame(rows, columns=["customer_id", "date", "amount"]))


def test_scores_and_segments_by_hand():
    out = rfm_scores(_ten_customers(), calibration_end=dt.date(2024, 12, 31), lang="en")
    assert list(out.columns) == ["customer_id", "days_since_last", "purchase_days",
                                 "mean_spend", "r_score", "f_score", "m_score", "rfm_score",
                                 "segment", "segment_name"]
    assert list(out["customer_id"]) == [f"c{k}" for k in range(10)]
    assert list(out["days_since_last"]) == [10.0 * k for k in range(10)]
    assert list(out["purchase_days"]) == [10.0 - k for k in range(10)]
    assert list(out["r_score"]) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert list(out["f_score"]) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert list(out["m_score"]) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert list(out["rfm_score"]) == ["551", "551", "442", "442", "333", "333", "224",
                                      "224", "115", "115"]
    assert list(out["segment"]) == ["champions"] * 2 + ["loyal_customers"] * 2 + [
        "need_attention"] * 2 + ["hibernating"] * 2 + ["lost"] * 2
    assert out["segment_name"].iloc[0] == "Champions"
    zh = rfm_scores(_ten_customers(), calibration_end=dt.date(2024, 12, 31), lang="zh-CN")
    assert list(zh["segment_name"].iloc[[0, 2, 4, 6, 8]]) == [
        "冠军客户", "忠诚客户", "需要关注", "休眠客户", "已流失"]


def test_scores_from_a_summary():
    tx = _ten_customers()
    for unit in (1.0, 7.0):
        summ = rfm_summary(tx, calibration_end=dt.date(2024, 12, 31), time_unit_days=unit)
        out = rfm_scores(summ, time_unit_days=unit, lang="en")
        direct = rfm_scores(tx, calibration_end=dt.date(2024, 12, 31), lang="en")
        cols = ["customer_id", "days_since_last", "purchase_days", "r_score", "f_score",
                "segment"]
        pd.testing.assert_frame_equal(out[cols], direct[cols])
        # M from a summary is the mean of the repeat purchases: here the same spend
        np.testing.assert_array_equal(out["mean_spend"][:9], direct["mean_spend"][:9])
        assert out["mean_spend"].iloc[9] == 0.0  # one purchase: no repeat spend
    with pytest.raises(SchemaError, match="no column 'T'"):
        rfm_scores(summ.drop(columns="T"))
    with pytest.raises(InputError, match="need calibration_end"):
        rfm_scores(tx)


def test_cdnow_segments_are_a_partition():
    out = rfm_scores(_table(cdnow_master()), calibration_end=CAL, lang="zh-CN")
    assert len(out) == 23_570
    assert set(out["segment"]) <= set(SEGMENTS)
    assert out["r_score"].between(1, 5).all() and out["f_score"].between(1, 5).all()
    # 60 % bought on one day only: they share F = 1
    one = out["purchase_days"] == 1
    assert (out.loc[one, "f_score"] == 1).all() and (out.loc[~one, "f_score"] > 1).all()
    # the marketing recency is T - recency of the summary, in days
    summ = rfm_summary(_table(cdnow_master()), calibration_end=CAL)
    np.testing.assert_array_equal(out["days_since_last"], summ["T"] - summ["recency"])


# --- PySpark ------------------------------------------------------------------------------
@pytest.mark.slow
def test_pyspark_gives_the_same_summary_and_scores(spark_con):
    df = cdnow_sample()
    df = df.assign(date=df["date"].dt.date)[["customer_id", "date", "amount"]]
    df["customer_id"] = df["customer_id"].map("{:05d}".format)
    duck = engine.register(engine.connect("duckdb"), "rfm_tx", df)
    spark = engine.register(spark_con, "rfm_tx", df)
    for unit in (1, 7):
        a = rfm_summary(duck, calibration_end=CAL, observation_end=OBS, time_unit_days=unit)
        b = rfm_summary(spark, calibration_end=CAL, observation_end=OBS, time_unit_days=unit)
        assert list(a.columns) == list(b.columns)
        assert list(a["customer_id"]) == list(b["customer_id"])
        for col in a.columns[1:]:
            np.testing.assert_allclose(b[col], a[col], rtol=1e-12, err_msg=col)
    a = rfm_scores(duck, calibration_end=CAL, lang="en")
    b = rfm_scores(spark, calibration_end=CAL, lang="en")
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    bad = engine.register(spark_con, "rfm_bad", df.assign(amount=-df["amount"]))
    with pytest.raises(SchemaError, match="negative amount"):
        rfm_summary(bad, calibration_end=CAL)
