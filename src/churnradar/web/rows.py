"""The snapshot's customer rows in memory, and what makes any page of them cheap.

A list page is a few filters (owner, risk tier, grade, region, segment, a search), a sort
and a page number. SQL answers it with ``ORDER BY … LIMIT … OFFSET``, which sorts or scans
the whole filtered table again for every page: at 1,000,000 customers 65–500 ms for a deep
page, and the main cost of the list under load (BENCHMARKS.md, section ``web-load``). Here

- every sort order is a permutation of the row positions, computed once when the snapshot
  is built (``order/<column>.<asc|desc>.npy``: missing values last, ties by customer_id)
  and mapped read-only when it is opened (computed on first use if the file is missing);
- each filter is a boolean mask over the rows, made once per value and kept;
- the positions a (filters, sort) selection lists, in order, are kept too; every page of
  it is then a slice and a ``take`` of its rows, whatever the page number;
- one customer is found by bisecting the customer_id order (no index to build).

numpy and pyarrow do the work. No library offers "a sorted, filtered, paged view of an
in-memory table" with these costs: DuckDB and Polars re-sort per query. Equality filters
compare values as text (as the filter choices, :meth:`CustomerRows.distinct`, list them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from churnradar.web.lru import LRU

#: folder of a snapshot holding its sort orders
ORDER_DIR = "order"
#: filter masks (one byte per customer each) and inverse orders kept per snapshot
MASKS_KEPT = 256
MASKS_BUDGET = 128 * 2**20
#: bytes of selections kept per snapshot (a selection: 4 bytes per listed customer)
SELECTIONS_BUDGET = 128 * 2**20


def order_file(folder: Path, column: str, descending: bool) -> Path:
    return folder / ORDER_DIR / f"{column}.{'desc' if descending else 'asc'}.npy"


def sort_order(table: pa.Table, column: str, descending: bool) -> np.ndarray:
    """Row positions of ``table`` sorted by ``column`` (missing values — null or NaN —
    last in both directions), ties by customer_id ascending; int32."""
    keys = [(column, "descending" if descending else "ascending", "at_end")]
    if column != "customer_id":
        keys.append(("customer_id", "ascending", "at_end"))
    names = list(dict.fromkeys([column, "customer_id"]))
    order = pc.sort_indices(table.select(names), options=pc.SortOptions(sort_keys=keys))
    return np.asarray(order, dtype=np.int32)


def write_orders(table: pa.Table, folder: Path, columns: Iterable[str]) -> None:
    """The sort orders of ``columns`` (those ``table`` has), both ways, into ``folder``."""
    (folder / ORDER_DIR).mkdir(exist_ok=True)
    for column in columns:
        if column not in table.column_names:
            continue
        for descending in (False, True):
            np.save(order_file(folder, column, descending),
                    sort_order(table, column, descending))


def bisect_text(value_at: Callable[[int], str | None], n: int, target: str, *,
                right: bool = False) -> int:
    """Where ``target`` goes among ``n`` texts sorted ascending with missing ones last
    (``value_at(i)``: the i-th): the first index whose text is >= ``target`` (or
    > ``target`` with ``right``). Python compares text by code point and Arrow sorts it
    by UTF-8 bytes: the same order."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        value = value_at(mid)
        if value is not None and (value < target or (right and value == target)):
            lo = mid + 1
        else:
            hi = mid
    return lo


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
        return column if pa.types.is_string(column.type) else column.cast(pa.string())
    return column.cast(pa.string())


