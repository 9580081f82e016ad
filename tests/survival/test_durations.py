"""Durations on tiny hand-built workspaces: known dates -> known durations and censoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnradar import schema as s
from churnradar.exceptions import InputError, SchemaError
from churnradar.settings import ChurnSettings
from churnradar.survival.durations import (
    BASE_COLUMNS,
    CHURNED,
    COHORT,
    DURATION_DAYS,
    END,
    ENTRY_DAYS,
    FIRST_ACTIVITY,
    LEFT_TRUNCATED,
    PLAN,
    START,
    build_durations,
    cohort_labels,
)
from tests.survival.conftest import d


def _ts(text: str | None) -> pd.Timestamp:
    return pd.NaT if text is None else pd.Timestamp(text)


@pytest.fixture()
def contract_tables(make_tables):
    customers = pd.DataFrame({
        s.CUSTOMER_ID: ["A", "B", "C", "D", "E", "F", "G"],
        s.SIGNUP_DATE: [d("2020-05-01"), d("2024-03-10"), d("2024-02-01"), d("2019-01-01"),
                        None, d("2024-01-01"), d("2025-08-01")],
        s.GRADE: ["A", "B", "B", "C", "C", "A", "B"],
        s.SEGMENT: ["x", "y", "x", "y", None, "x", "y"],
    })
    subs = pd.DataFrame({
        s.CUSTOMER_ID: ["A", "B", "C", "C", "C", "D", "E", "G"],
        s.PRODUCT: ["P1", "P2", "P1", "P3", "P2", "P2", "P3", "P1"],
        s.START_DATE: [d("2024-01-01"), d("2024-03-10"), d("2024-02-01"), d("2024-08-02"),
                       d("2025-03-01"), d("2024-05-01"), d("2024-01-01"), d("2025-08-01")],
        s.END_DATE: [d("2025-01-01"), None, d("2024-08-01"), d("2024-12-01"), None,
                     d("2025-09-30"), d("2024-04-01"), None],
    })
    return make_tables(customers=customers, subscriptions=subs)


CONTRACT_SETTINGS = ChurnSettings(business="contractual", as_of=d("2025-06-30"))


def test_contractual_durations_by_hand(contract_tables):
    dur = build_durations(contract_tables, CONTRACT_SETTINGS).set_index(s.CUSTOMER_ID)
    # F has no subscription, G starts after as_of: no relationship to measure
    assert list(dur.index) == ["A", "B", "C", "D", "E"]
    expected = {
        # customer: start, end, days, churned, entry, truncated, plan, cohort
        # A was a customer (since 2020-05-01) when the data began on 2024-01-01
        "A": ("2020-05-01", "2025-01-01", 1706, True, 1340, True, "P1", "<2024-Q1"),
        # B is still subscribed: censored at as_of
        "B": ("2024-03-10", "2025-06-30", 477, False, 0, False, "P2", "2024-Q1"),
        # C renewed a day after the first contract (one spell), churned 2024-12-01 and
        # came back in 2025 (a second spell: not part of the first lifetime)
        "C": ("2024-02-01", "2024-12-01", 304, True, 0, False, "P1", "2024-Q1"),
        # D signed up long ago but its first contract in the data starts later: a new
        # relationship; its end date after as_of is scheduled, not yet a churn
        "D": ("2024-05-01", "2025-06-30", 425, False, 0, False, "P2", "2024-Q2"),
        # E starts with the data but has no signup date: measured from the data start
        "E": ("2024-01-01", "2024-04-01", 91, True, 0, False, "P3", "2024-Q1"),
    }
    for cid, (start, end, days, churned, entry, trunc, plan, cohort) in expected.items():
        row = dur.loc[cid]
        assert row[START] == pd.Timestamp(start), cid
        assert row[END] == pd.Timestamp(end), cid
        assert row[DURATION_DAYS] == days, cid
        assert row[DURATION_DAYS] == (pd.Timestamp(end) - pd.Timestamp(start)).days, cid
        assert bool(row[CHURNED]) is churned, cid
        assert row[ENTRY_DAYS] == entry, cid
        assert bool(row[LEFT_TRUNCATED]) is trunc, cid
        assert row[PLAN] == plan, cid
        assert row[COHORT] == cohort, cid
    assert dur.loc["A", FIRST_ACTIVITY] == pd.Timestamp("2024-01-01")
    assert dur.loc["C", "last_active_date"] == pd.Timestamp("2024-11-30")
    assert dur.loc["A", s.GRADE] == "A" and pd.isna(dur.loc["E", s.SEGMENT])
    # types the survival models rely on
    assert dur[DURATION_DAYS].dtype == np.int64 and dur[CHURNED].dtype == bool
    assert list(dur.reset_index().columns[: len(BASE_COLUMNS)]) == list(BASE_COLUMNS)


def test_contractual_without_left_truncation(contract_tables):
    dur = build_durations(contract_tables, CONTRACT_SETTINGS,
                          left_truncation=False).set_index(s.CUSTOMER_ID)
    assert dur.loc["A", START] == pd.Timestamp("2024-01-01")
    assert dur.loc["A", DURATION_DAYS] == 366  # 2024 is a leap year
    assert (dur[ENTRY_DAYS] == 0).all() and not dur[LEFT_TRUNCATED].any()
    assert dur.loc["A", COHORT] == "2024-Q1"


def test_as_of_moves_the_censoring(contract_tables):
    dur = build_durations(contract_tables, CONTRACT_SETTINGS,
                          as_of=d("2024-10-31")).set_index(s.CUSTOMER_ID)
    # A's contract ends after the new as_of: censored there
    assert not dur.loc["A", CHURNED]
    assert dur.loc["A", END] == pd.Timestamp("2024-10-31")
    assert dur.loc["A", DURATION_DAYS] == (pd.Timestamp("2024-10-31")
                                           - pd.Timestamp("2020-05-01")).days
    assert dur.loc["E", CHURNED]  # ended 2024-04-01, before the new as_of


@pytest.fixture()
def activity_tables(make_tables):
    customers = pd.DataFrame({
        s.CUSTOMER_ID: ["P", "Q", "R", "S", "T", "U"],
        s.SIGNUP_DATE: [d("2022-01-01"), d("2024-01-01"), d("2021-06-01"), d("2024-05-01"),
                        d("2024-06-01"), d("2024-05-31")],
        s.GRADE: ["A", "B", "C", "A", "B", "C"],
    })
    orders = {
        "Q": ["2024-01-01", "2024-01-20", "2024-02-10", "2024-05-01"],
        "P": ["2024-01-15", "2024-02-01"],
        "R": ["2024-03-01", "2024-06-15"],
        "S": ["2024-05-01", "2024-05-25", "2024-06-10"],
        "T": ["2024-06-01"],
        "U": ["2024-05-31"],
    }
    tx = pd.DataFrame([(c, d(x), 100.0) for c, xs in orders.items() for x in xs],
                      columns=[s.CUSTOMER_ID, s.DATE, s.AMOUNT])
    return make_tables(customers=customers, transactions=tx)


ACTIVITY_SETTINGS = ChurnSettings(inactivity_days=30, as_of=d("2024-06-30"))


def test_non_contractual_durations_by_hand(activity_tables):
    dur = build_durations(activity_tables, ACTIVITY_SETTINGS).set_index(s.CUSTOMER_ID)
    assert PLAN not in dur.columns  # plans are contractual
    expected = {
        # churn date = last purchase of the first spell + 30 days of silence
        # P: active when the data began (first order 14 days in) and a customer since
        # 2022: measured from signup, enters the risk set at the data start
        "P": ("2022-01-01", "2024-03-02", 791, True, 730, True, "<2024-Q1"),
        # Q: orders 19 and 21 days apart are one spell; the May order is a win-back
        "Q": ("2024-01-01", "2024-03-11", 70, True, 0, False, "2024-Q1"),
        # R: signed up in 2021 but silent for the first 60 days of the data: by the
        # churn definition not active when the data began, so a new relationship
        "R": ("2024-03-01", "2024-03-31", 30, True, 0, False, "2024-Q1"),
        # S: last order 20 days before as_of: still active, censored
        "S": ("2024-05-01", "2024-06-30", 60, False, 0, False, "2024-Q2"),
        # T: 29 days of silence at as_of: not yet churned
        "T": ("2024-06-01", "2024-06-30", 29, False, 0, False, "2024-Q2"),
        # U: exactly 30 days of silence at as_of: churned on as_of
        "U": ("2024-05-31", "2024-06-30", 30, True, 0, False, "2024-Q2"),
    }
    assert sorted(dur.index) == sorted(expected)
    for cid, (start, end, days, churned, entry, trunc, cohort) in expected.items():
        row = dur.loc[cid]
        assert (row[START], row[END]) == (pd.Timestamp(start), pd.Timestamp(end)), cid
        assert row[DURATION_DAYS] == days, cid
        assert (bool(row[CHURNED]), row[ENTRY_DAYS], bool(row[LEFT_TRUNCATED])) == (
            churned, entry, trunc), cid
        assert row[COHORT] == cohort, cid
    assert dur.loc["Q", "last_active_date"] == pd.Timestamp("2024-02-10")


def test_non_contractual_without_left_truncation(activity_tables):
    dur = build_durations(activity_tables, ACTIVITY_SETTINGS, left_truncation=False,
                          cohort_period="month").set_index(s.CUSTOMER_ID)
    assert dur.loc["P", START] == pd.Timestamp("2024-01-15")
    assert dur.loc["P", DURATION_DAYS] == 47
    assert dur.loc["P", COHORT] == "2024-01" and dur.loc["S", COHORT] == "2024-05"


def test_attributes_can_be_chosen(activity_tables, make_tables):
    dur = build_durations(activity_tables, ACTIVITY_SETTINGS, attributes=[s.SIGNUP_DATE])
    assert s.SIGNUP_DATE in dur.columns and s.GRADE not in dur.columns
    with pytest.raises(SchemaError, match="no grouping column 'segment'"):
        build_durations(activity_tables, ACTIVITY_SETTINGS, attributes=[s.SEGMENT])
    # without a customers table: durations from the first activity, no attributes
    only_tx = {"transactions": activity_tables["transactions"]}
    dur = build_durations(only_tx, ACTIVITY_SETTINGS)
    assert list(dur.columns) == list(BASE_COLUMNS)
    assert not dur[LEFT_TRUNCATED].any()
    with pytest.raises(SchemaError, match="customers table has no grouping column 'grade'"):
        build_durations(only_tx, ACTIVITY_SETTINGS, attributes=[s.GRADE])


def test_bad_arguments(activity_tables):
    with pytest.raises(InputError, match="cohort_period must be one of"):
        build_durations(activity_tables, ACTIVITY_SETTINGS, cohort_period="week")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="at least 1 customers with activity, found 0"):
        build_durations(activity_tables, ChurnSettings(inactivity_days=30,
                                                       as_of=d("2023-12-31")))


def test_cohort_labels():
    starts = pd.Series(pd.to_datetime(["2022-12-31", "2023-01-01", "2023-05-20",
                                       "2024-12-31"]))
    got = cohort_labels(starts, "quarter", history_start=d("2023-01-01"))
    assert list(got) == ["<2023-Q1", "2023-Q1", "2023-Q2", "2024-Q4"]
    got = cohort_labels(starts, "year", history_start=d("2023-02-15"))
    # before the data start, even within the same year
    assert list(got) == ["<2023", "<2023", "2023", "2024"]


def test_demo_durations_are_consistent(demo_durations):
    for key, dur in demo_durations.items():
        assert dur[s.CUSTOMER_ID].is_unique, key
        assert (dur[DURATION_DAYS] >= dur[ENTRY_DAYS]).all(), key
        assert (dur[DURATION_DAYS] == (dur[END] - dur[START]).dt.days).all(), key
        assert (dur.loc[~dur[LEFT_TRUNCATED], ENTRY_DAYS] == 0).all(), key
        trunc = dur[dur[LEFT_TRUNCATED]]
        assert (trunc[START] < trunc[FIRST_ACTIVITY]).all(), key
        assert (trunc[COHORT].str.startswith("<")).all(), key
        # stock customers make up most of the demo; without delayed entry they'd look new
        assert 0.3 < dur[LEFT_TRUNCATED].mean() < 0.8, key
    dealers = demo_durations["dealers"]
    # activity-based churn: nobody churns before 180 days of silence have passed
    assert dealers.loc[dealers[CHURNED], DURATION_DAYS].min() >= 180
