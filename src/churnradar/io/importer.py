"""Import a user file into a workspace table: map, validate, write atomically.

The file is streamed batch by batch: each batch is parsed and checked with Arrow compute
kernels, and its good rows go straight into a Parquet writer on a temp file beside the
table (``data/.tmp-<table>.parquet.*``). Only when the whole file has been read, every key
checked for duplicates and (in strict mode) no row found bad is the temp file renamed over
the table. Any failure — a bad row, a crash, ``kill -9`` — leaves the old table as it was;
the next import sweeps the leftover temp file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from churnradar.exceptions import ImportFailed
from churnradar.fsutil import TMP_PREFIX, atomic_path, atomic_write_text
from churnradar.i18n import check_language, t
from churnradar.io.keys import Duplicates, KeyIndex
from churnradar.io.mapping import ColumnPlan, resolve_mapping
from churnradar.io.readers import Source, SourceBatch, open_source
from churnradar.io.report import ImportRejected, Reject, rejects_csv, write_rejects
from churnradar.io.validate import ARROW_TYPES, Check, convert_column, display, order_checks
from churnradar.schema import CONTRACTS, Contract
from churnradar.workspace import Workspace

log = logging.getLogger(__name__)

#: problems listed in the reject report (every bad row is still counted)
REJECT_CAP = 10_000
REJECTS_FILE = "rejects.csv"
SUMMARY_FILE = "import.json"
_VALUE_MAX = 200

Progress = Callable[[int, int | None], None]


@dataclass
class ImportResult:
    """What an import did.

    Attributes
    ----------
    table : str
        The workspace table written.
    source : Path
        The imported file.
    format : str
        ``csv``, ``xlsx`` or ``parquet``.
    encoding : str or None
        The CSV encoding used (detected or given); ``None`` for Excel/Parquet.
    mapping : dict of str to str
        Source header -> contract column, for every header that became a contract column.
    rows_read : int
        Data rows in the file.
    rows_imported : int
        Rows written from this file.
    rows_rejected : int
        Bad rows left out (only with ``strict=False``).
    total_rows_in_table : int
        Rows in the table after the import (includes old rows with ``append``).
    rejects_path : Path or None
        The reject report, when rows were rejected.
    run_dir : Path or None
        The run folder holding ``import.json`` (and ``rejects.csv``).
    warnings : list of str
        Things the user should know (competing headers, sheet chosen, ...).
    sheet : str or None
        The Excel sheet read.
    extra_columns : list of str
        Columns kept as attributes (not part of the contract).
    """

    table: str
    source: Path
    format: str
    encoding: str | None
    mapping: dict[str, str]
    rows_read: int
    rows_imported: int
    rows_rejected: int
    total_rows_in_table: int
    rejects_path: Path | None
    run_dir: Path | None
    warnings: list[str] = field(default_factory=list)
    sheet: str | None = None
    extra_columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("source", "rejects_path", "run_dir"):
            d[k] = None if d[k] is None else str(d[k])
        return d


@dataclass
class _Issue:
    record: int | None       # source record id (None: malformed row, located by index)
    malformed: int | None    # index into Source.malformed
    column: str
    value: str
    key: str
    params: dict[str, Any]
    first_record: int | None = None  # duplicates: record of the first occurrence


@dataclass
class _Scan:
    rows_read: int = 0
    rows_good: int = 0
    bad_rows: int = 0
    issues: list[_Issue] = field(default_factory=list)
    issues_dropped: int = 0
    existing_rows: int = 0

    def add_issue(self, issue: _Issue) -> None:
        if len(self.issues) < REJECT_CAP:
            self.issues.append(issue)
        else:
            self.issues_dropped += 1


class _Refused(Exception):
    """Internal: stop inside the atomic write so the temp file is removed."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


# --- schema --------------------------------------------------------------------------------
def _source_type(source: Source, plan: ColumnPlan) -> pa.DataType:
    if plan.column is not None:
        return ARROW_TYPES[plan.column.kind]
    return source.column_type(plan.index)