def _bools(array: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, nulls as False."""
    return np.asarray(pc.fill_null(array, False), dtype=bool)


class CustomerRows:
    """The customer rows of one snapshot (``table``, in risk order) and their orders.

    Thread-safe: the table and the orders are read-only; the caches lock themselves."""

    def __init__(self, table: pa.Table, folder: Path | None = None):
        self.table = table.combine_chunks()
        self.n = self.table.num_rows
        self.columns: list[str] = list(self.table.column_names)
        self.folder = folder
        self._orders: dict[tuple[str, bool], np.ndarray] = {}
        self._orders_lock = threading.Lock()
        self._masks = LRU(MASKS_KEPT, budget=MASKS_BUDGET, weigh=lambda a: a.nbytes)
        self._selections = LRU(4096, budget=SELECTIONS_BUDGET, weigh=lambda a: a.nbytes)
        self._ids = self.table.column("customer_id").chunk(0) if self.n else pa.array([])

    def has(self, column: str) -> bool:
        return column in self.columns

    # --- orders and lookups --------------------------------------------------------
    def order(self, column: str, descending: bool = False) -> np.ndarray:
        """The positions sorted by ``column`` (see :func:`sort_order`)."""
        key = (column, descending)
        found = self._orders.get(key)
        if found is not None:
            return found
        with self._orders_lock:
            found = self._orders.get(key)
            if found is None:
                path = order_file(self.folder, column, descending) if self.folder else None
                if path is not None and path.exists():
                    found = np.load(path, mmap_mode="r")
                    if len(found) != self.n:  # not this table's: do not trust it
                        found = None
                if found is None:
                    found = sort_order(self.table, column, descending)
                self._orders[key] = found
        return found

    def position(self, customer_id: str) -> int | None:
        """The row of ``customer_id`` (bisecting the customer_id order), or None."""
        by_id, ids = self.order("customer_id"), self._ids

        def id_at(i: int) -> str | None:
            return ids[int(by_id[i])].as_py()  # type: ignore[no-any-return]

        at = bisect_text(id_at, self.n, customer_id)
        return int(by_id[at]) if at < self.n and id_at(at) == customer_id else None

    def take(self, positions: np.ndarray | list[int]) -> list[dict[str, Any]]:
        """The rows at ``positions`` as plain dicts (Arrow's Python values)."""
        if len(positions) == 0:
            return []
        first, last = int(positions[0]), int(positions[-1])
        if last - first + 1 == len(positions) and (
                len(positions) == 1 or np.all(np.diff(positions) == 1)):
            # a run of rows (one customer, the default list): a zero-copy slice, where
            # a take gathers every column (~0.5 ms for one row of 40 columns)
            return self.table.slice(first, len(positions)).to_pylist()
        return self.table.take(pa.array(np.asarray(positions, dtype=np.int64))).to_pylist()

    # --- filters -------------------------------------------------------------------
    def equals(self, column: str, value: str) -> np.ndarray:
        """Mask of the rows whose ``column``, as text, is ``value``."""
        def build() -> np.ndarray:
            return _bools(pc.equal(_as_text(self.table.column(column)), value))

        return self._masks.get(("eq", column, value), build)

    def present(self, column: str) -> np.ndarray:
        """Mask of the rows where ``column`` is not missing (null or NaN)."""
        def build() -> np.ndarray:
            col = self.table.column(column)
            mask = _bools(pc.is_valid(col))
            if pa.types.is_floating(col.type):
                mask &= ~_bools(pc.is_nan(col))
            return mask

        return self._masks.get(("present", column), build)

    def contains(self, text: str, columns: Iterable[str]) -> np.ndarray:
        """Mask of the rows where any of ``columns`` contains ``text``, ignoring case
        (as typed: no wildcards)."""
        names = tuple(c for c in columns if self.has(c))

        def build() -> np.ndarray:
            mask = np.zeros(self.n, dtype=bool)
            for c in names:
                mask |= _bools(pc.match_substring(_as_text(self.table.column(c)), text,
                                                  ignore_case=True))
            return mask

        return self._masks.get(("contains", names, text), build)

    # --- selections ----------------------------------------------------------------
    def select(self, *, equals: Mapping[str, str] | None = None, search: str | None = None,
               search_columns: Iterable[str] = ("customer_id", "name"),
               present: str | None = None, sort: str | None = None,
               descending: bool = False) -> np.ndarray:
        """Positions of the rows matching every filter, in ``sort`` order (None: the
        table's own order). Equality filters on columns the table lacks match nothing."""
        eq = tuple(sorted((equals or {}).items()))
        cols = tuple(search_columns)
        key = (eq, search, cols, present, sort, descending)

        def build() -> np.ndarray:
            mask: np.ndarray | None = None

            def both(m: np.ndarray) -> None:
                nonlocal mask
                mask = m.copy() if mask is None else mask & m

            for column, value in eq:
                both(self.equals(column, value) if self.has(column)
                     else np.zeros(self.n, dtype=bool))
            if search:
                both(self.contains(search, cols))
            if present is not None and self.has(present):
                both(self.present(present))
            if sort is None:
                found = (np.arange(self.n, dtype=np.int32) if mask is None
                         else np.flatnonzero(mask).astype(np.int32))
                return found
            order = self.order(sort, descending)
            if mask is None:
                return np.asarray(order)
            hits = np.flatnonzero(mask)
            if len(hits) * 20 < self.n:  # a few: sort them by their place in the order
                place = self._places(sort, descending)
                return hits[np.argsort(place[hits], kind="stable")].astype(np.int32)
            return np.asarray(order)[mask[order]]

        return self._selections.get(key, build)

    def _places(self, column: str, descending: bool) -> np.ndarray:
        """Where each row stands in an order (the inverse permutation)."""
        def build() -> np.ndarray:
            order = self.order(column, descending)
            place = np.empty(self.n, dtype=np.int32)
            place[order] = np.arange(self.n, dtype=np.int32)
            return place

        return self._masks.get(("place", column, descending), build)  # type: ignore[no-any-return]

    def distinct(self, column: str, *, within: np.ndarray | None = None) -> list[str]:
        """The values of ``column`` as text, sorted, among the rows of ``within``
        (positions) or all; missing values left out."""
        col = self.table.column(column)
        if within is not None:
            col = col.take(pa.array(within))
        values = pc.unique(_as_text(col).drop_null())
        return sorted(v for v in values.to_pylist() if v is not None)
