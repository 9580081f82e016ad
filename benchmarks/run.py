"""churnradar benchmark: import and metrics on the demo dealers data, side by side with
(a) the same metrics in plain pandas and (b) a hand-written DuckDB SQL query.

    .venv/bin/python benchmarks/run.py                       # 1,000,000 customers (make bench)
    .venv/bin/python benchmarks/run.py --customers 100000    # a quick run

Every step runs in a fresh process (benchmarks/steps.py), so that its peak memory (max
RSS of that process) is its own. The generated CSV files are cached in --data-dir, keyed
by industry, size and seed. Before the results are written, the monthly tables of the
implementations are compared (counts exactly, sums to 1e-6 relative); a mismatch is
recorded in the results, not hidden. Results go to section ``metrics`` of BENCHMARKS.md
(--out; see benchmarks/mdsections.py), which is rewritten on each run except for its
"History" list, which gains one line per run; the other sections are left alone.

This process stays small (standard library only): a child's peak RSS cannot be lower than
the RSS of the process that forked it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from mdsections import history_lines, read_section, replace_section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
STEPS_PY = HERE / "steps.py"
GIB = 1024.0
#: the section of BENCHMARKS.md this runner owns
SECTION = "metrics"

#: targets of the issue
TARGET_SPEEDUP_VS_PANDAS = 5.0
TARGET_RATIO_VS_SQL = 1.5
TARGET_PEAK_MIB = 1.5 * GIB

IMPORT_STEPS = ("import_churnradar", "import_pandas", "import_duckdb")
METRIC_STEPS = ("metrics_churnradar", "metrics_churnradar_grade", "monthly_churnradar",
                "monthly_sql", "monthly_pandas", "metrics_pandas")
#: extra configuration of a step
#: the breakdowns (a) computes too: every one but the acquisition cohort
SIX_DIMS = ["grade", "segment", "region", "channel", "owner", "key_account"]
STEP_CONFIG: dict[str, dict[str, Any]] = {"metrics_churnradar_grade": {"dimensions": SIX_DIMS}}
COUNTS = ["start_count", "new_count", "winback_count", "churned_count", "end_count",
          "joined_left_count"]
SUMS = ["revenue", "base_revenue", "churned_revenue", "contraction", "expansion",
        "contraction_loss", "lost_revenue", "churn_loss"]
#: (reference, other, table, columns) compared by the verify step
COMPARISONS: list[tuple[str, str, str, list[str]]] = [
    ("metrics_churnradar", "monthly_churnradar", "overall", COUNTS),
    ("metrics_churnradar", "monthly_sql", "overall", COUNTS),
    ("metrics_churnradar", "monthly_pandas", "overall", COUNTS),
    ("metrics_churnradar", "metrics_pandas", "overall", COUNTS + SUMS),
    ("metrics_churnradar", "metrics_pandas", "grade", COUNTS + SUMS),
    ("metrics_churnradar", "metrics_churnradar_grade", "grade", COUNTS + SUMS),
]
LABELS = {
    "metrics_churnradar": "churnradar compute_metrics",
    "metrics_churnradar_grade": "churnradar compute_metrics(six dimensions, no cohort)",
    "monthly_churnradar": "churnradar lifecycle + flows",
    "monthly_sql": "DuckDB SQL (b)",
    "monthly_pandas": "pandas (a), counts only",
    "metrics_pandas": "pandas (a), full",
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run_step(step: str, cfg: dict[str, Any], work: Path, tag: str) -> dict[str, Any]:
    """Run one step in a fresh interpreter; its result, or ``{"error": ...}``."""
    work.mkdir(parents=True, exist_ok=True)
    cfg_path, res_path = work / f"{tag}.config.json", work / f"{tag}.result.json"
    cfg_path.write_text(json.dumps(cfg, indent=1), encoding="utf-8")
    res_path.unlink(missing_ok=True)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(STEPS_PY), step, str(cfg_path), str(res_path)],
                          cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    (work / f"{tag}.stderr.txt").write_text(proc.stderr, encoding="utf-8")
    if proc.returncode != 0 or not res_path.is_file():
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        log(f"  {step} FAILED (exit {proc.returncode}): {tail}")
        return {"step": step, "error": tail or f"exit code {proc.returncode}", "wall": wall}
    res = json.loads(res_path.read_text(encoding="utf-8"))
    res["wall"] = wall
    log(f"  {step}: {res['seconds']:.2f} s, peak RSS {res['peak_rss_mib']:.0f} MiB "
        f"(load {res['loadavg_at_start'][0]:.2f})")
    return res


def ensure_data(args: argparse.Namespace, base: Path) -> dict[str, Any]:
    """Generate the demo CSV files unless this size and seed are cached."""
    csv_dir = base / "csv"
    meta_path = csv_dir / "generate.json"
    if meta_path.is_file() and all((csv_dir / f"{t}.csv").is_file()
                                   for t in ("customers", "transactions")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["cached"] = True
        log(f"generate: cached in {csv_dir} (took {meta['seconds']:.1f} s, "
            f"peak RSS {meta['peak_rss_mib']:.0f} MiB when generated)")
        return meta
    shutil.rmtree(csv_dir, ignore_errors=True)
    log(f"generate: {args.industry}, {args.customers:,} customers, seed {args.seed}")
    cfg = {"industry": args.industry, "customers": args.customers, "seed": args.seed,
           "csv_dir": str(csv_dir)}
    meta = run_step("generate", cfg, base / "logs", "generate")
    if "error" in meta:
        raise SystemExit(f"generating the demo data failed: {meta['error']}")
    meta_path.write_text(json.dumps(meta, indent=1), encoding="utf-8")  # written last
    meta["cached"] = False
    return meta


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[-1]["error"] if runs else "not run"}
    times = [r["seconds"] for r in ok]
    return {"seconds": statistics.median(times), "min_seconds": min(times),
            "all_seconds": times, "peak_rss_mib": max(r["peak_rss_mib"] for r in ok),
            "rss_after_imports_mib": max(r["rss_after_imports_mib"] for r in ok),
            "import_seconds": statistics.median(r["import_seconds"] for r in ok),
            "last": ok[-1], "errors": [r["error"] for r in runs if "error" in r],
            "rounds": [r.get("seconds") for r in runs]}


def source_state() -> dict[str, Any]:
    """The code measured: git commit, uncommitted files under src/, a hash of src/."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "src").rglob("*.py")):
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())

    def git(*cmd: str) -> str:  # read-only git commands
        try:
            out = subprocess.run(["git", *cmd], cwd=REPO, capture_output=True, text=True,
                                 check=False, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return out.stdout.strip() if out.returncode == 0 else ""

    dirty = [line[3:] for line in git("status", "--porcelain", "--", "src").splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD") or "unknown", "dirty": dirty,
            "hash": digest.hexdigest()[:12]}


# --- machine --------------------------------------------------------------------------
def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 ** 2:.1f} GiB"
    except OSError:
        pass
    osname = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                osname = f"{line.split('=', 1)[1].strip(chr(34))} (Linux {platform.release()})"
    except OSError:
        pass
    versions = []
    for pkg in ("churnradar", "duckdb", "ibis-framework", "pandas", "pyarrow", "numpy"):
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{pkg} (not installed)")
    return {"cpu": cpu, "cores": str(os.cpu_count()), "ram": ram, "os": osname,
            "python": platform.python_version(), "versions": ", ".join(versions)}


