"""churnradar web load benchmark: 20 concurrent clients for 2 minutes against the real
server (``churnradar serve``) on a 1,000,000-customer workspace, pages and API reads mixed.

    .venv/bin/python benchmarks/web_load.py                                # the full run
    .venv/bin/python benchmarks/web_load.py --customers 50000 --duration 20  # a quick run

Steps (each measured one in a fresh process, ``web_load.py STEP CONFIG RESULT``, as
benchmarks/predict.py runs predict_steps.py, so that its peak memory is its own):

1. **build** (cached in ``--base``, keyed by size, seed and the settings below): the demo
   dealers data of ``make_demo_data("dealers")`` (customers, orders, complaints, churn
   records, staff) imported into a workspace, then the analyses the web shows — metrics,
   a churn risk model trained on a *subsample* (``max_training_rows``, fewer observation
   months; the whole base is then scored), scores at two earlier dates too (risk over
   time), customer value, churn reasons and the retention plan.
2. **snapshot**: the web snapshot (``web.store.build_snapshot``: the one-row-per-customer
   table and the sorted history files), then opening it as the server does; time and RAM.
3. **users**: a manager and a sales user owning the most customers, each with an API
   token (``web.accounts``, the functions behind ``churnradar user add|token``).
4. **server**: ``churnradar serve DIR --workers W --host 127.0.0.1 --port P`` with a
   random ``CHURNRADAR_SECRET_KEY`` (``--workers``: two per core unless told); after the
   load, the same load for ``--compare-duration`` seconds on ``--compare-workers`` (1).
5. **load**: ``--clients`` threads (httpx) in another process for ``--duration`` seconds
   after a short warm-up; each signs in through the login form (pages) and holds a bearer
   token (API), and picks requests at random from the route groups below (random
   customers, list pages, filters and sorts). Latency is measured per request by the
   client, body included.
6. **naive**: in one process, what a request costs without the snapshot: loading the
   customers table (and the newest scores) with pandas and filtering it, and one
   customer's orders from the whole transactions table; next to the same answers from
   the snapshot.

Results go to section ``web-load`` of BENCHMARKS.md (benchmarks/mdsections.py), raw
numbers to ``--base``/web-load/*.json. This process stays small (standard library only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

from mdsections import old_history, replace_section
from predict_steps import peak_rss_mib, rss_mib
from run import log, machine, source_state

from predict import churnradar_command, run_child

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCRIPT = Path(__file__).resolve()
SECTION = "web-load"
TARGET_P95_MS = 200.0
PASSWORD = "load-test-" + "p" * 20
#: route groups: (name, kind, weight); kind "page" uses the session, "api" the token
GROUPS: list[tuple[str, str, int]] = [
    ("overview", "page", 2), ("segments", "page", 1), ("customers", "page", 4),
    ("customer", "page", 4), ("api_customers", "api", 2), ("api_customer", "api", 3),
    ("api_metrics", "api", 1),
]
#: list pages beyond this one are counted apart (``<group>_deep``): OFFSET grows with depth
DEEP_PAGE = 10
#: share of the active customers in each risk tier (PredictSettings' defaults)
TIER_SHARES = {"high": 0.10, "medium": 0.20, "low": 0.70}
KINDS = {n: k for n, k, _w in GROUPS} | {"customers_deep": "page", "api_customers_deep": "api"}
GROUP_ORDER = ["overview", "segments", "customers", "customers_deep", "customer",
               "api_customers", "api_customers_deep", "api_customer", "api_metrics"]
LABELS = {
    "overview": "page `/overview`", "segments": "page `/segments`",
    "customers": "page `/customers` (at-risk list: filter, sort; pages 1–10)",
    "customers_deep": "page `/customers`, pages beyond 10",
    "customer": "page `/customers/{id}` (customer 360)",
    "api_customers": "API `GET /api/v1/customers` (filter, sort; pages 1–10)",
    "api_customers_deep": "API `GET /api/v1/customers`, pages beyond 10",
    "api_customer": "API `GET /api/v1/customers/{id}`",
    "api_metrics": "API `GET /api/v1/metrics`",
}
PROBES = {"overview": "/overview", "segments": "/segments", "customers": "/customers",
          "api_customers": "/api/v1/customers", "api_metrics": "/api/v1/metrics"}
SORTS = ("risk_rank", "churn_probability", "clv", "value_at_risk", "customer_id", "name")
FILTER_COLUMNS = ("grade", "region", "segment")


# =============================================================================== helpers
def _vm(pid: int | str, key: str) -> float:
    """``key`` (VmRSS:, VmHWM:) of process ``pid`` in MiB (nan when unreadable)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a server's worker processes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="ascii").rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _percentile(sorted_ms: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of sorted values, linear between closest ranks."""
    if not sorted_ms:
        return float("nan")
    pos = q * (len(sorted_ms) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_ms) - 1)
    return sorted_ms[lo] + (sorted_ms[hi] - sorted_ms[lo]) * (pos - lo)


# =========================================================================== child steps
def step_build(cfg: dict[str, Any]) -> dict[str, Any]:
    """The analysed workspace (see the module docstring); every phase timed."""
    from churnradar.datasets import make_demo_data
    from churnradar.pipeline import demo_workspace, run_metrics
    from churnradar.predict.jobs import open_data, score_job, train_job
    from churnradar.workspace import Workspace

    root = Path(cfg["workspace"])
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    phases: dict[str, Any] = {}
    t0 = time.perf_counter()

    def mark(name: str, started: float, **extra: Any) -> None:
        phases[name] = {"seconds": time.perf_counter() - started, "rss_mib": rss_mib(),
                        "peak_rss_mib": peak_rss_mib(), **extra}
        log(f"    {name}: {phases[name]['seconds']:.1f} s, peak RSS "
            f"{phases[name]['peak_rss_mib']:,.0f} MiB")

    t = time.perf_counter()
    demo = make_demo_data("dealers", n_customers=cfg["customers"], random_state=cfg["seed"])
    rows = {name: int(tab.num_rows) for name, tab in demo.tables.items()}
    mark("generate", t, rows=rows)
    t = time.perf_counter()
    ws = demo_workspace(root, demo, lang="zh-CN")
    as_of = demo.as_of
    del demo
    mark("import", t)
    ws.set_setting("engine", "memory_limit", str(cfg["memory_limit"]))
    ws.set_setting("predict", "max_training_rows", int(cfg["train_rows"]))
    ws.set_setting("predict", "observation_months", int(cfg["observation_months"]))
    ws = Workspace.open(root)
    t = time.perf_counter()
    run_metrics(ws)
    mark("metrics", t)
    data = open_data(ws)
    t = time.perf_counter()
    train = train_job(ws, evaluate=False, data=data)
    mark("train", t, rows=int(train.trained.rows), dates=[d.isoformat()
                                                          for d in train.trained.dates])
    # risk over time: scores at earlier month ends first (the newest run is the current one)
    end = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
    earlier = []
    for k in range(int(cfg["risk_history"]), 0, -1):
        first = dt.date(end.year, end.month, 1)
        for _ in range(k - 1):
            first = dt.date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
        earlier.append(first - dt.timedelta(days=1))
    for when in earlier:
        t = time.perf_counter()
        score_job(ws, as_of=when, data=data)
        mark(f"score {when}", t)
    t = time.perf_counter()
    scored = score_job(ws, data=data)
    mark("score", t, rows=len(scored.scores))
    for name, run in (("value", _value), ("reasons", _reasons), ("plan", _plan)):
        t = time.perf_counter()
        try:
            run(ws, data)
        except Exception as exc:  # recorded, not hidden: the web shows what exists
            phases[name] = {"error": f"{type(exc).__name__}: {exc}"[:400],
                            "seconds": time.perf_counter() - t}
            log(f"    {name} FAILED: {exc}")
            continue
        mark(name, t)
    return {"seconds": time.perf_counter() - t0, "phases": phases, "rows": rows,
            "as_of": str(as_of), "workspace_bytes": _dir_bytes(root)}


