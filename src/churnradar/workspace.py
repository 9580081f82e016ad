"""A workspace: settings, imported tables (Parquet) and the outputs of each run.

Layout (design.md, "Workspace")::

    DIR/churnradar.toml        settings
    DIR/data/<table>.parquet   imported tables, each replaced atomically
    DIR/runs/<run-id>/         outputs of each run, with settings and data fingerprints
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from churnradar.exceptions import WorkspaceError
from churnradar.fsutil import atomic_path, atomic_write_text, sweep_temp_files
from churnradar.schema import TABLES
from churnradar.settings import DEFAULT_TOML, Settings, load_settings

SETTINGS_FILE = "churnradar.toml"


@dataclass
class Workspace:
    """An open workspace folder. Create one with :meth:`create`, open with :meth:`open`."""

    root: Path
    settings: Settings

    # --- creation ------------------------------------------------------------------
    @classmethod
    def create(
        cls, root: str | Path, *, language: str | None = None, exist_ok: bool = False
    ) -> Workspace:
        """Create a new workspace folder with default settings.

        Raises
        ------
        WorkspaceError
            ``root`` already holds a workspace (unless ``exist_ok``) or is a file.
        """
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise WorkspaceError(f"{root} exists and is not a folder")
        settings_path = root / SETTINGS_FILE
        if settings_path.exists():
            if not exist_ok:
                raise WorkspaceError(key="err_already_workspace", path=str(root))
            return cls.open(root)
        (root / "data").mkdir(parents=True, exist_ok=True)
        (root / "runs").mkdir(exist_ok=True)
        text = DEFAULT_TOML
        if language is not None and language != "zh-CN":
            text = text.replace('language = "zh-CN"', f'language = "{language}"', 1)
        atomic_write_text(settings_path, text)
        return cls.open(root)

    @classmethod
    def open(cls, root: str | Path) -> Workspace:
        root = Path(root)
        settings_path = root / SETTINGS_FILE
        if not settings_path.is_file():
            raise WorkspaceError(key="err_not_workspace", path=str(root))
        return cls(root=root, settings=load_settings(settings_path))

    def set_setting(self, section: str | None, key: str,
                    value: str | int | float | bool | dt.date) -> None:
        """Set one key of ``churnradar.toml`` in place, keeping the file's comments.

        ``value`` is written as a TOML literal (strings quoted, dates bare). The new
        file is validated before it replaces the old one.
        """
        self.set_settings({(section, key): value})

    def set_settings(self, changes: Mapping[tuple[str | None, str],
                                            str | int | float | bool | dt.date]) -> None:
        """Set several keys of ``churnradar.toml`` at once (``{(section, key): value}``,
        section ``None`` for a top-level key), keeping the file's comments.

        The keys are validated together and written in one atomic replace: either all
        change or, on a :class:`~churnradar.exceptions.SettingsError`, none (the file is
        left byte-for-byte as it was).
        """
        import re
        import tomllib

        from churnradar.settings import parse_settings

        lines = self.settings_path.read_text(encoding="utf-8").splitlines()
        header = re.compile(r"^\s*\[([^\]]+)\]")
        for (section, key), value in changes.items():
            if isinstance(value, bool):
                literal = "true" if value else "false"
            elif isinstance(value, int | float):
                literal = repr(value)
            elif isinstance(value, dt.date):
                literal = value.isoformat()
            else:
                literal = json.dumps(value, ensure_ascii=False)
            current: str | None = None
            pattern = re.compile(rf"^\s*#?\s*{re.escape(key)}\s*=")
            insert_at = None if section else 0
            for i, line in enumerate(lines):
                m = header.match(line)
                if m:
                    current = m.group(1).strip()
                    if current == section:
                        insert_at = i + 1
                    continue
                if current == section and pattern.match(line):
                    lines[i] = f"{key} = {literal}"
                    break
            else:
                if insert_at is None:
                    lines += ["", f"[{section}]"]
                    insert_at = len(lines)
                lines.insert(insert_at, f"{key} = {literal}")
        text = "\n".join(lines) + "\n"
        settings = parse_settings(tomllib.loads(text), source=self.settings_path.name)
        atomic_write_text(self.settings_path, text)
        self.settings = settings

    # --- paths ---------------------------------------------------------------------
    @property
    def settings_path(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def table_path(self, table: str) -> Path:
        if table not in TABLES:
            raise WorkspaceError(key="err_unknown_table", table=table, tables=", ".join(TABLES))
        return self.data_dir / f"{table}.parquet"

    # --- tables --------------------------------------------------------------------
    def has_table(self, table: str) -> bool:
        return self.table_path(table).is_file()

    def tables(self) -> list[str]:
        """Names of the imported tables, in contract order."""
        return [t for t in TABLES if self.has_table(t)]

    def read_table(self, table: str) -> pa.Table:
        if not self.has_table(table):
            raise WorkspaceError(key="err_table_missing", table=table, path=str(self.root))
        return pq.read_table(self.table_path(table))

    def write_table(self, table: str, data: pa.Table, *, metadata: dict[str, Any] | None = None,
                    ) -> Path:
        """Replace ``table`` atomically (temp file, fsync, rename)."""
        target = self.table_path(table)
        sweep_temp_files(self.data_dir, prefix=target.name)
        if metadata:
            meta = dict(data.schema.metadata or {})
            meta[b"churnradar"] = json.dumps(metadata, ensure_ascii=False, default=str).encode()
            data = data.replace_schema_metadata(meta)
        with atomic_path(target) as tmp:
            pq.write_table(data, tmp, compression="zstd")
        return target

    def table_info(self, table: str) -> dict[str, Any]:
        """Rows, columns and the import metadata stored inside the Parquet file."""
        pf = pq.ParquetFile(self.table_path(table))
        meta = pf.schema_arrow.metadata or {}
        info = json.loads(meta[b"churnradar"]) if b"churnradar" in meta else {}
        return {"table": table, "rows": pf.metadata.num_rows,
                "columns": pf.schema_arrow.names, **info}

    def fingerprint(self, table: str) -> str:
        """SHA-256 of the table's file: which data produced a run's numbers."""
        h = hashlib.sha256()
        with open(self.table_path(table), "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    # --- runs ----------------------------------------------------------------------
    def new_run(self, kind: str) -> Path:
        """Create ``runs/<timestamp>-<kind>/`` with a manifest of settings and data."""
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.runs_dir.mkdir(exist_ok=True)
        n = 0
        while True:
            run_id = f"{stamp}-{kind}" + (f"-{n}" if n else "")
            path = self.runs_dir / run_id
            try:
                path.mkdir()
                break
            except FileExistsError:
                n += 1
        manifest = {
            "run_id": run_id,
            "kind": kind,
            "created_at": dt.datetime.now().isoformat(timespec="seconds"),
            "churnradar_version": _version(),
            "settings": self.settings_path.read_text(encoding="utf-8"),
            "data": {t: {"sha256": self.fingerprint(t),
                         "bytes": os.path.getsize(self.table_path(t))} for t in self.tables()},
        }
        atomic_write_text(path / "manifest.json",
                          json.dumps(manifest, ensure_ascii=False, indent=2))
        return path


def _version() -> str:
    from churnradar import __version__

    return __version__
