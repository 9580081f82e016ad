"""The command line and a server on one SQLite workspace at once (issue 6, storage): two
processes, and several threads of one process, write and read tasks in app.db at the same
time: no "database is locked", no lost write, no torn read."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import Engine, func, select

from churnradar.web.db import make_engine, session_scope, upgrade
from churnradar.web.models import Task

ROOT = Path(__file__).resolve().parents[2]
N = 60  # iterations per writer; each: insert, read-then-update, two snapshot reads


def work(url: str | Engine, wid: str, n: int, start_at: float = 0.0) -> dict[str, float]:
    """One writer: what a CLI import of tasks or a server request would do."""
    engine = make_engine(url) if isinstance(url, str) else url
    rng = random.Random(wid)
    while time.time() < start_at:
        time.sleep(0.002)
    t0 = time.time()
    try:
        for i in range(n):
            with session_scope(engine) as s:
                s.add(Task(customer_id=f"{wid}-{i}", owner_id=wid, action="call"))
            with session_scope(engine) as s:  # read, then write, in one transaction
                ids = s.scalars(select(Task.id).where(Task.status == "open")
                                .order_by(Task.id.desc()).limit(10)).all()
                task = s.get(Task, rng.choice(ids))
                assert task is not None
                task.status = "contacted"
                task.note = f"{wid}:{i}"
            with session_scope(engine, readonly=True) as s:  # one snapshot
                first = s.scalar(select(func.count()).select_from(Task))
                time.sleep(0.001)
                again = s.scalar(select(func.count()).select_from(Task))
                assert first == again, f"torn read: {first} then {again}"
    finally:
        if isinstance(url, str):
            engine.dispose()
    return {"start": t0, "end": time.time()}


def _overlap(spans: list[dict[str, float]]) -> float:
    return min(s["end"] for s in spans) - max(s["start"] for s in spans)


def _check(url: str, writers: int) -> None:
    engine = make_engine(url)
    try:
        with session_scope(engine, readonly=True) as s:
            tasks = s.scalars(select(Task)).all()
    finally:
        engine.dispose()
    assert len(tasks) == writers * N  # no insert lost
    assert len({t.customer_id for t in tasks}) == writers * N
    updated = [t for t in tasks if t.note]
    assert len(updated) >= N  # updates of the same task may overwrite each other
    assert all(t.status == "contacted" for t in updated)


def test_two_processes_write_one_sqlite_workspace(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    start_at = time.time() + 2.0  # both start together, after their imports
    code = ("import json, sys; from tests.web.test_concurrency import work; "
            "print(json.dumps(work(sys.argv[1], sys.argv[2], int(sys.argv[3]), "
            "float(sys.argv[4]))))")
    procs = [subprocess.Popen([sys.executable, "-c", code, url, wid, str(N), str(start_at)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for wid in ("cli", "server")]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert "database is locked" not in err
        assert p.returncode == 0, err[-3000:]
    spans = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    assert _overlap(spans) > 0, f"the writers did not run at the same time: {spans}"
    _check(url, 2)


def test_threads_share_one_engine(tmp_path):
    """A server's worker threads: one engine, one connection pool, four writers."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    engine = make_engine(url)
    errors: list[BaseException] = []
    spans: list[dict[str, float]] = []

    def run(wid: str) -> None:
        try:
            spans.append(work(engine, wid, N))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"t{i}",)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    engine.dispose()
    assert not errors, errors
    assert _overlap(spans) > 0
    _check(url, 4)
