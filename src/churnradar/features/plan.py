"""What the feature builder computes: the :class:`FeaturePlan`.

A plan fixes the *set* of feature columns (windows, event types, survey kinds, complaint
categories) so that every observation date, the saved model and later scoring agree on
one column list. :func:`make_plan` derives it from the data up to one date only, so the
plan itself carries no information from after that date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from churnradar import schema as s

#: windows (days) of the recency / frequency / monetary and usage features
WINDOWS: tuple[int, ...] = (30, 90, 180, 365)
#: at most this many event types get their own columns (the most frequent ones)
MAX_EVENT_TYPES = 20
#: event types that mean a failed payment / a discount, whatever the company calls them
PAYMENT_FAILURE = re.compile(
    r"pay\w*[_ -]?fail|fail\w*[_ -]?pay|overdue|arrears|欠费|扣款失败|缴费失败", re.I)
DISCOUNT = re.compile(r"discount|coupon|rebate|promo|优惠|折扣|返利|赠送", re.I)


@dataclass(frozen=True)
class FeaturePlan:
    """The columns the builder produces, fixed once per model."""

    business: str
    windows: tuple[int, ...] = WINDOWS
    event_types: tuple[str, ...] = ()
    survey_kinds: tuple[str, ...] = ()
    complaint_categories: tuple[str, ...] = ()
    #: customers-table columns used as profile features
    profile: tuple[str, ...] = ()
    tables: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FeaturePlan:
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                                  for k, v in raw.items()}
        return cls(**values)


def safe_name(value: str) -> str:
    """A column-name fragment for an event type or kind (``data_gb``, ``app_login``)."""
    text = re.sub(r"\W+", "_", str(value).strip().lower(), flags=re.UNICODE).strip("_")
    return text or "x"


def _distinct_up_to(t: ir.Table, column: str, time_col: str, as_of: dt.date,
                    limit: int | None = None) -> list[str]:
    on_or_before = t[time_col].cast("date") <= ibis.literal(as_of)
    sub = t.filter(on_or_before & t[column].notnull())
    counts = sub.group_by(column).aggregate(n=sub.count()).order_by([ibis.desc("n"), column])
    if limit is not None:
        counts = counts.limit(limit)
    return [str(v) for v in counts.to_pandas()[column].tolist()]


PROFILE_COLUMNS: tuple[str, ...] = (
    s.GRADE, s.SEGMENT, s.REGION, s.CHANNEL, s.IS_KEY_ACCOUNT, s.MARGIN_RATE,
)


def make_plan(tables: dict[str, ir.Table], *, business: str, as_of: dt.date) -> FeaturePlan:
    """The feature plan from the data on or before ``as_of`` (never later data)."""
    event_types: list[str] = []
    if "events" in tables:
        event_types = _distinct_up_to(tables["events"], s.EVENT_TYPE, s.TIME, as_of,
                                      MAX_EVENT_TYPES)
        # one column name per type: two raw types that clean to the same name keep the first
        seen: set[str] = set()
        event_types = [e for e in event_types
                       if not (safe_name(e) in seen or seen.add(safe_name(e)))]  # type: ignore[func-returns-value]
    kinds = (_distinct_up_to(tables["surveys"], s.KIND, s.TIME, as_of)
             if "surveys" in tables else [])
    cats: list[str] = []
    if "complaints" in tables and s.CATEGORY in tables["complaints"].columns:
        found = set(_distinct_up_to(tables["complaints"], s.CATEGORY, s.TIME, as_of))
        cats = [c for c in s.REASON_CATEGORIES if c in found]
    profile: tuple[str, ...] = ()
    if "customers" in tables:
        cols = tables["customers"].columns
        profile = tuple(c for c in PROFILE_COLUMNS if c in cols)
    return FeaturePlan(
        business=business,
        event_types=tuple(event_types),
        survey_kinds=tuple(sorted(kinds)),
        complaint_categories=tuple(cats),
        profile=profile,
        tables=tuple(sorted(tables)),
    )
