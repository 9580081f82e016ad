"""Shared data of the value-model tests: the CDNOW summaries of the published results,
fitted models (ours and lifetimes', the reference implementation) and a simulator.

The CDNOW calibration summary is built here in plain pandas, the way Fader & Hardie and
``lifetimes`` build it: purchases summed per customer and day, calibration to
1997-09-30, time in weeks (days / 7); ``frequency`` = purchase days - 1,
``recency`` = last - first purchase day, ``T`` = calibration end - first purchase day,
``monetary_value`` = mean spend of the repeat purchase days (0 without one).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

import numpy as np
import pandas as pd
import pytest

CALIBRATION_END = pd.Timestamp("1997-09-30")
WEEK = 7.0


def cdnow_file(name: str):
    return resources.files("lifetimes") / "datasets" / name


def load_cdnow(name: str) -> pd.DataFrame:
    """CDNOW purchases as ``customer_id, date, amount``.

    ``CDNOW_sample.txt`` (2,357 customers) has no header and the columns customer id,
    customer index, date (yyyymmdd), number of CDs, amount; ``CDNOW_master.txt`` (23,570
    customers) has a header line and no customer index.
    """
    if name == "CDNOW_sample.txt":
        df = pd.read_csv(cdnow_file(name), sep=r"\s+", header=None,
                         names=["customer_id", "customer_index", "date", "cds", "amount"],
                         dtype={"customer_id": str, "date": str})
    else:
        df = pd.read_csv(cdnow_file(name), sep=r"\s+", header=None, skiprows=1,
                         names=["customer_id", "date", "cds", "amount"],
                         dtype={"customer_id": str, "date": str})
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df[["customer_id", "date", "amount"]]


def calibration_summary(
    transactions: pd.DataFrame, end: pd.Timestamp = CALIBRATION_END, unit_days: float = WEEK
) -> pd.DataFrame:
    """frequency, recency, T (in units of ``unit_days``) and monetary_value per customer."""
    tx = transactions[transactions["date"] <= end]
    daily = tx.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    by_customer = daily.groupby("customer_id")["date"]
    first, last, days = by_customer.min(), by_customer.max(), by_customer.size()
    summary = pd.DataFrame({
        "frequency": (days - 1).astype(np.float64),
        "recency": (last - first).dt.days / unit_days,
        "T": (end - first).dt.days / unit_days,
    })
    daily = daily.join(first.rename("first"), on="customer_id")
    repeat = daily[daily["date"] > daily["first"]]
    summary["monetary_value"] = (repeat.groupby("customer_id")["amount"].mean()
                                 .reindex(summary.index).fillna(0.0))
    return summary


@pytest.fixture(scope="session")
def cdnow_transactions() -> pd.DataFrame:
    return load_cdnow("CDNOW_sample.txt")


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_transactions) -> pd.DataFrame:
    """The CDNOW sample in weeks: 2,357 customers, 946 with a repeat purchase."""
    return calibration_summary(cdnow_transactions)


@pytest.fixture(scope="session")
def cdnow_master_summary() -> pd.DataFrame:
    """The full CDNOW_master in weeks: 23,570 customers."""
    return calibration_summary(load_cdnow("CDNOW_master.txt"))


# --- fitted models (session-wide: each fit is done once) ---------------------------------


@pytest.fixture(scope="session")
def bgnbd_cdnow(cdnow_summary):
    from churnradar.value import BGNBDModel

    return BGNBDModel().fit(cdnow_summary)


@pytest.fixture(scope="session")
def paretonbd_cdnow(cdnow_summary):
    from churnradar.value import ParetoNBDModel

    return ParetoNBDModel().fit(cdnow_summary)


@pytest.fixture(scope="session")
def gammagamma_cdnow(cdnow_summary):
    from churnradar.value import GammaGammaModel

    return GammaGammaModel().fit(cdnow_summary)


@pytest.fixture(scope="session")
def lifetimes_bgnbd(cdnow_summary):
    from lifetimes import BetaGeoFitter

    s = cdnow_summary
    return BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])


@pytest.fixture(scope="session")
def lifetimes_paretonbd(cdnow_summary):
    from lifetimes import ParetoNBDFitter

    s = cdnow_summary
    return ParetoNBDFitter().fit(s["frequency"], s["recency"], s["T"])


@pytest.fixture(scope="session")
def lifetimes_gammagamma(cdnow_summary):
    from lifetimes import GammaGammaFitter

    repeat = cdnow_summary[cdnow_summary["frequency"] > 0]
    return GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])


# --- simulation ----------------------------------------------------------------------------


def simulate_bgnbd(
    n: int, *, r: float, alpha: float, a: float, b: float, t_max: float = 39.0,
    seed: int = 0, grid: float | None = None,
) -> pd.DataFrame:
    """Customers drawn from the BG/NBD: ages uniform on [1, t_max]; ``grid`` rounds the
    times to 1/grid units (7 = whole days in weeks), else they are continuous."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(1.0, t_max, n)
    if grid:
        age = np.ceil(age * grid) / grid
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    x, last, now = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.arange(n)
    while len(active):
        nxt = now[active] + rng.exponential(1.0 / np.maximum(lam[active], 1e-300))
        bought = nxt <= age[active]
        who = active[bought]
        x[who] += 1
        last[who] = now[who] = nxt[bought]
        # the BG/NBD drops a customer out right after a purchase, with probability p
        active = who[rng.random(len(who)) >= p[who]]
    if grid:
        last = np.floor(last * grid) / grid
    return pd.DataFrame({"frequency": x, "recency": last, "T": age})


@pytest.fixture(scope="session")
def simulate() -> Callable[..., pd.DataFrame]:
    return simulate_bgnbd
