"""Atomic writes: the old file survives any failure, and no temp file is left behind."""

from __future__ import annotations

import os
import stat

import pytest

from churnradar.fsutil import TMP_PREFIX, atomic_path, atomic_write_text, sweep_temp_files


def test_failure_leaves_the_old_file(tmp_path):
    target = tmp_path / "t.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("crash while writing")
    assert target.read_text(encoding="utf-8") == "old"
    assert not list(tmp_path.glob(f"{TMP_PREFIX}*"))


def test_success_replaces_with_ordinary_permissions(tmp_path):
    target = tmp_path / "t.txt"
    atomic_write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_sweep_removes_leftovers_of_killed_writers(tmp_path):
    (tmp_path / f"{TMP_PREFIX}x.parquet.abc").write_bytes(b"partial")
    (tmp_path / "keep.parquet").write_bytes(b"data")
    removed = sweep_temp_files(tmp_path)
    assert [p.name for p in removed] == [f"{TMP_PREFIX}x.parquet.abc"]
    assert (tmp_path / "keep.parquet").exists()
