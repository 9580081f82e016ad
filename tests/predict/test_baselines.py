"""The two naive baselines of the backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnradar.exceptions import NotFittedError
from churnradar.predict.baselines import RecencyBaseline, SegmentRateBaseline


def test_recency_baseline_is_monotone_and_learns_rates():
    rng = np.random.default_rng(0)
    recency = rng.integers(0, 200, 5000).astype(float)
    y = (rng.random(5000) < recency / 400).astype(int)
    x = pd.DataFrame({"recency_days": recency})
    p = RecencyBaseline().fit(x, y).predict_proba(x)[:, 1]
    order = np.argsort(recency)
    assert np.all(np.diff(p[order]) >= -1e-12)
    # near the mean churn rate of each recency band
    assert p[recency < 20].mean() == pytest.approx(y[recency < 20].mean(), abs=0.03)
    assert p[recency > 180].mean() == pytest.approx(y[recency > 180].mean(), abs=0.05)


def test_recency_baseline_missing_recency_is_the_longest_silence():
    x = pd.DataFrame({"recency_days": [1.0, 2.0, 100.0, np.nan]})
    model = RecencyBaseline().fit(x.iloc[:3], [0, 0, 1])
    assert model.predict_proba(x)[3, 1] == 1.0


def test_segment_rate_baseline_uses_the_latest_date():
    x = pd.DataFrame({"segment": ["a", "a", "b", "b", "a", "a", "b", "b"]})
    y = np.array([1, 1, 1, 1, 0, 1, 0, 0])
    time = pd.to_datetime(["2024-01-31"] * 4 + ["2024-02-29"] * 4)
    m = SegmentRateBaseline().fit(x, y, time=time)
    new = pd.DataFrame({"segment": ["a", "b", "c", None]})
    p = m.predict_proba(new)[:, 1]
    assert p[0] == 0.5 and p[1] == 0.0
    assert p[2] == pytest.approx(0.25)   # unknown segment: the overall latest rate
    assert m.overall_ == pytest.approx(0.25)


def test_baselines_refuse_use_before_fit():
    with pytest.raises(NotFittedError):
        RecencyBaseline().predict_proba(pd.DataFrame({"recency_days": [1.0]}))
    with pytest.raises(NotFittedError):
        SegmentRateBaseline().predict_proba(pd.DataFrame({"segment": ["a"]}))
