"""The web snapshot: one row per customer with the analyses, history found by customer,
rebuilt when a source changes while the old one keeps serving."""

from __future__ import annotations

import json
import shutil
import time

import pandas as pd
import pytest

from churnradar.web.store import Store, build_snapshot, sources
from churnradar.workspace import Workspace


@pytest.fixture
def ws(web_source, tmp_path) -> Workspace:
    dst = tmp_path / "ws"
    shutil.copytree(web_source, dst)
    return Workspace.open(dst)


def _latest(ws: Workspace, kind: str, name: str) -> pd.DataFrame:
    run = sorted(p for p in ws.runs_dir.iterdir() if p.name.endswith(f"-{kind}"))[-1]
    return pd.read_parquet(run / name)


def test_snapshot_rows_match_the_analyses(ws):
    snap = Store(ws).current()
    df = pd.read_parquet(snap.folder / "customers.parquet")
    customers = ws.read_table("customers").to_pandas()
    scores = _latest(ws, "predict-score", "scores.parquet")
    value = _latest(ws, "value", "customers.parquet")
    assert len(df) == len(customers) and df["customer_id"].is_unique
    merged = df.merge(scores, on="customer_id", suffixes=("", "_s"))
    assert len(merged) == len(scores)
    assert (merged["churn_probability"] == merged["churn_probability_s"]).all()
    m2 = df.merge(value, on="customer_id", suffixes=("", "_v"))
    assert (m2["clv"] - m2["clv_v"]).abs().max() < 1e-9
    # ordered by risk: scored customers first, by rank
    ranks = df["risk_rank"].dropna()
    assert ranks.is_monotonic_increasing and df["risk_rank"].iloc[: len(ranks)].notna().all()


def test_a_copied_workspace_keeps_its_snapshot(web_source, ws):
    before = {p.name for p in ws.runs_dir.iterdir() if p.name.endswith("-web")}
    Store(ws).current()
    after = {p.name for p in ws.runs_dir.iterdir() if p.name.endswith("-web")}
    assert before == after and before  # built once in web_source, found again here


def test_pages_filter_sort_and_owner_scope_against_pandas(ws):
    snap = Store(ws).current()
    df = pd.read_parquet(snap.folder / "customers.parquet")
    active = df[df["churn_probability"].notna()]
    owner = active["owner_id"].dropna().value_counts().index[0]
    page = snap.customers(owner_id=owner, per_page=7, page=2, sort="clv", descending=True)
    mine = active[active["owner_id"] == owner].sort_values(["clv", "customer_id"],
                                                           ascending=[False, True],
                                                           na_position="last")
    assert page.total == len(mine)
    assert [r["customer_id"] for r in page.rows] == mine["customer_id"].iloc[7:14].tolist()
    high = snap.customers(owner_id=None, risk_tier="high", per_page=500)
    assert high.total == int((active["risk_tier"] == "high").sum())
    other = active[active["owner_id"] != owner]["customer_id"].iloc[0]
    assert snap.customer(other, owner_id=owner) is None
    assert snap.customer(other, owner_id=None)["customer_id"] == other


def test_history_returns_one_customers_rows_only(ws):
    snap = Store(ws).current()
    complaints = ws.read_table("complaints").to_pandas()
    cid = complaints["customer_id"].value_counts().index[0]
    rows = snap.history("complaints", cid)
    assert len(rows) == int((complaints["customer_id"] == cid).sum())
    assert {r["customer_id"] for r in rows} == {cid}
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    assert snap.history("no_such_table", cid) == []


def test_a_changed_source_is_rebuilt_in_the_background_while_the_old_one_serves(ws):
    store = Store(ws, check_seconds=0)
    first = store.current()
    customers = ws.read_table("customers").to_pandas()
    customers.loc[0, "name"] = "新名字"
    import pyarrow as pa

    ws.write_table("customers", pa.Table.from_pandas(customers, preserve_index=False))
    served = store.current()  # starts the build, answers from the old snapshot
    assert served is first
    deadline = time.monotonic() + 60
    while store.building and time.monotonic() < deadline:
        time.sleep(0.1)
    new = store.current()
    assert new is not first and store.build_error is None
    cid = customers.loc[0, "customer_id"]
    assert new.customer(cid, owner_id=None)["name"] == "新名字"
    # the old one still answers for a request that holds it
    assert first.customer(cid, owner_id=None)["name"] != "新名字"
    store.close()


def test_sources_are_relative_and_a_workspace_without_customers_is_refused(tmp_path, ws):
    src = sources(ws)
    assert not src["customers"]["path"].startswith("/")
    empty = Workspace.create(tmp_path / "empty", language="en")
    from churnradar.exceptions import WorkspaceError

    with pytest.raises(WorkspaceError, match="no customers table"):
        build_snapshot(empty)


