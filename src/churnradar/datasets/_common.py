"""The simulation shared by every demo industry: the calendar, churn causes, and the
customers' active episodes (join → churn → perhaps a win-back → churn again).

Time is counted in whole days since 1970-01-01 (``int64``), seconds for timestamps.
A customer's *episode* is a span ``[start, stop)`` of activity; ``stop`` is the churn
day when the episode ended in churn, else one day past the history window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from churnradar.schema import CHURN_TYPES, REASON_CATEGORIES

EPOCH = dt.date(1970, 1, 1)
SECONDS_PER_DAY = 86_400
DAYS_PER_MONTH = 365.25 / 12
#: a churned episode lasts at least this many days (a first order / a first bill)
MIN_EPISODE_DAYS = 14
#: new customers churn more during their first months (acquisition cohorts)
NEW_CUSTOMER_DAYS = 182


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


def monthly_to_daily(p_month: np.ndarray | float) -> np.ndarray:
    """Daily hazard of a monthly churn probability."""
    return -np.log1p(-np.asarray(p_month, dtype=np.float64)) / DAYS_PER_MONTH


@dataclass(frozen=True)
class Window:
    """The history window ``[start, end]`` (both inclusive) and its months."""

    start: dt.date
    end: dt.date

    @property
    def start_day(self) -> int:
        return day_number(self.start)

    @property
    def end_day(self) -> int:
        return day_number(self.end)

    @property
    def stop_day(self) -> int:
        """One past the last day: the ``stop`` of an episode still active at the end."""
        return self.end_day + 1

    @property
    def end_second(self) -> int:
        """The last second of the window (``end`` 23:59:59)."""
        return self.stop_day * SECONDS_PER_DAY - 1

    @property
    def month_bounds(self) -> np.ndarray:
        """First day of every month touching the window, plus the first day after it.

        Month ``m`` covers ``[bounds[m], bounds[m + 1])`` clipped to the window.
        """
        first = np.datetime64(self.start, "M")
        last = np.datetime64(self.end, "M")
        months = np.arange(first, last + 2, dtype="datetime64[M]")
        bounds = months.astype("datetime64[D]").astype(np.int64)
        bounds[0] = self.start_day
        bounds[-1] = self.stop_day
        return bounds

    @property
    def n_months(self) -> int:
        return len(self.month_bounds) - 1

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Index of the window month containing each day."""
        return np.searchsorted(self.month_bounds, days, side="right") - 1

    def planted_month(self, num: int, den: int) -> int:
        """The month at fraction ``num/den`` of the window (a planted effect's month)."""
        return (self.n_months * num) // den

    def month_first_day(self, month: int) -> int:
        return int(self.month_bounds[month])

    def month_date(self, month: int) -> dt.date:
        return EPOCH + dt.timedelta(days=int(self.month_bounds[month]))


@dataclass(frozen=True)
class Cause:
    """One way a simulated customer leaves (domain.md §3).

    ``weight`` is the share among ordinary churn; planted causes have weight 0 and are
    used only by their shock.
    """

    key: str
    reason: str
    churn_type: str
    weight: float
    notes: tuple[str, ...]
    cancel: tuple[str, ...] = ()
    involuntary: bool = False
    #: expected complaints in the half year before leaving
    complaints: float = 0.0
    #: share of those complaints never resolved
    unresolved: float = 0.1
    #: how far satisfaction drops before leaving, 0 (not at all) .. 1 (to the bottom)
    survey_drop: float = 0.0
    #: whether a customer who left this way may come back (win-back)
    winback: bool = True

    def __post_init__(self) -> None:
        if self.reason not in REASON_CATEGORIES:
            raise ValueError(f"unknown reason category {self.reason!r}")
        if self.churn_type not in CHURN_TYPES:
            raise ValueError(f"unknown churn type {self.churn_type!r}")


