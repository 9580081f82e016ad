"""Parse and check column values against their contract, a whole batch at a time.

Each converter takes one source column (text from CSV/Excel, or typed from Parquet) and
returns the typed Arrow array of the contract (:data:`ARROW_TYPES`) plus a list of
:class:`Check` masks marking the rows that are bad, each with the reason. Everything is
vectorised with :mod:`pyarrow.compute` (and NumPy for calendar arithmetic); Python only
touches the few rows that are rejected.

Accepted forms
--------------
* date: ``2024-01-05``, ``2024/1/5``, ``2024.01.05``, ``20240105``, ``2024年1月5日``,
  optionally followed by a time (``2024-01-05 08:30:00``); impossible days (2024-02-30)
  are rejected, not rolled over.
* timestamp: the date forms plus ``HH:MM[:SS[.fff]]``; a date alone means midnight.
* float: ``1234.5``, ``-3``, ``1e6``, ``1,234,567.89`` (thousands separators only in groups
  of three), with an optional ``¥``/``$``/``￥`` sign; ``12,5`` is not a number.
* bool: true/false, 1/0, yes/no, y/n, 是/否 (any case).
* enum: the canonical values and the aliases of :data:`churnradar.schema.ENUM_ALIASES`
  (any case), stored as the canonical value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from churnradar.schema import ENUM_ALIASES, Column, Contract

ARROW_TYPES: dict[str, pa.DataType] = {
    "id": pa.string(),
    "string": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("s"),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "enum": pa.string(),
}

TRUE_WORDS = ("true", "1", "yes", "y", "是")
FALSE_WORDS = ("false", "0", "no", "n", "否")

_NUMBER_RE = (
    r"^(?:[+-]?[¥$￥]?|[¥$￥][+-])\s*"
    r"(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)"
    r"(?:[eE][+-]?\d{1,3})?$"
)
_NUMBER_JUNK_RE = r"[,¥$￥\s]"
_DATETIME_RE = (
    r"^(?:(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"|(?P<y2>\d{4})(?P<m2>\d{2})(?P<d2>\d{2}))"
    r"(?:(?:T|\s*)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?)?$"
)


@dataclass
class Check:
    """Rows of one column that fail one rule.

    Attributes
    ----------
    column : str
        Contract column the rule is about.
    mask : pyarrow.BooleanArray
        ``True`` where the row is bad (no nulls).
    key : str
        Message key of the reason (``io_r_*`` in ``locales/io.toml``).
    params : dict
        Parameters of the message shared by all rows.
    per_row : dict of str to pyarrow.Array
        Parameters that differ per row (e.g. the other date of an ordered pair).
    """

    column: str
    mask: pa.Array
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    per_row: dict[str, pa.Array] = field(default_factory=dict)


def _bool_mask(arr: pa.Array) -> pa.Array:
    return pc.fill_null(arr, False)


def _any(mask: pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


def display(value: Any) -> str:
    """A cell value as it should appear in a message or the reject report."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def to_text(raw: pa.Array) -> pa.Array:
    """Trimmed text; empty and whitespace-only cells become null."""
    if pa.types.is_dictionary(raw.type):
        raw = raw.dictionary_decode()
    if not pa.types.is_string(raw.type):  # large_string, string_view, numbers ...
        raw = pc.cast(raw, pa.string())
    s = pc.utf8_trim_whitespace(raw)
    empty = pc.equal(s, "")
    if not _any(empty):  # the common case: skip copying the strings
        return s
    return pc.if_else(empty, pa.scalar(None, pa.string()), s)


def _required(column: Column, missing: pa.Array) -> list[Check]:
    if column.required and _any(missing):
        return [Check(column.name, _bool_mask(missing), "io_r_empty")]
    return []


