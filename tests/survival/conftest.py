"""Fixtures of the survival tests: small in-memory tables and demo durations."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from churnradar import engine
from churnradar.datasets import make_demo_data
from churnradar.settings import ChurnSettings
from churnradar.survival.durations import build_durations


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture(scope="session")
def duck():
    return engine.connect("duckdb")


class TableMaker:
    """Register pandas frames as Ibis tables with unique names."""

    def __init__(self, con):
        self.con = con
        self.n = 0

    def __call__(self, **frames: pd.DataFrame):
        out = {}
        for name, df in frames.items():
            self.n += 1
            out[name] = engine.register(self.con, f"sv_{name}_{self.n}", df)
        return out


@pytest.fixture(scope="session")
def make_tables(duck):
    return TableMaker(duck)


#: (industry, customers, seed, inactivity_days) of the demo durations
DEMOS = {"telecom": ("telecom", 1200, 3, 90), "dealers": ("dealers", 1000, 4, 180)}


@pytest.fixture(scope="session")
def demo_durations(make_tables) -> dict[str, pd.DataFrame]:
    """Durations of a small telecom (contractual) and dealer (non-contractual) demo."""
    out = {}
    for key, (industry, n, seed, inactivity) in DEMOS.items():
        data = make_demo_data(industry, n_customers=n, random_state=seed)  # type: ignore[arg-type]
        names = ("customers", "subscriptions", "transactions")
        tables = make_tables(**{k: v for k, v in data.tables.items() if k in names})
        out[key] = build_durations(tables, ChurnSettings(inactivity_days=inactivity,
                                                         as_of=data.as_of))
    return out