def _value(ws: Any, data: Any) -> None:
    from churnradar.value.jobs import value_job

    value_job(ws, data=data)


def _reasons(ws: Any, data: Any) -> None:
    from churnradar.reasons.jobs import reasons_job

    reasons_job(ws, data=data, evaluate=False)


def _plan(ws: Any, data: Any) -> None:
    from churnradar.retention.jobs import plan_job

    plan_job(ws, data=data)


def step_snapshot(cfg: dict[str, Any]) -> dict[str, Any]:
    """Build the web snapshot afresh (older ones of this workspace are removed first),
    then open it as the server does."""
    from churnradar.web.store import Snapshot, build_snapshot, sources
    from churnradar.workspace import Workspace

    ws = Workspace.open(cfg["workspace"])
    for old in ws.runs_dir.glob("*-web*"):
        shutil.rmtree(old, ignore_errors=True)
    t0 = time.perf_counter()
    folder = build_snapshot(ws, sources(ws))
    build_seconds = time.perf_counter() - t0
    build_peak = peak_rss_mib()
    rss0 = rss_mib()
    t = time.perf_counter()
    snap = Snapshot.open(folder)
    open_seconds = time.perf_counter() - t
    with snap.cursor() as cur:
        n = cur.execute("SELECT count(*), count(churn_probability) FROM customers").fetchone()
    out = {"seconds": build_seconds, "build_seconds": build_seconds,
           "build_peak_rss_mib": build_peak, "open_seconds": open_seconds,
           "open_rss_growth_mib": rss_mib() - rss0, "folder": str(folder),
           "columns": len(snap.columns), "rows": int(n[0]), "active": int(n[1]),
           "customers_parquet_bytes": (folder / "customers.parquet").stat().st_size,
           "history_bytes": {p.stem: p.stat().st_size
                             for p in sorted((folder / "history").glob("*.arrow"))},
           "customers_arrow_bytes": (folder / "customers.arrow").stat().st_size,
           "snapshot_bytes": _dir_bytes(folder),
           "order_bytes": sum(p.stat().st_size for p in (folder / "order").glob("*.npy")),
           "table_bytes": snap.rows.table.nbytes}
    snap.close()
    return out


def step_users(cfg: dict[str, Any]) -> dict[str, Any]:
    """A manager and a sales user (owning the most customers), each with a new token."""
    import duckdb

    from churnradar.web.accounts import create_user, get_user, issue_token
    from churnradar.web.db import open_database, session_scope

    t0 = time.perf_counter()
    folder = Path(cfg["snapshot"])
    con = duckdb.connect()
    owner, owned, active = con.execute(
        "SELECT owner_id, count(*), count(churn_probability) FROM read_parquet(?) "
        "WHERE owner_id IS NOT NULL GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 1",
        [str(folder / "customers.parquet")]).fetchone()
    con.close()
    engine = open_database(cfg["workspace"])
    users = {"manager": {"name": "bench_mia", "role": "manager", "owner_id": None},
             "sales": {"name": "bench_sam", "role": "sales", "owner_id": owner}}
    with session_scope(engine) as s:
        for u in users.values():
            if get_user(s, name=u["name"]) is None:
                create_user(s, name=u["name"], role=u["role"], password=PASSWORD,
                            owner_id=u["owner_id"])
    for u in users.values():
        with session_scope(engine) as s:
            u["token"] = issue_token(s, name=u["name"])
        u["password"] = PASSWORD
    engine.dispose()
    return {"seconds": time.perf_counter() - t0, "users": users, "sales_owner": owner,
            "sales_customers": int(owned), "sales_active": int(active)}


def _pick_params(snapshot: Path, sales_owner: str, seed: int) -> dict[str, Any]:
    """Random customers (of everybody and of the sales owner) and filter values."""
    import duckdb

    con = duckdb.connect()
    path = str(snapshot / "customers.parquet")
    con.execute(f"CREATE VIEW c AS SELECT * FROM read_parquet('{path}')")
    cols = {r[0] for r in con.execute("DESCRIBE c").fetchall()}
    active = "churn_probability IS NOT NULL" if "churn_probability" in cols else "TRUE"
    con.execute(f"SELECT setseed({(seed % 1000) / 1000})")
    every = [r[0] for r in con.execute(
        f"SELECT customer_id FROM c WHERE {active} USING SAMPLE 5000 ROWS").fetchall()]
    mine = [r[0] for r in con.execute(
        f"SELECT customer_id FROM c WHERE owner_id = ? AND {active}",
        [sales_owner]).fetchall()]
    gone = [r[0] for r in con.execute(
        "SELECT customer_id FROM c WHERE churn_probability IS NULL USING SAMPLE 500 ROWS"
    ).fetchall()] if "churn_probability" in cols else []
    filters = {col: [r[0] for r in con.execute(
        f"SELECT DISTINCT CAST({col} AS VARCHAR) FROM c WHERE {col} IS NOT NULL").fetchall()]
        for col in FILTER_COLUMNS if col in cols}
    total = con.execute(f"SELECT count(*) FROM c WHERE {active}").fetchone()[0]
    con.close()
    return {"every": every, "mine": mine, "gone": gone, "filters": filters,
            "active": int(total), "sorts": [s for s in SORTS if s in cols]}


