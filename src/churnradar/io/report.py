"""The reject report: one line per problem (file, row, column, value, reason).

Written as CSV in UTF-8 with a byte-order mark, so Excel opens Chinese text correctly.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from churnradar.exceptions import ImportFailed
from churnradar.fsutil import atomic_write_bytes

REPORT_COLUMNS: tuple[str, ...] = ("file", "row", "column", "value", "reason")


@dataclass(frozen=True)
class Reject:
    """One problem found in an imported file.

    Attributes
    ----------
    file : str
        File name.
    row : int or None
        Row as a user sees it (header = row 1); ``None`` if it could not be located.
    column : str
        Contract column ("" for a problem with the whole row).
    value : str
        The value as found in the file.
    reason : str
        What is wrong, in the workspace's language.
    """

    file: str
    row: int | None
    column: str
    value: str
    reason: str


def rejects_csv(rejects: list[Reject]) -> bytes:
    """The report as CSV bytes (UTF-8 with BOM)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(REPORT_COLUMNS)
    for r in rejects:
        writer.writerow([r.file, "" if r.row is None else r.row, r.column, r.value, r.reason])
    return buf.getvalue().encode("utf-8-sig")


def write_rejects(path: str | Path, rejects: list[Reject]) -> Path:
    """Write the reject report atomically to ``path`` and return it."""
    path = Path(path)
    atomic_write_bytes(path, rejects_csv(rejects))
    return path


def read_rejects(path: str | Path) -> list[Reject]:
    """Read a report written by :func:`write_rejects` (for tests and the web app)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [Reject(r["file"], int(r["row"]) if r["row"] else None, r["column"], r["value"],
                   r["reason"]) for r in rows]


class ImportRejected(ImportFailed):
    """An import refused because of bad rows; the workspace was left as it was.

    Attributes
    ----------
    first : Reject
        The first problem (lowest row).
    rows_rejected : int
        How many rows are bad in total.
    rows_read : int
        How many data rows the file has.
    rejects_path : Path or None
        Where the full reject report was written.
    """

    def __init__(self, message: str, *, first: Reject, rows_rejected: int, rows_read: int,
                 rejects_path: Path | None) -> None:
        super().__init__(message)
        self.first = first
        self.rows_rejected = rows_rejected
        self.rows_read = rows_read
        self.rejects_path = rejects_path


__all__ = ["ImportRejected", "REPORT_COLUMNS", "Reject", "read_rejects", "rejects_csv",
           "write_rejects"]
