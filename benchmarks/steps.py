"""One benchmark step, run in a fresh process by benchmarks/run.py.

    python benchmarks/steps.py STEP CONFIG.json RESULT.json

The step's work is timed after the modules are imported; the process's peak resident set
size (``VmHWM`` of /proc/self/status, the high-water mark of this process's own memory;
``ru_maxrss`` would not do, it survives exec and starts at the parent's size) is read when
the work is done, so it covers the imports and the work of this process only. The result
(times, peak RSS, and for the metrics steps the paths of the tables they produced) is
written to RESULT.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
Config = dict[str, Any]
CSV_TABLES = ("customers", "transactions")


def _status_mib(key: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) / 1024  # kB
    return float("nan")  # pragma: no cover


def rss_mib() -> float:
    """Current resident set size (MiB)."""
    return _status_mib("VmRSS:")


def peak_rss_mib() -> float:
    """Peak resident set size of this process since its exec (MiB)."""
    return _status_mib("VmHWM:")


def _settings(cfg: Config) -> tuple[int, dt.date | None, float]:
    from churnradar.workspace import Workspace

    ws = Workspace.open(cfg["workspace"])
    ch = ws.settings.churn
    return ch.inactivity_days, ch.as_of, ws.settings.metrics.margin


def _save(df: Any, path: Path) -> str:
    df.to_parquet(path, index=False)
    return str(path)


# --- 1. generate --------------------------------------------------------------------
def step_generate(cfg: Config) -> dict[str, Any]:
    from churnradar.datasets import make_demo_data, write_demo_files
    from churnradar.datasets.demo import DemoData

    folder = Path(cfg["csv_dir"])
    t = time.perf_counter()
    data = make_demo_data(cfg["industry"], n_customers=cfg["customers"],
                          random_state=cfg["seed"])
    t_make = time.perf_counter() - t
    only = DemoData(industry=data.industry, as_of=data.as_of, start=data.start,
                    tables={k: data.tables[k] for k in CSV_TABLES}, planted=data.planted)
    t = time.perf_counter()
    paths = write_demo_files(only, folder)  # customers: Chinese headers, GB18030
    t_write = time.perf_counter() - t
    return {
        "seconds": t_make + t_write, "make_seconds": t_make, "write_seconds": t_write,
        "rows": {k: data.tables[k].num_rows for k in CSV_TABLES},
        "csv_bytes": {k: os.path.getsize(p) for k, p in paths.items()},
        "as_of": data.as_of.isoformat(), "start": data.start.isoformat(),
    }


# --- 2. import ----------------------------------------------------------------------
def step_import_churnradar(cfg: Config) -> dict[str, Any]:
    from churnradar.io import import_table
    from churnradar.workspace import Workspace

    root = Path(cfg["workspace"])
    shutil.rmtree(root, ignore_errors=True)
    ws = Workspace.create(root, language="en")
    ws.set_setting("churn", "as_of", dt.date.fromisoformat(cfg["as_of"]))
    ws.set_setting("churn", "inactivity_days", cfg["inactivity_days"])
    ws = Workspace.open(root)
    t0 = time.perf_counter()
    per: dict[str, float] = {}
    rows: dict[str, int] = {}
    for table in CSV_TABLES:
        t = time.perf_counter()
        res = import_table(ws, table, Path(cfg["csv_dir"]) / f"{table}.csv")
        per[table] = time.perf_counter() - t
        rows[table] = res.rows_imported
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "per_table": per, "rows": rows,
            "parquet_bytes": {k: os.path.getsize(ws.table_path(k)) for k in CSV_TABLES}}


def step_import_pandas(cfg: Config) -> dict[str, Any]:
    """(a) read_csv -> to_parquet, no validation, as an analyst converts the exports."""
    import pandas as pd

    from churnradar.datasets.files import CUSTOMER_HEADERS_ZH

    csv = Path(cfg["csv_dir"])
    out = Path(cfg["scratch"]) / "pandas-import"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    headers = {zh: en for en, zh in CUSTOMER_HEADERS_ZH[cfg["industry"]].items()}
    t0 = time.perf_counter()
    c = pd.read_csv(csv / "customers.csv", encoding="gb18030", dtype=str)
    c = c.rename(columns=headers)
    c["signup_date"] = pd.to_datetime(c["signup_date"])
    c["is_key_account"] = c["is_key_account"] == "是"
    c.to_parquet(out / "customers.parquet", index=False)
    del c
    t = pd.read_csv(csv / "transactions.csv", dtype={"customer_id": str, "transaction_id": str,
                                                     "product": str}, parse_dates=["date"])
    t.to_parquet(out / "transactions.parquet", index=False)
    return {"seconds": time.perf_counter() - t0}


def step_import_duckdb(cfg: Config) -> dict[str, Any]:
    """(b) DuckDB read_csv -> COPY TO parquet, no validation. DuckDB reads no GB18030, so
    the customers file is first re-encoded to UTF-8 in Python (counted)."""
    import duckdb

    from churnradar.datasets.files import CUSTOMER_HEADERS_ZH

    csv = Path(cfg["csv_dir"])
    out = Path(cfg["scratch"]) / "duckdb-import"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    con = duckdb.connect()
    t0 = time.perf_counter()
    utf8 = out / "customers.utf8.csv"
    with (open(csv / "customers.csv", encoding="gb18030") as src,
          open(utf8, "w", encoding="utf-8") as dst):
        shutil.copyfileobj(src, dst, 1 << 22)
    with open(utf8, encoding="utf-8") as fh:
        present = fh.readline().rstrip("\n").split(",")
    cols = ", ".join(
        f"\"{zh}\" = '是' AS {en}" if en == "is_key_account" else f'"{zh}" AS {en}'
        for en, zh in CUSTOMER_HEADERS_ZH[cfg["industry"]].items() if zh in present)
    con.execute(f"COPY (SELECT {cols} FROM read_csv('{utf8}')) "
                f"TO '{out / 'customers.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT * FROM read_csv('{csv / 'transactions.csv'}')) "
                f"TO '{out / 'transactions.parquet'}' (FORMAT parquet)")
    return {"seconds": time.perf_counter() - t0}


# --- 3./4. churnradar metrics ---------------------------------------------------------
def step_metrics_churnradar(cfg: Config) -> dict[str, Any]:
    from churnradar.metrics import compute_metrics
    from churnradar.workspace import Workspace

    ws = Workspace.open(cfg["workspace"])
    marks: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    res = compute_metrics(ws, period="month", dimensions=cfg.get("dimensions"),
                          progress=lambda name: marks.append((name, time.perf_counter() - t0)))
    seconds = time.perf_counter() - t0
    out = Path(cfg["out_prefix"])
    phases = {}
    for i, (name, at) in enumerate(marks):
        end = marks[i + 1][1] if i + 1 < len(marks) else seconds
        phases[name] = end - at
    return {"seconds": seconds, "phases": phases, "dimensions": sorted(res.by),
            "tables": {"overall": _save(res.overall, out.with_name(out.name + "-overall.parquet")),
                       "grade": _save(res.by["grade"],
                                      out.with_name(out.name + "-grade.parquet"))}}


def step_monthly_churnradar(cfg: Config) -> dict[str, Any]:
    """The monthly start/new/win-back/churned/end table through churnradar's own Ibis code
    path (lifecycle -> flows), as compute_metrics builds its ``overall`` counts."""
    from churnradar import engine
    from churnradar.lifecycle import build_lifecycle
    from churnradar.metrics.flows import flow_events, stock_table
    from churnradar.metrics.periods import period_index_of
    from churnradar.workspace import Workspace

    ws = Workspace.open(cfg["workspace"])
    t0 = time.perf_counter()
    eng = ws.settings.engine  # connect as compute_metrics does
    con = engine.connect(threads=eng.threads or None, memory_limit=eng.memory_limit or None)
    tables = engine.tables(con, ws)
    lc = build_lifecycle(tables, ws.settings.churn)
    events = flow_events(lc.spells, "month", None).to_pandas()
    # the first-period rule of metrics.compute._Computation
    warm = ws.settings.churn.inactivity_days if lc.business == "non_contractual" else 0
    p_hi = period_index_of(lc.as_of, "month")
    p_lo = min(period_index_of(lc.history_start + dt.timedelta(days=warm), "month") + 1, p_hi)
    df = stock_table(events, p_lo, p_hi, by_segment=False)
    seconds = time.perf_counter() - t0
    out = Path(cfg["out_prefix"])
    return {"seconds": seconds,
            "tables": {"overall": _save(df, out.with_name(out.name + "-overall.parquet"))}}


# --- 5. (b) DuckDB SQL ----------------------------------------------------------------
def step_monthly_sql(cfg: Config) -> dict[str, Any]:
    import duckdb
    from baselines import sql_monthly

    n, as_of, _ = _settings(cfg)
    tx = str(Path(cfg["workspace"]) / "data" / "transactions.parquet")
    t0 = time.perf_counter()
    con = duckdb.connect()
    df = sql_monthly(con, tx, n, as_of)
    seconds = time.perf_counter() - t0
    out = Path(cfg["out_prefix"])
    return {"seconds": seconds,
            "tables": {"overall": _save(df, out.with_name(out.name + "-overall.parquet"))}}


# --- 6. (a) pandas --------------------------------------------------------------------
def _pandas(cfg: Config, full: bool) -> dict[str, Any]:
    from baselines import DIM_COLUMNS, pandas_metrics

    n, as_of, margin = _settings(cfg)
    data = Path(cfg["workspace"]) / "data"
    t0 = time.perf_counter()
    res = pandas_metrics(str(data / "transactions.parquet"), str(data / "customers.parquet"),
                         inactivity_days=n, as_of=as_of, margin=margin, revenue=full,
                         dims=tuple(DIM_COLUMNS) if full else ())
    seconds = time.perf_counter() - t0
    out = Path(cfg["out_prefix"])
    return {"seconds": seconds,
            "tables": {k: _save(v, out.with_name(f"{out.name}-{k}.parquet"))
                       for k, v in res.items()}}


def step_metrics_pandas(cfg: Config) -> dict[str, Any]:
    return _pandas(cfg, full=True)


def step_monthly_pandas(cfg: Config) -> dict[str, Any]:
    return _pandas(cfg, full=False)


# --- verification ---------------------------------------------------------------------
def step_verify(cfg: Config) -> dict[str, Any]:
    """Compare the tables of the implementations: counts exactly, sums to 1e-6 relative."""
    import pandas as pd
    from baselines import COUNTS

    def month(label: str) -> int:
        y, m = label.split("-")
        return int(y) * 12 + int(m) - 1

    def load(path: str) -> pd.DataFrame:
        df = pd.read_parquet(path)
        if "p" not in df.columns:  # a churnradar MetricsResult table
            df["p"] = [month(x) for x in df["label"]]
        return df

    checks: list[dict[str, Any]] = []
    for ref_name, other_name, table, cols in cfg["comparisons"]:
        ref = load(cfg["tables"][ref_name][table])
        other = load(cfg["tables"][other_name][table])
        keys = ["segment", "p"] if table == "grade" else ["p"]
        m = ref.merge(other, on=keys, how="outer", suffixes=("", "_o"), indicator=True)
        problems: list[str] = []
        missing = m[m["_merge"] != "both"]
        if len(missing):
            problems.append(f"{len(missing)} rows only in one table, e.g. "
                            f"{missing[keys + ['_merge']].head(3).to_dict('records')}")
        m = m[m["_merge"] == "both"]
        for col in cols:
            a = m[col].astype("float64")
            b = m[f"{col}_o"].astype("float64")
            if col in COUNTS:
                bad = a != b
            else:
                bad = (a - b).abs() > 1e-6 * pd.concat([a.abs(), b.abs()], axis=1).max(axis=1)
                bad |= a.isna() != b.isna()
            if bad.any():
                row = m[bad].iloc[0]
                at = {k: row[k] for k in keys}
                problems.append(f"{col}: {int(bad.sum())} of {len(m)} rows differ, first at "
                                f"{at}: {row[col]!r} vs {row[col + '_o']!r}")
        checks.append({"ref": ref_name, "other": other_name, "table": table,
                       "rows": int(len(m)), "columns": list(cols), "ok": not problems,
                       "problems": problems})
    return {"seconds": 0.0, "checks": checks}


STEPS: dict[str, Callable[[Config], dict[str, Any]]] = {
    "generate": step_generate,
    "import_churnradar": step_import_churnradar,
    "import_pandas": step_import_pandas,
    "import_duckdb": step_import_duckdb,
    "metrics_churnradar": step_metrics_churnradar,
    "metrics_churnradar_grade": step_metrics_churnradar,
    "monthly_churnradar": step_monthly_churnradar,
    "monthly_sql": step_monthly_sql,
    "metrics_pandas": step_metrics_pandas,
    "monthly_pandas": step_monthly_pandas,
    "verify": step_verify,
}


def main(argv: list[str]) -> int:
    step, config, result = argv
    cfg = json.loads(Path(config).read_text(encoding="utf-8"))
    fn = STEPS[step]
    # import the step's modules before the clock starts (they are not part of the work)
    t = time.perf_counter()
    if "churnradar" in step or step in ("generate", "import_pandas", "import_duckdb"):
        import ibis.backends.duckdb  # noqa: F401  (loaded on first connect otherwise)

        import churnradar.io  # noqa: F401
        import churnradar.metrics  # noqa: F401
    if step.endswith(("pandas", "sql")) or step == "verify":
        import duckdb  # noqa: F401
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    import_seconds = time.perf_counter() - t
    rss_before = rss_mib()
    load = os.getloadavg()
    out = fn(cfg)
    out.update(step=step, peak_rss_mib=peak_rss_mib(), rss_after_imports_mib=rss_before,
               import_seconds=import_seconds, loadavg_at_start=load,
               process_seconds=time.perf_counter() - T0)
    Path(result).write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
