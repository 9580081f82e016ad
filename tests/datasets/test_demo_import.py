"""The demo files import through the normal importer and come back unchanged."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from churnradar.datasets import INDUSTRIES, make_demo_data, write_demo_files

io = pytest.importorskip("churnradar.io")
workspace = pytest.importorskip("churnradar.workspace")


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_demo_files_import_unchanged(industry: str, tmp_path: Path) -> None:
    ws = workspace.Workspace.create(tmp_path / "ws")
    data = make_demo_data(industry, 2_000, random_state=5)
    paths = write_demo_files(data, tmp_path / "files", lang="zh-CN")
    for name, path in paths.items():
        result = io.import_table(ws, name, path)
        assert result.rows_imported == data.tables[name].num_rows
        if name == "customers":
            assert result.encoding == "gb18030"
        original = data.tables[name]
        back = pq.read_table(ws.table_path(name)).select(original.column_names)
        assert back.cast(original.schema).equals(original), name