# --- report ---------------------------------------------------------------------------
def _t(s: dict[str, Any]) -> str:
    return "failed" if "error" in s else f"{s['seconds']:.2f} s"


def _m(s: dict[str, Any]) -> str:
    return "—" if "error" in s else f"{s['peak_rss_mib']:,.0f} MiB"


def _ratio(a: dict[str, Any], b: dict[str, Any], key: str = "seconds") -> float | None:
    if "error" in a or "error" in b or not b[key]:
        return None
    return a[key] / b[key]


def _x(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.2f}×"


def _mib(nbytes: int) -> str:
    return f"{nbytes / 1024 ** 2:,.0f} MiB"


def targets(s: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, bool | None]]:
    full, pan = s["metrics_churnradar"], s["metrics_pandas"]
    mon, sql = s["monthly_churnradar"], s["monthly_sql"]
    speedup = _ratio(pan, full)
    vs_sql = _ratio(mon, sql)
    peak = None if "error" in full else full["peak_rss_mib"]
    return [
        ("full metrics at least 5× faster than pandas (a)",
         f"≥ {TARGET_SPEEDUP_VS_PANDAS:.0f}×", f"speed-up {_x(speedup)}",
         None if speedup is None else speedup >= TARGET_SPEEDUP_VS_PANDAS),
        ("monthly churn table within 1.5× of DuckDB SQL (b)",
         f"≤ {TARGET_RATIO_VS_SQL}×", f"{_x(vs_sql)} the time of (b)",
         None if vs_sql is None else vs_sql <= TARGET_RATIO_VS_SQL),
        ("peak memory of churnradar full metrics under 1.5 GiB",
         f"< {TARGET_PEAK_MIB:,.0f} MiB", "n/a" if peak is None else f"{peak:,.0f} MiB",
         None if peak is None else peak < TARGET_PEAK_MIB),
    ]


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**PASS**" if ok else "**MISS**")


