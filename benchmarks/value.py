"""churnradar value benchmark: the RFM summary of 10,000,000 transactions side by side with
DuckDB alone and lifetimes, and the BG/NBD and Pareto/NBD fits against lifetimes.

    .venv/bin/python benchmarks/value.py                          # the full run
    .venv/bin/python benchmarks/value.py --customers 100000 --transactions 1000000
    .venv/bin/python benchmarks/value.py --skip-lifetimes         # without the slow peer

(1) RFM summary: a synthetic transaction log (``--customers`` customers, exactly
``--transactions`` rows, a BG/NBD purchase process with Gamma-Gamma spend, some purchases
split over two rows of the same day) is generated once per size and seed and cached as
Parquet in --data-dir. Its summary (frequency, recency, T, monetary_value up to the last
day of the data, in days) is computed by ``churnradar.value.rfm_summary`` (Ibis on
DuckDB, reading the Parquet file), by one hand-written DuckDB SQL query, and by lifetimes'
``summary_data_from_transaction_data`` (pandas, after ``pandas.read_parquet``); the three
results are then compared.
(2) BG/NBD is fitted to that summary (in weeks) and (3) Pareto/NBD to the summary of the
whole CDNOW_master file shipped with lifetimes (23,570 customers, calibration to
1997-09-30, in weeks), by churnradar and by lifetimes; the parameters must agree to 1e-3.

Every measured step runs in a fresh process (this script, ``value.py STEP CONFIG RESULT``,
as benchmarks/predict.py runs predict_steps.py), so that its peak memory (``VmHWM``) is its
own; the modules are imported before the clock starts. Results go to section ``value`` of
BENCHMARKS.md (benchmarks/mdsections.py), raw numbers to --data-dir/value/*.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from mdsections import old_history, replace_section
from predict_steps import peak_rss_mib, rss_mib
from run import log, source_state

from predict import _err, _mib, _s, _verdict, header, run_child

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCRIPT = Path(__file__).resolve()
GIB = 1024.0
SECTION = "value"

#: targets of the issue
TARGET_RATIO_VS_SQL = 1.2
TARGET_RFM_MIB = 1 * GIB
TARGET_BGNBD_SECONDS = 1.1
TARGET_PARETO_SECONDS = 0.4
PARAM_RTOL = 1e-3
#: what the issue measured for the peers
ISSUE_NUMBERS = {"rfm_lifetimes": "13.6 s / 2.25 GiB", "rfm_duckdb": "2.4 s / 0.73 GiB",
                 "bgnbd_lifetimes": "~11 s", "paretonbd_lifetimes": "~4.3 s"}

#: the synthetic log: first purchases over the first two years, data to the end of the third
DATA_START, DATA_END, ACQUISITION_DAYS = dt.date(2022, 1, 1), dt.date(2024, 12, 31), 730
#: the purchase process (per day): BG/NBD rate ~ Gamma(r, alpha), drop-out ~ Beta(a, b);
#: spend per row ~ Gamma(p, nu), nu ~ Gamma(q, gamma) (Gamma-Gamma); rows split in two
PROCESS = {"r": 0.75, "alpha": 30.0, "a": 0.9, "b": 6.0, "p": 6.0, "q": 4.0, "gamma": 15.0,
           "split": 0.1}
CDNOW_CAL = dt.date(1997, 9, 30)
WEEK = 7.0
RFM_IMPLS = ("rfm_churnradar", "rfm_duckdb", "rfm_churnradar_inmemory", "rfm_lifetimes")
LABELS = {"rfm_churnradar": "churnradar `rfm_summary` (Ibis → DuckDB, memory_limit as the "
                            "workspace)",
          "rfm_churnradar_inmemory": "churnradar `rfm_summary`, in-memory DuckDB (no "
                                     "memory_limit)",
          "rfm_duckdb": "DuckDB alone (one SQL query)",
          "rfm_lifetimes": "lifetimes `summary_data_from_transaction_data` (pandas)",
          "churnradar": "churnradar", "lifetimes": "lifetimes"}
PARAMS = {"bgnbd": ("r", "alpha", "a", "b"), "paretonbd": ("r", "alpha", "s", "beta")}

SQL_SUMMARY = """
WITH days AS (
    SELECT customer_id, date AS d, SUM(amount) AS amt
    FROM read_parquet('{path}')
    WHERE customer_id IS NOT NULL AND date <= DATE '{end}'
    GROUP BY customer_id, date
)
SELECT customer_id,
       CAST(COUNT(*) - 1 AS DOUBLE) AS frequency,
       CAST(MAX(d) - MIN(d) AS DOUBLE) / {unit} AS recency,
       CAST(DATE '{end}' - MIN(d) AS DOUBLE) / {unit} AS "T",
       CASE WHEN COUNT(*) > 1
            THEN (SUM(amt) - arg_min(amt, d)) / CAST(COUNT(*) - 1 AS DOUBLE)
            ELSE 0.0 END AS monetary_value
