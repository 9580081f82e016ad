"""Management churn through staff turnover (domain.md §3, case 01): a salesperson or
account manager leaves and takes the customers along.

:func:`staff_departures` compares, for every owner who left, how many of the owner's
customers churned in the days after the departure with how many of everyone else's
customers churned in the same days (a one-sided Fisher exact test, Benjamini-Hochberg
over the owners tested) and with the owner's own customers in the days before.
:func:`departure_summary` condenses the result for a report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, fisher_exact

from churnradar import schema as s
from churnradar.exceptions import InputError, SchemaError

CUSTOMERS = "customers"
CHURNED_AFTER = "churned_after"
RATE_AFTER = "rate_after"
CUSTOMERS_BEFORE = "customers_before"
CHURNED_BEFORE = "churned_before"
RATE_BEFORE = "rate_before"
PEER_CUSTOMERS = "peer_customers"
PEER_CHURNED = "peer_churned"
PEER_RATE_AFTER = "peer_rate_after"
RATIO_VS_PEERS = "ratio_vs_peers"
RATIO_VS_BEFORE = "ratio_vs_before"
P_VALUE = "p_value"
P_ADJUSTED = "p_adjusted"
COMPLETE = "complete"
FLAGGED = "flagged"

#: the columns of :func:`staff_departures`, in order
COLUMNS: tuple[str, ...] = (
    s.OWNER_ID, s.NAME, s.LEFT_AT, CUSTOMERS, CHURNED_AFTER, RATE_AFTER, CUSTOMERS_BEFORE,
    CHURNED_BEFORE, RATE_BEFORE, PEER_CUSTOMERS, PEER_CHURNED, PEER_RATE_AFTER,
    RATIO_VS_PEERS, RATIO_VS_BEFORE, P_VALUE, P_ADJUSTED, COMPLETE, FLAGGED,
)
_INTS = (CUSTOMERS, CHURNED_AFTER, CUSTOMERS_BEFORE, CHURNED_BEFORE, PEER_CUSTOMERS,
         PEER_CHURNED)
_FLOATS = (RATE_AFTER, RATE_BEFORE, PEER_RATE_AFTER, RATIO_VS_PEERS, RATIO_VS_BEFORE,
           P_VALUE, P_ADJUSTED)


def _check(df: pd.DataFrame, table: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"{table} has no column {missing[0]!r} (columns: "
            f"{', '.join(map(str, df.columns))}). Suggestion: map the column to "
            f"{missing[0]!r} when importing, or rename it."
        )


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).astype("datetime64[ns]")


def _empty() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    out[s.LEFT_AT] = out[s.LEFT_AT].astype("datetime64[ns]")
    out[list(_INTS)] = out[list(_INTS)].astype(np.int64)
    out[list(_FLOATS)] = out[list(_FLOATS)].astype(np.float64)
    out[[COMPLETE, FLAGGED]] = out[[COMPLETE, FLAGGED]].astype(bool)
    return out


@dataclass(frozen=True)
class _Spells:
    """Spells of customers with an owner as arrays: owner code, customer code, start and
    churn day (nanoseconds; a churn not known by ``as_of`` is the largest int64)."""

    owners: pd.Index
    owner: np.ndarray
    customer: np.ndarray
    start: np.ndarray
    churn: np.ndarray


_NEVER = np.iinfo(np.int64).max


def _ns(values: pd.Series) -> np.ndarray:
    out = _dates(values).to_numpy("datetime64[ns]").view(np.int64).copy()
    out[out == np.iinfo(np.int64).min] = _NEVER  # NaT
    return out


def _owned_spells(customers: pd.DataFrame, spells: pd.DataFrame,
                  as_of: pd.Timestamp) -> _Spells:
    """The spells of customers with an owner, as known on ``as_of``."""
    owned = customers.loc[customers[s.OWNER_ID].notna(), [s.CUSTOMER_ID, s.OWNER_ID]]
    owned = owned.drop_duplicates(s.CUSTOMER_ID, keep="last")
    owner_code, owners = pd.factorize(owned[s.OWNER_ID].astype(str))
    row = pd.Index(owned[s.CUSTOMER_ID]).get_indexer(spells[s.CUSTOMER_ID])
    start, churn = _ns(spells[s.START_DATE]), _ns(spells[s.CHURN_DATE])
    end = as_of.value
    # nothing after as_of is known: a later start is not a spell yet, a later end no churn
    keep = (row >= 0) & (start <= end)
    churn = np.where(churn > end, _NEVER, churn)
    return _Spells(owners=pd.Index(owners), owner=owner_code[row[keep]], customer=row[keep],
                   start=start[keep], churn=churn[keep])


def _window(sp: _Spells, day: pd.Timestamp, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Per owner code: customers active on ``day`` and, of those, churned in
    ``(day, day + days]`` (the spell convention: a churn on ``day`` is not active)."""
    t = day.value
    active = (sp.start <= t) & (sp.churn > t)
    owner, customer = sp.owner[active], sp.customer[active]
    left = sp.churn[active] <= t + pd.Timedelta(days=days).value
    if len(np.unique(customer)) < len(customer):  # overlapping spells: count once
        order = np.lexsort((~left, customer))
        first = np.r_[True, customer[order][1:] != customer[order][:-1]]
        owner, left = owner[order][first], left[order][first]
    size = len(sp.owners)
    return (np.bincount(owner, minlength=size),
            np.bincount(owner, weights=left, minlength=size).astype(np.int64))


