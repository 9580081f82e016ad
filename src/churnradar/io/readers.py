"""Read user files (CSV, Excel .xlsx, Parquet) as a stream of Arrow record batches.

Every reader gives the file's headers first (so columns can be mapped and checked before
any data is read), then batches whose columns are in header order, each row tagged with a
*record id* that :meth:`Source.resolve_rows` turns into the row number a user sees in
Excel or a text editor (header = row 1, first data row = row 2; for Parquet, which has no
header row, the first record is row 1).

CSV is read with :func:`pyarrow.csv.open_csv` (streaming, every column as text), Excel with
openpyxl in read-only mode, Parquet with :class:`pyarrow.parquet.ParquetFile`; none of them
holds the whole file in memory.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from churnradar.exceptions import ImportFailed, InputError, SchemaError
from churnradar.i18n import t
from churnradar.io.encoding import TextScan, count_content_lines, scan_text

FileFormat = Literal["csv", "xlsx", "parquet"]

CSV_BLOCK_SIZE = 8 << 20
XLSX_BATCH_ROWS = 20_000
PARQUET_BATCH_ROWS = 131_072
#: malformed rows (wrong number of fields) kept for the report; all are counted
MALFORMED_CAP = 10_000
_HEADER_MAX_CHARS = 4 << 20
_DELIMITERS = (",", "\t", ";", "|")
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}
_PARQUET_SUFFIXES = {".parquet", ".pq", ".parq"}


@dataclass
class SourceBatch:
    """One batch of a source file.

    Attributes
    ----------
    columns : list of pyarrow.Array
        One array per header, in header order.
    records : numpy-compatible list of int
        The record id of each row (see :meth:`Source.resolve_rows`).
    done : int
        Progress so far, in the source's units (bytes for CSV, rows otherwise).
    """

    columns: list[pa.Array]
    records: pa.Array
    done: int


@dataclass
class Malformed:
    """A row that does not fit the header (wrong number of fields)."""

    record: int | None  #: record id when known (Excel); CSV rows are located afterwards
    fields: int
    text: str


@dataclass
class Source:
    """A user file opened for import: headers known, data not read yet."""

    path: Path
    format: FileFormat
    headers: list[str]
    encoding: str | None = None
    total: int | None = None
    sheet: str | None = None
    warnings: list[str] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)
    malformed_count: int = 0
    lang: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def batches(self) -> Iterator[SourceBatch]:  # pragma: no cover - abstract
        raise NotImplementedError

    def column_type(self, index: int) -> pa.DataType:
        """Arrow type of column ``index`` as read (text for CSV and Excel)."""
        return pa.string()

    def close(self) -> None:
        """Release the open file, if any (safe to call more than once)."""

    def resolve_rows(self, records: Iterable[int]) -> dict[int, int]:
        """Map record ids to the row numbers a user sees."""
        return {r: r for r in records}

    def malformed_rows(self) -> list[int | None]:
        """Row numbers of :attr:`malformed` (``None`` where it cannot be located)."""
        return [m.record for m in self.malformed]


# --- CSV ---------------------------------------------------------------------------------
@dataclass
class CsvSource(Source):
    scan: TextScan | None = None
    delimiter: str = ","
    has_data: bool = True
    valid_rows: int = 0
    _malformed_lines: list[int | None] | None = None
    _lines: int | None = None

    def _arrow_encoding(self) -> str:
        assert self.encoding is not None
        return "utf8" if self.encoding in ("utf-8", "utf-8-sig") else self.encoding

    def batches(self) -> Iterator[SourceBatch]:
        n = len(self.headers)
        names = [f"c{i}" for i in range(n)]
        self.malformed = []
        self.malformed_count = 0
        self.valid_rows = 0
        if not self.has_data:
            return
        if self.scan is not None and self.scan.odd_quotes:
            self._check_quotes()

        def on_invalid(row: Any) -> str:
            self.malformed_count += 1
            if len(self.malformed) < MALFORMED_CAP:
                self.malformed.append(Malformed(None, row.actual_columns, row.text[:200]))
            return "skip"

        read_options = pacsv.ReadOptions(
            column_names=names, skip_rows_after_names=1, block_size=CSV_BLOCK_SIZE,
            use_threads=True, encoding=self._arrow_encoding(),
        )
        parse_options = pacsv.ParseOptions(
            delimiter=self.delimiter, quote_char='"', double_quote=True,
            newlines_in_values=True, ignore_empty_lines=True, invalid_row_handler=on_invalid,
        )
        convert_options = pacsv.ConvertOptions(
            column_types={c: pa.string() for c in names}, strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            # the encoding pass already proved the whole file decodes
            check_utf8=False,
        )
        stream = pa.OSFile(str(self.path), "rb")
        try:
            try:
                reader = pacsv.open_csv(stream, read_options=read_options,
                                        parse_options=parse_options,
                                        convert_options=convert_options)
            except pa.ArrowInvalid as exc:
                raise self._parse_error(exc) from exc
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except pa.ArrowInvalid as exc:
                    raise self._parse_error(exc) from exc
                start = self.valid_rows
                self.valid_rows += batch.num_rows
                records = pa.array(range(start, self.valid_rows), pa.int64())
                yield SourceBatch(list(batch.columns), records, stream.tell())
        finally:
            stream.close()

    def _check_quotes(self) -> None:
        """Find a quoted value that is never closed (Arrow would read it to the end)."""
        assert self.encoding is not None
        old_limit = csv.field_size_limit()
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        try:
            with open(self.path, encoding=self.encoding, newline="") as fh:
                reader = csv.reader(fh, delimiter=self.delimiter, strict=True)
                start = 1
                try:
                    for _ in reader:
                        start = reader.line_num + 1
                except csv.Error as exc:
                    raise ImportFailed(t("io_csv_quote", self.lang, file=self.name,
                                         row=start, error=str(exc))) from exc
        finally:
            csv.field_size_limit(old_limit)

    def _parse_error(self, exc: Exception) -> ImportFailed:
        return ImportFailed(t("io_csv_error", self.lang, file=self.name, error=str(exc)))

    def _exact(self) -> bool:
        if self.malformed_count:
            return False
        if self._lines is None:
            assert self.encoding is not None
            self._lines = count_content_lines(self.path, self.encoding) or -1
        return self._lines == 1 + self.valid_rows

    def resolve_rows(self, records: Iterable[int]) -> dict[int, int]:
        """Valid-row index -> physical line where the record starts.

        When the file has no blank lines, no line breaks inside values and no malformed
        rows, record *k* is on line *k + 2*; otherwise the file is re-read with Python's
        :mod:`csv` (only on the error path) to locate each record.
        """
        wanted = set(records)
        if self._exact() and self._malformed_lines is None:
            return {k: k + 2 for k in wanted}
        return self._locate(wanted)

    def malformed_rows(self) -> list[int | None]:
        if self._malformed_lines is None:
            self._locate(set())
        assert self._malformed_lines is not None
        lines = self._malformed_lines
        return [lines[i] if i < len(lines) else None for i in range(len(self.malformed))]

    def _locate(self, wanted: set[int]) -> dict[int, int]:
        n = len(self.headers)
        found: dict[int, int] = {}
        malformed_lines: list[int | None] = []
        assert self.encoding is not None
        old_limit = csv.field_size_limit()
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        try:
            with open(self.path, encoding=self.encoding, newline="") as fh:
                reader = csv.reader(fh, delimiter=self.delimiter)
                next(reader, None)  # the header
                prev = reader.line_num
                k = 0
                for fields in reader:
                    start, prev = prev + 1, reader.line_num
                    if not fields:
                        continue
                    if len(fields) == n:
                        if k in wanted:
                            found[k] = start
                        k += 1
                    elif len(malformed_lines) < MALFORMED_CAP:
                        malformed_lines.append(start)
        finally:
            csv.field_size_limit(old_limit)
        self._malformed_lines = malformed_lines
        return found


def _sniff_delimiter(line: str) -> str:
    counts = {d: 0 for d in _DELIMITERS}
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_csv_header(path: Path, encoding: str, suffix: str) -> tuple[list[str], str, bool]:
    """Parse the header record; return (headers, delimiter, data follows the header)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    text = ""
    with open(path, "rb") as fh:
        while True:
            block = fh.read(1 << 20)
            text += decoder.decode(block, final=not block)
            if not block:
                complete = True
                break
            # enough to hold the whole header record plus the start of the data
            nl = text.find("\n")
            if (nl >= 0 and text.count('"', 0, nl) % 2 == 0 and len(text) > nl + 1) or (
                    len(text) > _HEADER_MAX_CHARS):
                complete = False
                break
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if suffix == ".tsv" else _sniff_delimiter(first_line)
    buf = io.StringIO(text, newline="")
    reader = csv.reader(buf, delimiter=delimiter)
    headers: list[str] = []
    for fields in reader:
        if fields:
            headers = fields
            break
    rest = buf.read()
    has_data = (not complete) or bool(rest.strip())
    return headers, delimiter, has_data