def summary_line(args: argparse.Namespace, s: dict[str, dict[str, Any]]) -> str:
    """One line for the index of BENCHMARKS.md."""
    full, pan = s["metrics_churnradar"], s["metrics_pandas"]
    mon, sql = s["monthly_churnradar"], s["monthly_sql"]
    return (f"{args.customers:,} customers: full metrics {_t(full)}, {_m(full)} peak "
            f"({_x(_ratio(pan, full))} faster than pandas); monthly table "
            f"{_x(_ratio(mon, sql))} the time of DuckDB SQL")


def history_line(now: str, args: argparse.Namespace, s: dict[str, dict[str, Any]],
                 checks: list[dict[str, Any]]) -> str:
    full, pan = s["metrics_churnradar"], s["metrics_pandas"]
    mon, sql = s["monthly_churnradar"], s["monthly_sql"]
    imp = s["import_churnradar"]
    agree = "tables agree" if checks and all(c["ok"] for c in checks) else "MISMATCH"
    return (f"- {now} · {args.customers:,} customers · import {_t(imp)} · full metrics "
            f"{_t(full)}, {_m(full)} peak · pandas (a) {_t(pan)} → {_x(_ratio(pan, full))} "
            f"faster · monthly table {_t(mon)} vs SQL (b) {_t(sql)} → "
            f"{_x(_ratio(mon, sql))} · load {os.getloadavg()[0]:.2f} · {agree}")


def old_history(path: Path) -> list[str]:
    """The History lines of this runner's section (of the whole file before sections)."""
    text = read_section(path, SECTION)
    if text is None:
        text = "" if not path.is_file() else path.read_text(encoding="utf-8")
        if "<!-- section:" in text:
            return []  # a sectioned file without our section: no history yet
    return history_lines(text)