def step_load(cfg: dict[str, Any]) -> dict[str, Any]:
    """``clients`` threads, each with its own httpx client (keep-alive), for ``duration``
    seconds after ``warmup`` seconds whose requests are not counted."""
    import random
    import re
    import threading

    import httpx

    base = cfg["base_url"]
    params = _pick_params(Path(cfg["snapshot"]), cfg["sales_owner"], cfg["seed"])
    groups = [g for g in GROUPS if g[0] in cfg["groups"]]
    names = [g[0] for g in groups]
    weights = [g[2] for g in groups]
    per_page = 50
    results: list[list[tuple[str, float, int, int, float]]] = []
    failures: list[str] = []
    stop_at = [0.0]
    count_from = [0.0]
    started_at = [0.0]

    def start_clock() -> None:  # run once, when every client has signed in
        started_at[0] = time.perf_counter()
        count_from[0] = started_at[0] + cfg["warmup"]
        stop_at[0] = count_from[0] + cfg["duration"]

    barrier = threading.Barrier(cfg["clients"] + 1, action=start_clock)

    def sign_in(client: httpx.Client, user: dict[str, Any]) -> None:
        page = client.get("/login")
        m = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
        if m is None:
            raise RuntimeError(f"no CSRF field on /login ({page.status_code})")
        r = client.post("/login", data={"username": user["name"],
                                         "password": user["password"], "next": "/overview",
                                         "csrf_token": m.group(1)})
        if r.status_code != 303:
            raise RuntimeError(f"sign-in of {user['name']} answered {r.status_code}")

    def url_for(group: str, rng: random.Random, sales: bool) -> tuple[str, str]:
        """The URL of a request of ``group``, and the group it is counted in (a list
        page beyond the 10th counts in ``<group>_deep``)."""
        ids = params["mine"] if sales else params["every"]
        total = len(params["mine"]) if sales else params["active"]
        pages = max(1, -(-total // per_page))
        if group in ("customers", "api_customers"):
            # mostly the first pages (as people read lists), now and then anywhere
            page = rng.randint(1, min(10, pages)) if rng.random() < 0.7 else rng.randint(
                1, pages)
            q: dict[str, Any] = {"page": page}
            if rng.random() < 0.5:
                tier = rng.choice(list(TIER_SHARES))
                q["risk_tier"] = tier
                q["page"] = min(page, max(1, int(pages * TIER_SHARES[tier])))
            if rng.random() < 0.3 and params["filters"]:
                col = rng.choice(sorted(params["filters"]))
                q[col] = rng.choice(params["filters"][col])
                q["page"] = rng.randint(1, 3)
            if rng.random() < 0.4:
                q["sort"] = rng.choice(params["sorts"])
                if rng.random() < 0.5:
                    q["order"] = "desc"
            path = "/customers" if group == "customers" else "/api/v1/customers"
            return (path + "?" + "&".join(f"{k}={v}" for k, v in q.items()),
                    group + "_deep" if q["page"] > DEEP_PAGE else group)
        if group in ("customer", "api_customer"):
            cid = rng.choice(ids)
            return (f"/customers/{cid}" if group == "customer"
                    else f"/api/v1/customers/{cid}"), group
        return {"overview": "/overview", "segments": "/segments",
                "api_metrics": "/api/v1/metrics"}[group], group

    def worker(i: int) -> None:
        rng = random.Random(cfg["seed"] * 1000 + i)
        sales = i % 4 == 3  # a quarter of the clients are the sales user
        user = cfg["users"]["sales" if sales else "manager"]
        mine: list[tuple[str, float, int, int, float]] = []
        results.append(mine)
        page_client = httpx.Client(base_url=base, timeout=60.0,
                                   headers={"Accept": "text/html"})
        api_client = httpx.Client(base_url=base, timeout=60.0,
                                  headers={"Authorization": f"Bearer {user['token']}"})
        try:
            sign_in(page_client, user)
        except Exception as exc:
            failures.append(f"client {i}: {exc}")
        barrier.wait()
        try:
            while True:
                now = time.perf_counter()
                if now >= stop_at[0]:
                    break
                group = rng.choices(names, weights)[0]
                kind = dict((g[0], g[1]) for g in groups)[group]
                url, counted = url_for(group, rng, sales)
                client = page_client if kind == "page" else api_client
                t = time.perf_counter()
                try:
                    r = client.get(url)
                    status, size = r.status_code, len(r.content)
                except httpx.HTTPError as exc:
                    status, size = -1, 0
                    if len(failures) < 50:
                        failures.append(f"{url}: {type(exc).__name__}: {exc}")
                ms = (time.perf_counter() - t) * 1000
                if status != 200 and len(failures) < 50:
                    failures.append(f"{url}: HTTP {status}")
                if t >= count_from[0]:
                    mine.append((counted, ms, status, size, t))
        finally:
            page_client.close()
            api_client.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(cfg["clients"])]
    for th in threads:
        th.start()
    cpu0 = time.process_time()
    barrier.wait()  # every client signed in: the clock starts
    start = started_at[0]
    for th in threads:
        th.join()
    ended = time.perf_counter()
    client_cpu = time.process_time() - cpu0
    window = ended - count_from[0]
    rows = [r for part in results for r in part]
    out_groups: dict[str, Any] = {}
    for name in [n for n in GROUP_ORDER if n in {r[0] for r in rows}]:
        mine = [r for r in rows if r[0] == name]
        ms = sorted(r[1] for r in mine)
        out_groups[name] = {
            "requests": len(mine), "errors": sum(1 for r in mine if r[2] != 200),
            "statuses": {str(s): sum(1 for r in mine if r[2] == s)
                         for s in sorted({r[2] for r in mine})},
            "rps": len(mine) / window if window > 0 else 0.0,
            "p50_ms": _percentile(ms, 0.50), "p95_ms": _percentile(ms, 0.95),
            "p99_ms": _percentile(ms, 0.99), "max_ms": ms[-1] if ms else float("nan"),
            "mean_ms": statistics.fmean(ms) if ms else float("nan"),
            "mean_bytes": statistics.fmean(r[3] for r in mine) if mine else 0.0,
        }
    every = sorted(r[1] for r in rows)
    # throughput over time (per 10 s), to see whether it was steady
    buckets: dict[int, int] = {}
    for r in rows:
        b = int((r[4] - count_from[0]) // 10)
        buckets[b] = buckets.get(b, 0) + 1
    return {"seconds": ended - start, "window_seconds": window, "groups": out_groups,
            "requests": len(rows), "errors": sum(1 for r in rows if r[2] != 200),
            "rps": len(rows) / window if window > 0 else 0.0,
            "p50_ms": _percentile(every, 0.5), "p95_ms": _percentile(every, 0.95),
            "p99_ms": _percentile(every, 0.99), "failures": failures[:50],
            "client_cpu_seconds": client_cpu,
            "per_10s": [buckets.get(i, 0) for i in range(max(buckets, default=-1) + 1)],
            "sampled": {"customers": len(params["every"]), "sales_customers":
                        len(params["mine"]), "active": params["active"],
                        "filters": {k: len(v) for k, v in params["filters"].items()}}}


def step_naive(cfg: dict[str, Any]) -> dict[str, Any]:
    """What one request costs without the snapshot (pandas over the workspace's tables)
    and with it (the snapshot's queries, in process, no HTTP)."""
    import random

    import pandas as pd

    from churnradar.predict.jobs import latest_run
    from churnradar.web.store import Snapshot
    from churnradar.workspace import Workspace

    ws = Workspace.open(cfg["workspace"])
    scores = latest_run(ws, "predict-score")
    assert scores is not None
    owner = cfg["sales_owner"]
    reps = int(cfg["naive_repeat"])
    out: dict[str, Any] = {}

    def timed(fn: Any, n: int) -> dict[str, Any]:
        times = []
        result = None
        for _ in range(n):
            t = time.perf_counter()
            result = fn()
            times.append((time.perf_counter() - t) * 1000)
        return {"ms": statistics.median(times), "all_ms": times, "result": result}

    def naive_list(owner_id: str | None) -> Any:
        cust = pd.read_parquet(ws.table_path("customers"))
        sc = pd.read_parquet(scores / "scores.parquet")
        df = cust.merge(sc, on="customer_id", how="inner")
        df = df[df["risk_tier"] == "high"]
        if owner_id is not None:
            df = df[df["owner_id"] == owner_id]
        total = len(df)
        page = df.sort_values(["risk_rank", "customer_id"]).iloc[:50]
        return total, page.to_dict(orient="records")

    snap = Snapshot.open(Path(cfg["snapshot"]))
    with snap.cursor() as cur:
        ids = [r[0] for r in cur.execute(
            "SELECT customer_id FROM customers WHERE churn_probability IS NOT NULL "
            "USING SAMPLE 200 ROWS").fetchall()]
    rng = random.Random(0)

    def naive_customer() -> Any:
        cid = rng.choice(ids)
        cust = pd.read_parquet(ws.table_path("customers"))
        sc = pd.read_parquet(scores / "scores.parquet")
        row = cust[cust["customer_id"] == cid].merge(sc[sc["customer_id"] == cid],
                                                   on="customer_id", how="left")
        tx = pd.read_parquet(ws.table_path("transactions"))
        hist = tx[tx["customer_id"] == cid].sort_values("date")
        return row.to_dict(orient="records"), hist.to_dict(orient="records")

    def snap_customer() -> Any:
        cid = rng.choice(ids)
        return snap.customer(cid, owner_id=None), snap.history("transactions", cid)

    rss0 = rss_mib()
    out["naive_list_all"] = timed(lambda: naive_list(None), reps)
    out["naive_list_owner"] = timed(lambda: naive_list(owner), reps)
    out["naive_customer"] = timed(naive_customer, reps)
    out["naive_peak_rss_mib"] = peak_rss_mib()
    out["snapshot_list_all"] = timed(
        lambda: snap.customers(owner_id=None, risk_tier="high", page=1), 50)
    out["snapshot_list_owner"] = timed(
        lambda: snap.customers(owner_id=owner, risk_tier="high", page=1), 50)
    out["snapshot_customer"] = timed(snap_customer, 50)
    # the results must agree: same total and same first page of customers
    a, b = out["naive_list_all"]["result"], out["snapshot_list_all"]["result"]
    out["agree_all"] = (a[0] == b.total
                        and [r["customer_id"] for r in a[1]] == [r["customer_id"]
                                                                 for r in b.rows])
    a, b = out["naive_list_owner"]["result"], out["snapshot_list_owner"]["result"]
    out["agree_owner"] = (a[0] == b.total
                          and [r["customer_id"] for r in a[1]] == [r["customer_id"]
                                                                   for r in b.rows])
    for k in list(out):
        if isinstance(out[k], dict):
            out[k].pop("result", None)
    snap.close()
    out["seconds"] = sum(sum(v["all_ms"]) for v in out.values()
                         if isinstance(v, dict)) / 1000
    out["rss_before_mib"] = rss0
    return out


def step_profile(cfg: dict[str, Any]) -> dict[str, Any]:
    """cProfile of each route group, in process and in one thread: the app is called
    through httpx's ASGI transport with FastAPI's thread pool replaced by a direct call,
    so that the profile sees the route's own work (no concurrency)."""
    import asyncio
    import cProfile
    import io
    import pstats
    import random
    import re

    import anyio.to_thread
    import httpx

    from churnradar.web.app import create_app
    from churnradar.web.config import WebSettings

    async def inline(func: Any, *args: Any, **_kw: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    app = create_app(cfg["workspace"], WebSettings(secret_key="p" * 48))
    params = _pick_params(Path(cfg["snapshot"]), cfg["sales_owner"], cfg["seed"])
    user = cfg["users"]["manager"]
    rng = random.Random(1)
    out: dict[str, Any] = {"seconds": 0.0, "groups": {}}

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            page = await client.get("/login")
            m = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
            assert m is not None
            await client.post("/login", data={
                "username": user["name"], "password": user["password"], "next": "/",
                "csrf_token": m.group(1)})
            for group in cfg["groups"]:
                urls = []
                for _ in range(int(cfg["profile_requests"])):
                    if group in ("customer", "api_customer"):
                        cid = rng.choice(params["every"])
                        urls.append(("/customers/" if group == "customer"
                                     else "/api/v1/customers/") + cid)
                    elif group == "customers":
                        urls.append(f"/customers?page={rng.randint(1, 10)}")
                    elif group == "api_customers":
                        urls.append(f"/api/v1/customers?page={rng.randint(1, 10)}")
                    else:
                        urls.append(PROBES[group])
                headers = ({"Authorization": f"Bearer {user['token']}"}
                           if group.startswith("api") else {"Accept": "text/html"})
                await client.get(urls[0], headers=headers)  # warm
                prof = cProfile.Profile()
                t = time.perf_counter()
                prof.enable()
                for u in urls:
                    await client.get(u, headers=headers)
                prof.disable()
                seconds = time.perf_counter() - t
                buf = io.StringIO()
                stats = pstats.Stats(prof, stream=buf)
                stats.sort_stats("cumulative").print_stats(45)
                stats.sort_stats("tottime").print_stats(25)
                out["groups"][group] = {"ms_per_request": seconds / len(urls) * 1000,
                                        "top": buf.getvalue()}
                out["seconds"] += seconds

    asyncio.run(run())
    app.state.engine.dispose()
    return out


STEPS = {"build": step_build, "snapshot": step_snapshot, "users": step_users,
         "load": step_load, "naive": step_naive, "profile": step_profile}


def child_main(argv: list[str]) -> int:
    step, config, result = argv
    cfg = json.loads(Path(config).read_text(encoding="utf-8"))
    load = os.getloadavg()
    rss_before = rss_mib()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    out = STEPS[step](cfg)
    out.update(step=step, peak_rss_mib=peak_rss_mib(), rss_after_imports_mib=rss_before,
               loadavg_at_start=load, loadavg_at_end=os.getloadavg(), started=started)
    Path(result).write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")
    return 0


# ================================================================================ runner
def ensure_workspace(args: argparse.Namespace, base: Path, work: Path) -> dict[str, Any]:
    ws = base / "workspace"
    key = {"customers": args.customers, "seed": args.seed, "train_rows": args.train_rows,
           "observation_months": args.observation_months,
           "risk_history": args.risk_history, "memory_limit": args.memory_limit}
    marker = base / "build.json"
    if marker.is_file() and (ws / "churnradar.toml").is_file():
        built = json.loads(marker.read_text(encoding="utf-8"))
        if built.get("key") == key:
            log(f"build: cached in {ws} (took {built['seconds']:.0f} s)")
            built["cached"] = True
            return built
    log(f"build: {args.customers:,} customers into {ws} (this takes a while)")
    marker.unlink(missing_ok=True)
    built = run_child(SCRIPT, "build", dict(key, workspace=str(ws)), work, "build")
    if "error" in built:
        raise SystemExit(f"building the workspace failed: {built['error']}")
    built["key"] = key
    marker.write_text(json.dumps(built, indent=1), encoding="utf-8")
    built["cached"] = False
    return built


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout: float = 5.0, headers: dict[str, str] | None = None) -> int:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 (localhost)
            r.read()
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return -1


class Server:
    """``churnradar serve`` in a subprocess, its log in ``work``."""

    def __init__(self, workspace: Path, work: Path, port: int, workers: int = 1):
        self.port = port
        self.workers = workers
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if k != "CHURNRADAR_DATABASE_URL"}
        env["CHURNRADAR_SECRET_KEY"] = secrets.token_urlsafe(48)
        self.log_path = work / "server.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.cmd = [*churnradar_command(), "serve", str(workspace),
                    *(["--workers", str(workers)] if workers > 1 else []),
                    "--host", "127.0.0.1", "--port", str(port)]
        t = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, cwd=REPO, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 900
        while (_get(self.url + "/healthz", 2.0) != 200 or self.log_path.read_bytes().count(
                b"Application startup complete") < workers):
            if self.proc.poll() is not None:
                raise SystemExit(f"the server stopped (exit {self.proc.returncode}); see "
                                 f"{self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("the server did not answer /healthz within 15 minutes")
            time.sleep(0.25)
        self.startup_seconds = time.perf_counter() - t

    def rss(self) -> float:
        """RSS of the server's processes, summed (MiB)."""
        return sum(_vm(p, "VmRSS:") for p in _tree(self.proc.pid))

    def pss(self) -> float:
        """Proportional set size of the server's processes, summed (MiB): pages shared
        by the workers (the mapped snapshot) counted once in all."""
        total = 0.0
        for p in _tree(self.proc.pid):
            try:
                for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) / 1024
            except (OSError, ValueError):
                continue
        return total

    def anon(self) -> list[float]:
        """Private (anonymous) RSS of each of the server's processes (MiB)."""
        return [_vm(p, "RssAnon:") for p in _tree(self.proc.pid)]

    def hwm(self) -> float:
        """The sum of the peak RSS of each of the server's processes (MiB)."""
        return sum(_vm(p, "VmHWM:") for p in _tree(self.proc.pid))

    def cpu(self) -> float:
        """CPU seconds of the server's processes (exited ones not counted)."""
        return sum(_cpu_seconds(p) for p in _tree(self.proc.pid))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def probe_groups(server: Server, users: dict[str, Any], sample_id: str) -> dict[str, int]:
    """Status of one request per route group (which routes exist yet)."""
    import http.cookiejar
    import re
    import urllib.parse

    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a: Any, **k: Any) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                         NoRedirect())
    with opener.open(server.url + "/login", timeout=30) as r:
        html = r.read().decode("utf-8")
    m = re.search(r'name="csrf_token" value="([^"]*)"', html)
    body = urllib.parse.urlencode({"username": users["manager"]["name"],
                                   "password": users["manager"]["password"], "next": "/",
                                   "csrf_token": m.group(1) if m else ""}).encode()
    try:
        opener.open(server.url + "/login", data=body, timeout=30)
    except urllib.error.HTTPError as exc:
        if exc.code != 303:
            raise SystemExit(f"sign-in failed: HTTP {exc.code}") from None
    out: dict[str, int] = {}
    token = {"Authorization": f"Bearer {users['manager']['token']}"}
    paths = dict(PROBES, customer=f"/customers/{sample_id}",
                 api_customer=f"/api/v1/customers/{sample_id}")
    for group, path in paths.items():
        req = urllib.request.Request(server.url + path, headers=(
            token if group.startswith("api") else {"Accept": "text/html"}))
        try:
            with opener.open(req, timeout=120) as r:
                r.read()
                out[group] = int(r.status)
        except urllib.error.HTTPError as exc:
            out[group] = int(exc.code)
    return out