def _open_csv(path: Path, encoding: str | None, lang: str | None) -> CsvSource:
    scan = scan_text(path, encoding=encoding, lang=lang)
    headers, delimiter, has_data = _read_csv_header(path, scan.encoding, path.suffix.lower())
    if not any(h.strip() for h in headers):
        raise ImportFailed(t("io_empty_file", lang, file=path.name))
    source = CsvSource(path=path, format="csv", headers=headers, encoding=scan.encoding,
                       total=scan.size, lang=lang, scan=scan, delimiter=delimiter,
                       has_data=has_data)
    if delimiter != ",":
        source.warnings.append(t("io_warn_delimiter", lang, file=path.name,
                                 delimiter=repr(delimiter)))
    return source


# --- Excel ---------------------------------------------------------------------------------
def excel_text(value: Any) -> str | None:
    """An Excel cell as text: dates as ISO (``2024-01-05``), whole numbers without ``.0``."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


@dataclass
class XlsxSource(Source):
    header_row: int = 1
    _workbook: Any = None
    _sheet: Any = None

    def batches(self) -> Iterator[SourceBatch]:
        n = len(self.headers)
        self.malformed = []
        self.malformed_count = 0
        cols: list[list[str | None]] = [[] for _ in range(n)]
        records: list[int] = []
        done = 0
        try:
            rows = self._sheet.iter_rows(min_row=self.header_row + 1, values_only=True)
            for excel_row, values in enumerate(rows, start=self.header_row + 1):
                done = excel_row
                texts = [excel_text(v) for v in values]
                if not any(x is not None and x.strip() for x in texts):
                    continue  # blank row
                if len(texts) > n and any(x is not None and x.strip() for x in texts[n:]):
                    self.malformed_count += 1
                    if len(self.malformed) < MALFORMED_CAP:
                        extra = next(i for i in range(n, len(texts))
                                     if (texts[i] or "").strip())
                        self.malformed.append(Malformed(
                            excel_row, extra + 1,
                            f"{_column_letter(extra)}{excel_row}={texts[extra]}"[:200]))
                    continue
                for i in range(n):
                    cols[i].append(texts[i] if i < len(texts) else None)
                records.append(excel_row)
                if len(records) >= XLSX_BATCH_ROWS:
                    yield self._batch(cols, records, done)
                    cols = [[] for _ in range(n)]
                    records = []
        except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
            raise ImportFailed(t("io_bad_xlsx", self.lang, file=self.name,
                                 error=str(exc) or type(exc).__name__)) from exc
        finally:
            with contextlib.suppress(Exception):
                self._workbook.close()
        if records:
            yield self._batch(cols, records, done)

    def close(self) -> None:
        if self._workbook is not None:
            with contextlib.suppress(Exception):
                self._workbook.close()
            self._workbook = None

    @staticmethod
    def _batch(cols: list[list[str | None]], records: list[int], done: int) -> SourceBatch:
        return SourceBatch([pa.array(c, pa.string()) for c in cols],
                           pa.array(records, pa.int64()), done)


def _open_xlsx(path: Path, sheet: str | None, lang: str | None) -> XlsxSource:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportFailed(t("io_bad_xlsx", lang, file=path.name,
                             error=str(exc) or type(exc).__name__)) from exc
    names = list(wb.sheetnames)
    warnings: list[str] = []
    if sheet is None:
        ws = wb.worksheets[0]
        if len(names) > 1:
            warnings.append(t("io_warn_first_sheet", lang, file=path.name, sheet=ws.title,
                              sheets=", ".join(names)))
    elif sheet in names:
        ws = wb[sheet]
    else:
        wb.close()
        raise ImportFailed(t("io_unknown_sheet", lang, file=path.name, sheet=sheet,
                             sheets=", ".join(names)))
    total = ws.max_row if isinstance(ws.max_row, int) and ws.max_row > 1 else None
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # stale dimensions would cut the sheet short
    headers: list[str] | None = None
    header_row = 1
    try:
        for idx, values in enumerate(ws.iter_rows(values_only=True), start=1):
            texts = [excel_text(v) for v in values]
            if any(x is not None and x.strip() for x in texts):
                while texts and (texts[-1] is None or not texts[-1].strip()):
                    texts.pop()
                headers = [x if x is not None else "" for x in texts]
                header_row = idx
                break
    except Exception as exc:
        wb.close()
        raise ImportFailed(t("io_bad_xlsx", lang, file=path.name,
                             error=str(exc) or type(exc).__name__)) from exc
    if headers is None:
        wb.close()
        raise ImportFailed(t("io_empty_sheet", lang, file=path.name, sheet=ws.title))
    # Excel columns without a header are named by their letter
    headers = [h if h.strip() else f"column_{_column_letter(i)}" for i, h in enumerate(headers)]
    src = XlsxSource(path=path, format="xlsx", headers=headers, encoding=None, total=total,
                     sheet=ws.title, warnings=warnings, lang=lang, header_row=header_row)
    src._workbook = wb
    src._sheet = ws
    return src


# --- Parquet ------------------------------------------------------------------------------
@dataclass
class ParquetSource(Source):
    _file: Any = None

    def batches(self) -> Iterator[SourceBatch]:
        self.malformed = []
        self.malformed_count = 0
        pf: pq.ParquetFile = self._file
        start = 0
        try:
            for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                n = batch.num_rows
                records = pa.array(range(start, start + n), pa.int64())
                start += n
                cols = [c.dictionary_decode() if pa.types.is_dictionary(c.type) else c
                        for c in batch.columns]
                yield SourceBatch(cols, records, start)
        except (pa.ArrowException, OSError) as exc:
            raise ImportFailed(t("io_bad_parquet", self.lang, file=self.name,
                                 error=str(exc))) from exc
        finally:
            with contextlib.suppress(Exception):
                pf.close()

    def resolve_rows(self, records: Iterable[int]) -> dict[int, int]:
        return {r: r + 1 for r in records}

    def column_type(self, index: int) -> pa.DataType:
        typ = self._file.schema_arrow.field(index).type
        return typ.value_type if pa.types.is_dictionary(typ) else typ

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._file.close()


def _open_parquet(path: Path, lang: str | None) -> ParquetSource:
    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
    except (pa.ArrowException, OSError) as exc:
        raise ImportFailed(t("io_bad_parquet", lang, file=path.name, error=str(exc))) from exc
    headers = list(schema.names)
    return ParquetSource(path=path, format="parquet", headers=headers, encoding=None,
                         total=pf.metadata.num_rows, lang=lang, _file=pf)


# --- entry points --------------------------------------------------------------------------
def sniff_format(path: Path, *, lang: str | None = None) -> FileFormat:
    """Decide the format from the extension, checked against the file's first bytes.

    ``.xlsx``/``.parquet`` files must really be one; any other name is sniffed (a CSV
    export that is really an Excel workbook is read as one).

    Raises
    ------
    ImportFailed
        An old binary ``.xls`` workbook, or a file whose content does not match its name.
    """
    with open(path, "rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    is_zip = head.startswith(b"PK\x03\x04")
    is_parquet = head.startswith(b"PAR1")
    is_ole = head.startswith(b"\xd0\xcf\x11\xe0")
    if is_ole or suffix == ".xls":
        raise ImportFailed(t("io_xls_unsupported", lang, file=path.name))
    if suffix in _EXCEL_SUFFIXES:
        if not is_zip:
            raise ImportFailed(t("io_bad_xlsx", lang, file=path.name,
                                 error=t("io_not_zip", lang)))
        return "xlsx"
    if suffix in _PARQUET_SUFFIXES:
        if not is_parquet:
            raise ImportFailed(t("io_bad_parquet", lang, file=path.name,
                                 error=t("io_not_parquet", lang)))
        return "parquet"
    if is_zip:
        return "xlsx"
    if is_parquet:
        return "parquet"
    return "csv"


def open_source(path: str | Path, *, sheet: str | None = None, encoding: str | None = None,
                lang: str | None = None) -> Source:
    """Open a user file for reading: check it exists and is not empty, read its headers.

    Parameters
    ----------
    path : str or Path
        CSV (any extension that is not Excel/Parquet), ``.xlsx`` or ``.parquet``.
    sheet : str, optional
        Excel sheet name (default: the first sheet).
    encoding : str, optional
        CSV encoding; detected when omitted.
    lang : str, optional
        Language of messages.

    Raises
    ------
    ImportFailed
        Missing, empty, undecodable or corrupt file; unknown sheet.
    InputError
        ``sheet`` given for a file that is not Excel, or an unknown ``encoding``.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(t("io_not_found", lang, file=str(path)))
    if path.stat().st_size == 0:
        raise ImportFailed(t("io_empty_file", lang, file=path.name))
    fmt = sniff_format(path, lang=lang)
    if sheet is not None and fmt != "xlsx":
        raise InputError(t("io_sheet_not_excel", lang, file=path.name, format=fmt))
    if encoding is not None and fmt != "csv":
        raise InputError(t("io_encoding_not_csv", lang, file=path.name, format=fmt))
    if fmt == "csv":
        return _open_csv(path, encoding, lang)
    if fmt == "xlsx":
        return _open_xlsx(path, sheet, lang)
    return _open_parquet(path, lang)