class CauseTable:
    """Column arrays over a tuple of causes, for vectorised lookups by cause code."""

    def __init__(self, causes: Sequence[Cause]) -> None:
        self.causes = tuple(causes)
        self.keys = tuple(c.key for c in causes)
        self.reason = np.array([REASON_CATEGORIES.index(c.reason) for c in causes])
        self.churn_type = np.array([CHURN_TYPES.index(c.churn_type) for c in causes])
        weights = np.array([c.weight for c in causes], dtype=np.float64)
        self.baseline_p = weights / weights.sum()
        self.involuntary = np.array([c.involuntary for c in causes])
        self.complaints = np.array([c.complaints for c in causes])
        self.unresolved = np.array([c.unresolved for c in causes])
        self.survey_drop = np.array([c.survey_drop for c in causes])
        self.winback = np.array([c.winback for c in causes])

    def code(self, key: str) -> int:
        return self.keys.index(key)

    def draw_baseline(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(len(self.causes), size=size, p=self.baseline_p)

    def texts(
        self, rng: np.random.Generator, codes: np.ndarray, field: str
    ) -> tuple[list[str], np.ndarray]:
        """One text per code from each cause's ``field`` tuple: (pool, pool codes)."""
        pool: list[str] = []
        first = np.zeros(len(self.causes), dtype=np.int64)
        count = np.zeros(len(self.causes), dtype=np.int64)
        for i, cause in enumerate(self.causes):
            options: tuple[str, ...] = getattr(cause, field) or cause.notes
            first[i] = len(pool)
            count[i] = len(options)
            pool.extend(options)
        pick = first[codes] + (rng.random(len(codes)) * count[codes]).astype(np.int64)
        return pool, pick


@dataclass(frozen=True)
class Shock:
    """A planted event: customers active on ``day`` leave within ``length`` days with
    probability ``prob`` (per customer), for one of ``causes`` (drawn with ``cause_p``).

    Offsets into the window follow Beta(``shape``); (1, 1) is uniform, (1, 3) front-loaded.
    """

    day: int
    length: int
    prob: np.ndarray
    causes: tuple[int, ...]
    cause_p: tuple[float, ...]
    shape: tuple[float, float] = (1.0, 1.0)


@dataclass
class Episodes:
    """Active spans of customers, one row per span, sorted by customer then start.

    A retention action may avert a churn (:mod:`churnradar.datasets._campaign`): the
    episode then runs on to the window end, but what led up to the churn before the
    action (complaints, falling scores, a downgrade, fading usage) still happened. The
    ``averted*`` arrays keep that, and the ``risk_*`` views give the derived tables one
    way to read both kinds of episode.
    """

    customer: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    churned: np.ndarray
    cause: np.ndarray
    #: 1 for the first span in the window, 2 for a win-back
    number: np.ndarray
    #: the day of a churn a retention action averted (-1: none); ``None``: no campaign
    averted: np.ndarray | None = None
    #: the cause of that averted churn (-1: none)
    averted_cause: np.ndarray | None = None
    #: the day of the action that averted it: the pre-churn signals stop there
    action_day: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.customer)

    def take(self, idx: np.ndarray) -> Episodes:
        def part(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[idx]

        return Episodes(
            self.customer[idx], self.start[idx], self.stop[idx], self.churned[idx],
            self.cause[idx], self.number[idx],
            part(self.averted), part(self.averted_cause), part(self.action_day),
        )

    @property
    def is_averted(self) -> np.ndarray:
        """Episodes whose churn a retention action averted."""
        if self.averted is None:
            return np.zeros(len(self), dtype=bool)
        return self.averted >= 0

    @property
    def at_risk(self) -> np.ndarray:
        """Episodes heading for a churn: churned, or averted by a retention action."""
        return self.churned | self.is_averted

    @property
    def risk_day(self) -> np.ndarray:
        """The churn day, or the day of the averted churn (else ``stop``)."""
        if self.averted is None:
            return self.stop
        return np.where(self.is_averted, self.averted, self.stop)

    @property
    def risk_cause(self) -> np.ndarray:
        """The cause of the churn or of the averted churn (-1: none)."""
        if self.averted_cause is None:
            return self.cause
        return np.where(self.is_averted, self.averted_cause, self.cause)

    @property
    def signal_end(self) -> np.ndarray:
        """First day without pre-churn signals: ``stop``, or the averting action's day."""
        if self.action_day is None:
            return self.stop
        return np.where(self.is_averted, self.action_day, self.stop)


def acquisition_days(
    rng: np.random.Generator, window: Window, count: int, peak_month: int, peak_factor: float
) -> np.ndarray:
    """Join days of ``count`` new customers over the window, with a promotion peak.

    Each month draws in proportion to its length; the peak month ``peak_factor`` times more.
    """
    bounds = window.month_bounds
    length = np.diff(bounds).astype(np.float64)
    weight = length.copy()
    weight[peak_month] *= peak_factor
    month = rng.choice(len(length), size=count, p=weight / weight.sum())
    return bounds[month] + (rng.random(count) * length[month]).astype(np.int64)


def _churn_times(
    rng: np.random.Generator,
    start: np.ndarray,
    hazard: np.ndarray,
    new_hazard: np.ndarray,
) -> np.ndarray:
    """Baseline churn time: exponential with ``hazard`` per day, plus ``new_hazard`` during
    the first :data:`NEW_CUSTOMER_DAYS` of an episode (the acquisition-peak effect)."""
    n = len(start)
    base = start + rng.exponential(1.0, n) / hazard
    with np.errstate(divide="ignore"):
        early = start + rng.exponential(1.0, n) / new_hazard
    early = np.where(early < start + NEW_CUSTOMER_DAYS, early, np.inf)
    return np.minimum(base, early)


def simulate_episodes(
    rng: np.random.Generator,
    window: Window,
    entry: np.ndarray,
    hazard: np.ndarray,
    new_hazard: np.ndarray,
    causes: CauseTable,
    shocks: Sequence[Shock],
    winback_prob: float,
    winback_gap: tuple[int, int],
) -> Episodes:
    """Simulate every customer's first episode and the win-back episodes.

    Parameters
    ----------
    rng : numpy.random.Generator
    window : Window
    entry : numpy.ndarray
        First day of activity in the window (the join day, or the window start).
    hazard, new_hazard : numpy.ndarray
        Daily churn hazard of each customer, and the extra hazard of a new episode.
    causes : CauseTable
        Ordinary churn draws its cause from ``causes.baseline_p``.
    shocks : sequence of Shock
        Planted events, applied in date order to customers still active on their day.
    winback_prob : float
        Probability that a churned customer (of a cause that allows it) comes back.
    winback_gap : (int, int)
        Range of days between the churn and the return.

    Returns
    -------
    Episodes
    """
    n = len(entry)
    stop_day = window.stop_day
    when = _churn_times(rng, entry.astype(np.float64), hazard, new_hazard)
    cause = causes.draw_baseline(rng, n)
    for shock in sorted(shocks, key=lambda s: s.day):
        active = (entry <= shock.day) & (when > shock.day)
        hit = active & (rng.random(n) < shock.prob)
        at = shock.day + 1 + rng.beta(*shock.shape, n) * (shock.length - 1)
        wins = hit & (at < when)
        when = np.where(wins, at, when)
        chosen = rng.choice(np.array(shock.causes), size=n, p=np.array(shock.cause_p))
        cause = np.where(wins, chosen, cause)
    churn_day = np.maximum(np.floor(np.minimum(when, 1e9)).astype(np.int64),
                           entry + MIN_EPISODE_DAYS)
    churned = churn_day < stop_day
    first = Episodes(
        customer=np.arange(n, dtype=np.int64),
        start=entry.astype(np.int64),
        stop=np.where(churned, churn_day, stop_day),
        churned=churned,
        cause=np.where(churned, cause, -1),
        number=np.ones(n, dtype=np.int8),
    )

    # win-backs: a churned customer returns after a long gap and may churn again
    gap = rng.integers(winback_gap[0], winback_gap[1] + 1, n)
    back_day = first.stop + gap
    back = (
        churned
        & causes.winback[np.maximum(first.cause, 0)]
        & (rng.random(n) < winback_prob)
        & (back_day <= window.end_day - 30)
    )
    who = np.flatnonzero(back)
    back_start = back_day[who]
    again = _churn_times(rng, back_start.astype(np.float64), hazard[who],
                         np.zeros(len(who)))
    again_day = np.maximum(np.floor(np.minimum(again, 1e9)).astype(np.int64),
                           back_start + MIN_EPISODE_DAYS)
    again_churned = again_day < stop_day
    second = Episodes(
        customer=who,
        start=back_start,
        stop=np.where(again_churned, again_day, stop_day),
        churned=again_churned,
        cause=np.where(again_churned, causes.draw_baseline(rng, len(who)), -1),
        number=np.full(len(who), 2, dtype=np.int8),
    )
    merged = Episodes(*(np.concatenate([a, b]) for a, b in zip(
        (first.customer, first.start, first.stop, first.churned, first.cause, first.number),
        (second.customer, second.start, second.stop, second.churned, second.cause,
         second.number),
        strict=True,
    )))
    order = np.lexsort((merged.start, merged.customer))
    return merged.take(order)


def group_offsets(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of ``counts`` items laid end to end: each item's group and its rank
    inside the group."""
    counts = np.asarray(counts, dtype=np.int64)
    group = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(group), dtype=np.int64) - starts[group]
    return group, rank


def uniform_in(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Integers uniform in ``[low, high)`` (``high > low``), element-wise."""
    return low + (rng.random(len(low)) * (high - low)).astype(np.int64)


def seconds_in_days(
    rng: np.random.Generator, first_day: np.ndarray, stop_day: np.ndarray
) -> np.ndarray:
    """A timestamp (seconds) uniform in the days ``[first_day, stop_day)``, during the
    working day (08:00-21:00) as a customer-facing system would record it."""
    day = uniform_in(rng, first_day, np.maximum(stop_day, first_day + 1))
    second = rng.integers(8 * 3600, 21 * 3600, len(day))
    return day * SECONDS_PER_DAY + second