def staff_departures(
    customers: pd.DataFrame,
    spells: pd.DataFrame,
    staff: pd.DataFrame,
    *,
    as_of: dt.date,
    window_days: int = 90,
    alpha: float = 0.05,
    min_customers: int = 5,
) -> pd.DataFrame:
    """Owners whose customers churned unusually after the owner left.

    For every owner (salesperson, account manager) with a ``left_at`` on or before
    ``as_of``, the owner's customers active on ``left_at`` are followed for
    ``window_days``: their churn rate is compared with that of every other owner's
    customers active on the same day over the same days (the *peers*: the same season,
    the same company-wide events such as a policy change), and with the owner's own
    customers in the ``window_days`` before the departure.

    Parameters
    ----------
    customers : pandas.DataFrame
        ``customer_id`` and ``owner_id`` (the owner in the export); customers without an
        owner are ignored, as owners nor peers.
    spells : pandas.DataFrame
        The lifecycle spells: ``customer_id``, ``start_date``, ``churn_date`` (NaT while
        active; a customer won back has several spells), e.g.
        :attr:`churnradar.predict.dataset.PredictionData.spells`.
    staff : pandas.DataFrame
        ``owner_id``, ``left_at`` and optionally ``name``.
    as_of : datetime.date
        What is known: departures, spell starts and churns after it are ignored.
    window_days : int
        Days followed after (and before) each departure.
    alpha : float
        False discovery rate of the flags (on the Benjamini-Hochberg adjusted p-values).
    min_customers : int
        Fewest customers on the departure day for an owner to be flagged.

    Returns
    -------
    pandas.DataFrame
        One row per departed owner, columns :data:`COLUMNS`:

        - ``customers``, ``churned_after``, ``rate_after``: the owner's customers active
          on ``left_at``; of those, churned in ``(left_at, left_at + window_days]``;
        - ``customers_before``, ``churned_before``, ``rate_before``: the same for the
          window that ends on ``left_at`` (active on ``left_at - window_days``, churned in
          ``(left_at - window_days, left_at]``), so that every churn day falls in exactly
          one of the two windows;
        - ``peer_customers``, ``peer_churned``, ``peer_rate_after``: every other owner's
          customers active on ``left_at``, churned in the same after-window;
        - ``ratio_vs_peers`` = rate_after / peer_rate_after, ``ratio_vs_before`` =
          rate_after / rate_before (inf when only the denominator is 0, NaN when both);
        - ``p_value``: one-sided Fisher exact test that the owner's after-rate exceeds the
          peers' (NaN when the owner had no customers or there are no peers: not tested);
          ``p_adjusted``: Benjamini-Hochberg over the owners tested;
        - ``complete``: the after-window ends by ``as_of``. An incomplete window is
          tested on what is observed so far, for the owner and the peers alike;
          ``ratio_vs_before`` then compares a shorter window with a full one;
        - ``flagged``: ``p_adjusted < alpha``, ``rate_after > rate_before`` (an owner
          without customers before has no baseline and is not flagged) and
          ``customers >= min_customers``.

        Flagged owners first, then by ``p_value`` (untested last), then ``owner_id``.

    Raises
    ------
    SchemaError
        A table lacks a column it needs.
    InputError
        ``window_days`` below 1, ``alpha`` outside (0, 1) or ``min_customers`` below 1.

    Notes
    -----
    The test is Fisher's exact test [1]_ on the 2x2 table (owner, peers) x (churned, not
    churned), ``alternative="greater"``. It conditions on the total number churned, so it
    takes the uncertainty of the peer rate into account (a binomial test against the
    peer rate would treat that rate as exact) and it is exact for the small counts of a
    single owner (a handful of churns among some dozens of customers), where a normal
    approximation is not. The owner's customers are not among the peers, so the two rows
    are independent samples. With large peer groups it is close to the binomial test and
    slightly conservative. The p-values of all owners tested are adjusted with the
    Benjamini-Hochberg procedure [2]_, which controls the expected share of false flags.

    With activity-based churn (non-contractual data) a churn is dated ``inactivity_days``
    after the last purchase, so customers taken along show up that much later: choose
    ``window_days`` of about ``inactivity_days`` plus the weeks they take to leave. On the
    dealers demo (benchmarks/staff_departure.py, 10 seeds) the planted salesperson is
    found in 3 of 10 runs with 90-day inactivity and a 90-day window, 9 with a 150-day
    window, 10 with 120-day inactivity and a 180-day window, and 10 of 10 with the churn
    dated when it happened; no salesperson who handed over was flagged.

    Ownership is read from ``customers.owner_id`` as exported. Where customers are
    handed over to a successor in the export, the departed owner has no customers left
    and cannot be tested; an ownership history would be needed for that.

    References
    ----------
    .. [1] Fisher, R. A. (1922). On the interpretation of chi-squared from contingency
       tables, and the calculation of P. Journal of the Royal Statistical Society 85(1).
    .. [2] Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a
       practical and powerful approach to multiple testing. JRSS B 57(1), 289-300.

    Examples
    --------
    >>> import pandas as pd, datetime as dt
    >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...                           "owner_id": ["S1", "S1", "S2"]})
    >>> spells = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...                        "start_date": pd.to_datetime(["2024-01-01"] * 3),
    ...                        "churn_date": pd.to_datetime(["2024-06-10", None, None])})
    >>> staff = pd.DataFrame({"owner_id": ["S1", "S2"],
    ...                       "left_at": pd.to_datetime(["2024-06-01", None])})
    >>> out = staff_departures(customers, spells, staff, as_of=dt.date(2024, 12, 31))
    >>> out[["owner_id", "customers", "churned_after", "peer_customers"]].to_dict("records")
    [{'owner_id': 'S1', 'customers': 2, 'churned_after': 1, 'peer_customers': 1}]
    """
    if isinstance(window_days, bool) or int(window_days) != window_days or window_days < 1:
        raise InputError(f"window_days must be a whole number of at least 1, got "
                         f"{window_days!r}")
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be between 0 and 1 (exclusive), got {alpha!r}")
    if min_customers < 1:
        raise InputError(f"min_customers must be at least 1, got {min_customers!r}")
    _check(customers, "customers", (s.CUSTOMER_ID, s.OWNER_ID))
    _check(spells, "spells", (s.CUSTOMER_ID, s.START_DATE, s.CHURN_DATE))
    _check(staff, "staff", (s.OWNER_ID, s.LEFT_AT))

    end = pd.Timestamp(as_of)
    left = _dates(staff[s.LEFT_AT])
    gone = staff.assign(**{s.LEFT_AT: left})[left.notna() & (left <= end)]
    if gone.empty:
        return _empty()
    gone = gone.assign(**{s.OWNER_ID: gone[s.OWNER_ID].astype(str)})
    # one row per owner: a second departure (after a rehiring) is the one that counts
    gone = gone.sort_values(s.LEFT_AT).drop_duplicates(s.OWNER_ID, keep="last")
    names = gone[s.NAME] if s.NAME in gone.columns else pd.Series(None, index=gone.index)

    sp = _owned_spells(customers, spells, end)
    width = pd.Timedelta(days=int(window_days))
    rows: list[dict[str, Any]] = []
    # owners often leave on the same day
    cache: dict[pd.Timestamp, tuple[np.ndarray, np.ndarray]] = {}
    for owner, name, day in zip(gone[s.OWNER_ID], names, gone[s.LEFT_AT], strict=True):
        if day not in cache:
            cache[day] = _window(sp, day, int(window_days))
        before_day = day - width
        if before_day not in cache:
            cache[before_day] = _window(sp, before_day, int(window_days))
        (an, ak), (bn, bk) = cache[day], cache[before_day]
        code = sp.owners.get_indexer([owner])[0]
        n, k = (int(an[code]), int(ak[code])) if code >= 0 else (0, 0)
        n0, k0 = (int(bn[code]), int(bk[code])) if code >= 0 else (0, 0)
        pn, pk = int(an.sum()) - n, int(ak.sum()) - k
        p = np.nan
        if n > 0 and pn > 0:
            p = float(fisher_exact([[k, n - k], [pk, pn - pk]], alternative="greater")[1])
        rows.append({
            s.OWNER_ID: owner, s.NAME: None if pd.isna(name) else name, s.LEFT_AT: day,
            CUSTOMERS: n, CHURNED_AFTER: k, CUSTOMERS_BEFORE: n0, CHURNED_BEFORE: k0,
            PEER_CUSTOMERS: pn, PEER_CHURNED: pk, P_VALUE: p,
            COMPLETE: bool(day + width <= end),
        })
    out = pd.DataFrame(rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = out[CHURNED_AFTER] / out[CUSTOMERS].replace(0, np.nan)
        rate0 = out[CHURNED_BEFORE] / out[CUSTOMERS_BEFORE].replace(0, np.nan)
        peer = out[PEER_CHURNED] / out[PEER_CUSTOMERS].replace(0, np.nan)
        out[RATE_AFTER], out[RATE_BEFORE], out[PEER_RATE_AFTER] = rate, rate0, peer
        out[RATIO_VS_PEERS] = rate.to_numpy() / peer.to_numpy()
        out[RATIO_VS_BEFORE] = rate.to_numpy() / rate0.to_numpy()
    tested = out[P_VALUE].notna().to_numpy()
    out[P_ADJUSTED] = np.nan
    if tested.any():
        out.loc[tested, P_ADJUSTED] = false_discovery_control(
            out.loc[tested, P_VALUE].to_numpy(), method="bh")
    out[FLAGGED] = ((out[P_ADJUSTED] < alpha) & (out[RATE_AFTER] > out[RATE_BEFORE])
                    & (out[CUSTOMERS] >= min_customers))
    out = out.sort_values([FLAGGED, P_VALUE, s.OWNER_ID], ascending=[False, True, True],
                          na_position="last", kind="stable")
    out = out[list(COLUMNS)].reset_index(drop=True)
    return out.astype({**{c: np.int64 for c in _INTS}, **{c: np.float64 for c in _FLOATS},
                       COMPLETE: bool, FLAGGED: bool, s.LEFT_AT: "datetime64[ns]"})


@dataclass(frozen=True)
class DepartureSummary:
    """What :func:`staff_departures` found, in a few numbers for a report.

    Attributes
    ----------
    departures : int
        Owners who left by ``as_of``.
    tested : int
        Of those, owners with customers on the departure day (and peers): tested.
    flagged : int
        Owners whose customers churned unusually after they left.
    flagged_owner_ids : tuple of str
        Their ids, most significant first.
    customers_lost_after_departures : int
        Customers of the flagged owners who churned in the window after the departure.
    excess_lost : float
        Of those, how many more than the peers' rate would have lost (the churn the
        departures explain).
    incomplete : int
        Tested owners whose after-window had not ended by ``as_of``.
    """

    departures: int
    tested: int
    flagged: int
    flagged_owner_ids: tuple[str, ...]
    customers_lost_after_departures: int
    excess_lost: float
    incomplete: int

    def as_dict(self) -> dict[str, Any]:
        """The summary as a plain dict (the ids as a list), for JSON."""
        out = asdict(self)
        out["flagged_owner_ids"] = list(self.flagged_owner_ids)
        return out


def departure_summary(df: pd.DataFrame) -> DepartureSummary:
    """Condense the result of :func:`staff_departures`.

    Parameters
    ----------
    df : pandas.DataFrame
        The frame :func:`staff_departures` returned.

    Returns
    -------
    DepartureSummary
    """
    _check(df, "staff departures", COLUMNS)
    tested = df[P_VALUE].notna()
    hit = df[df[FLAGGED].astype(bool)]
    expected = hit[CUSTOMERS] * hit[PEER_RATE_AFTER].fillna(0.0)
    return DepartureSummary(
        departures=len(df),
        tested=int(tested.sum()),
        flagged=len(hit),
        flagged_owner_ids=tuple(hit[s.OWNER_ID].astype(str)),
        customers_lost_after_departures=int(hit[CHURNED_AFTER].sum()),
        excess_lost=float((hit[CHURNED_AFTER] - expected).clip(lower=0.0).sum()),
        incomplete=int((tested & ~df[COMPLETE].astype(bool)).sum()),
    )