def _output_schema(source: Source, plans: list[ColumnPlan], contract: Contract,
                   existing: pa.Schema | None, lang: str) -> pa.Schema:
    order = {c.name: i for i, c in enumerate(contract.columns)}
    contract_plans = sorted((p for p in plans if p.column is not None),
                            key=lambda p: order[p.name])
    extra_plans = [p for p in plans if p.column is None]
    new_fields = [pa.field(p.name, _source_type(source, p)) for p in contract_plans + extra_plans]
    if existing is None:
        return pa.schema(new_fields)
    fields = [pa.field(f.name, f.type) for f in existing]
    have = {f.name: f for f in existing}
    for f in new_fields:
        old = have.get(f.name)
        if old is None:
            fields.append(f)
        elif old.type != f.type and not _castable(f.type, old.type):
            raise ImportFailed(t("io_append_type", lang, file=source.name, column=f.name,
                                 old=str(old.type), new=str(f.type)))
    return pa.schema(fields)


def _castable(src: pa.DataType, dst: pa.DataType) -> bool:
    try:
        pc.cast(pa.array([], src), dst)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _conform(columns: Mapping[str, pa.Array], n: int, schema: pa.Schema,
             file: str, lang: str) -> pa.RecordBatch:
    arrays = []
    for f in schema:
        arr = columns.get(f.name)
        if arr is None:
            arr = pa.nulls(n, f.type)
        elif arr.type != f.type:
            try:
                arr = pc.cast(arr, f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ImportFailed(t("io_append_type", lang, file=file, column=f.name,
                                     old=str(f.type), new=str(arr.type))) from exc
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _key_columns(contract: Contract, names: Iterable[str]) -> tuple[list[str], bool]:
    """(key columns to check, nulls are values) — Contract.key, else optional_key."""
    present = set(names)
    if contract.key:
        return [k for k in contract.key if k in present], True
    if contract.optional_key and all(k in present for k in contract.optional_key):
        return list(contract.optional_key), False
    return [], False


# --- the scan ------------------------------------------------------------------------------
def _process_batch(source: Source, plans: list[ColumnPlan], contract: Contract,
                   columns: list[pa.Array], records: pa.Array, scan: _Scan
                   ) -> tuple[dict[str, pa.Array], pa.Array | None, int]:
    """Convert and check one batch: (output columns, good-row mask or None, bad rows)."""
    out: dict[str, pa.Array] = {}
    raw_of: dict[str, pa.Array] = {}
    checks: list[Check] = []
    for p in plans:
        raw = columns[p.index]
        if isinstance(raw, pa.ChunkedArray):
            raw = raw.combine_chunks()
        if p.column is None:
            out[p.name] = raw
            continue
        values, col_checks = convert_column(raw, p.column)
        out[p.name] = values
        raw_of[p.name] = raw
        checks += col_checks
    checks += order_checks(out, contract)
    if not checks:
        return out, None, 0
    bad = checks[0].mask
    for c in checks[1:]:
        bad = pc.or_(bad, c.mask)
    n_bad = int(pc.sum(bad).as_py() or 0)
    order = {c.name: i for i, c in enumerate(contract.columns)}
    found: list[tuple[int, int, _Issue]] = []
    room = max(0, REJECT_CAP - len(scan.issues))
    for c in checks:
        idx = pc.indices_nonzero(c.mask).to_numpy()
        take = idx[:room]
        scan.issues_dropped += len(idx) - len(take)
        for i in take.tolist():
            params = dict(c.params)
            for k, arr in c.per_row.items():
                params[k] = display(arr[i].as_py())
            value = display(raw_of[c.column][i].as_py())[:_VALUE_MAX]
            found.append((i, order.get(c.column, 0),
                          _Issue(int(records[i].as_py()), None, c.column, value, c.key, params)))
    # keep the earliest rows when the cap is hit
    found.sort(key=lambda x: (x[0], x[1]))
    scan.issues.extend(issue for _, _, issue in found[:room])
    scan.issues_dropped += max(0, len(found) - room)
    return out, pc.invert(bad), n_bad


def _drop_rows(path: Path, positions: np.ndarray, schema: pa.Schema,
               file_meta: dict[bytes, bytes]) -> None:
    """Rewrite the temp Parquet file at ``path`` without the rows at ``positions``."""
    scratch = path.with_name(path.name + ".dedup")
    try:
        src = pq.ParquetFile(path)
        writer = pq.ParquetWriter(scratch, schema, compression="zstd")
        try:
            start = 0
            for batch in src.iter_batches(batch_size=262_144):
                n = batch.num_rows
                lo, hi = np.searchsorted(positions, [start, start + n])
                if hi > lo:
                    keep = np.ones(n, dtype=bool)
                    keep[positions[lo:hi] - start] = False
                    batch = batch.filter(pa.array(keep))
                writer.write_batch(batch)
                start += n
            writer.add_key_value_metadata(file_meta)
        finally:
            writer.close()
            src.close()
        os.replace(scratch, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            scratch.unlink()


def _sweep_own_temp_files(ws: Workspace, table: str) -> None:
    for p in ws.data_dir.glob(f"{TMP_PREFIX}{table}.parquet.*"):
        with contextlib.suppress(OSError):
            p.unlink()
            log.info("removed %s left by an interrupted import", p)


# --- public API ----------------------------------------------------------------------------
def import_table(
    ws: Workspace,
    table: str,
    source: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    strict: bool = True,
    append: bool = False,
    reject_file: str | Path | None = None,
    progress: Progress | None = None,
    lang: str | None = None,
) -> ImportResult:
    """Import a CSV, Excel or Parquet file into a workspace table.

    The file's headers are mapped to the table's contract columns (explicit ``mapping``,
    then the workspace settings, then the built-in map of common Chinese headers, then
    same-named headers); every value is parsed and checked; duplicate keys are found.
    The table is then replaced (or appended to) atomically.

    Parameters
    ----------
    ws : Workspace
        The open workspace.
    table : str
        One of :data:`churnradar.schema.TABLES`.
    source : str or Path
        The file. CSV may be UTF-8, UTF-8 with BOM or GBK/GB18030 (detected).
    mapping : mapping of str to str, optional
        ``{source header: contract column}``, e.g. ``{"客户号": "customer_id"}``.
    sheet : str, optional
        Excel sheet (default: the first).
    encoding : str, optional
        CSV encoding, instead of detecting it.
    strict : bool, default True
        Refuse the whole file if any row is bad (the workspace is left byte-for-byte as it
        was). ``False`` imports the good rows and reports the rest (``--skip-bad-rows``).
    append : bool, default False
        Add the rows to the existing table instead of replacing it; keys already in the
        table count as duplicates.
    reject_file : str or Path, optional
        Where to write the reject report. By default a refused import writes it to a temp
        file outside the workspace, and a ``strict=False`` import to the run folder.
    progress : callable, optional
        ``progress(done, total)`` after each batch: bytes for CSV, rows for Excel and
        Parquet; ``total`` may be ``None`` when unknown.
    lang : str, optional
        Language of messages; default the workspace's.

    Returns
    -------
    ImportResult

    Raises
    ------
    SchemaError
        Headers do not fit the contract (missing required column, bad mapping, duplicate
        header).
    ImportRejected
        Bad rows (strict mode), or no good row at all; a subclass of
        :class:`~churnradar.exceptions.ImportFailed` naming the first bad row, the number
        of bad rows and the reject report.
    ImportFailed
        The file is missing, empty, undecodable or corrupt, or could not be written.
    WorkspaceError
        ``table`` is not a table churnradar knows.

    Examples
    --------
    >>> ws = Workspace.open("shop")                                # doctest: +SKIP
    >>> r = import_table(ws, "customers", "客户.csv")              # doctest: +SKIP
    >>> r.rows_imported, r.encoding, r.mapping["客户编号"]          # doctest: +SKIP
    (5000, 'gb18030', 'customer_id')
    """
    started = time.monotonic()
    lang = check_language(lang or ws.settings.language)
    target = ws.table_path(table)  # WorkspaceError for an unknown table
    contract = CONTRACTS[table]
    src = open_source(source, sheet=sheet, encoding=encoding, lang=lang)
    with contextlib.closing(src):
        plans, warnings = resolve_mapping(
            src.headers, contract, file=src.name, mapping=mapping,
            settings_mapping=ws.settings.columns.get(table), lang=lang)
        warnings = src.warnings + warnings

        existing: pq.ParquetFile | None = None
        existing_schema: pa.Schema | None = None
        if append and target.is_file():
            try:
                existing = pq.ParquetFile(target)
                existing_schema = existing.schema_arrow.remove_metadata()
            except (pa.ArrowException, OSError) as exc:
                raise ImportFailed(t("io_existing_unreadable", lang, table=table,
                                     error=str(exc))) from exc
        schema = _output_schema(src, plans, contract, existing_schema, lang)
        key_cols, nulls_are_values = _key_columns(
            contract, [p.name for p in plans if p.column is not None])

        applied = {p.header: p.name for p in plans if p.column is not None}
        extras = [p.name for p in plans if p.column is None]
        imported_at = dt.datetime.now().isoformat(timespec="seconds")
        meta = {"source": src.name, "format": src.format, "encoding": src.encoding,
                "sheet": src.sheet, "mapping": applied, "mode": "append" if append else "replace",
                "imported_at": imported_at}
        schema = schema.with_metadata(
            {b"churnradar": json.dumps(meta, ensure_ascii=False).encode()})

        scan = _Scan()
        rejects: list[Reject] = []
        refused: str | None = None
        keys = KeyIndex(key_cols, nulls_are_values=nulls_are_values) if key_cols else None
        _sweep_own_temp_files(ws, table)
        if progress is not None:
            progress(0, src.total)
        try:
            with atomic_path(target) as tmp:
                writer = _BackgroundWriter(tmp, schema)
                try:
                    if existing is not None:
                        _copy_existing(existing, target.name, writer, keys, key_cols, schema,
                                       scan, lang)
                        existing.close()
                    for sb in src.batches():
                        _import_batch(src, plans, contract, schema, sb, writer, keys, scan, lang)
                        if progress is not None:
                            progress(sb.done, src.total)
                    _add_malformed(src, scan)
                    if scan.rows_read == 0:
                        raise _Refused("io_no_rows")
                    dups = keys.duplicates() if keys is not None else None
                    if dups is not None:
                        scan.bad_rows += len(dups)
                        scan.rows_good -= len(dups)
                    counts = {"rows_read": scan.rows_read, "rows_imported": scan.rows_good,
                              "rows_rejected": scan.bad_rows,
                              "rows": scan.existing_rows + scan.rows_good}
                    file_meta = {b"churnradar": json.dumps({**meta, **counts},
                                                           ensure_ascii=False).encode()}
                    writer.close(file_meta)
                    if dups is not None:
                        _add_duplicate_issues(scan, dups, key_cols, table, tmp)
                    if strict and scan.bad_rows:
                        raise _Refused("io_rejected")
                    if scan.rows_good == 0:
                        raise _Refused("io_all_rejected")
                    rejects = _finalize(src, scan, lang)
                    if dups is not None:
                        _drop_rows(tmp, dups.pos, schema, file_meta)
                finally:
                    writer.abort()
                    if keys is not None:
                        keys.close()
        except _Refused as stop:
            refused = stop.key
        except OSError as exc:
            raise ImportFailed(t("io_write_failed", lang, file=src.name, target=str(target),
                                 error=str(exc))) from exc

        if refused == "io_no_rows":
            raise ImportFailed(t("io_no_rows", lang, file=src.name))
        if refused is not None:
            rejects = _finalize(src, scan, lang)
            path = _write_refused_report(rejects, reject_file, table)
            first = rejects[0] if rejects else Reject(src.name, None, "", "", "")
            message = t(refused, lang, first=_describe(first, lang), bad=scan.bad_rows,
                        total=scan.rows_read, report=str(path), file=src.name)
            raise ImportRejected(message, first=first, rows_rejected=scan.bad_rows,
                                 rows_read=scan.rows_read, rejects_path=path)

        if progress is not None:
            progress(src.total or scan.rows_read, src.total)
        if scan.issues_dropped:
            warnings.append(t("io_warn_capped", lang, shown=len(rejects),
                              total=len(rejects) + scan.issues_dropped))
        run_dir = ws.new_run(f"import-{table}")
        rejects_path: Path | None = None
        if rejects:
            rejects_path = write_rejects(run_dir / REJECTS_FILE, rejects)
            if reject_file is not None:
                write_rejects(reject_file, rejects)
        result = ImportResult(
            table=table, source=Path(source), format=src.format, encoding=src.encoding,
            mapping=applied, rows_read=scan.rows_read, rows_imported=scan.rows_good,
            rows_rejected=scan.bad_rows, total_rows_in_table=scan.existing_rows + scan.rows_good,
            rejects_path=rejects_path, run_dir=run_dir, warnings=warnings, sheet=src.sheet,
            extra_columns=extras,
        )
        summary = {**result.to_dict(), "mode": meta["mode"], "strict": strict,
                   "imported_at": imported_at,
                   "seconds": round(time.monotonic() - started, 3)}
        atomic_write_text(run_dir / SUMMARY_FILE, json.dumps(summary, ensure_ascii=False, indent=2))
        log.info("imported %s rows of %s into %s", scan.rows_good, src.name, table)
        return result


def _copy_existing(existing: pq.ParquetFile, name: str, writer: _BackgroundWriter,
                   keys: KeyIndex | None, key_cols: list[str], schema: pa.Schema,
                   scan: _Scan, lang: str) -> None:
    """Append mode: the old rows go first into the new file (and into the key index)."""
    for batch in existing.iter_batches(batch_size=262_144):
        n = batch.num_rows
        cols = dict(zip(batch.schema.names, batch.columns, strict=True))
        out = _conform(cols, n, schema, name, lang)
        writer.write(out)
        if keys is not None:
            have = {k: out.column(schema.get_field_index(k)) for k in key_cols if k in cols}
            keys.add(have, None, n)
        scan.existing_rows += n


def _import_batch(src: Source, plans: list[ColumnPlan], contract: Contract,
                  schema: pa.Schema, sb: SourceBatch, writer: _BackgroundWriter,
                  keys: KeyIndex | None, scan: _Scan, lang: str) -> None:
    n = len(sb.records)
    scan.rows_read += n
    values, good, n_bad = _process_batch(src, plans, contract, sb.columns, sb.records, scan)
    records = sb.records
    if good is not None:
        scan.bad_rows += n_bad
        values = {k: pc.filter(v, good) for k, v in values.items()}
        records = pc.filter(records, good)
        n -= n_bad
    if not n:
        return
    batch = _conform(values, n, schema, src.name, lang)
    if keys is not None:
        # digests of the values as stored, so old and new rows compare alike
        keys.add({k: batch.column(schema.get_field_index(k)) for k in keys.key_columns},
                 records.to_numpy(), n)
    writer.write(batch)
    scan.rows_good += n


def _add_malformed(src: Source, scan: _Scan) -> None:
    """Rows with the wrong number of fields, found by the reader."""
    count = src.malformed_count
    if not count:
        return
    scan.rows_read += count
    scan.bad_rows += count
    for i, m in enumerate(src.malformed):
        scan.add_issue(_Issue(m.record, i, "", m.text, "io_r_fields",
                              {"fields": m.fields, "expected": len(src.headers)}))
    scan.issues_dropped += count - len(src.malformed)


class _BackgroundWriter:
    """A Parquet writer fed from a queue, so writing overlaps reading and checking.

    At most two batches wait, which bounds memory; errors surface on the next call.
    """

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(path, schema,
                                                                 compression="zstd")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="churnradar-io")
        self._pending: deque[Future[None]] = deque()

    def write(self, batch: pa.RecordBatch) -> None:
        assert self._writer is not None
        while len(self._pending) >= 2:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._writer.write_batch, batch))

    def _drain(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def close(self, file_metadata: dict[bytes, bytes] | None = None) -> None:
        """Finish the file (with file-level metadata)."""
        self._drain()
        if self._writer is not None:
            if file_metadata:
                self._writer.add_key_value_metadata(file_metadata)
            self._writer.close()
            self._writer = None
        self._pool.shutdown()

    def abort(self) -> None:
        """Stop without raising (the temp file is removed by the caller)."""
        for f in self._pending:
            f.cancel()
        with contextlib.suppress(Exception):
            self._drain()
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        self._pool.shutdown(wait=True)


def _read_positions(path: Path, columns: list[str], positions: np.ndarray
                    ) -> dict[str, list[Any]]:
    """Values of ``columns`` at sorted ``positions`` of a Parquet file, streamed."""
    out: dict[str, list[Any]] = {c: [] for c in columns}
    pf = pq.ParquetFile(path)
    try:
        start = 0
        for batch in pf.iter_batches(batch_size=262_144, columns=columns):
            n = batch.num_rows
            lo, hi = np.searchsorted(positions, [start, start + n])
            if hi > lo:
                idx = pa.array(positions[lo:hi] - start)
                taken = batch.take(idx)
                for c in columns:
                    out[c].extend(taken.column(c).to_pylist())
            start += n
            if hi >= len(positions):
                break
    finally:
        pf.close()
    return out


def _add_duplicate_issues(scan: _Scan, dups: Duplicates, key_cols: list[str], table: str,
                          written: Path) -> None:
    """Duplicate rows become issues; their key values are read back from the temp file."""
    label = "+".join(key_cols)
    room = max(0, REJECT_CAP - len(scan.issues))
    shown = min(room, len(dups))
    scan.issues_dropped += len(dups) - shown
    if not shown:
        return
    values = _read_positions(written, key_cols, dups.pos[:shown])
    for j in range(shown):
        value = " | ".join(display(values[k][j]) for k in key_cols)[:_VALUE_MAX]
        first_rec = int(dups.first_rec[j])
        key = "io_r_duplicate" if first_rec >= 0 else "io_r_duplicate_existing"
        scan.add_issue(_Issue(int(dups.rec[j]), None, label, value, key,
                              {"key": label, "table": table},
                              first_record=first_rec if first_rec >= 0 else None))


def _finalize(src: Source, scan: _Scan, lang: str) -> list[Reject]:
    """Turn issues into rejects: locate rows, format reasons, sort by row."""
    if not scan.issues:
        return []
    wanted = {i.record for i in scan.issues if i.record is not None and i.malformed is None}
    wanted |= {i.first_record for i in scan.issues if i.first_record is not None}
    rows = src.resolve_rows(wanted)
    malformed_rows = src.malformed_rows() if any(
        i.malformed is not None for i in scan.issues) else []
    out: list[tuple[float, int, Reject]] = []
    for seq, issue in enumerate(scan.issues):
        if issue.malformed is not None:
            row = malformed_rows[issue.malformed] if issue.malformed < len(malformed_rows) \
                else issue.record
        else:
            row = rows.get(issue.record) if issue.record is not None else None
        params = dict(issue.params)
        if issue.first_record is not None:
            params["first"] = rows.get(issue.first_record, "?")
        reason = t(issue.key, lang, value=issue.value, **params)
        out.append((row if row is not None else float("inf"), seq,
                    Reject(src.name, row, issue.column, issue.value, reason)))
    out.sort(key=lambda x: (x[0], x[1]))
    return [r for _, _, r in out]


def _describe(r: Reject, lang: str) -> str:
    row = "?" if r.row is None else r.row
    if r.column:
        return t("io_at_cell", lang, file=r.file, row=row, column=r.column, reason=r.reason)
    return t("io_at_row", lang, file=r.file, row=row, reason=r.reason)


def _write_refused_report(rejects: list[Reject], reject_file: str | Path | None,
                          table: str) -> Path:
    """Write the report of a refused import — never inside the workspace unless asked."""
    if reject_file is not None:
        return write_rejects(reject_file, rejects)
    fd, name = tempfile.mkstemp(prefix=f"churnradar-rejects-{table}-", suffix=".csv")
    with os.fdopen(fd, "wb") as fh:
        fh.write(rejects_csv(rejects))
    return Path(name)


__all__ = ["ImportResult", "REJECT_CAP", "import_table"]