FROM days
GROUP BY customer_id
ORDER BY customer_id
"""


# ============================================================================ child steps
def _simulate(n: int, seed: int, scale: float) -> dict[str, Any]:
    """Customers' purchase days and rows of the BG/NBD process; the rate is multiplied by
    ``scale``. Exact in continuous time: the repeat purchases of a customer are the first
    min(N, J) points of a Poisson process on the time left, N ~ Poisson(lambda L) of them
    in the window and J ~ Geometric(p) - 1 before the customer drops out; the first k of N
    uniform order statistics are S_j / (S_k + Gamma(N + 1 - k)) with S the sums of k
    exponentials."""
    import numpy as np

    pr = PROCESS
    rng = np.random.default_rng(seed)
    span = (DATA_END - DATA_START).days + 1
    birth = rng.integers(0, ACQUISITION_DAYS, n) + rng.random(n)  # time of the first purchase
    left = span - birth
    lam = rng.gamma(pr["r"], 1.0 / pr["alpha"], n) * scale
    drop = rng.beta(pr["a"], pr["b"], n)
    big_n = rng.poisson(lam * left)
    j = rng.geometric(drop) - 1
    k = np.minimum(big_n, j)
    owner = np.repeat(np.arange(n), k)
    csum = np.cumsum(rng.exponential(1.0, int(k.sum())))
    # S_1..S_k of each customer: the running sum restarted per customer
    start = np.cumsum(k) - k
    offset = np.where(start > 0, csum[np.maximum(start - 1, 0)] if len(csum) else 0.0, 0.0)
    s = csum - np.repeat(offset, k)
    s_k = np.zeros(n)
    s_k[k > 0] = s[(start + k - 1)[k > 0]]
    rest = rng.gamma(big_n + 1 - k, 1.0)  # S_{N+1} - S_k
    when = birth[owner] + left[owner] * s / (s_k + rest)[owner]
    cust = np.concatenate((np.arange(n), owner))
    day = np.floor(np.concatenate((birth, when))).astype(np.int32)
    day = np.minimum(day, span - 1)
    first = np.zeros(len(cust), dtype=bool)
    first[:n] = True
    # some purchases are two orders on the same day
    two = rng.random(len(cust)) < pr["split"]
    cust = np.concatenate((cust, cust[two]))
    day = np.concatenate((day, day[two]))
    first = np.concatenate((first, np.zeros(int(two.sum()), dtype=bool)))
    return {"cust": cust, "day": day, "first": first, "rng": rng}


def step_generate(cfg: dict[str, Any]) -> dict[str, Any]:
    """The synthetic transaction log as Parquet: exactly ``transactions`` rows; the rate
    scale is tuned on small pilot runs, then surplus repeat rows are thinned at random
    (thinning a Poisson process keeps it a Poisson process)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    n, target, seed = cfg["customers"], cfg["transactions"], cfg["seed"]
    t0 = time.perf_counter()
    scale, pilot = 1.0, min(n, 50_000)
    want = 1.02 * target / n  # rows per customer, with a little surplus to thin
    for i in range(4):
        got = len(_simulate(pilot, seed + 1000 + i, scale)["cust"]) / pilot
        scale *= max(want - 1.0, 1e-3) / max(got - 1.0, 1e-3)
    sim = _simulate(n, seed, scale)
    cust, day, first, rng = sim["cust"], sim["day"], sim["first"], sim["rng"]
    surplus = len(cust) - target
    if surplus < 0:
        raise SystemExit(f"the process gave {len(cust):,} rows, fewer than {target:,}")
    if surplus:
        repeat = np.flatnonzero(~first)
        drop = rng.choice(repeat, surplus, replace=False)
        keep = np.ones(len(cust), dtype=bool)
        keep[drop] = False
        cust, day = cust[keep], day[keep]
    nu = rng.gamma(PROCESS["q"], 1.0 / PROCESS["gamma"], n)
    amount = np.maximum(np.round(rng.gamma(PROCESS["p"], 1.0 / nu[cust]), 2), 0.01)
    order = np.lexsort((cust, day))  # a log is chronological
    cust, day, amount = cust[order], day[order], amount[order]
    ids = pa.array(np.char.add("C", np.char.zfill(np.arange(n).astype(str), 7)))
    epoch = (DATA_START - dt.date(1970, 1, 1)).days
    table = pa.table({
        "customer_id": pa.DictionaryArray.from_arrays(pa.array(cust.astype(np.int32)),
                                                      ids).dictionary_decode(),
        "date": pa.array((day + epoch).astype(np.int32), pa.int32()).cast(pa.date32()),
        "amount": pa.array(amount),
    })
    path = Path(cfg["path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    per = np.bincount(cust, minlength=n)
    return {"seconds": time.perf_counter() - t0, "rows": int(table.num_rows),
            "customers": int((per > 0).sum()), "rate_scale": scale, "thinned": int(surplus),
            "one_row_customers": int((per == 1).sum()), "max_rows": int(per.max()),
            "bytes": os.path.getsize(path), "start": DATA_START.isoformat(),
            "end": DATA_END.isoformat(), "process": PROCESS}


def _save(df: Any, path: str) -> str:
    df.to_parquet(path, index=False)
    return path


def step_rfm_churnradar(cfg: dict[str, Any]) -> dict[str, Any]:
    from churnradar import engine
    from churnradar.value.rfm import rfm_summary

    end = dt.date.fromisoformat(cfg["end"])
    t0 = time.perf_counter()
    con = engine.connect("duckdb", memory_limit=cfg.get("memory_limit") or None)
    tx = con.read_parquet(cfg["path"], table_name="transactions")
    out = rfm_summary(tx, calibration_end=end)
    seconds = time.perf_counter() - t0
    peak = peak_rss_mib()
    return {"seconds": seconds, "peak_rss_mib_work": peak, "rows": len(out),
            "output": _save(out, cfg["output"])}


def step_rfm_duckdb(cfg: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    out = con.sql(SQL_SUMMARY.format(path=cfg["path"], end=cfg["end"], unit=1.0)).df()
    seconds = time.perf_counter() - t0
    peak = peak_rss_mib()
    return {"seconds": seconds, "peak_rss_mib_work": peak, "rows": len(out),
            "output": _save(out, cfg["output"])}


def step_rfm_lifetimes(cfg: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    t0 = time.perf_counter()
    df = pd.read_parquet(cfg["path"])
    read = time.perf_counter() - t0
    out = summary_data_from_transaction_data(
        df, "customer_id", "date", monetary_value_col="amount",
        observation_period_end=cfg["end"], freq="D")
    seconds = time.perf_counter() - t0
    peak = peak_rss_mib()
    out = out.reset_index()
    return {"seconds": seconds, "read_seconds": read, "summary_seconds": seconds - read,
            "peak_rss_mib_work": peak, "rows": len(out), "output": _save(out, cfg["output"])}


def step_verify(cfg: dict[str, Any]) -> dict[str, Any]:
    """Compare the summaries: the same customers in the same order, frequency, recency and
    T equal, monetary_value to 1e-9 relative."""
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    ref = pd.read_parquet(cfg["reference"])
    out: dict[str, Any] = {"reference": cfg["reference_step"], "comparisons": {}}
    for name, path in cfg["others"].items():
        other = pd.read_parquet(path).sort_values("customer_id", kind="stable")
        res: dict[str, Any] = {"rows": [len(ref), len(other)]}
        same_ids = len(ref) == len(other) and bool(
            (ref["customer_id"].to_numpy() == other["customer_id"].to_numpy()).all())
        res["same_customers"] = same_ids
        ok = same_ids
        if same_ids:
            for col in ("frequency", "recency", "T", "monetary_value"):
                a = ref[col].to_numpy(np.float64)
                b = other[col].to_numpy(np.float64)
                diff = np.abs(a - b) / np.maximum(np.abs(a), 1e-12)
                res[col] = {"equal": int((a == b).sum()), "max_rel_diff": float(diff.max())}
                tol = 1e-9 if col == "monetary_value" else 0.0
                ok = ok and bool(diff.max() <= tol)
        res["agree"] = ok
        out["comparisons"][name] = res
    out["agree"] = all(r["agree"] for r in out["comparisons"].values())
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mib_work"] = peak_rss_mib()
    return out


def _fit_input(cfg: dict[str, Any]) -> Any:
    """The summary a model is fitted on (not timed): the synthetic summary from the
    churnradar RFM step, or the CDNOW_master summary, both in weeks."""
    import pandas as pd

    if cfg["data"] == "cdnow":
        from importlib import resources

        import ibis

        from churnradar.value.rfm import rfm_summary

        path = resources.files("lifetimes") / "datasets" / "CDNOW_master.txt"
        df = pd.read_csv(path, sep=r"\s+", header=None, skiprows=1,
                         names=["customer_id", "date", "cds", "amount"],
                         dtype={"customer_id": str, "date": str})
        df["date"] = pd.to_datetime(df["date"], format="%Y%m%d").dt.date
        return rfm_summary(ibis.memtable(df), calibration_end=CDNOW_CAL, time_unit_days=WEEK)
    summ = pd.read_parquet(cfg["summary"], columns=["customer_id", "frequency", "recency",
                                                   "T"])
    summ["recency"] /= WEEK
    summ["T"] /= WEEK
    return summ


def step_fit(cfg: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    model, impl = cfg["model"], cfg["impl"]
    if impl == "churnradar":
        try:
            if model == "bgnbd":
                from churnradar.value.bgnbd import BGNBDModel as Model
            else:
                from churnradar.value.paretonbd import ParetoNBDModel as Model
        except ImportError as exc:
            return {"seconds": float("nan"), "not_available": str(exc)}
    else:
        from lifetimes import BetaGeoFitter, ParetoNBDFitter
    summ = _fit_input(cfg)
    t0 = time.perf_counter()
    if impl == "churnradar":
        fitted = Model().fit(summ)
        params = {k: float(v) for k, v in fitted.params_.items()}
        ll = float(fitted.log_likelihood_)
    else:
        fitter = BetaGeoFitter() if model == "bgnbd" else ParetoNBDFitter()
        fitter.fit(summ["frequency"], summ["recency"], summ["T"])
        params = {k: float(v) for k, v in fitter.params_.items()}
    seconds = time.perf_counter() - t0
    if impl == "lifetimes":
        # lifetimes keeps the objective of its rescaled times; evaluate its own likelihood
        # at its parameters on the data as given (not timed)
        x, tx, age = (summ[c].to_numpy(np.float64) for c in ("frequency", "recency", "T"))
        ones = np.ones_like(x)
        theta = np.array([params[k] for k in PARAMS[model]])
        if model == "bgnbd":
            ll = -BetaGeoFitter._negative_log_likelihood(np.log(theta), x, tx, age, ones,
                                                         0.0) * len(x)
        else:
            ll = -ParetoNBDFitter._negative_log_likelihood(theta, x, tx, age, ones, 0.0)
        ll = float(ll)
    return {"seconds": seconds, "peak_rss_mib_work": peak_rss_mib(), "params": params,
            "log_likelihood": ll, "customers": len(summ),
            "repeat_buyers": int(np.count_nonzero(summ["frequency"].to_numpy()))}


STEPS = {"generate": step_generate, "rfm_churnradar": step_rfm_churnradar,
         "rfm_duckdb": step_rfm_duckdb, "rfm_lifetimes": step_rfm_lifetimes,
         "verify": step_verify, "fit": step_fit}
#: modules a step imports before its clock starts
STEP_IMPORTS = {
    "generate": ("numpy", "pyarrow.parquet"),
    "rfm_churnradar": ("ibis.backends.duckdb", "churnradar.engine", "churnradar.value.rfm"),
    "rfm_duckdb": ("duckdb", "pandas"),
    "rfm_lifetimes": ("pandas", "pyarrow.parquet", "lifetimes.utils"),
    "verify": ("pandas", "pyarrow.parquet"),
    "fit": ("numpy", "pandas", "scipy.optimize", "scipy.special", "ibis.backends.duckdb",
            "churnradar.value.rfm", "lifetimes"),
}


def child_main(argv: list[str]) -> int:
    """``value.py STEP CONFIG.json RESULT.json``: one step in this fresh process."""
    import importlib

    step, config, result = argv
    cfg = json.loads(Path(config).read_text(encoding="utf-8"))
    t = time.perf_counter()
    for name in STEP_IMPORTS[step]:
        importlib.import_module(name)
    import_seconds = time.perf_counter() - t
    rss_before = rss_mib()
    load = os.getloadavg()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    out = STEPS[step](cfg)
    out.update(step=step, peak_rss_mib=peak_rss_mib(), rss_after_imports_mib=rss_before,
               import_seconds=import_seconds, loadavg_at_start=load,
               loadavg_at_end=os.getloadavg(), started=started)
    Path(result).write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")
    return 0


# ============================================================================== runner
def ensure_data(args: argparse.Namespace, base: Path) -> dict[str, Any]:
    """Generate the transaction log unless this size and seed are cached."""
    path = base / "transactions.parquet"
    meta_path = base / "generate.json"
    if meta_path.is_file() and path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["cached"] = True
        log(f"generate: cached {path} ({meta['rows']:,} rows, took {meta['seconds']:.1f} s)")
        return meta
    log(f"generate: {args.customers:,} customers, {args.transactions:,} transactions, "
        f"seed {args.seed}")
    cfg = {"customers": args.customers, "transactions": args.transactions,
           "seed": args.seed, "path": str(path)}
    meta = run_child(SCRIPT, "generate", cfg, base / "logs", "generate")
    if "error" in meta:
        raise SystemExit(f"generating the transactions failed: {meta['error']}")
    meta_path.write_text(json.dumps(meta, indent=1), encoding="utf-8")  # written last
    meta["cached"] = False
    return meta


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median time (its own peak), the other times and the worst peak."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[-1] if runs else {"error": "not run"}
    ok.sort(key=lambda r: r["seconds"])
    best = dict(ok[(len(ok) - 1) // 2])
    best["all_seconds"] = [r["seconds"] for r in runs if "error" not in r]
    best["max_peak_rss_mib"] = max(r["peak_rss_mib"] for r in ok)
    best["errors"] = [r["error"] for r in runs if "error" in r]
    return best


def run_rfm(args: argparse.Namespace, base: Path, work: Path) -> dict[str, Any]:
    path = str(base / "transactions.parquet")
    out: dict[str, Any] = {}
    impls = [i for i in RFM_IMPLS if not (i == "rfm_lifetimes" and args.skip_lifetimes)]
    runs: dict[str, list[dict[str, Any]]] = {i: [] for i in impls}
    fast = [i for i in impls if i != "rfm_lifetimes"]
    # interleaved rounds, so that a change of load hits every implementation alike; the
    # order rotates, so that none always runs first; the slow peer once, at the end
    for rnd in range(args.repeat):
        order = fast[rnd % len(fast):] + fast[:rnd % len(fast)]
        if rnd == args.repeat - 1 and "rfm_lifetimes" in impls:
            order.append("rfm_lifetimes")
        for impl in order:
            limit = "" if impl == "rfm_churnradar_inmemory" else args.memory_limit
            cfg = {"path": path, "end": DATA_END.isoformat(),
                   "output": str(work / f"{impl}.parquet"), "memory_limit": limit}
            log(f"{impl}, round {rnd + 1}")
            step = "rfm_churnradar" if impl == "rfm_churnradar_inmemory" else impl
            runs[impl].append(run_child(SCRIPT, step, cfg, work, f"{impl}-{rnd + 1}"))
    for impl in impls:
        out[impl] = _median(runs[impl])
    # churnradar / DuckDB alone of each round (the two ran seconds apart, under about the
    # same load): their median is steadier than the ratio of the medians
    for impl, key in (("rfm_churnradar", ""), ("rfm_churnradar_inmemory", "_inmemory")):
        pairs = [(a["seconds"], b["seconds"]) for a, b in zip(runs[impl], runs["rfm_duckdb"],
                                                              strict=True)
                 if "error" not in a and "error" not in b]
        out[f"ratio_rounds{key}"] = [a / b for a, b in pairs]
        out[f"ratio{key}"] = statistics.median(out[f"ratio_rounds{key}"]) if pairs else None
    done = {i: out[i]["output"] for i in impls if "error" not in out[i]}
    if "rfm_duckdb" in done and len(done) > 1:
        others = {i: p for i, p in done.items() if i != "rfm_duckdb"}
        out["verify"] = run_child(SCRIPT, "verify", {"reference": done["rfm_duckdb"],
                                                     "reference_step": "rfm_duckdb",
                                                     "others": others}, work, "verify")
    return out


def run_fits(args: argparse.Namespace, rfm: dict[str, Any], work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    impls = ["churnradar"] + ([] if args.skip_lifetimes else ["lifetimes"])
    summary = rfm.get("rfm_churnradar", {}).get("output")
    for model, data in (("bgnbd", "synthetic"), ("paretonbd", "cdnow")):
        if (model == "bgnbd" and args.skip_bgnbd) or (model == "paretonbd"
                                                      and args.skip_paretonbd):
            continue
        if data == "synthetic" and not summary:
            out[model] = {"error": "the churnradar RFM summary is missing (step failed or "
                                   "--skip-rfm)"}
            continue
        out[model] = {}
        for impl in impls:
            reps = args.repeat if impl == "churnradar" else 1
            runs = []
            for rnd in range(reps):
                log(f"{model} fit, {impl}, round {rnd + 1}")
                cfg = {"model": model, "impl": impl, "data": data, "summary": summary}
                runs.append(run_child(SCRIPT, "fit", cfg, work, f"{model}-{impl}-{rnd + 1}"))
                if runs[-1].get("not_available"):
                    break
            out[model][impl] = _median(runs)
    return out


# --- report --------------------------------------------------------------------------------
def _ratio(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    if "error" in a or "error" in b or not b.get("seconds"):
        return None
    return a["seconds"] / b["seconds"]


def _rel(a: dict[str, float], b: dict[str, float]) -> float:
    return max(abs(a[k] - b[k]) / abs(b[k]) for k in b)


def targets(rfm: dict[str, Any], fits: dict[str, Any], customers: int
            ) -> list[tuple[str, str, str, bool | None]]:
    """(target, required, measured, verdict); the first word of each names its group."""
    rows: list[tuple[str, str, str, bool | None]] = []
    cr, sql = rfm.get("rfm_churnradar"), rfm.get("rfm_duckdb")
    if cr is not None and sql is not None:
        ratio = rfm.get("ratio")
        rows.append(("RFM summary: churnradar within 1.2× of DuckDB alone",
                     f"≤ {TARGET_RATIO_VS_SQL:.1f}×",
                     "n/a" if ratio is None else f"{ratio:.2f}×",
                     None if ratio is None else ratio <= TARGET_RATIO_VS_SQL))
    if cr is not None:
        peak = None if "error" in cr else cr["max_peak_rss_mib"]
        rows.append(("RFM summary: churnradar peak memory under 1 GiB",
                     f"< {TARGET_RFM_MIB:,.0f} MiB", _mib(peak),
                     None if peak is None else peak < TARGET_RFM_MIB))
    ver = rfm.get("verify")
    if ver is not None:
        ok = None if "error" in ver else ver["agree"]
        rows.append(("RFM summary: the three outputs agree", "identical (money 1e-9)",
                     "n/a" if ok is None else ("yes" if ok else "no"), ok))
    for model, limit in (("bgnbd", TARGET_BGNBD_SECONDS), ("paretonbd", TARGET_PARETO_SECONDS)):
        if model not in fits:
            continue
        name = (f"BG/NBD fit, {customers:,} customers" if model == "bgnbd"
                else "Pareto/NBD fit, CDNOW_master")
        r = fits[model]
        ours = r.get("churnradar", r) if isinstance(r, dict) else r
        if "error" in ours or ours.get("not_available"):
            got = "not available" if ours.get("not_available") else "failed"
            rows.append((f"{name}: churnradar time", f"≤ {limit} s", got, None))
            rows.append((f"{name}: parameters equal lifetimes'", f"≤ {PARAM_RTOL:g} relative",
                         got, None))
            continue
        rows.append((f"{name}: churnradar time", f"≤ {limit} s", _s(ours["seconds"]),
                     ours["seconds"] <= limit))
        theirs = r.get("lifetimes")
        if theirs is None or "error" in theirs:
            rows.append((f"{name}: parameters equal lifetimes'", f"≤ {PARAM_RTOL:g} relative",
                         "n/a (lifetimes not run)" if theirs is None else "lifetimes failed",
                         None))
        else:
            rel = _rel(ours["params"], theirs["params"])
            rows.append((f"{name}: parameters equal lifetimes'", f"≤ {PARAM_RTOL:g} relative",
                         f"{rel:.1e}", rel <= PARAM_RTOL))
    return rows


def _params(p: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.6g}" for k, v in p.items())


def markdown(args: argparse.Namespace, gen: dict[str, Any] | None, rfm: dict[str, Any],
             fits: dict[str, Any], head: list[str], now: str) -> tuple[str, str]:
    L: list[str] = []
    add = L.append
    add("## Customer value: RFM summary and BG/NBD / Pareto/NBD fits")
    add("")
    add("The RFM summary (frequency, recency, T, monetary value per customer, with the "
        "definitions of lifetimes / Fader-Hardie) of a synthetic transaction log, side by "
        "side with DuckDB alone and lifetimes, and the maximum-likelihood fits of the "
        "purchase models against lifetimes. Every step runs in a fresh process; peak memory "
        "is that process's high-water mark (VmHWM, imports included); times exclude the "
        "imports (listed below). Written by `benchmarks/value.py`.")
    add("")
    L.extend(head)
    if gen is not None:
        pr = gen["process"]
        add(f"- **Data**: {gen['rows']:,} transactions of {gen['customers']:,} customers "
            f"(seed {args.seed}), {gen['start']} to {gen['end']}, Parquet "
            f"{gen['bytes'] / 1024 ** 2:,.0f} MiB (zstd; customer_id text, date, amount). "
            f"Purchase process: first purchases uniform over the first "
            f"{ACQUISITION_DAYS} days; BG/NBD repeat purchases (rate ~ Gamma(r={pr['r']}, "
            f"alpha={pr['alpha']}/{gen['rate_scale']:.3f}) per day, drop-out after a purchase "
            f"~ Beta({pr['a']}, {pr['b']})), {pr['split']:.0%} of purchases split into two "
            f"rows of the same day, spend ~ Gamma-Gamma(p={pr['p']}, q={pr['q']}, "
            f"gamma={pr['gamma']}); {gen['one_row_customers']:,} customers with one row, at "
            f"most {gen['max_rows']:,} rows per customer; {gen['thinned']:,} surplus repeat "
            f"rows thinned at random to hit the row count; generated in "
            f"{gen['seconds']:.1f} s" + (" (cached)" if gen.get("cached") else ""))
    add(f"- **Summary**: up to {DATA_END} (calibration_end = the last day), in days. "
        "churnradar connects as the value job does: `engine.connect(\"duckdb\", "
        f"memory_limit=\"{args.memory_limit}\")` (the workspace default `[engine] "
        "memory_limit`: a temporary database file DuckDB may spill to), reads the Parquet "
        "file with `con.read_parquet` and calls `rfm_summary(tx, calibration_end=...)`, "
        "checks of the amounts included; it also runs on an in-memory DuckDB without a "
        "limit. DuckDB alone is `duckdb.connect()` + the SQL below + `.df()`. All cores; "
        f"median of {args.repeat} interleaved rounds, lifetimes once")
    add("")
    add("### Targets")
    add("")
    add("| target | required | measured | verdict |")
    add("|---|---|---|---|")
    tg = targets(rfm, fits, args.customers)
    for name, req, got, ok in tg:
        add(f"| {name} | {req} | {got} | {_verdict(ok)} |")
    add("")
    if rfm:
        add("### RFM summary")
        add("")
        add("| implementation | time | peak RSS | vs DuckDB alone | imports (not timed) | "
            "notes |")
        add("|---|---|---|---|---|---|")
        sql = rfm.get("rfm_duckdb", {"error": "not run"})
        for impl in RFM_IMPLS:
            r = rfm.get(impl)
            if r is None:
                continue
            if "error" in r:
                add(f"| {LABELS[impl]} | {_err(r)} | | | | |")
                continue
            key = {"rfm_churnradar": "ratio", "rfm_churnradar_inmemory": "ratio_inmemory"}
            ratio = rfm.get(key[impl]) if impl in key else _ratio(r, sql)
            times = ", ".join(f"{x:.2f}" for x in r["all_seconds"])
            note = f"rounds {times} s; load {r['loadavg_at_start'][0]:.2f} at the start"
            if impl == "rfm_lifetimes":
                note = (f"read_parquet {r['read_seconds']:.2f} s + summary "
                        f"{r['summary_seconds']:.2f} s; " + note)
            if impl in ISSUE_NUMBERS:
                note += f"; the issue measured {ISSUE_NUMBERS[impl]}"
            add(f"| {LABELS[impl]} | **{_s(r['seconds'])}** | **{_mib(r['max_peak_rss_mib'])}** "
                f"| {'—' if ratio is None else f'{ratio:.2f}×'} | {r['import_seconds']:.2f} s, "
                f"{r['rss_after_imports_mib']:,.0f} MiB | {note} |")
        add("")
        add("The churnradar rows' ratio is the median of the round-by-round ratios (each "
            "round runs the implementations back to back, in rotating order), steadier on a "
            "shared machine than the ratio of the medians; DuckDB alone: `"
            + " ".join(SQL_SUMMARY.split()) + "` (path and date filled in).")
        add("")
        for key, what in (("", "churnradar"), ("_inmemory", "churnradar in memory")):
            if rfm.get(f"ratio_rounds{key}"):
                add(f"- {what} ÷ DuckDB alone, round by round: "
                    + ", ".join(f"{x:.2f}" for x in rfm[f"ratio_rounds{key}"])
                    + f" (median {rfm[f'ratio{key}']:.2f}×)")
        ver = rfm.get("verify")
        if ver is not None and "error" not in ver:
            for name, c in ver["comparisons"].items():
                if not c["same_customers"]:
                    add(f"- {LABELS[name]} vs DuckDB alone: **different customers** "
                        f"({c['rows'][1]:,} vs {c['rows'][0]:,} rows)")
                    continue
                cols = "; ".join(
                    f"{col} {c[col]['equal']:,} equal, max relative difference "
                    f"{c[col]['max_rel_diff']:.1e}"
                    for col in ("frequency", "recency", "T", "monetary_value"))
                add(f"- {LABELS[name]} vs DuckDB alone: {c['rows'][0]:,} customers, "
                    f"{'**agree**' if c['agree'] else '**DIFFER**'} ({cols})")
        elif ver is not None:
            add(f"- comparison {_err(ver)}")
        add("")
    for model in ("bgnbd", "paretonbd"):
        if model not in fits:
            continue
        r = fits[model]
        title = ("BG/NBD on the synthetic summary (weeks)" if model == "bgnbd"
                 else f"Pareto/NBD on CDNOW_master (calibration to {CDNOW_CAL}, weeks)")
        add(f"### {title}")
        add("")
        if "error" in r:
            add(f"Not run: {r['error']}")
            add("")
            continue
        add("| implementation | fit time | peak RSS | parameters | log-likelihood | notes |")
        add("|---|---|---|---|---|---|")
        for impl, x in r.items():
            if x.get("not_available"):
                add(f"| {LABELS[impl]} | not available | | | | `churnradar.value."
                    f"{model}` could not be imported: {x['not_available'][:120]} |")
                continue
            if "error" in x:
                add(f"| {LABELS[impl]} | {_err(x)} | | | | |")
                continue
            times = ", ".join(f"{s:.2f}" for s in x["all_seconds"])
            note = (f"{x['customers']:,} customers ({x['repeat_buyers']:,} repeat buyers); "
                    f"rounds {times} s; load {x['loadavg_at_start'][0]:.2f}")
            if f"{model}_{impl}" in ISSUE_NUMBERS:
                note += f"; the issue measured {ISSUE_NUMBERS[f'{model}_{impl}']}"
            add(f"| {LABELS[impl]} | **{_s(x['seconds'])}** | {_mib(x['max_peak_rss_mib'])} | "
                f"{_params(x['params'])} | {x['log_likelihood']:,.2f} | {note} |")
        ours, theirs = r.get("churnradar", {}), r.get("lifetimes", {})
        if all("params" in x for x in (ours, theirs)):
            rel = {k: abs(ours["params"][k] - theirs["params"][k]) / abs(theirs["params"][k])
                   for k in theirs["params"]}
            add("")
            add("Relative difference of the parameters: " + ", ".join(
                f"{k} {v:.1e}" for k, v in rel.items())
                + f"; speed-up {theirs['seconds'] / ours['seconds']:.1f}×.")
        add("")
    add("### Reproduce")
    add("")
    add("```sh")
    add(".venv/bin/python benchmarks/value.py                                   # full")
    add(".venv/bin/python benchmarks/value.py --customers 100000 --transactions 1000000")
    add("```")
    add("")
    add("Options: `--customers`, `--transactions`, `--seed`, `--repeat`, `--memory-limit`, "
        "`--skip-rfm`, `--skip-bgnbd`, `--skip-paretonbd`, `--skip-lifetimes`, `--out`, "
        "`--data-dir` (the Parquet file is cached there; default `benchmarks/.data`, "
        "git-ignored; raw results in `benchmarks/.data/value/`).")
    add("")
    add("### History")
    add("")
    verdicts = " · ".join(f"{got} {('PASS' if ok else 'FAIL') if ok is not None else 'n/a'}"
                          for _n, _r, got, ok in tg)
    L.extend(old_history(Path(args.out), SECTION))
    add(f"- {now} · {args.transactions:,} transactions · {verdicts} · load "
        f"{os.getloadavg()[0]:.2f}")
    picked = [(name.split(":")[0], got, ok) for name, _r, got, ok in tg
              if name.endswith(("DuckDB alone", "churnradar time"))]
    summary = "; ".join(f"{what} {got} {('PASS' if ok else 'FAIL') if ok is not None else 'n/a'}"
                        for what, got, ok in picked)
    return "\n".join(L), summary


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in STEPS:
        return child_main(argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--transactions", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=5,
                    help="rounds of the churnradar and DuckDB steps (median reported)")
    ap.add_argument("--memory-limit", default="1GB",
                    help="DuckDB memory_limit of the churnradar step (the workspace default "
                         "[engine] memory_limit, 1GB)")
    ap.add_argument("--skip-rfm", action="store_true")
    ap.add_argument("--skip-bgnbd", action="store_true")
    ap.add_argument("--skip-paretonbd", action="store_true")
    ap.add_argument("--skip-lifetimes", action="store_true",
                    help="leave out the lifetimes peer (the slowest part)")
    ap.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    ap.add_argument("--data-dir", default=str(HERE / ".data"))
    args = ap.parse_args(argv)
    if args.transactions < args.customers:
        ap.error("--transactions must be at least --customers (one first purchase each)")
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    now = started.strftime("%Y-%m-%d %H:%M UTC")
    code_before = source_state()
    load_start = os.getloadavg()
    log(f"load average {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")
    data_dir = Path(args.data_dir).resolve()
    work = data_dir / "value" / stamp
    base = data_dir / f"value-{args.customers}-{args.transactions}-seed{args.seed}"
    gen = None
    rfm: dict[str, Any] = {}
    need_data = not args.skip_rfm or not args.skip_bgnbd
    if need_data:
        gen = ensure_data(args, base)
    if not args.skip_rfm:
        rfm = run_rfm(args, base, work)
    elif not args.skip_bgnbd:
        # the BG/NBD input is the churnradar summary: compute it once, untimed
        rfm = {"rfm_churnradar": run_child(
            SCRIPT, "rfm_churnradar",
            {"path": str(base / "transactions.parquet"), "end": DATA_END.isoformat(),
             "output": str(work / "rfm_churnradar.parquet"),
             "memory_limit": args.memory_limit},
            work, "rfm_churnradar-input")}
    fits = run_fits(args, rfm, work)
    code_after = source_state()
    if code_after["hash"] != code_before["hash"]:
        log("WARNING: src/ changed during the run")
    head = header(started, load_start, (code_before, code_after))
    versions = []
    for pkg in ("churnradar", "lifetimes", "scipy", "duckdb", "ibis-framework", "pandas",
                "pyarrow", "numpy"):
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{pkg} (not installed)")
    head = [f"- **Versions**: {', '.join(versions)}" if line.startswith("- **Versions**")
            else line for line in head]
    shown_rfm = rfm if not args.skip_rfm else {}
    text, summary = markdown(args, gen, shown_rfm, fits, head, now)
    replace_section(args.out, SECTION, text, summary=summary)
    log(f"wrote section {SECTION} of {args.out}")
    for name, req, got, ok in targets(shown_rfm, fits, args.customers):
        log(f"{_verdict(ok).strip('*')}: {name} (required {req}, measured {got})")
    work.mkdir(parents=True, exist_ok=True)
    raw = {"started": now, "args": vars(args), "generate": gen, "rfm": rfm, "fits": fits}
    raw_path = data_dir / "value" / f"{stamp}.json"
    raw_path.write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    log(f"raw results: {raw_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