def read_table_file(path: str | Path, *, sheet: str | None = None,
                    encoding: str | None = None, lang: str | None = None,
                    progress: Callable[[int, int | None], None] | None = None) -> pa.Table:
    """Read a whole CSV, Excel or Parquet file as an Arrow table, columns as read.

    CSV and Excel columns are text (Excel dates as ``YYYY-MM-DD``), named by their
    headers; Parquet keeps its types. Nothing is mapped or validated: use
    :func:`churnradar.io.import_table` for that. Meant for small files and tests — large
    files should be imported, which streams.

    Raises
    ------
    ImportFailed
        The file is missing, empty, undecodable or corrupt.
    SchemaError
        A row has more or fewer fields than the header.

    Examples
    --------
    >>> read_table_file("客户.csv").column_names  # doctest: +SKIP
    ['客户编号', '客户名称', '开户日期']
    """
    source = open_source(path, sheet=sheet, encoding=encoding, lang=lang)
    chunks: list[list[pa.Array]] = [[] for _ in source.headers]
    for b in source.batches():
        for i, col in enumerate(b.columns):
            chunks[i].append(col)
        if progress is not None:
            progress(b.done, source.total)
    if source.malformed_count:
        row = source.malformed_rows()[0]
        m = source.malformed[0]
        raise SchemaError(t("io_at_row", lang, file=source.name, row=row or "?",
                            reason=t("io_r_fields", lang, fields=m.fields,
                                     expected=len(source.headers))))
    headers = [h if h.strip() else f"column_{i + 1}" for i, h in enumerate(source.headers)]
    arrays = [pa.chunked_array(c) if c else pa.chunked_array([], pa.string()) for c in chunks]
    return pa.Table.from_arrays(arrays, names=headers)


__all__ = ["CsvSource", "FileFormat", "Malformed", "ParquetSource", "Source", "SourceBatch",
           "XlsxSource", "excel_text", "open_source", "read_table_file", "sniff_format"]