def test_reads_go_on_without_errors_while_the_data_is_replaced(ws):
    """The command line replacing a table (atomic rename) while the server reads and
    rebuilds: no reader ever fails or sees a half-written table."""
    import threading

    import pyarrow as pa

    store = Store(ws, check_seconds=0)
    store.current()
    customers = ws.read_table("customers").to_pandas()
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                snap = store.current()
                page = snap.customers(owner_id=None, per_page=20)
                assert page.total > 0 and len(page.rows) == 20
                cid = page.rows[0]["customer_id"]
                snap.history("complaints", cid)
            except BaseException as exc:  # noqa: BLE001 - collected for the assert
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for th in threads:
        th.start()
    for i in range(4):
        customers["name"] = f"v{i}"
        ws.write_table("customers", pa.Table.from_pandas(customers, preserve_index=False))
        time.sleep(0.3)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not store.building and store.current().customer(
                customers.loc[0, "customer_id"], owner_id=None)["name"] == "v3":
            break
        time.sleep(0.1)
    stop.set()
    for th in threads:
        th.join()
    assert errors == []
    assert store.current().customer(customers.loc[0, "customer_id"],
                                    owner_id=None)["name"] == "v3"
    store.close()


def test_the_default_list_read_by_row_range_equals_the_sorted_query(ws):
    """Unfiltered risk order is served from row ranges; it must be exactly the page the
    general query (ORDER BY risk_rank, customer_id with OFFSET) gives."""
    snap = Store(ws).current()
    fast_total = snap.customers(owner_id=None, per_page=1).total
    for page in (1, 2, 7, fast_total // 50 + 1):
        fast = snap.customers(owner_id=None, page=page, per_page=50)
        with snap.cursor() as cur:
            expected = [r[0] for r in cur.execute(
                "SELECT customer_id FROM customers WHERE churn_probability IS NOT NULL "
                f"ORDER BY risk_rank, customer_id LIMIT 50 OFFSET {(page - 1) * 50}"
            ).fetchall()]
        assert [r["customer_id"] for r in fast.rows] == expected
    last = snap.customers(owner_id=None, page=fast_total // 50 + 1, per_page=50)
    assert len(last.rows) == fast_total % 50 or len(last.rows) == 50
    assert snap.customers(owner_id=None, page=10_000, per_page=50).rows == []
    assert snap.distinct("grade", owner_id=None) == sorted(
        ws.read_table("customers").to_pandas()["grade"].dropna().unique().tolist())
    assert snap.distinct("customer_id", owner_id=None, limit=10) is None


def test_history_found_by_bisection_equals_a_full_scan(ws):
    """Every customer's history rows, found by bisecting the mapped file, are exactly
    those a query over the whole file returns — also when the file is in tiny batches,
    where one customer's rows straddle several of them."""
    import duckdb
    import pyarrow as pa

    from churnradar.web.store import _History

    snap = Store(ws).current()
    path = snap.history_files["complaints"]
    assert path.suffix == ".arrow"
    table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    small = ws.root / "small.arrow"
    with pa.ipc.new_file(small, table.schema) as writer:
        writer.write_table(table, max_chunksize=7)
    con = duckdb.connect()
    con.register("t", table)
    full = con.sql("SELECT * FROM t ORDER BY customer_id, time").df()
    index = _History(small)
    assert index.ids.num_chunks > 100
    ids = sorted(full["customer_id"].unique())
    for cid in [*ids[:150], *ids[-50:], "nobody", "", "zzzz", ids[0][:-1], ids[-1] + "0"]:
        got = index.rows(cid).to_pandas()
        want = full[full["customer_id"] == cid].reset_index(drop=True)
        assert len(got) == len(want)
        assert got["complaint_id"].tolist() == want["complaint_id"].tolist()
    cid = full["customer_id"].value_counts().index[0]
    newest = snap.history("complaints", cid, limit=2, newest_first=True)
    oldest = snap.history("complaints", cid, limit=2)
    times = sorted(full.loc[full["customer_id"] == cid, "time"])
    assert [r["time"] for r in oldest] == [t.isoformat() for t in times[:2]]
    assert [r["time"] for r in newest] == [t.isoformat() for t in times[::-1][:2]]


def test_only_the_two_newest_snapshots_are_kept(ws):
    """Each change of the data makes a new snapshot (hundreds of MB at 1,000,000
    customers); older ones than the previous are deleted."""
    import os

    from churnradar.web.store import SNAPSHOT_FORMAT, ensure_snapshot

    made = []
    for i in range(3):
        st = ws.settings_path.stat()
        os.utime(ws.settings_path, ns=(st.st_atime_ns, st.st_mtime_ns + (i + 1) * 10**9))
        made.append(ensure_snapshot(ws))
    left = {p for p in ws.runs_dir.iterdir() if "-web" in p.name}
    assert len(set(made)) == 3 and left == set(made[-2:])
    assert json.loads((made[-1] / "sources.json").read_text())["format"] == SNAPSHOT_FORMAT
