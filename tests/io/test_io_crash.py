"""kill -9 in the middle of an import leaves the old table intact; the next import sweeps up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from churnradar.io import import_table
from churnradar.workspace import Workspace
from tests.io.io_data import make_transactions_csv

IMPORT = ("import sys\n"
          "from churnradar.workspace import Workspace\n"
          "from churnradar.io import import_table\n"
          "import_table(Workspace.open(sys.argv[1]), 'transactions', sys.argv[2])\n")


def test_kill_9_mid_write_leaves_old_table_intact(seeded_ws: Workspace, tmp_path: Path,
                                                  write: Callable[..., Path]) -> None:
    ws = seeded_ws
    big = make_transactions_csv(tmp_path / "big.csv", 3_000_000)
    target = ws.table_path("transactions")
    old_bytes = target.read_bytes()
    runs_before = sorted(p.name for p in ws.runs_dir.iterdir())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", IMPORT, str(ws.root), str(big)], env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            temps = list(ws.data_dir.glob(".tmp-transactions.parquet.*"))
            if temps and temps[0].stat().st_size > 512 * 1024:
                break  # it is writing row groups now
            if proc.poll() is not None:
                pytest.fail(f"the import ended (code {proc.returncode}) before it was killed")
            if time.monotonic() > deadline:
                pytest.fail("the import never started writing")
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    # the old table is byte-identical and readable; no run was recorded
    assert target.read_bytes() == old_bytes
    assert ws.read_table("transactions").column("transaction_id").to_pylist() == ["T1", "T2"]
    assert sorted(p.name for p in ws.runs_dir.iterdir()) == runs_before
    leftovers = list(ws.data_dir.glob(".tmp-*"))
    assert leftovers, "the killed writer should have left its temp file"

    # the next import sweeps the leftover and replaces the table
    result = import_table(ws, "transactions", write(
        "next.csv", "customer_id,date,amount\nC9,2024-05-01,9\n"))
    assert result.total_rows_in_table == 1
    assert not list(ws.data_dir.glob(".tmp-*"))
    assert ws.read_table("transactions").column("customer_id").to_pylist() == ["C9"]
