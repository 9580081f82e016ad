"""``make_demo_data``: realistic, seeded churn simulations with their ground truth."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from churnradar import i18n
from churnradar.datasets import dealers, telecom
from churnradar.datasets._common import Window
from churnradar.exceptions import InputError

Industry = Literal["telecom", "dealers"]
INDUSTRIES: tuple[str, ...] = ("telecom", "dealers")
MAX_CUSTOMERS = 10_000_000
_SIMULATORS = {"telecom": telecom.simulate, "dealers": dealers.simulate}


@dataclass
class DemoData:
    """Demo tables of one simulated business, with what was planted in them.

    Attributes
    ----------
    industry : str
        ``"telecom"`` (contractual) or ``"dealers"`` (non-contractual).
    as_of : datetime.date
        The date the data is complete up to (the simulation's ``end``).
    tables : dict of str to pyarrow.Table
        Input tables in the contract of :data:`churnradar.schema.CONTRACTS`;
        ``churn_records`` is the ground truth of every simulated churn.
    planted : dict
        The planted effects and their dates (e.g. ``price_war_month``,
        ``departed_owner_id``, ``policy_change``, ``campaign_date``), to check analyses
        against.
    start : datetime.date
        First day of the history window.
    """

    industry: str
    as_of: dt.date
    tables: dict[str, pa.Table]
    planted: dict[str, Any] = field(default_factory=dict)
    start: dt.date = dt.date(2023, 1, 1)

    @property
    def n_customers(self) -> int:
        return self.tables["customers"].num_rows

    def describe(self, lang: str | None = None) -> str:
        """A one-paragraph description of the data in ``lang`` (zh-CN or en)."""
        values = {k: (v.isoformat() if isinstance(v, dt.date) else v)
                  for k, v in self.planted.items()}
        if "price_war_month" in self.planted:
            values["price_war"] = self.planted["price_war_month"].strftime("%Y-%m")
        return i18n.t(
            f"datasets_{self.industry}_description", lang,
            n_customers=i18n.fmt_int(self.n_customers, lang),
            start=self.start.isoformat(), end=self.as_of.isoformat(), **values,
        )

    @property
    def description(self) -> str:
        """:meth:`describe` in the default language."""
        return self.describe()


def make_demo_data(
    industry: Industry = "telecom",
    n_customers: int = 20_000,
    random_state: int | None = 0,
    *,
    start: dt.date = dt.date(2023, 1, 1),
    end: dt.date = dt.date(2025, 12, 31),
) -> DemoData:
    """Simulate a business whose customers churn for known reasons.

    Two industries of domain.md are simulated, each with effects planted at known dates
    so that analyses can be checked against the truth in ``churn_records``:

    ``telecom`` (contractual)
        Subscribers ``T0000001``... (segments 个人/家庭/政企) with monthly plans
        (``subscriptions``: plan changes as contiguous rows, downgrades before many
        churns, Chinese cancel reasons, voluntary/involuntary), monthly usage
        (``events``: data_gb, voice_minutes, app_login), Chinese ``complaints``, CSAT and
        NPS ``surveys``, account managers (``staff``). A competitor's price-war month
        (2024-09 by default) and a promotion month (2023-11) whose cohort churns more.
        A retention campaign five months before ``end`` (2025-08-01;
        ``retention_actions``): at-risk and random subscribers get a playbook
        (``reminder``, ``price_review`` ...), a random 20% are held back as the control
        group, and the playbooks avert churn within 90 days with known probabilities
        (``planted["campaign_success"]``, ``planted["campaign_effect"]``).
    ``dealers`` (non-contractual)
        A/B/C-grade dealers ``D000001``... with salespeople (``staff``), orders
        (``transactions``, ~10 per dealer over three years, seasonal), Chinese
        complaints. A salesperson leaves (2024-03-15) and takes dealers with him/her; a
        policy change (2024-07-01) makes A-grade six-month churn about 42% against 23%
        for B-grade (domain.md case 01); a recruitment promotion (2023-10).

    Both have a stock of customers at ``start`` (``signup_date`` earlier) and new ones
    over time, churn with the seven reason categories and six churn types, and a few
    percent of win-backs. Planted dates move with the window (same fractions of it).

    Parameters
    ----------
    industry : {"telecom", "dealers"}
        Which business to simulate.
    n_customers : int
        Number of customers (1 to 10,000,000). 20,000 take about a second; 1,000,000
        dealers (about 10 million orders) well under a minute.
    random_state : int or None
        Seed of ``numpy.random.default_rng``; the same seed gives identical tables.
    start, end : datetime.date
        The history window (at least 12 months); no table has a date after ``end``, and
        only ``customers.signup_date`` has dates before ``start``.

    Returns
    -------
    DemoData

    Raises
    ------
    InputError
        For an unknown industry, a bad size or a window shorter than 12 months
        (or longer than 80 years).

    Examples
    --------
    >>> from churnradar.datasets import make_demo_data
    >>> demo = make_demo_data("dealers", n_customers=2_000, random_state=1)
    >>> sorted(demo.tables)
    ['churn_records', 'complaints', 'customers', 'staff', 'transactions']
    """
    if industry not in INDUSTRIES:
        raise InputError(f"industry must be one of {INDUSTRIES}, got {industry!r}")
    if (
        isinstance(n_customers, bool)
        or not isinstance(n_customers, int | np.integer)
        or not 1 <= n_customers <= MAX_CUSTOMERS
    ):
        raise InputError(
            f"n_customers must be a whole number from 1 to {MAX_CUSTOMERS:,}, "
            f"got {n_customers!r}"
        )
    window = Window(start, end)
    if end <= start or window.n_months < 12 or (end - start).days > 30_000:
        raise InputError(
            f"the demo history needs 12 months to 80 years (start before end), "
            f"got {start} to {end}. Suggestion: widen the window."
        )
    rng = np.random.default_rng(random_state)
    tables, planted = _SIMULATORS[industry](window, int(n_customers), rng)
    return DemoData(industry=industry, as_of=end, tables=tables, planted=planted, start=start)
