"""Helpers to build small in-memory workspaces' tables for metrics tests."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from churnradar import engine


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture(scope="session")
def duck():
    return engine.connect("duckdb")


class TableMaker:
    def __init__(self, con):
        self.con = con
        self.n = 0

    def __call__(self, **frames: pd.DataFrame):
        out = {}
        for name, df in frames.items():
            self.n += 1
            out[name] = engine.register(self.con, f"t_{name}_{self.n}", df)
        return out


@pytest.fixture()
def make_tables(duck):
    return TableMaker(duck)