# ================================================================================ report
def _ms(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{x:,.0f} ms" if x >= 100 else f"{x:.1f} ms"


def _mib(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{x:,.0f} MiB"


def _top_own(stats: str, requests: int, k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` functions with the most own time (``tottime``) in a pstats listing
    sorted by internal time, in ms per request, as ``module.py:line(function)``."""
    part = stats.split("Ordered by: internal time", 1)[-1]
    out: list[tuple[str, float]] = []
    for line in part.splitlines():
        cols = line.split(None, 5)
        if len(cols) < 6 or not cols[1].replace(".", "", 1).isdigit():
            continue
        where = cols[5]
        for cut in ("site-packages/", "/src/"):
            if cut in where:
                where = where.split(cut, 1)[1]
        out.append((where, float(cols[1]) / requests * 1000))
        if len(out) == k:
            break
    return out


def targets(load: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    rows: list[tuple[str, str, str, bool | None]] = []
    g = load.get("groups", {})
    for kind, label in (("page", "pages"), ("api", "API reads")):
        names = [n for n in GROUP_ORDER if KINDS[n] == kind and n in g and g[n]["requests"]]
        if not names:
            rows.append((f"p95 ≤ {TARGET_P95_MS:.0f} ms, {label}", f"≤ {TARGET_P95_MS:.0f} ms",
                         "not run", None))
            continue
        worst = max(names, key=lambda n: g[n]["p95_ms"])
        p95 = g[worst]["p95_ms"]
        rows.append((f"p95 ≤ {TARGET_P95_MS:.0f} ms, {label} (worst route group)",
                     f"≤ {TARGET_P95_MS:.0f} ms", f"{_ms(p95)} ({worst})",
                     p95 <= TARGET_P95_MS))
    errors = load.get("errors")
    rows.append(("zero errors (every answer 200)", "0",
                 "n/a" if errors is None else f"{errors:,}",
                 None if errors is None else errors == 0))
    return rows


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**PASS**" if ok else "**FAIL**")


def markdown(args: argparse.Namespace, r: dict[str, Any], now: str) -> tuple[str, str]:
    L: list[str] = []
    add = L.append
    mach, built, snap, users = r["machine"], r["build"], r["snapshot"], r["users"]
    load, server, naive = r["load"], r["server"], r.get("naive", {})
    add("## Web app under load (20 concurrent clients, 1,000,000 customers)"
        if args.customers == 1_000_000 and args.clients == 20 else
        f"## Web app under load ({args.clients} concurrent clients, "
        f"{args.customers:,} customers)")
    add("")
    add(f"The real server (`churnradar serve DIR`, started as a subprocess) answering "
        f"{args.clients} concurrent clients for {args.duration:.0f} s, pages and API reads "
        "mixed, on a workspace of the demo dealer data with every analysis the web shows. "
        "Latency is measured by the clients per request, from sending it to the last byte "
        "of the body. Written by `benchmarks/web_load.py`.")
    add("")
    add(f"- **Date**: {now}")
    add(f"- **Machine**: {mach['cpu']}, {mach['cores']} cores, {mach['ram']} RAM; "
        f"{mach['os']}; Python {mach['python']}")
    add(f"- **Versions**: {r['versions']}")
    code = r["code"]
    add(f"- **Code**: commit {code['commit']}"
        + (f" with uncommitted changes in {len(code['dirty'])} file(s) under src/"
           if code["dirty"] else "") + f" (src/ hash {code['hash']})")
    add("- **Load average** (1/5/15 min) at the start of the load: "
        + " / ".join(f"{x:.2f}" for x in load["loadavg_at_start"]) + "; at the end: "
        + " / ".join(f"{x:.2f}" for x in load["loadavg_at_end"])
        + " (the end counts the benchmark's own runnable threads: the server's and the "
          "clients')")
    ph = built["phases"]
    rows = built["rows"]
    add(f"- **Data**: {args.customers:,} customers ({snap['active']:,} active, i.e. scored), "
        f"{rows.get('transactions', 0):,} orders, {rows.get('complaints', 0):,} complaints, "
        f"{rows.get('churn_records', 0):,} churn records "
        f"(`make_demo_data(\"dealers\", seed={args.seed})`, as of {built['as_of']}); "
        f"workspace {built['workspace_bytes'] / 1024 ** 2:,.0f} MiB")
    tr = ph.get("train", {})
    done = [n for n in ("metrics", "score", "value", "reasons", "plan") if n in ph
            and "error" not in ph[n]]
    failed = [f"{n} ({ph[n]['error'][:120]})" for n in ("value", "reasons", "plan")
              if n in ph and "error" in ph[n]]
    add(f"- **Analyses** (built once, cached; {built['seconds']:.0f} s, peak RSS "
        f"{_mib(built['peak_rss_mib'])}{', cached' if built.get('cached') else ''}): "
        f"{', '.join(done)}. The risk model is trained on a **subsample** — "
        f"`max_training_rows = {args.train_rows:,}` over {args.observation_months} monthly "
        f"observation dates ({tr.get('rows', 0):,} rows) instead of the defaults "
        "(2,000,000 over 12), to keep the build short — and then **every** active customer "
        f"is scored; {args.risk_history} earlier month ends are scored too (risk over "
        f"time on the customer page). The workspace's `[engine] memory_limit` is "
        f"{args.memory_limit} (the default 1GB runs out of memory on the features of the "
        "complaints at this size)."
        + (f" Failed: {'; '.join(failed)}." if failed else ""))
    add("  Phases: " + ", ".join(
        f"{k} {v['seconds']:.0f} s" + (" (failed)" if "error" in v else "")
        for k, v in ph.items()) + ".")
    hist = ", ".join(f"{k} {v / 1024 ** 2:,.0f} MiB" for k, v in snap["history_bytes"].items())
    add(f"- **Snapshot** (`web.store.build_snapshot`, a fresh process): built in "
        f"**{snap['build_seconds']:.1f} s**, peak RSS **{_mib(snap['build_peak_rss_mib'])}**; "
        f"{snap.get('snapshot_bytes', 0) / 1024 ** 2:,.0f} MiB on disk in all: "
        f"customers.parquet {snap['customers_parquet_bytes'] / 1024 ** 2:,.0f} MiB and "
        f"customers.arrow (mapped) {snap.get('customers_arrow_bytes', 0) / 1024 ** 2:,.0f} MiB "
        f"({snap['rows']:,} rows × {snap['columns']} columns), sort orders "
        f"{snap.get('order_bytes', 0) / 1024 ** 2:,.0f} MiB, history files (Arrow, "
        f"mapped): {hist}. Opening it (the customer rows and the sort orders mapped) "
        f"takes {snap['open_seconds']:.1f} s and {_mib(snap['open_rss_growth_mib'])} of "
        f"RSS (the table: "
        f"{snap['table_bytes'] / 1024 ** 2:,.0f} MiB)")
    shown = " ".join(["churnradar", *server["cmd"][1:2], "DIR", *server["cmd"][3:-1], "P"])
    workers = int(r["args"].get("workers", 1))
    add(f"- **Server**: `CHURNRADAR_SECRET_KEY=… {shown}` — "
        + (f"{workers} Uvicorn worker processes ({workers / int(mach['cores'] or 1):g} per "
           "core) and their parent, each worker with the snapshot mapped"
           if workers > 1 else "one Uvicorn process")
        + " (uvloop, httptools), FastAPI's thread pool for the routes, app database SQLite "
        "(WAL) in the workspace, access log on (info); CPU and memory below are summed "
        "over the server's processes. Ready "
        f"(`/healthz` answers, every worker started) {server['startup_seconds']:.1f} s "
        "after start. Memory as PSS (pages the workers share, like the mapped snapshot, "
        f"counted once): {_mib(server.get('pss_idle_mib'))} idle, "
        f"{_mib(server.get('pss_end_mib'))} after the load; private memory per process "
        "after the load: " + ", ".join(_mib(x) for x in server.get("anon_end_mib", []))
        + f" (RSS summed per process, shared pages counted in each: "
        f"{_mib(server['rss_end_mib'])})")
    add(f"- **Clients**: {args.clients} threads in one separate process (httpx, keep-alive, "
        "one connection per client and credential): three quarters signed in as a manager "
        f"(all customers), one quarter as a sales user who owns {users['sales_active']:,} "
        "active customers (the largest owner); pages with the session cookie of a sign-in "
        "through the login form, API calls with a bearer token. Each client sends its next "
        "request as soon as the previous one is answered (closed loop, no think time), "
        f"picking the route group at random with weights "
        + ", ".join(f"{n} {w}" for n, _k, w in GROUPS if n in load["groups"])
        + f"; {args.warmup:.0f} s of warm-up not counted. List pages: 70% one of the first "
        "10 pages, 30% any page; half filtered by risk tier, 30% by a grade, region or "
        "segment value, 40% sorted by another column (half descending); customers at "
        "random among the active ones (the sales user's own).")
    span = load["window_seconds"] + args.warmup
    add(f"- **Two cores shared**: the load generator ran on the same 2-core machine and used "
        f"{load['client_cpu_seconds']:.0f} CPU-seconds in {span:.0f} s "
        f"(≈ {load['client_cpu_seconds'] / span:.2f} core); "
        f"the server used {server['cpu_seconds']:.0f} CPU-seconds in the same time "
        f"(≈ {server['cpu_seconds'] / span:.2f} core). The "
        "latencies include the time requests wait for a core the client holds: a server "
        "with the machine to itself answers faster.")
    add("")
    add("### Targets")
    add("")
    add("| target | required | measured | verdict |")
    add("|---|---|---|---|")
    tg = targets(load)
    for name, req, got, ok in tg:
        add(f"| {name} | {req} | {got} | {_verdict(ok)} |")
    add("")
    add(f"### Latency per route group ({load['window_seconds']:.0f} s measured)")
    add("")
    solo = r.get("solo", {}).get("groups", {})
    add("| route group | requests | req/s | p50 | p95 | p99 | max | errors | mean body | "
        "alone: p50 / p95 |")
    add("|---|---|---|---|---|---|---|---|---|---|")
    for name in GROUP_ORDER:
        g = load["groups"].get(name)
        if g is None:
            if name in r["probe"] and r["probe"][name] != 200:
                add(f"| {LABELS[name]} | not served (HTTP {r['probe'][name]}) | | | | | | | |")
            continue
        alone = solo.get(name)
        add(f"| {LABELS[name]} | {g['requests']:,} | {g['rps']:.1f} | {_ms(g['p50_ms'])} | "
            f"**{_ms(g['p95_ms'])}** | {_ms(g['p99_ms'])} | {_ms(g['max_ms'])} | "
            f"{g['errors']:,} | {g['mean_bytes'] / 1024:,.1f} KiB | "
            + (f"{_ms(alone['p50_ms'])} / {_ms(alone['p95_ms'])} ({alone['requests']})"
               if alone else "—") + " |")
    so = r.get("solo", {})
    add(f"| **all** | {load['requests']:,} | **{load['rps']:.1f}** | {_ms(load['p50_ms'])} | "
        f"{_ms(load['p95_ms'])} | {_ms(load['p99_ms'])} | | **{load['errors']:,}** | | "
        + (f"{_ms(so['p50_ms'])} / {_ms(so['p95_ms'])} ({so['rps']:.1f} req/s)"
           if so else "—") + " |")
    add("")
    add("*alone*: the same request mix from one client, no concurrency, "
        f"{args.solo_duration:.0f} s just before the load (requests in brackets): the "
        "latency of a request when it does not wait for others.")
    add("")
    add("Requests per 10 s over the measured window: "
        + ", ".join(str(x) for x in load["per_10s"]) + ".")
    cmp_ = r.get("compare")
    if cmp_ and "error" not in cmp_:
        add("")
        add(f"**Against `--workers {cmp_['workers']}`**, in the same run: the same clients and "
            f"mix for {cmp_['window_seconds']:.0f} s on a server started with "
            f"`--workers {cmp_['workers']}` (server CPU "
            f"{cmp_['server_cpu_seconds'] / (cmp_['window_seconds'] + args.warmup):.2f} "
            "core):")
        add("")
        add(f"| | `--workers {r['args'].get('workers', 1)}` (above) | "
            f"`--workers {cmp_['workers']}` | ratio |")
        add("|---|---|---|---|")
        add(f"| requests/s | {load['rps']:.1f} | {cmp_['rps']:.1f} | "
            f"{load['rps'] / max(cmp_['rps'], 1e-9):.2f}× |")
        for name in GROUP_ORDER:
            a, b = load["groups"].get(name), cmp_["groups"].get(name)
            if a and b:
                add(f"| p95, {LABELS[name]} | {_ms(a['p95_ms'])} | {_ms(b['p95_ms'])} | "
                    f"{b['p95_ms'] / max(a['p95_ms'], 1e-9):.2f}× |")
        add(f"| errors | {load['errors']:,} | {cmp_['errors']:,} | |")
    span = load["window_seconds"] + args.warmup
    cores = server["cpu_seconds"] / span if span else float("nan")
    cpu_ms = server["cpu_seconds"] * 1000 / max(1.0, load["rps"] * span)
    so = r.get("solo", {})
    mean_ms = sum(g["mean_ms"] * g["requests"] for g in load["groups"].values()) / max(
        1, load["requests"])
    add("")
    add(f"**Where the time goes.** The server is CPU-bound: it used {cores:.2f} of the 2 "
        f"cores, about **{cpu_ms:.0f} ms of CPU per request** on average over this mix. "
        "With closed-loop clients a request waits for the ones ahead of it, so the mean "
        f"latency is about clients × CPU per request ÷ cores = {args.clients} × "
        f"{cpu_ms:.0f} ms ÷ {cores:.2f} ≈ {args.clients * cpu_ms / cores:,.0f} ms (measured "
        f"mean {mean_ms:,.0f} ms)"
        + (f"; one client alone gets p50 {_ms(so['p50_ms'])}" if so else "")
        + f". A p95 of {TARGET_P95_MS:.0f} ms for {args.clients} such clients needs roughly "
        f"≤ {TARGET_P95_MS / 2 * cores / args.clients:.0f} ms of CPU per request, or more "
        "cores (workers, machines).")
    add("")
    add("**What made it faster** (the History below has each run): the lists are read from "
        "the customer rows in memory with sort orders stored in the snapshot and kept "
        "filter masks (`web/rows.py`), not by SQL `ORDER BY … OFFSET`, so a deep page "
        "costs what the first does; one customer's history is a slice of a memory-mapped "
        "Arrow file found by bisection, not a decoded Parquet row group; numbers are "
        "formatted by Babel-exact compiled formatters (~1 µs, Babel 5–20 µs); "
        "`--workers` puts both cores to work (one Python process computes on one core), "
        "with the snapshot mapped once for all of them; uvloop and httptools, and a plain "
        "ASGI middleware, cut the cost of each request around the route.")
    if load["failures"]:
        add("")
        add("First failures: " + "; ".join(f"`{f[:160]}`" for f in load["failures"][:10]))
    if naive and "error" not in naive:
        add("")
        add("### What the snapshot buys")
        add("")
        add("The same answers computed the naive way — per request, load the customers "
            "table and the newest scores with pandas, join, filter, sort and take the page; "
            "for a customer page, also read the whole transactions table and pick the "
            "customer's orders — next to the snapshot's own queries (the functions the "
            "routes call), both timed in one process without HTTP, and the HTTP p50 of the "
            "route, alone and under load, from the table above.")
        add("")
        add("| request | naive (pandas, per request) | snapshot (in process) | ratio | "
            "HTTP p50, alone | HTTP p50, under load |")
        add("|---|---|---|---|---|---|")
        lg = load["groups"]
        sg = r.get("solo", {}).get("groups", {})
        for label, a, b, group in (
                ("high-risk list, page 1, all customers", "naive_list_all",
                 "snapshot_list_all", "customers"),
                ("high-risk list, page 1, one owner's customers", "naive_list_owner",
                 "snapshot_list_owner", None),
                ("one customer: row + orders", "naive_customer", "snapshot_customer",
                 "customer")):
            na, sn = naive[a]["ms"], naive[b]["ms"]
            http = lg.get(group, {}).get("p50_ms") if group else None
            alone = sg.get(group, {}).get("p50_ms") if group else None
            add(f"| {label} | {_ms(na)} | {_ms(sn)} | **{na / sn:,.0f}×** | "
                f"{_ms(alone) if alone else '—'} | {_ms(http) if http else '—'} |")
        add("")
        add(f"The naive process peaked at {_mib(naive['naive_peak_rss_mib'])} of RSS (one "
            f"request at a time; 20 at once would need about 20 times that). The two ways "
            f"give the same lists (same totals and first pages: "
            f"{'yes' if naive['agree_all'] and naive['agree_owner'] else '**NO**'}). Naive "
            f"times are medians of {args.naive_repeat} runs, snapshot times of 50.")
    prof = r.get("profile")
    if prof and "error" not in prof:
        add("")
        add("### Profile (cProfile, in process, one request at a time)")
        add("")
        add("The app called through httpx's ASGI transport with FastAPI's thread pool "
            "replaced by a direct call, so that cProfile sees each route's own work "
            f"({args.profile_requests} requests per group; cProfile adds its overhead). "
            "The full profiles are in the raw results folder.")
        add("")
        n = max(1, int(getattr(args, "profile_requests", 30)))
        for group, p in prof["groups"].items():
            top = ", ".join(f"`{where}` {ms:.2g} ms" for where, ms in _top_own(p["top"], n))
            add(f"- {LABELS.get(group, group)}: **{p['ms_per_request']:.1f} ms** per request; "
                f"most own time in {top}")
    add("")
    add("### Reproduce")
    add("")
    add("```sh")
    add(".venv/bin/python benchmarks/web_load.py                                  # full")
    add(".venv/bin/python benchmarks/web_load.py --customers 50000 --duration 20  # quick")
    add("```")
    add("")
    add("Options: `--customers`, `--seed`, `--clients`, `--workers` (default two per "
        "core), `--compare-workers` (default 1; 0 skips), `--compare-duration`, "
        "`--duration`, `--warmup`, "
        "`--train-rows`, `--observation-months`, `--risk-history`, `--memory-limit`, "
        "`--solo-duration`, `--naive-repeat`, `--profile`, `--profile-requests`, "
        "`--build-only`, `--report RAW.json` (rewrite this section from saved results), "
        "`--out`, `--base` (the workspace is built once per size and settings "
        "and cached there; default `benchmarks/.data`, git-ignored; raw results in "
        "`<base>/web-load/`).")
    add("")
    add("### History")
    add("")
    L.extend(line for line in old_history(Path(args.out), SECTION)
             if not line.startswith(f"- {now} ·"))  # a re-rendered run replaces its line
    verdicts = " · ".join(f"{name.split(',')[-1].split('(')[0].strip()}: {got} "
                          f"{('PASS' if ok else 'FAIL') if ok is not None else 'n/a'}"
                          for name, _r, got, ok in tg)
    add(f"- {now} · {args.customers:,} customers · {args.clients} clients × "
        f"{args.duration:.0f} s · {load['rps']:.1f} req/s · p50 {_ms(load['p50_ms'])}, p95 "
        f"{_ms(load['p95_ms'])} · {verdicts} · load {load['loadavg_at_end'][0]:.2f}")
    summary = (f"{args.customers:,} customers, {args.clients} clients: {load['rps']:.0f} req/s, "
               + "; ".join(f"{got} {('PASS' if ok else 'FAIL') if ok is not None else 'n/a'}"
                           for _n, _r, got, ok in tg))
    return "\n".join(L), summary


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in STEPS:
        return child_main(argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--compare-workers", type=int, default=1,
                    help="also load a server with this many workers (0: skip)")
    ap.add_argument("--compare-duration", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1),
                    help="churnradar serve --workers (default: two per core, as "
                         "docs/en/web.md advises)")
    ap.add_argument("--duration", type=float, default=120.0, help="measured seconds")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds not counted")
    ap.add_argument("--train-rows", type=int, default=300_000,
                    help="max_training_rows of the risk model (a subsample)")
    ap.add_argument("--observation-months", type=int, default=6)
    ap.add_argument("--risk-history", type=int, default=2,
                    help="earlier month ends scored too (risk over time)")
    ap.add_argument("--memory-limit", default="4GB",
                    help="the workspace's [engine] memory_limit for the analyses (the "
                         "default 1GB runs out on the features of 1,000,000 dealers with "
                         "their complaints)")
    ap.add_argument("--solo-duration", type=float, default=30.0,
                    help="seconds of one client alone before the load (0 = skip)")
    ap.add_argument("--naive-repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true",
                    help="also profile each route group in process (cProfile)")
    ap.add_argument("--profile-requests", type=int, default=30)
    ap.add_argument("--build-only", action="store_true",
                    help="build (or find) the workspace and its snapshot, then stop")
    ap.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    ap.add_argument("--base", default=str(HERE / ".data"),
                    help="folder of the cached workspace and the raw results")
    ap.add_argument("--report", metavar="RAW.json",
                    help="only rewrite the section from the raw results of an earlier run")
    args = ap.parse_args(argv)
    if args.report:
        return rewrite_report(args)
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    now = started.strftime("%Y-%m-%d %H:%M UTC")
    code = source_state()
    base = Path(args.base).resolve() / f"web-{args.customers}-seed{args.seed}"
    work = Path(args.base).resolve() / "web-load" / stamp
    work.mkdir(parents=True, exist_ok=True)
    r: dict[str, Any] = {"machine": machine(), "code": code}
    versions = []
    for pkg in ("churnradar", "fastapi", "starlette", "uvicorn", "httpx", "duckdb", "jinja2",
                "plotly", "sqlalchemy"):
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{pkg} (not installed)")
    r["versions"] = ", ".join(versions)
    r["build"] = ensure_workspace(args, base, work)
    if args.build_only:
        return 0
    ws = base / "workspace"
    log("snapshot: build and open")
    r["snapshot"] = run_child(SCRIPT, "snapshot", {"workspace": str(ws)}, work, "snapshot")
    if "error" in r["snapshot"]:
        raise SystemExit(f"the snapshot failed: {r['snapshot']['error']}")
    snapshot = r["snapshot"]["folder"]
    log("users and tokens")
    r["users"] = run_child(SCRIPT, "users", {"workspace": str(ws), "snapshot": snapshot},
                           work, "users")
    if "error" in r["users"]:
        raise SystemExit(f"creating the users failed: {r['users']['error']}")
    users = r["users"]["users"]
    log("server: start")
    server = Server(ws, work, free_port(), args.workers)
    try:
        log(f"  ready in {server.startup_seconds:.1f} s at {server.url} "
            f"(RSS {server.rss():,.0f} MiB)")
        sample = _first_active(Path(snapshot))
        r["probe"] = probe_groups(server, users, sample)
        log("  probes: " + ", ".join(f"{k} {v}" for k, v in r["probe"].items()))
        groups = [g for g, status in r["probe"].items() if status == 200]
        missing = [g for g in r["probe"] if g not in groups]
        if missing:
            log(f"  not served (left out of the load): {', '.join(missing)}")
        if not groups:
            raise SystemExit("no route group answers 200: nothing to load")
        if args.solo_duration > 0:
            log(f"solo: 1 client, {args.solo_duration:.0f} s (the latency without queueing)")
            r["solo"] = run_child(SCRIPT, "load", {
                "base_url": server.url, "snapshot": snapshot, "users": users,
                "sales_owner": r["users"]["sales_owner"], "clients": 1,
                "duration": args.solo_duration, "warmup": 2.0, "seed": args.seed + 1,
                "groups": groups}, work, "solo")
        rss_idle, pss_idle = server.rss(), server.pss()
        cpu0 = server.cpu()
        log(f"load: {args.clients} clients, {args.warmup:.0f} s warm-up + "
            f"{args.duration:.0f} s")
        r["load"] = run_child(SCRIPT, "load", {
            "base_url": server.url, "snapshot": snapshot, "users": users,
            "sales_owner": r["users"]["sales_owner"], "clients": args.clients,
            "duration": args.duration, "warmup": args.warmup, "seed": args.seed,
            "groups": groups}, work, "load")
        r["server"] = {"cmd": server.cmd, "startup_seconds": server.startup_seconds,
                       "rss_idle_mib": rss_idle, "rss_end_mib": server.rss(),
                       "hwm_end_mib": server.hwm(), "cpu_seconds": server.cpu() - cpu0,
                       "pss_idle_mib": pss_idle, "pss_end_mib": server.pss(),
                       "anon_end_mib": server.anon()}
    finally:
        server.stop()
    if "error" in r["load"]:
        raise SystemExit(f"the load step failed: {r['load']['error']}")
    ld = r["load"]
    for name, g in ld["groups"].items():
        log(f"  {name:14s} {g['requests']:6,d} req {g['rps']:6.1f}/s  p50 {g['p50_ms']:7.1f} "
            f"p95 {g['p95_ms']:7.1f} p99 {g['p99_ms']:7.1f} ms  errors {g['errors']}")
    log(f"  all {ld['requests']:,} requests, {ld['rps']:.1f}/s, errors {ld['errors']}")
    if args.compare_workers and args.compare_workers != args.workers:
        n = args.compare_workers
        log(f"compare: the same load on --workers {n}, {args.compare_duration:.0f} s")
        other = Server(ws, work, free_port(), n)
        try:
            cpu0 = other.cpu()
            r["compare"] = run_child(SCRIPT, "load", {
                "base_url": other.url, "snapshot": snapshot, "users": users,
                "sales_owner": r["users"]["sales_owner"], "clients": args.clients,
                "duration": args.compare_duration, "warmup": args.warmup,
                "seed": args.seed, "groups": groups}, work, "compare")
            r["compare"]["workers"] = n
            r["compare"]["server_cpu_seconds"] = other.cpu() - cpu0
        finally:
            other.stop()
        if "error" not in r["compare"]:
            worst = max(r["compare"]["groups"].values(), key=lambda g: g["p95_ms"])
            log(f"  {r['compare']['rps']:.1f}/s, worst p95 {worst['p95_ms']:.0f} ms, "
                f"errors {r['compare']['errors']}")
    log("naive: pandas per request vs the snapshot")
    r["naive"] = run_child(SCRIPT, "naive", {
        "workspace": str(ws), "snapshot": snapshot, "sales_owner": r["users"]["sales_owner"],
        "naive_repeat": args.naive_repeat}, work, "naive")
    if args.profile:
        log("profile: each route group in process")
        r["profile"] = run_child(SCRIPT, "profile", {
            "workspace": str(ws), "snapshot": snapshot, "users": users,
            "sales_owner": r["users"]["sales_owner"], "seed": args.seed,
            "groups": groups, "profile_requests": args.profile_requests}, work, "profile")
        for group, p in r["profile"].get("groups", {}).items():
            (work / f"profile-{group}.txt").write_text(p["top"], encoding="utf-8")
        log(f"  profiles in {work}")
    for u in users.values():  # no secrets in the raw results
        u["token"] = "***"
    r["args"], r["now"] = dict(vars(args)), now
    raw = Path(args.base).resolve() / "web-load" / f"{stamp}.json"
    raw.write_text(json.dumps(r, indent=1, default=str), encoding="utf-8")
    text, summary = markdown(args, r, now)
    replace_section(args.out, SECTION, text, summary=summary)
    log(f"wrote section {SECTION} of {args.out}; raw results {raw}")
    for name, req, got, ok in targets(ld):
        log(f"{_verdict(ok).strip('*')}: {name} (required {req}, measured {got})")
    return 0


def rewrite_report(args: argparse.Namespace) -> int:
    """The section again from a raw results file (after a change of this report's text)."""
    path = Path(args.report)
    r = json.loads(path.read_text(encoding="utf-8"))
    saved = r.get("args") or {}
    ns = argparse.Namespace(**{**vars(args), **saved, "out": args.out, "report": None})
    now = r.get("now") or dt.datetime.strptime(path.stem, "%Y%m%dT%H%M%SZ").strftime(
        "%Y-%m-%d %H:%M UTC")
    if not saved:  # raw results of a run before the options were saved: the defaults
        ns.profile = "profile" in r
    text, summary = markdown(ns, r, now)
    replace_section(args.out, SECTION, text, summary=summary)
    log(f"rewrote section {SECTION} of {args.out} from {path}")
    return 0


def _first_active(snapshot: Path) -> str:
    """One active customer's id, read with a child interpreter (this process stays small)."""
    code = ("import duckdb,sys; print(duckdb.sql(\"SELECT customer_id FROM read_parquet('"
            + str(snapshot / "customers.parquet").replace("'", "''")
            + "') WHERE churn_probability IS NOT NULL LIMIT 1\").fetchall()[0][0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
