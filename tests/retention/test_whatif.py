"""What-if: a hand-calculated example, the total row, the literature comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnradar.exceptions import InputError
from churnradar.retention.whatif import TOTAL, WHATIF_COLUMNS, literature_check, whatif


@pytest.fixture()
def segments() -> pd.DataFrame:
    return pd.DataFrame({
        "segment": ["A", "B"],
        "customers": [1000, 200],
        "churn_rate": [0.20, 0.03],
        "value_per_customer": [300.0, 1000.0],
        "profit": [100_000.0, 50_000.0],
    })


def test_hand_calculated(segments: pd.DataFrame) -> None:
    out = whatif(segments, [5], acquisition_cost=500, retention_cost=100)
    assert list(out.columns) == list(WHATIF_COLUMNS)
    a, b, tot = (out.iloc[i] for i in range(3))
    # A: 1000 × 5% = 50 kept; 50×300 + 50×500 − 50×100 = 35,000 = 35% of 100,000
    assert a.customers_kept == pytest.approx(50)
    assert a.churn_rate_new == pytest.approx(0.15)
    assert (a.value_kept, a.acquisition_cost_avoided, a.retention_cost_spent) == \
        pytest.approx((15_000, 25_000, 5_000))
    assert a.profit_effect == pytest.approx(35_000)
    assert a.profit_effect_share == pytest.approx(0.35)
    # B: 3% churn cannot fall by 5 points: at most all 6 churners are kept
    assert b.customers_kept == pytest.approx(6) and b.churn_rate_new == 0
    assert b.profit_effect == pytest.approx(6 * 1000 + 6 * 500 - 6 * 100)
    assert b.profit_effect_share == pytest.approx(8_400 / 50_000)
    assert tot.segment == TOTAL
    assert tot.customers_kept == pytest.approx(56)
    assert tot.profit_effect == pytest.approx(43_400)
    assert tot.profit_effect_share == pytest.approx(43_400 / 150_000)
    assert tot.churn_rate == pytest.approx(206 / 1200)
    assert tot.churn_rate_new == pytest.approx(150 / 1200)


def test_word_of_mouth_followers(segments: pd.DataFrame) -> None:
    out = whatif(segments, [5], acquisition_cost=500, retention_cost=100, word_of_mouth=5,
                 word_of_mouth_share=0.1)
    a, b = out.iloc[0], out.iloc[1]
    # each kept customer would have taken 5 × 10% = 0.5 followers along
    assert a.word_of_mouth_kept == pytest.approx(25) and a.customers_kept == pytest.approx(75)
    assert a.profit_effect == pytest.approx(75 * 700)
    assert b.word_of_mouth_kept == 0  # all of B's churners are kept already


def test_totals_are_the_sums_for_every_point(segments: pd.DataFrame) -> None:
    out = whatif(segments, [1, 2, 5], acquisition_cost=500, retention_cost=100)
    assert len(out) == 3 * 3
    for pt in (1, 2, 5):
        part = out[(out.points == pt) & (out.segment != TOTAL)]
        tot = out[(out.points == pt) & (out.segment == TOTAL)].iloc[0]
        for col in ("customers_kept", "value_kept", "profit_effect", "profit"):
            assert tot[col] == pytest.approx(part[col].sum())
    assert out[out.segment == "A"].profit_effect.is_monotonic_increasing


def test_literature_check_is_a_labelled_comparison(segments: pd.DataFrame) -> None:
    out = whatif(segments, [1, 5], acquisition_cost=500, retention_cost=100)
    check = literature_check(out)
    assert list(check.segment) == ["A", "B", TOTAL]
    assert list(check.position) == ["within", "below", "within"]
    assert (check.quoted_low == 0.25).all() and (check.quoted_high == 0.85).all()
    assert check.source.str.contains("quoted").all()
    with pytest.raises(InputError, match="add 2"):
        literature_check(out, points=2)


def test_no_profit_no_share(segments: pd.DataFrame) -> None:
    out = whatif(segments.assign(profit=[0.0, -10.0]), [5], acquisition_cost=500,
                 retention_cost=100)
    assert np.isnan(out.profit_effect_share).all()
    assert list(literature_check(out).position) == ["unknown"] * 3


def test_bad_inputs(segments: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="points"):
        whatif(segments, [0], acquisition_cost=1, retention_cost=1)
    with pytest.raises(InputError, match="churn_rate"):
        whatif(segments.assign(churn_rate=[20, 3]), [5], acquisition_cost=1,
               retention_cost=1)