# --- numbers ------------------------------------------------------------------------------
def _parse_number_text(s: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(float64 values, mask of values that are not numbers)."""
    try:
        values = pc.cast(s, pa.float64())
    except pa.ArrowInvalid:
        ok = _bool_mask(pc.match_substring_regex(s, _NUMBER_RE))
        cleaned = pc.replace_substring_regex(s, _NUMBER_JUNK_RE, "")
        cleaned = pc.if_else(ok, cleaned, pa.scalar(None, pa.string()))
        values = pc.cast(cleaned, pa.float64())
    finite = _bool_mask(pc.is_finite(values))
    bad = pc.and_(pc.is_valid(s), pc.invert(finite))
    values = pc.if_else(finite, values, pa.scalar(None, pa.float64()))
    return values, bad


def convert_float(raw: pa.Array, column: Column) -> tuple[pa.Array, list[Check]]:
    checks: list[Check] = []
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type) or \
            pa.types.is_decimal(raw.type):
        values = pc.cast(raw, pa.float64())
        # a NaN in a typed column is how pandas writes a missing value
        values = pc.if_else(_bool_mask(pc.is_nan(values)), pa.scalar(None, pa.float64()),
                            values)
        missing = pc.is_null(values)
    else:
        s = to_text(raw)
        values, bad = _parse_number_text(s)
        missing = pc.is_null(s)
        if _any(bad):
            checks.append(Check(column.name, bad, "io_r_not_number"))
    checks += _required(column, missing)
    if column.nonnegative:
        neg = _bool_mask(pc.less(values, 0))
        if _any(neg):
            checks.append(Check(column.name, neg, "io_r_negative", {"column": column.name}))
    if column.low is not None or column.high is not None:
        low = -math.inf if column.low is None else column.low
        high = math.inf if column.high is None else column.high
        out = _bool_mask(pc.or_(pc.less(values, low), pc.greater(values, high)))
        if _any(out):
            checks.append(Check(column.name, out, "io_r_range",
                                {"low": _num(low), "high": _num(high)}))
    return values, checks


def _num(x: float) -> str:
    return str(int(x)) if math.isfinite(x) and x == int(x) else str(x)


# --- dates and times ----------------------------------------------------------------------
def _digits(parts: pa.StructArray, name: str, alt: str | None, default: int) -> np.ndarray:
    field_ = pc.struct_field(parts, name)
    if alt is not None:
        other = pc.struct_field(parts, alt)
        field_ = pc.if_else(pc.equal(field_, ""), other, field_)
    field_ = pc.if_else(pc.equal(field_, ""), pa.scalar(None, pa.string()), field_)
    ints = pc.fill_null(pc.cast(field_, pa.int64()), default)
    return np.asarray(ints.to_numpy(zero_copy_only=False), dtype=np.int64)


def parse_datetime_text(s: pa.Array, *, with_time: bool) -> tuple[pa.Array, pa.Array,
                                                                    pa.Array]:
    """Parse text dates/times.

    Returns
    -------
    values : pyarrow.Array
        ``date32`` (or ``timestamp[s]`` when ``with_time``); null where not parsed.
    not_parsed : pyarrow.BooleanArray
        Non-empty text in no accepted form.
    impossible : pyarrow.BooleanArray
        In an accepted form but no such day/time (2024-02-30, 25:00).
    """
    target = pa.timestamp("s") if with_time else pa.date32()
    n = len(s)
    no = pa.array(np.zeros(n, dtype=bool))
    try:  # fast path: ISO text, which Arrow parses (and checks) natively
        return pc.cast(s, target), no, no
    except pa.ArrowInvalid:
        pass
    parts = pc.extract_regex(s, _DATETIME_RE)
    matched = np.asarray(_bool_mask(pc.is_valid(parts)).to_numpy(zero_copy_only=False))
    y = _digits(parts, "y", "y2", 1970)
    m = _digits(parts, "m", "m2", 1)
    d = _digits(parts, "d", "d2", 1)
    hh = _digits(parts, "H", None, 0)
    mm = _digits(parts, "M", None, 0)
    ss = _digits(parts, "S", None, 0)
    month_ok = (m >= 1) & (m <= 12)
    months = (y - 1970) * 12 + np.where(month_ok, m - 1, 0)
    first = months.astype("datetime64[M]").astype("datetime64[D]")
    next_first = (months + 1).astype("datetime64[M]").astype("datetime64[D]")
    dim = (next_first - first).astype(np.int64)
    # a time after a date is checked even where only the date is kept
    valid = month_ok & (d >= 1) & (d <= dim) & (hh <= 23) & (mm <= 59) & (ss <= 59)
    days = first.astype(np.int64) + np.where(valid, d - 1, 0)
    good = matched & valid
    if with_time:
        secs = days * 86400 + hh * 3600 + mm * 60 + ss
        values = pa.array(secs, pa.int64(), mask=~good).cast(target)
    else:
        values = pa.array(days.astype(np.int32), pa.int32(), mask=~good).cast(target)
    present = np.asarray(_bool_mask(pc.is_valid(s)).to_numpy(zero_copy_only=False))
    return values, pa.array(present & ~matched), pa.array(matched & ~valid)


def convert_temporal(raw: pa.Array, column: Column) -> tuple[pa.Array, list[Check]]:
    with_time = column.kind == "timestamp"
    target = ARROW_TYPES[column.kind]
    checks: list[Check] = []
    typ = raw.type
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        values = raw
        if pa.types.is_timestamp(typ) and typ.tz is not None:
            values = pc.local_timestamp(values)
        if pa.types.is_timestamp(values.type) and not with_time:
            values = pc.cast(values, pa.date32())
        else:
            values = pc.cast(values, target, safe=False)
        missing = pc.is_null(values)
    else:
        s = to_text(raw)
        values, not_parsed, impossible = parse_datetime_text(s, with_time=with_time)
        missing = pc.is_null(s)
        key = "io_r_not_time" if with_time else "io_r_not_date"
        if _any(not_parsed):
            checks.append(Check(column.name, not_parsed, key))
        if _any(impossible):
            checks.append(Check(column.name, impossible, "io_r_bad_date"))
    checks += _required(column, missing)
    return values, checks


# --- text, bool, enum ---------------------------------------------------------------------
def convert_text(raw: pa.Array, column: Column) -> tuple[pa.Array, list[Check]]:
    s = to_text(raw)
    return s, _required(column, pc.is_null(s))


def convert_bool(raw: pa.Array, column: Column) -> tuple[pa.Array, list[Check]]:
    if pa.types.is_boolean(raw.type):
        return raw, _required(column, pc.is_null(raw))
    s = pc.utf8_lower(to_text(raw))
    is_true = pc.is_in(s, value_set=pa.array(TRUE_WORDS + ("1.0",)))
    is_false = pc.is_in(s, value_set=pa.array(FALSE_WORDS + ("0.0",)))
    known = pc.or_(is_true, is_false)
    values = pc.if_else(known, is_true, pa.scalar(None, pa.bool_()))
    checks: list[Check] = []
    bad = pc.and_(pc.is_valid(s), pc.invert(known))
    if _any(bad):
        checks.append(Check(column.name, _bool_mask(bad), "io_r_not_bool"))
    return values, checks + _required(column, pc.is_null(s))


def convert_enum(raw: pa.Array, column: Column) -> tuple[pa.Array, list[Check]]:
    aliases = ENUM_ALIASES.get(column.name, {})
    keys = pa.array([k.lower() for k in aliases])
    canon = pa.array(list(aliases.values()))
    s = to_text(raw)
    idx = pc.index_in(pc.utf8_lower(s), value_set=keys)
    values = pc.take(canon, idx)
    checks: list[Check] = []
    bad = _bool_mask(pc.and_(pc.is_valid(s), pc.is_null(idx)))
    if _any(bad):
        allowed = ", ".join(dict.fromkeys(aliases.values()))
        checks.append(Check(column.name, bad, "io_r_bad_enum", {"allowed": allowed}))
    return values, checks + _required(column, pc.is_null(s))


_CONVERTERS = {
    "id": convert_text, "string": convert_text, "date": convert_temporal,
    "timestamp": convert_temporal, "float": convert_float, "bool": convert_bool,
    "enum": convert_enum,
}


def convert_column(raw: pa.Array, column: Column) -> tuple[pa.Array, list[Check]]:
    """Parse ``raw`` as ``column.kind`` and check it.

    Returns
    -------
    values : pyarrow.Array
        Of type ``ARROW_TYPES[column.kind]``; null where missing or bad.
    checks : list of Check
        The failed rules (empty when every row is fine).
    """
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    values, checks = _CONVERTERS[column.kind](raw, column)
    if values.type != ARROW_TYPES[column.kind]:
        values = pc.cast(values, ARROW_TYPES[column.kind])
    return values, checks


def order_checks(values: dict[str, pa.Array], contract: Contract) -> list[Check]:
    """Rows where an ordered pair (start_date <= end_date ...) is reversed."""
    checks: list[Check] = []
    for earlier, later in contract.ordered:
        if earlier not in values or later not in values:
            continue
        a, b = values[earlier], values[later]
        if a.type != b.type:
            a = pc.cast(a, pa.timestamp("s"))
            b = pc.cast(b, pa.timestamp("s"))
        bad = _bool_mask(pc.less(b, a))
        if _any(bad):
            checks.append(Check(later, bad, "io_r_order", {"other": earlier},
                                {"other_value": values[earlier]}))
    return checks


__all__ = ["ARROW_TYPES", "Check", "FALSE_WORDS", "TRUE_WORDS", "convert_column",
           "display", "order_checks", "parse_datetime_text", "to_text"]
