"""Build Arrow columns from numpy arrays without touching Python objects per row.

The demo generator must write ten million transactions in seconds, so every column is
made from a numpy array: ids from numbers (straight into an Arrow string buffer), text
from small pools taken by code, dates and timestamps from day and second counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

#: Largest number of characters one Arrow ``string`` array may hold (32-bit offsets).
_MAX_STRING_BYTES = 2**31 - 1


def id_array(prefix: str, numbers: np.ndarray, width: int) -> pa.StringArray:
    """Zero-padded ids such as ``D000042`` for an array of numbers.

    Parameters
    ----------
    prefix : str
        ASCII letters put before the digits.
    numbers : numpy.ndarray
        Non-negative integers, each with at most ``width`` digits.
    width : int
        Number of digits (zero padded).

    Returns
    -------
    pyarrow.StringArray
        One id per number, built directly in an Arrow buffer.
    """
    nums = np.asarray(numbers, dtype=np.int64)
    head = prefix.encode("ascii")
    size = len(head) + width
    count = len(nums)
    if count * size > _MAX_STRING_BYTES:  # pragma: no cover - far beyond 1M customers
        raise ValueError(f"{count} ids of {size} characters do not fit one Arrow array")
    data = np.empty((count, size), dtype=np.uint8)
    if head:
        data[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    rest = nums.copy()
    for j in range(size - 1, len(head) - 1, -1):
        data[:, j] = rest % 10 + 48
        rest //= 10
    offsets = np.arange(0, (count + 1) * size, size, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(data))


def digits_for(count: int, minimum: int) -> int:
    """Digits needed to number ``count`` items from 1, at least ``minimum``."""
    return max(minimum, len(str(max(count, 1))))


def pick(pool: Sequence[str], codes: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Strings ``pool[codes]`` as an Arrow ``string`` array (null where ``null``)."""
    values = pa.array(list(pool), type=pa.string())
    idx = pa.array(np.asarray(codes, dtype=np.int64), mask=null)
    return values.take(idx)


def pick_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Ids ``prefix`` + ``numbers + 1`` for a small set of numbers (null where negative).

    Used for foreign keys such as ``owner_id`` that take few distinct values.
    """
    nums = np.asarray(numbers, dtype=np.int64)
    pool = id_array(prefix, np.arange(1, max(int(nums.max(initial=0)), 0) + 2), width)
    missing = nums < 0
    return pool.take(pa.array(np.maximum(nums, 0), mask=missing if missing.any() else None))


def dates(days: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """``date32`` from days since 1970-01-01."""
    values = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    return pa.array(values, type=pa.date32(), mask=null)


def timestamps(seconds: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """``timestamp[s]`` from seconds since 1970-01-01 00:00:00."""
    values = np.asarray(seconds, dtype=np.int64).astype("datetime64[s]")
    return pa.array(values, type=pa.timestamp("s"), mask=null)


def floats(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """``float64`` column."""
    return pa.array(np.asarray(values, dtype=np.float64), type=pa.float64(), mask=null)


def bools(values: np.ndarray) -> pa.Array:
    """``bool`` column."""
    return pa.array(np.asarray(values, dtype=bool), type=pa.bool_())


def null_strings(count: int) -> pa.Array:
    """An all-null ``string`` column."""
    return pa.nulls(count, type=pa.string())
