"""Labels and observation dates, checked by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from churnradar import schema as s
from churnradar.exceptions import InputError
from churnradar.predict.labels import (
    LABEL,
    make_labels,
    month_end,
    months_back,
    observation_dates,
)


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_month_helpers():
    assert month_end(_d("2024-02-10")) == _d("2024-02-29")
    assert month_end(_d("2024-12-01")) == _d("2024-12-31")
    assert months_back(_d("2024-03-31"), 1) == _d("2024-02-29")
    assert months_back(_d("2024-01-15"), 13) == _d("2022-12-31")


def test_observation_dates_need_a_known_outcome():
    dates = observation_dates(_d("2025-12-31"), horizon_days=90, count=3)
    # 2025-12-31 - 90 days = 2025-10-02: the latest month end on or before is 09-30
    assert dates == [_d("2025-07-31"), _d("2025-08-31"), _d("2025-09-30")]
    for d in dates:
        assert d + dt.timedelta(days=90) <= _d("2025-12-31")
    # a month end exactly horizon days before the data end is allowed
    assert observation_dates(_d("2025-03-31"), horizon_days=31, count=1) == [_d("2025-02-28")]


def test_observation_dates_respect_the_history_start():
    dates = observation_dates(_d("2025-12-31"), horizon_days=90, count=12,
                              history_start=_d("2025-03-01"))
    assert dates[0] == _d("2025-05-31")  # 90 days of history before the first date
    with pytest.raises(InputError, match="history is too short"):
        observation_dates(_d("2025-04-30"), horizon_days=90, count=12,
                          history_start=_d("2025-01-01"))


def test_make_labels_by_hand():
    spells = pd.DataFrame({
        s.CUSTOMER_ID: ["A", "B", "C", "D", "E", "E"],
        s.START_DATE: pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2025-02-01",
                                      "2023-01-01", "2024-11-01"]),
        s.CHURN_DATE: pd.to_datetime(["2025-02-15", "2025-04-01", None, None,
                                      "2024-06-01", None]),
    })
    lab = make_labels(spells, as_of=_d("2024-12-31"), horizon_days=90).set_index(s.CUSTOMER_ID)
    # D starts later (not yet a customer); E's first spell ended before: the second counts
    assert sorted(lab.index) == ["A", "B", "C", "E"]
    assert lab.loc["A", LABEL] == 1          # churns 46 days later
    assert lab.loc["B", LABEL] == 0          # churns 91 days later: outside the horizon
    assert lab.loc["C", LABEL] == 0 and lab.loc["E", LABEL] == 0
    # exactly on the horizon's last day counts
    lab2 = make_labels(spells, as_of=_d("2025-01-01"), horizon_days=90).set_index(s.CUSTOMER_ID)
    assert lab2.loc["B", LABEL] == 1
    # churned on as_of itself: already gone, not in the population
    lab3 = make_labels(spells, as_of=_d("2025-02-15"), horizon_days=90)
    assert "A" not in set(lab3[s.CUSTOMER_ID])
