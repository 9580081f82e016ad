"""A large CSV imports in bounded memory (streamed, never held as Python objects).

Time is reported, not asserted (speed belongs to benchmarks/).

Default 2,000,000 rows (~90 MB). Reproduce the 10-million-row measurement with::

    CHURNRADAR_IO_SCALE_ROWS=10000000 .venv/bin/pytest -m slow tests/io/test_io_scale.py -s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from churnradar.workspace import Workspace
from tests.io.io_data import make_transactions_csv

ROWS = int(os.environ.get("CHURNRADAR_IO_SCALE_ROWS", "2000000"))

MEASURE = """
import json, sys, time
from churnradar.workspace import Workspace
from churnradar.io import import_table
ws = Workspace.open(sys.argv[1])
calls = []
t0 = time.perf_counter()
r = import_table(ws, "transactions", sys.argv[2], progress=lambda d, t: calls.append(d))
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would include the
# memory of the (large) pytest process this child was forked from
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": r.rows_imported,
                  "progress_calls": len(calls), "peak_rss_mib": int(hwm.split()[1]) / 1024}))
"""


@pytest.mark.slow
def test_large_csv_streams_in_bounded_memory(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws", language="en")
    big = make_transactions_csv(tmp_path / "big.csv", ROWS)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", MEASURE, str(ws.root), str(big)], env=env,
                         capture_output=True, text=True, check=True)
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    stats["csv_mib"] = round(big.stat().st_size / 2**20)
    print(f"\nimport of {ROWS:,} rows: {json.dumps(stats)}")
    assert stats["rows"] == ROWS
    assert stats["progress_calls"] >= ROWS // 400_000
    # roughly 1 KiB per 10 rows for the key digests, plus fixed buffers; well under 2 GiB
    assert stats["peak_rss_mib"] < 600 + ROWS / 20_000
    assert Workspace.open(ws.root).table_info("transactions")["rows"] == ROWS
