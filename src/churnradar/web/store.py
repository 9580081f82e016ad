"""What the pages and the API read: a snapshot of the workspace's analyses, precomputed
once so that no request loads a whole table (HTTP-free, style.md §6).

A snapshot is a run folder ``runs/<id>-web/`` holding

- ``customers.parquet``: one row per customer — the customers table with the newest risk
  scores (probability, tier, rank, drivers, likely reason), value (CLV, value tier, value
  at risk), recommended action of the newest retention plan and the reason recorded or
  attributed for those who left — ordered by risk;
- ``history/<table>.arrow``: each per-customer table (subscriptions, transactions,
  events, complaints, surveys, retention actions, risk over time) sorted by customer_id
  and time, uncompressed Arrow IPC: memory-mapped, one customer's rows are a range found
  by bisecting the customer_id column, read without decoding anything else;
- ``sources.json``: the files it was made from (path, size, modification time) and the
  snapshot format (a new format builds a new snapshot). When any
  of them changes (a new import, a new analysis) the next :meth:`Store.current` builds a
  new snapshot; the old one stays readable until then, so a reader never sees half of one.

- ``order/<column>.<asc|desc>.npy``: the customer rows' sort orders
  (:mod:`churnradar.web.rows`), so that any page of any sorted, filtered list is a slice.

Lists and single customers are read from the customer rows held in memory as an Arrow
table (:class:`churnradar.web.rows.CustomerRows`); aggregates (counts by segment, the plan
page) run in DuckDB over that same table. Only the two newest snapshots are kept.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from churnradar.fsutil import atomic_write_text
from churnradar.web.rows import CustomerRows, bisect_text, write_orders
from churnradar.workspace import Workspace

T = TypeVar("T")
_UNSET = object()

HISTORY_TABLES: dict[str, str] = {
    "subscriptions": "start_date", "transactions": "date", "events": "time",
    "complaints": "time", "surveys": "time", "retention_actions": "date",
}
#: the layout of a snapshot folder: a snapshot of another format is never reused
SNAPSHOT_FORMAT = 2
#: snapshots kept (the current one, and the one requests may still be reading)
SNAPSHOTS_KEPT = 2
#: columns a customer list may be sorted by
SORTABLE: tuple[str, ...] = ("risk_rank", "churn_probability", "clv", "value_at_risk",
                             "customer_id", "name", "grade", "region", "owner_id")
RISK_TIERS: tuple[str, ...] = ("high", "medium", "low")
#: the customer rows as an Arrow IPC file (memory-mapped when a snapshot is opened)
ROWS_FILE = "customers.arrow"
#: lock file (in the workspace) held while a snapshot is built
SNAPSHOT_LOCK = "web-snapshot.lock"


def _latest(ws: Workspace, kind: str, filename: str) -> Path | None:
    from churnradar.predict.jobs import latest_run

    run = latest_run(ws, kind)
    path = run / filename if run is not None else None
    return path if path is not None and path.exists() else None


def _score_runs(ws: Workspace) -> list[Path]:
    if not ws.runs_dir.exists():
        return []
    return sorted(p / "scores.parquet" for p in ws.runs_dir.iterdir()
                  if p.name.endswith("-predict-score") and (p / "scores.parquet").exists())


def _metrics_file(ws: Workspace) -> Path | None:
    if not ws.runs_dir.exists():
        return None
    found = sorted(p for p in ws.runs_dir.iterdir() if (p / "metrics.json").exists())
    return found[-1] / "metrics.json" if found else None


def sources(ws: Workspace) -> dict[str, Any]:
    """The files a snapshot is made of, each with its size and modification time."""
    files: dict[str, Path | None] = {
        "customers": ws.table_path("customers") if ws.has_table("customers") else None,
        "scores": _latest(ws, "predict-score", "scores.parquet"),
        "value": _latest(ws, "value", "customers.parquet"),
        "plan": _latest(ws, "plan", "plan.parquet"),
        "attribution": _latest(ws, "reasons", "attribution.parquet"),
        "metrics": _metrics_file(ws),
    }
    for table in HISTORY_TABLES:
        files[f"history:{table}"] = ws.table_path(table) if ws.has_table(table) else None
    out: dict[str, Any] = {}
    for name, path in files.items():
        if path is not None:
            st = path.stat()
            out[name] = {"path": _rel(ws, path), "size": st.st_size,
                         "mtime_ns": st.st_mtime_ns}
    out["risk_history"] = [_rel(ws, p) for p in _score_runs(ws)]
    out["format"] = SNAPSHOT_FORMAT
    out["settings_mtime_ns"] = ws.settings_path.stat().st_mtime_ns
    return out


def _rel(ws: Workspace, path: Path) -> str:
    """``path`` relative to the workspace (a copied workspace keeps its snapshot)."""
    try:
        return path.resolve().relative_to(ws.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _q(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def build_snapshot(ws: Workspace, src: dict[str, Any] | None = None) -> Path:
    """Write a new ``runs/<id>-web/`` snapshot (see the module docstring); returns it."""
    src = src if src is not None else sources(ws)
    if "customers" not in src:
        from churnradar.exceptions import WorkspaceError

        raise WorkspaceError(key="web_err_no_customers", path=str(ws.root))
    root = ws.root.resolve()

    def p(item: dict[str, Any]) -> Path:
        return root / item["path"]

    run = ws.new_run("web")
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        cust = p(src["customers"])
        joins = [f"FROM read_parquet({_q(cust)}) c"]
        cols = ["c.*"]
        if "scores" in src:
            joins.append(f"LEFT JOIN read_parquet({_q(p(src['scores']))}) s "
                         "USING (customer_id)")
            cols.append("s.* EXCLUDE (customer_id)")
        if "value" in src:
            value = _q(p(src["value"]))
            # amount_per_month: contractual customers only (null in a dealers workspace)
            has_amount = "amount_per_month" in {r[0] for r in con.execute(
                f"DESCRIBE SELECT * FROM read_parquet({value})").fetchall()}
            amount = "amount_per_month" if has_amount else (
                "CAST(NULL AS DOUBLE) AS amount_per_month")
            joins.append(
                "LEFT JOIN (SELECT customer_id, clv, value_tier, value_at_risk, "
                f"action AS value_action, {amount} "
                f"FROM read_parquet({value})) v USING (customer_id)")
            cols.append("v.* EXCLUDE (customer_id)")
        if "plan" in src:
            joins.append(
                "LEFT JOIN (SELECT customer_id, action AS plan_action, priority AS "
                "plan_priority, expected_saved AS plan_expected_saved, selected AS "
                "plan_selected, \"group\" AS plan_group, reason_category AS plan_reason "
                f"FROM read_parquet({_q(p(src['plan']))})) pl USING (customer_id)")
            cols.append("pl.* EXCLUDE (customer_id)")
        if "attribution" in src:
            joins.append(
                "LEFT JOIN (SELECT customer_id, max(\"at\") AS churned_at, "
                "arg_max(reason_category, \"at\") AS churn_reason, arg_max(churn_type, "
                "\"at\") AS churn_type, arg_max(evidence, \"at\") AS churn_evidence "
                f"FROM read_parquet({_q(p(src['attribution']))}) GROUP BY customer_id"
                ") a USING (customer_id)")
            cols.append("a.* EXCLUDE (customer_id)")
        order = "s.risk_rank NULLS LAST, c.customer_id" if "scores" in src else "c.customer_id"
        table = con.sql(f"SELECT {', '.join(cols)} {' '.join(joins)} ORDER BY {order}"
                        ).to_arrow_table().combine_chunks()
        pq.write_table(table, run / "customers.parquet")  # to read with any tool
        write_orders(table, run, SORTABLE)
        # the same rows uncompressed (Arrow IPC), mapped by every worker of a server:
        # one copy in the page cache, not one per process
        with pa.ipc.new_file(run / ROWS_FILE, table.schema) as writer:
            writer.write_table(table, max_chunksize=max(1, table.num_rows))
        del table
        hist = run / "history"
        hist.mkdir()
        for table, time_col in HISTORY_TABLES.items():
            item = src.get(f"history:{table}")
            if item is not None:
                _write_arrow(con, f"SELECT * FROM read_parquet({_q(p(item))}) "
                             f"ORDER BY customer_id, {time_col}", hist / f"{table}.arrow")
        if src["risk_history"]:
            files = ", ".join(_q(root / f) for f in src["risk_history"])
            _write_arrow(con, "SELECT customer_id, CAST(as_of AS DATE) AS as_of, "
                         f"max(churn_probability) AS churn_probability FROM read_parquet("
                         f"[{files}]) GROUP BY ALL ORDER BY customer_id, as_of",
                         hist / "risk.arrow")
    finally:
        con.close()
    atomic_write_text(run / "sources.json", json.dumps(src, ensure_ascii=False, indent=1))
    return run


def _write_arrow(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    """The result of ``query`` as an uncompressed Arrow IPC file, a batch at a time."""
    reader = con.sql(query).to_arrow_reader(1_000_000)
    assert reader is not None  # a query returning rows always has one
    with pa.ipc.new_file(path, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)


def _prune(ws: Workspace, keep: int = SNAPSHOTS_KEPT) -> None:
    """Delete all but the ``keep`` newest snapshots. Their files may still be mapped by
    a process that has not switched yet: on POSIX that process keeps reading them (an
    unlinked file lives on while it is open); where deleting fails, the folder stays."""
    import shutil

    for old in _snapshots(ws)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def _snapshots(ws: Workspace) -> list[Path]:
    """The complete snapshot folders (``<stamp>-web`` or ``<stamp>-web-<n>``, with their
    sources.json), oldest first."""
    import re

    if not ws.runs_dir.exists():
        return []
    pattern = re.compile(r"^(\d{8}-\d{6})-web(?:-(\d+))?$")
    found = []
    for run in ws.runs_dir.iterdir():
        m = pattern.match(run.name)
        if m and (run / "sources.json").is_file():
            found.append(((m.group(1), int(m.group(2) or 0)), run))
    return [run for _key, run in sorted(found)]


def _find_snapshot(ws: Workspace, src: dict[str, Any]) -> Path | None:
    for run in reversed(_snapshots(ws)):
        try:
            if json.loads((run / "sources.json").read_text(encoding="utf-8")) == src:
                return run
        except (OSError, ValueError):
            continue
    return None


def ensure_snapshot(ws: Workspace, src: dict[str, Any] | None = None) -> Path:
    """The snapshot of the workspace as it is now (``src``): found, or built."""
    src = src if src is not None else sources(ws)
    folder = _find_snapshot(ws, src)
    if folder is None:
        from filelock import FileLock

        # the workers of one server (and other servers on this workspace) notice a
        # change at the same time: one builds, the others wait and open its result
        with FileLock(ws.root / SNAPSHOT_LOCK):
            folder = _find_snapshot(ws, src)
            if folder is None:
                folder = build_snapshot(ws, src)
                _prune(ws)
    return folder


@dataclass
class Page(Generic[T]):
    """One page of a list (customers, tasks): its rows and where it stands."""

    rows: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


#: a page of customer rows
CustomerPage = Page[dict[str, Any]]


class _History:
    """One history file, mapped: its rows sorted by customer_id (then time), so one
    customer's rows are the range found by bisecting that column — a zero-copy slice,
    about 0.05 ms, where decoding the Parquet row group that holds them took ~0.8 ms."""

    def __init__(self, path: Path):
        self.table = pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
        self.ids = self.table.column("customer_id")

    def rows(self, customer_id: str) -> pa.Table:
        ids, n = self.ids, self.table.num_rows

        def id_at(i: int) -> str | None:
            return ids[i].as_py()  # type: ignore[no-any-return]

        first = bisect_text(id_at, n, customer_id)
        last = bisect_text(id_at, n, customer_id, right=True) if first < n else first
        return self.table.slice(first, last - first)


@dataclass
class Snapshot:
    """An open snapshot: the customer rows in memory, the history files, the metrics."""

    folder: Path
    rows: CustomerRows
    metrics: dict[str, Any] | None
    history_files: dict[str, Path] = field(default_factory=dict)
    #: answers that cannot change within a snapshot (filter choices, segment counts)
    _memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)
    #: DuckDB for the aggregates: a connection of its own per query (a cursor)
    con: duckdb.DuckDBPyConnection = field(default_factory=duckdb.connect, repr=False)

    @classmethod
    def open(cls, folder: Path) -> Snapshot:
        # zero-copy: the table's buffers are the mapped file
        table = pa.ipc.open_file(pa.memory_map(str(folder / ROWS_FILE), "r")).read_all()
        rows = CustomerRows(table, folder)
        src = json.loads((folder / "sources.json").read_text(encoding="utf-8"))
        metrics = None
        metrics_file = folder.parent.parent / src["metrics"]["path"] if "metrics" in src else None
        if metrics_file is not None and metrics_file.exists():
            metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
        history = {p.stem: p for p in sorted((folder / "history").glob("*.arrow"))}
        return cls(folder=folder, rows=rows, metrics=metrics, history_files=history)

    def warm(self) -> Snapshot:
        """Read now what the first requests would otherwise wait for: the history files'
        mappings and the sort orders (an opened snapshot is warmed before it serves)."""
        for table in self.history_files:
            self._history_index(table)
        for column in SORTABLE:
            if self.has(column):
                self.rows.order(column, False)
                self.rows.order(column, True)
        return self

    @property
    def columns(self) -> list[str]:
        return self.rows.columns

    def has(self, column: str) -> bool:
        return self.rows.has(column)

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB cursor where ``customers`` is the customer rows (the Arrow table
        itself, not a copy)."""
        cur = self.con.cursor()
        try:
            cur.register("customers", self.rows.table)
            yield cur
        finally:
            cur.close()

    # --- queries -------------------------------------------------------------------
    def _select(self, *, owner_id: str | None, risk_tier: str | None = None,
                q: str | None = None, filters: dict[str, str] | None = None,
                active_only: bool = True, sort: str | None = None,
                descending: bool = False) -> Any:
        """Positions of the matching rows in order (see :meth:`CustomerRows.select`)."""
        equals = {c: v for c, v in (filters or {}).items() if v and self.has(c)}
        if owner_id is not None:
            equals["owner_id"] = owner_id
        if risk_tier and self.has("risk_tier"):
            equals["risk_tier"] = risk_tier
        active = "churn_probability" if active_only and self.has("churn_probability") else None
        if sort == "risk_rank" and not descending:
            sort = None  # the rows are stored in this order (missing ranks last, then id)
        return self.rows.select(equals=equals, search=q or None, present=active,
                                sort=sort, descending=descending)

    def customers(self, *, owner_id: str | None, risk_tier: str | None = None,
                  q: str | None = None, filters: dict[str, str] | None = None,
                  sort: str = "risk_rank", descending: bool = False, page: int = 1,
                  per_page: int = 50, active_only: bool = True) -> CustomerPage:
        """A page of customers (``owner_id`` set: only theirs), filtered and sorted
        (missing values last, then by customer_id).

        ``active_only`` keeps the customers that were scored (those still active)
        when the snapshot has scores."""
        sort = sort if sort in SORTABLE and self.has(sort) else (
            "risk_rank" if self.has("risk_rank") else "customer_id")
        page = max(1, int(page))
        per_page = min(max(1, int(per_page)), 500)
        offset = (page - 1) * per_page
        found = self._select(owner_id=owner_id, risk_tier=risk_tier, q=q, filters=filters,
                             active_only=active_only, sort=sort, descending=descending)
        rows = _plain_rows(self.rows.take(found[offset:offset + per_page]))
        return CustomerPage(rows=rows, total=len(found), page=page, per_page=per_page)

    def iter_customers(self, *, owner_id: str | None, risk_tier: str | None = None,
                       q: str | None = None, filters: dict[str, str] | None = None,
                       limit: int = 1_048_575, batch: int = 10_000
                       ) -> Iterator[dict[str, Any]]:
        """Every matching active customer in risk order, up to ``limit`` (an Excel
        sheet's rows), ``batch`` rows at a time (memory stays flat for an export)."""
        found = self._select(owner_id=owner_id, risk_tier=risk_tier, q=q, filters=filters,
                             sort="risk_rank" if self.has("risk_rank") else "customer_id")
        found = found[:max(0, int(limit))]
        for start in range(0, len(found), batch):
            yield from _plain_rows(self.rows.take(found[start:start + batch]))

    def customer(self, customer_id: str, *, owner_id: str | None) -> dict[str, Any] | None:
        """One customer's row, or None when it does not exist *or* is outside the
        caller's customers (``owner_id``): the two are indistinguishable on purpose."""
        pos = self.rows.position(customer_id)
        if pos is None:
            return None
        row = _plain_rows(self.rows.take([pos]))[0]
        if owner_id is not None and (row.get("owner_id") is None
                                     or str(row["owner_id"]) != owner_id):
            return None
        return row

    def _history_index(self, table: str) -> _History | None:
        path = self.history_files.get(table)
        if path is None:
            return None
        index = self._memo.get(("history", table))
        if index is None:
            index = self._memo[("history", table)] = _History(path)
        return index  # type: ignore[no-any-return]

    def _history_rows(self, table: str, customer_id: str) -> pa.Table | None:
        index = self._history_index(table)
        return None if index is None else index.rows(customer_id)

    def history(self, table: str, customer_id: str, *, limit: int = 500,
                newest_first: bool = False) -> list[dict[str, Any]]:
        """One customer's rows of a history table (oldest first, or the newest first
        with ``newest_first``; at most ``limit``). Callers check the customer is
        visible first (:meth:`customer`)."""
        rows = self._history_rows(table, customer_id)
        if rows is None or rows.num_rows == 0:
            return []
        limit = max(0, int(limit))
        if newest_first:  # the file is sorted by customer, then time
            picked = rows.slice(max(0, rows.num_rows - limit)).to_pylist()[::-1]
        else:
            picked = rows.slice(0, limit).to_pylist()
        return _plain_rows(picked)

    def history_by_month(self, table: str, customer_id: str, *, by: str,
                         value: str | None = None) -> list[dict[str, Any]]:
        """One customer's rows of a history table per month and value of ``by``:
        ``month`` (first day), ``key``, ``rows`` and ``total`` (the sum of ``value``,
        else None) — e.g. the events per type and month, however many there are."""
        time_col = HISTORY_TABLES.get(table, "as_of")
        rows = self._history_rows(table, customer_id)
        if rows is None or by not in rows.column_names or time_col not in rows.column_names:
            return []
        total = (f'sum("{value}")' if value is not None and value in rows.column_names
                 else "NULL")
        cur = self.con.cursor()
        try:
            cur.register("one_customer", rows)
            return _fetch(cur.execute(
                f'SELECT CAST(date_trunc(\'month\', "{time_col}") AS DATE) AS month, '
                f'CAST("{by}" AS VARCHAR) AS key, count(*) AS rows, {total} AS total '
                "FROM one_customer GROUP BY 1, 2 ORDER BY 1, 2"))
        finally:
            cur.close()

    def count_by(self, column: str, *, owner_id: str | None) -> list[dict[str, Any]]:
        """Active customers, risk and value at risk per value of ``column`` (computed
        once per snapshot, column and owner)."""
        if not self.has(column):
            return []
        key = ("count_by", column, owner_id)
        rows = self._memo.get(key)
        if rows is None:
            rows = self._memo[key] = self._count_by(column, owner_id=owner_id)
        return rows  # type: ignore[no-any-return]

    def distinct(self, column: str, *, owner_id: str | None, limit: int = 200
                 ) -> list[str] | None:
        """The values of ``column`` as text among the caller's customers, sorted (the
        choices of a filter), or None when there are more than ``limit`` (type it)."""
        if not self.has(column):
            return []
        key = ("distinct", column, owner_id, limit)
        found = self._memo.get(key, _UNSET)
        if found is not _UNSET:
            return found  # type: ignore[no-any-return]
        within = (None if owner_id is None
                  else self._select(owner_id=owner_id, active_only=False))
        values = self.rows.distinct(column, within=within)
        result = None if len(values) > limit else values
        self._memo[key] = result
        return result

    def _count_by(self, column: str, *, owner_id: str | None) -> list[dict[str, Any]]:
        where, params = "", []
        if owner_id is not None:
            where, params = " WHERE CAST(owner_id AS VARCHAR) = ?", [owner_id]
        risk = "avg(churn_probability)" if self.has("churn_probability") else "NULL"
        var = "sum(value_at_risk)" if self.has("value_at_risk") else "NULL"
        active = ("count(churn_probability)" if self.has("churn_probability")
                  else "count(*)")
        with self.cursor() as cur:
            return _fetch(cur.execute(
                f'SELECT "{column}" AS key, count(*) AS customers, {active} AS active, '
                f"{risk} AS mean_risk, {var} AS value_at_risk FROM customers{where} "
                "GROUP BY 1 ORDER BY 1 NULLS LAST", params))

    def close(self) -> None:
        self.con.close()