def write_report(args: argparse.Namespace, gen: dict[str, Any],
                 s: dict[str, dict[str, Any]], checks: list[dict[str, Any]],
                 inactivity_days: int, load_start: tuple[float, float, float],
                 started: dt.datetime, code: tuple[dict[str, Any], dict[str, Any]]) -> str:
    now = started.strftime("%Y-%m-%d %H:%M UTC")
    mach = machine()
    imp = s["import_churnradar"]
    pq_bytes = imp.get("last", {}).get("parquet_bytes", {})
    rows = gen["rows"]
    L: list[str] = []
    add = L.append
    add("## Import and churn metrics (dealers)")
    add("")
    add("Import and churn metrics on the demo dealer data (non-contractual orders, "
        "`make_demo_data(\"dealers\")`), side by side in one run with (a) the same metrics "
        "in plain pandas as a typical analyst writes them and (b) a hand-written DuckDB SQL "
        "query for the monthly churn table. Written by `benchmarks/run.py`; every step runs "
        "in a fresh process and its peak memory is that process's max RSS.")
    add("")
    add(f"- **Date**: {now}")
    add(f"- **Machine**: {mach['cpu']}, {mach['cores']} cores, {mach['ram']} RAM; "
        f"{mach['os']}; Python {mach['python']}")
    add(f"- **Versions**: {mach['versions']}")
    before, after = code
    # the same sources at the end (perhaps committed meanwhile): describe the end state
    shown = after if after["hash"] == before["hash"] else before
    dirty = (f" with uncommitted changes in {len(shown['dirty'])} file(s) under src/"
             if shown["dirty"] else "")
    add(f"- **Code**: commit {shown['commit']}{dirty} (src/ hash {before['hash']})"
        + ("" if after["hash"] == before["hash"] else
           f" — **WARNING: src/ changed during the run** (hash {after['hash']} at the end): "
           "the steps did not all measure the same code"))
    load_end = os.getloadavg()
    add(f"- **Load average** (1/5/15 min): {load_start[0]:.2f} / {load_start[1]:.2f} / "
        f"{load_start[2]:.2f} at the start, {load_end[0]:.2f} / {load_end[1]:.2f} / "
        f"{load_end[2]:.2f} at the end (other processes may share the 2 cores; per-step "
        "load below)")
    add(f"- **Data**: {args.customers:,} customers, {rows['transactions']:,} transactions "
        f"(seed {args.seed}, {gen['start']} to {gen['as_of']}); CSV "
        f"{_mib(gen['csv_bytes']['customers'])} (customers, GB18030, Chinese headers) + "
        f"{_mib(gen['csv_bytes']['transactions'])} (transactions); workspace Parquet "
        + (f"{_mib(pq_bytes['customers'])} + {_mib(pq_bytes['transactions'])}"
           if pq_bytes else "n/a"))
    add(f"- **Settings**: period month, inactivity_days {inactivity_days} (as "
        f"`churnradar demo` sets for dealers), as_of {gen['as_of']}; "
        f"repeat {args.repeat} (times are medians, peak RSS the maximum)")
    add(f"- **Generate** (not compared): {gen['seconds']:.1f} s, peak RSS "
        f"{gen['peak_rss_mib']:,.0f} MiB" + (" (cached files; measured when generated)"
                                             if gen.get("cached") else ""))
    add("")
    add("### Results")
    add("")
    add("| step | churnradar | pandas (a) | DuckDB SQL (b) | ratio |")
    add("|---|---|---|---|---|")
    ipa, idb = s["import_pandas"], s["import_duckdb"]
    add(f"| import customers + transactions CSV → Parquet: time | {_t(imp)} | {_t(ipa)} | "
        f"{_t(idb)} | churnradar / (b) {_x(_ratio(imp, idb))}; (a) / churnradar "
        f"{_x(_ratio(ipa, imp))} |")
    add(f"| import: peak RSS | {_m(imp)} | {_m(ipa)} | {_m(idb)} | churnradar / (b) "
        f"{_x(_ratio(imp, idb, 'peak_rss_mib'))} |")
    full, pan = s["metrics_churnradar"], s["metrics_pandas"]
    add(f"| full metrics: time | {_t(full)} | {_t(pan)} | — | **(a) / churnradar "
        f"{_x(_ratio(pan, full))}** |")
    add(f"| full metrics: peak RSS | {_m(full)} | {_m(pan)} | — | (a) / churnradar "
        f"{_x(_ratio(pan, full, 'peak_rss_mib'))} |")
    fg = s["metrics_churnradar_grade"]
    add(f"| same metrics as (a) (overall + 6 breakdowns, no cohort): time | {_t(fg)} | "
        f"{_t(pan)} | — | "
        f"(a) / churnradar {_x(_ratio(pan, fg))} |")
    add(f"| same metrics as (a): peak RSS | {_m(fg)} | {_m(pan)} | — | (a) / churnradar "
        f"{_x(_ratio(pan, fg, 'peak_rss_mib'))} |")
    mon, sql, mpa = s["monthly_churnradar"], s["monthly_sql"], s["monthly_pandas"]
    add(f"| monthly churn table (S/new/win-back/C/E): time | {_t(mon)} | {_t(mpa)} | "
        f"{_t(sql)} | **churnradar / (b) {_x(_ratio(mon, sql))}**; (a) / churnradar "
        f"{_x(_ratio(mpa, mon))} |")
    add(f"| monthly churn table: peak RSS | {_m(mon)} | {_m(mpa)} | {_m(sql)} | "
        f"churnradar / (b) {_x(_ratio(mon, sql, 'peak_rss_mib'))} |")
    add("")
    add("#### Targets")
    add("")
    add("| target | required | measured | verdict |")
    add("|---|---|---|---|")
    for name, req, got, ok in targets(s):
        add(f"| {name} | {req} | {got} | {_verdict(ok)} |")
    add("")
    add("#### Do the implementations agree?")
    add("")
    if not checks:
        add("Not verified (a step failed).")
    for c in checks:
        cols = "counts" if c["columns"] == COUNTS else "counts and revenue sums"
        head = (f"- {LABELS[c['other']]} vs {LABELS[c['ref']]}, {c['table']} table "
                f"({c['rows']} rows, {cols}): ")
        add(head + ("**agree**" if c["ok"] else "**MISMATCH** — " + "; ".join(c["problems"])))
    add("")
    add("#### What each column measures")
    add("")
    add("- **import**: churnradar `io.import_table` of customers.csv (GB18030, Chinese "
        "headers, encoding detection, header mapping) and transactions.csv into a fresh "
        "workspace, with row-level validation, duplicate-key check and atomic write. (a) "
        "`pd.read_csv` + `to_parquet`; (b) DuckDB `read_csv` → `COPY … TO parquet` (the "
        "customers file re-encoded to UTF-8 in Python first: DuckDB reads no GB18030). The "
        "baselines validate nothing.")
    add("- **full metrics**: `compute_metrics(ws, period=\"month\")` with every dimension "
        f"({', '.join(full.get('last', {}).get('dimensions', []))}), revenue churn, lost "
        "revenue and churn loss, cohorts and the safety line. (a) computes the monthly "
        "table with revenue churn, lost revenue and churn loss overall and by grade, "
        "segment, region, channel, owner and key account (every breakdown but the "
        "acquisition cohort), so (a) does slightly less work than churnradar here; the next "
        "row, `compute_metrics(ws, period=\"month\", dimensions=[those six])`, is the "
        "like-for-like comparison (it still adds the cohort matrix and the safety line).")
    add("- **monthly churn table**: churnradar's own Ibis path (`build_lifecycle` → "
        "`flow_events` → `stock_table`); (b) one SQL query (lag/lead window over the "
        "purchases, see `benchmarks/baselines.py`); (a) the pandas spells and counts "
        "without the revenue parts.")
    add("- Times are of the work only, in a fresh process after its modules are imported "
        "(engine connection and reading the Parquet files included); the imports are "
        "listed below.")
    add("")
    add("#### Details")
    add("")
    add("| step | median time | all runs (s) | peak RSS | RSS after imports | "
        "module imports | load at start |")
    add("|---|---|---|---|---|---|---|")
    for step in (*IMPORT_STEPS, *METRIC_STEPS):
        r = s[step]
        if "error" in r:
            add(f"| {step} | failed: {r['error'].splitlines()[-1][:200]} | | | | | |")
            continue
        runs = ", ".join(f"{x:.2f}" for x in r["all_seconds"])
        add(f"| {step} | {r['seconds']:.2f} s | {runs} | {r['peak_rss_mib']:,.0f} MiB | "
            f"{r['rss_after_imports_mib']:,.0f} MiB | {r['import_seconds']:.2f} s | "
            f"{r['last']['loadavg_at_start'][0]:.2f} |")
    paired = []
    for label, num, den in (("full metrics, (a) / churnradar", "metrics_pandas",
                             "metrics_churnradar"),
                            ("monthly table, churnradar / (b)", "monthly_churnradar",
                             "monthly_sql")):
        a, b = s[num].get("rounds", []), s[den].get("rounds", [])
        ratios = [f"{x / y:.2f}×" for x, y in zip(a, b, strict=False)
                  if x is not None and y is not None and y > 0]
        if ratios:
            paired.append(f"{label} {', '.join(ratios)}")
    if paired:
        add("")
        add("Ratios round by round (the two steps of a pair run within a minute or two of "
            "each other, so they share the load of that moment): " + "; ".join(paired) + ".")
    if "error" not in imp:
        per = imp["last"]["per_table"]
        add("")
        add("churnradar import per table: " + ", ".join(f"{k} {v:.2f} s"
                                                       for k, v in per.items()) + ".")
    if "error" not in full:
        add("")
        add("churnradar `compute_metrics` phases (from its progress callback): "
            + ", ".join(f"{k} {v:.2f} s" for k, v in full["last"]["phases"].items()) + ".")
    add("")
    add("### Reproduce")
    add("")
    add("```sh")
    add("make bench                                               # 1,000,000 customers")
    add(".venv/bin/python benchmarks/run.py --customers 100000   # a quick run")
    add("```")
    add("")
    add("Options: `--customers`, `--industry`, `--repeat`, `--out`, `--data-dir` (generated "
        "CSV files are cached there by size and seed; default `benchmarks/.data`, "
        "git-ignored), `--seed`, `--inactivity-days`.")
    add("")
    add("### History")
    add("")
    L.extend(old_history(Path(args.out)))
    add(history_line(now, args, s, checks))
    return "\n".join(L) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--industry", default="dealers", choices=["dealers"])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    ap.add_argument("--data-dir", default=str(HERE / ".data"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--inactivity-days", type=int, default=None,
                    help="default: as `churnradar demo` sets it (180 for dealers)")
    args = ap.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    code_before = source_state()
    load_start = os.getloadavg()
    log(f"load average {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")
    base = Path(args.data_dir).resolve() / f"{args.industry}-{args.customers}-seed{args.seed}"
    gen = ensure_data(args, base)
    inactivity = args.inactivity_days or (180 if args.industry == "dealers" else 90)
    run_dir = base / "runs" / started.strftime("%Y%m%dT%H%M%SZ")
    cfg: dict[str, Any] = {
        "industry": args.industry, "customers": args.customers, "seed": args.seed,
        "csv_dir": str(base / "csv"), "workspace": str(base / "workspace"),
        "scratch": str(base / "scratch"), "as_of": gen["as_of"],
        "inactivity_days": inactivity,
    }
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in (*IMPORT_STEPS, *METRIC_STEPS)}
    for i in range(args.repeat):
        log(f"round {i + 1} of {args.repeat}")
        for step in (*IMPORT_STEPS, *METRIC_STEPS):
            c = dict(cfg, out_prefix=str(run_dir / f"{step}-{i}"), **STEP_CONFIG.get(step, {}))
            runs[step].append(run_step(step, c, run_dir, f"{step}-{i}"))
    s = {k: summarise(v) for k, v in runs.items()}

    checks: list[dict[str, Any]] = []
    tables = {k: v["last"]["tables"] for k, v in s.items() if "error" not in v
              and "tables" in v["last"]}
    usable = [c for c in COMPARISONS if c[0] in tables and c[1] in tables]
    if usable:
        log("verify")
        res = run_step("verify", {"tables": tables, "comparisons": usable}, run_dir, "verify")
        checks = res.get("checks", [])
        for c in checks:
            log(f"  {c['other']} vs {c['ref']} ({c['table']}): "
                + ("agree" if c["ok"] else "MISMATCH " + "; ".join(c["problems"])))
    code_after = source_state()
    if code_after["hash"] != code_before["hash"]:
        log("WARNING: src/ changed during the run; the steps did not all measure the same code")
    text = write_report(args, gen, s, checks, inactivity, load_start, started,
                        (code_before, code_after))
    replace_section(args.out, SECTION, text, summary=summary_line(args, s))
    (run_dir / "summary.json").write_text(json.dumps({"summary": s, "checks": checks},
                                                     indent=1, default=str), encoding="utf-8")
    log(f"wrote {args.out}")
    for name, req, got, ok in targets(s):
        log(f"{_verdict(ok).strip('*')}: {name} (required {req}, measured {got})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