def plain(value: Any) -> Any:
    """JSON-ready: numpy scalars as Python ones, dates as ISO text (a midnight timestamp
    as a date), NaN and infinities as None."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dt.datetime):
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _plain_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: plain(v) for k, v in r.items()} for r in rows]


def _fetch(cur: duckdb.DuckDBPyConnection, size: int | None = None) -> list[dict[str, Any]]:
    """The rows of an executed query as plain dicts (all of them, or the next ``size``);
    DuckDB's Python values directly — a DataFrame per request costs more than the query."""
    names = [d[0] for d in cur.description or ()]
    rows = cur.fetchall() if size is None else cur.fetchmany(size)
    return [dict(zip(names, map(plain, row), strict=True)) for row in rows]


class Store:
    """The current snapshot of one workspace, shared by every request of a server.

    The sources are checked at most every ``check_seconds``. When they changed, a new
    snapshot is built in a background thread while requests go on reading the previous
    one (a build takes seconds to minutes on a large workspace); only the very first
    snapshot is waited for. :meth:`refresh` (after an import made by this server)
    builds at once and waits.
    """

    def __init__(self, ws: Workspace, *, check_seconds: float = 2.0):
        self.ws = ws
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._snap: Snapshot | None = None
        self._src: dict[str, Any] | None = None
        self._checked = 0.0
        self._building: threading.Thread | None = None
        #: the error of the last background build, if it failed (shown by the pages)
        self.build_error: Exception | None = None

    def _open(self, src: dict[str, Any]) -> Snapshot:
        return Snapshot.open(ensure_snapshot(self.ws, src)).warm()

    def _swap(self, snap: Snapshot, src: dict[str, Any]) -> None:
        # not closed here: requests still reading the old snapshot hold it, and its
        # in-memory database goes when the last of them lets go
        self._snap, self._src = snap, src

    def _build_in_background(self, src: dict[str, Any]) -> None:
        def work() -> None:
            try:
                snap = self._open(src)
            except Exception as exc:  # noqa: BLE001 - kept and shown, the old one serves
                self.build_error = exc
                return
            with self._lock:
                self.build_error = None
                self._swap(snap, src)

        self._building = threading.Thread(target=work, name="churnradar-snapshot",
                                          daemon=True)
        self._building.start()

    @property
    def building(self) -> bool:
        return self._building is not None and self._building.is_alive()

    def current(self) -> Snapshot:
        import time

        snap = self._snap
        if snap is not None and time.monotonic() - self._checked < self.check_seconds:
            return snap
        with self._lock:
            if (self._snap is not None
                    and time.monotonic() - self._checked < self.check_seconds):
                return self._snap
            src = sources(self.ws)
            if self._snap is None:
                self._swap(self._open(src), src)
            elif src != self._src and not self.building:
                self._build_in_background(src)
            self._checked = time.monotonic()
            return self._snap  # type: ignore[return-value]

    def refresh(self) -> Snapshot:
        """Check the sources now and, if they changed, build and wait."""
        if self._building is not None:
            self._building.join()
        with self._lock:
            src = sources(self.ws)
            if self._snap is None or src != self._src:
                self._swap(self._open(src), src)
            self._checked = __import__("time").monotonic()
            return self._snap  # type: ignore[return-value]

    def close(self) -> None:
        if self._building is not None:
            self._building.join()
        if self._snap is not None:
            self._snap.close()
            self._snap = None
