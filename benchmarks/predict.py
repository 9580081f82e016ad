"""churnradar prediction benchmark: backtest quality on the demo simulations, and the time
and memory of features, training and scoring on 1,000,000 dealers customers.

    .venv/bin/python benchmarks/predict.py                      # demo + 1,000,000 customers
    .venv/bin/python benchmarks/predict.py --customers 100000   # a quicker scale run
    .venv/bin/python benchmarks/predict.py --skip-scale         # the demo backtests only

Every measured step runs in a fresh process (benchmarks/predict_steps.py; the score
command is the real ``churnradar predict score DIR`` started as a subprocess), so that its
peak memory is its own. The scale data are the CSV files of benchmarks/run.py (generated
once per size and seed and cached in --data-dir), imported into a workspace of this
benchmark (also cached). Results go to the sections ``prediction-demo`` and
``prediction-scale`` of BENCHMARKS.md (benchmarks/mdsections.py; the other sections are
left alone), the raw numbers to --data-dir/predict/*.json.

This process stays small (standard library only), as in benchmarks/run.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from mdsections import old_history, replace_section
from run import ensure_data, log, machine, source_state

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
STEPS_PY = HERE / "predict_steps.py"
RUN_STEPS_PY = HERE / "steps.py"
GIB = 1024.0

#: targets of the issue
TARGET_RATE = 500_000  # customers per second, the model step alone
TARGET_SCORE_SECONDS = 60.0
TARGET_SCORE_MIB = 4 * GIB

DEMO_SECTION, SCALE_SECTION = "prediction-demo", "prediction-scale"
#: demo industries and their churn rule (as `churnradar demo` sets it)
DEMO_INDUSTRIES: dict[str, int] = {"telecom": 90, "dealers": 180}
METRICS: list[tuple[str, str, bool]] = [  # key, label, higher is better
    ("roc_auc", "ROC-AUC", True), ("pr_auc", "PR-AUC", True), ("brier", "Brier", False),
    ("top_decile_lift", "top-decile lift", True), ("capture_10", "capture@10%", True),
    ("capture_20", "capture@20%", True), ("capture_30", "capture@30%", True),
    ("emp", "EMP (per customer)", True),
]
CONTENDERS = [("model", "model (ChurnRiskModel)"), ("recency_baseline", "recency baseline"),
              ("segment_rate_baseline", "segment-rate baseline")]


# --- running steps -----------------------------------------------------------------------
def run_child(script: Path, step: str, cfg: dict[str, Any], work: Path,
              tag: str) -> dict[str, Any]:
    """Run one step of ``script`` in a fresh interpreter; its result or ``{"error": ...}``."""
    work.mkdir(parents=True, exist_ok=True)
    cfg_path, res_path = work / f"{tag}.config.json", work / f"{tag}.result.json"
    cfg_path.write_text(json.dumps(cfg, indent=1), encoding="utf-8")
    res_path.unlink(missing_ok=True)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script), step, str(cfg_path), str(res_path)],
                          cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    (work / f"{tag}.stderr.txt").write_text(proc.stderr, encoding="utf-8")
    if proc.returncode != 0 or not res_path.is_file():
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        log(f"  {step} FAILED (exit {proc.returncode}): {tail}")
        return {"step": step, "error": tail or f"exit code {proc.returncode}", "wall": wall}
    res = json.loads(res_path.read_text(encoding="utf-8"))
    res["wall"] = wall
    log(f"  {step}: {res['seconds']:.2f} s, peak RSS {res['peak_rss_mib']:,.0f} MiB "
        f"(load {res['loadavg_at_start'][0]:.2f})")
    return res


def _vm_hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_command(cmd: list[str], work: Path, tag: str) -> dict[str, Any]:
    """Run a command; its wall time and peak memory: the larger of the child's own
    ``ru_maxrss`` (``wait4``; at least this small process's size at the fork) and its
    ``VmHWM`` sampled every 50 ms while it runs."""
    work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    out_path, err_path = work / f"{tag}.stdout.txt", work / f"{tag}.stderr.txt"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=err)
        sampled = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal sampled
            while not done.wait(0.05):
                sampled = max(sampled, _vm_hwm_kib(proc.pid))

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    peak_kib = max(usage.ru_maxrss, sampled)
    res: dict[str, Any] = {
        "cmd": cmd, "seconds": wall, "peak_rss_mib": peak_kib / 1024,
        "ru_maxrss_mib": usage.ru_maxrss / 1024, "sampled_vmhwm_mib": sampled / 1024,
        "user_seconds": usage.ru_utime, "system_seconds": usage.ru_stime,
        "exit_code": proc.returncode, "loadavg_at_start": load,
        "loadavg_at_end": os.getloadavg(),
    }
    if proc.returncode != 0:
        tail = "\n".join(err_path.read_text(encoding="utf-8", errors="replace")
                         .strip().splitlines()[-8:])
        res["error"] = tail or f"exit code {proc.returncode}"
        log(f"  {' '.join(cmd[1:4])} FAILED (exit {proc.returncode}): {tail}")
        return res
    try:
        res["output"] = json.loads(out_path.read_text(encoding="utf-8"))
    except ValueError:
        res["output"] = None
    log(f"  {' '.join(Path(c).name for c in cmd[:3])}: {wall:.2f} s, peak RSS "
        f"{res['peak_rss_mib']:,.0f} MiB (load {load[0]:.2f})")
    return res


def churnradar_command() -> list[str]:
    exe = Path(sys.executable).with_name("churnradar")
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("churnradar")
    if found is None:
        raise SystemExit("the churnradar command is not installed (pip install -e .)")
    return [found]


# --- formatting ------------------------------------------------------------------------
def _s(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f} s"


def _mib(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f} MiB"


def _bytes(n: int) -> str:
    return f"{n / 1024 ** 2:,.0f} MiB" if n >= 10 * 1024 ** 2 else f"{n / 1024:,.0f} KiB"


def _verdict(ok: bool | None) -> str:
    return "n/a (step failed)" if ok is None else ("**PASS**" if ok else "**FAIL**")


def _err(r: dict[str, Any]) -> str:
    return "failed: " + r["error"].strip().splitlines()[-1][:200].replace("|", "\\|")


def versions() -> str:
    out = []
    for pkg in ("lightgbm", "scikit-learn", "duckdb"):
        try:
            out.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            out.append(f"{pkg} (not installed)")
    return ", ".join(out)


def header(started: dt.datetime, load_start: tuple[float, float, float],
           code: tuple[dict[str, Any], dict[str, Any]]) -> list[str]:
    mach = machine()
    before, after = code
    shown = after if after["hash"] == before["hash"] else before
    dirty = (f" with uncommitted changes in {len(shown['dirty'])} file(s) under src/"
             if shown["dirty"] else "")
    load_end = os.getloadavg()
    return [
        f"- **Date**: {started.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- **Machine**: {mach['cpu']}, {mach['cores']} cores, {mach['ram']} RAM; "
        f"{mach['os']}; Python {mach['python']}",
        f"- **Versions**: {versions()}; {mach['versions']}",
        f"- **Code**: commit {shown['commit']}{dirty} (src/ hash {before['hash']})"
        + ("" if after["hash"] == before["hash"] else
           f" — **WARNING: src/ changed during the run** (hash {after['hash']} at the end)"),
        f"- **Load average** (1/5/15 min): {load_start[0]:.2f} / {load_start[1]:.2f} / "
        f"{load_start[2]:.2f} at the start, {load_end[0]:.2f} / {load_end[1]:.2f} / "
        f"{load_end[2]:.2f} at the end (the 2 cores are shared with other work; per-step "
        "load below)",
    ]


# --- demo ------------------------------------------------------------------------------
def run_demo(args: argparse.Namespace, run_dir: Path) -> dict[str, dict[str, Any]]:
    out = {}
    root = Path(args.data_dir).resolve() / "predict-demo"
    for industry, inactivity in DEMO_INDUSTRIES.items():
        log(f"demo backtest: {industry}, {args.demo_customers:,} customers")
        cfg = {"industry": industry, "customers": args.demo_customers, "seed": args.seed,
               "inactivity_days": inactivity,
               "workspace": str(root / f"{industry}-{args.demo_customers}-seed{args.seed}")}
        out[industry] = run_child(STEPS_PY, "demo_backtest", cfg, run_dir, f"demo-{industry}")
    return out


def demo_markdown(args: argparse.Namespace, res: dict[str, dict[str, Any]],
                  head: list[str]) -> tuple[str, str]:
    L: list[str] = []
    add = L.append
    add("## Prediction: backtest on the demo simulations")
    add("")
    add("How well the churn risk model ranks and calibrates who leaves in the next 90 days, "
        "against two naive baselines, on the telecom (contractual subscriptions) and dealers "
        "(non-contractual orders) simulations of `make_demo_data`. Each industry is "
        "generated, written as CSV exports and imported into a fresh workspace, then "
        "`run_backtest(data, PredictSettings())` runs with the default settings: at each of "
        "the latest 3 month ends `T` whose outcome is known, the model is trained on the 12 "
        "monthly observation dates whose own outcome was known by `T` and scored on everyone "
        "active at `T`. The recency baseline maps days since the last activity to a churn "
        "rate (isotonic); the segment-rate baseline gives everyone last period's churn rate "
        "of their segment. Written by `benchmarks/predict.py`.")
    add("")
    L.extend(head)
    add(f"- **Data**: {args.demo_customers:,} customers per industry, seed {args.seed}, "
        "2023-01-01 to 2025-12-31; churn: inactivity_days 90 (telecom) and 180 (dealers, "
        "as `churnradar demo` sets it)")
    add("")
    summary = []
    for industry, r in res.items():
        add(f"### {industry}")
        add("")
        if "error" in r:
            add(f"The backtest {_err(r)}")
            add("")
            summary.append(f"{industry} failed")
            continue
        mean = {row["contender"]: row for row in r["mean"]}
        m = mean.get("model", {})
        rows = ", ".join(f"{k} {v:,}" for k, v in r["rows"].items())
        add(f"Tables: {rows} ({r['business'].replace('_', '-')}). Evaluation dates "
            f"{', '.join(r['dates'])}; on average {m.get('n', 0):,.0f} active customers and "
            f"{m.get('churners', 0):,.0f} churners within 90 days per date (base rate "
            f"{m.get('base_rate', 0):.1%}).")
        add("")
        add(f"**Time**: backtest {r['seconds']:.1f} s ("
            + ", ".join(f"{d} {s:.1f} s" for d, s in zip(r["dates"], r["seconds_per_date"],
                                                          strict=False))
            + f"; features, labels and the three fits per date), peak RSS "
            f"{r['peak_rss_mib']:,.0f} MiB, load {r['loadavg_at_start'][0]:.2f} at the start; "
            f"generating and importing the data (not counted) {r['generate_seconds']:.1f} s + "
            f"{r['import_seconds_data']:.1f} s.")
        add("")
        add("Mean over the evaluation dates (best of each row in bold):")
        add("")
        add("| metric | " + " | ".join(label for _, label in CONTENDERS) + " |")
        add("|---|" + "---|" * len(CONTENDERS))
        for key, label, higher in METRICS:
            vals = [mean.get(c, {}).get(key) for c, _ in CONTENDERS]
            ok = [v for v in vals if v is not None]
            best = (max(ok) if higher else min(ok)) if ok else None
            fmt = "{:.1%}" if key.startswith("capture") else (
                "{:.4f}" if key == "brier" else "{:.3f}")
            cells = ["—" if v is None else (f"**{fmt.format(v)}**" if v == best
                                             else fmt.format(v)) for v in vals]
            add(f"| {label} | " + " | ".join(cells) + " |")
        add("")
        add(f"Calibration of the model on the latest date ({r['calibration_date']}): "
            "customers ranked by predicted risk, in ten equal groups (1 = riskiest).")
        add("")
        add("| decile | customers | predicted | realised | churners |")
        add("|---|---|---|---|---|")
        for row in r["calibration"]:
            add(f"| {row['decile']} | {row['n']:,} | {row['predicted']:.1%} | "
                f"{row['realised']:.1%} | {row['churners']:,.0f} |")
        add("")
        rb = mean.get("recency_baseline", {})
        summary.append(f"{industry} ROC-AUC {m.get('roc_auc', float('nan')):.3f} "
                       f"(recency {rb.get('roc_auc', float('nan')):.3f}), "
                       f"lift {m.get('top_decile_lift', float('nan')):.2f}")
    add("### Reproduce")
    add("")
    add("```sh")
    add(".venv/bin/python benchmarks/predict.py --skip-scale   # this section only")
    add("```")
    return "\n".join(L), (f"{args.demo_customers:,} customers: " + "; ".join(summary))


# --- scale -----------------------------------------------------------------------------
def prepare_scale(args: argparse.Namespace, base: Path) -> tuple[dict[str, Any],
                                                                 dict[str, Any], Path]:
    """The CSV files of benchmarks/run.py (cached) imported into this benchmark's own
    workspace (cached too: keyed by the generated files)."""
    gen = ensure_data(argparse.Namespace(industry="dealers", customers=args.customers,
                                         seed=args.seed), base)
    ws = base / "predict-workspace"
    marker = base / "predict-workspace.import.json"
    if marker.is_file() and (ws / "data" / "transactions.parquet").is_file():
        imp = json.loads(marker.read_text(encoding="utf-8"))
        if (imp.get("generated") == gen.get("seconds")
                and imp.get("inactivity_days") == args.inactivity_days):
            log(f"import: cached in {ws} (took {imp['seconds']:.1f} s)")
            imp["cached"] = True
            return gen, imp, ws
    log(f"import: {args.customers:,} customers into {ws}")
    cfg = {"workspace": str(ws), "csv_dir": str(base / "csv"), "as_of": gen["as_of"],
           "inactivity_days": args.inactivity_days}
    imp = run_child(RUN_STEPS_PY, "import_churnradar", cfg, base / "logs", "predict-import")
    if "error" in imp:
        raise SystemExit(f"importing the demo data failed: {imp['error']}")
    imp.update(generated=gen.get("seconds"), inactivity_days=args.inactivity_days)
    marker.write_text(json.dumps(imp, indent=1), encoding="utf-8")
    imp["cached"] = False
    return gen, imp, ws


def run_scale(args: argparse.Namespace, base: Path, run_dir: Path,
              ws: Path) -> dict[str, dict[str, Any]]:
    cfg = {"workspace": str(ws)}
    out: dict[str, dict[str, Any]] = {}
    log("(i) features of one observation date")
    out["features"] = run_child(STEPS_PY, "features", cfg, run_dir, "features")
    log("(ii) training: features of 12 dates + fit")
    out["train"] = run_child(STEPS_PY, "train", cfg, run_dir, "train")
    if "error" in out["train"]:
        return out
    log("(iii) the model step alone, and (v) the drivers")
    out["predict"] = run_child(STEPS_PY, "predict",
                               dict(cfg, repeat=args.predict_repeat, tile_to=args.customers),
                               run_dir, "predict")
    log("(iv) the score command")
    out["score"] = run_command([*churnradar_command(), "predict", "score", str(ws), "--json"],
                               run_dir, "score-command")
    return out


def scale_targets(r: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, bool | None]]:
    pred, score = r.get("predict", {"error": "not run"}), r.get("score", {"error": "not run"})
    rate = None if "error" in pred else pred["customers_per_second"]
    wall = None if "error" in score else score["seconds"]
    peak = None if "error" in score else score["peak_rss_mib"]
    n = "" if "error" in pred else f" ({pred['rows']:,} customers)"
    return [
        ("the model step alone (`predict_proba`) scores ≥ 500,000 customers/s",
         f"≥ {TARGET_RATE:,}/s", "n/a" if rate is None else f"{rate:,.0f}/s{n}",
         None if rate is None else rate >= TARGET_RATE),
        ("`churnradar predict score DIR` (whole command) under 60 s",
         f"< {TARGET_SCORE_SECONDS:.0f} s", _s(wall),
         None if wall is None else wall < TARGET_SCORE_SECONDS),
        ("`churnradar predict score DIR` peak memory under 4 GiB",
         f"< {TARGET_SCORE_MIB:,.0f} MiB", _mib(peak),
         None if peak is None else peak < TARGET_SCORE_MIB),
    ]


def scale_markdown(args: argparse.Namespace, gen: dict[str, Any], imp: dict[str, Any],
                   r: dict[str, dict[str, Any]], head: list[str],
                   now: str) -> tuple[str, str]:
    L: list[str] = []
    add = L.append
    fe, tr = r.get("features", {"error": "not run"}), r.get("train", {"error": "not run"})
    pr, sc = r.get("predict", {"error": "not run"}), r.get("score", {"error": "not run"})
    add(f"## Prediction at scale (dealers, {args.customers:,} customers)")
    add("")
    add("Time and peak memory of the prediction steps on the demo dealer data of "
        "`benchmarks/run.py` (non-contractual orders, inactivity_days 180). Each step runs in "
        "a fresh process on the workspace's tables exactly as the prediction jobs open them "
        "(DuckDB with the workspace's `[engine]` settings: memory_limit 1GB, all cores) and "
        "without the per-date feature cache (`data.cache = False`); its peak memory is that "
        "process's high-water mark (VmHWM). Written by `benchmarks/predict.py`.")
    add("")
    L.extend(head)
    pq = imp.get("parquet_bytes", {})
    add(f"- **Data**: {args.customers:,} customers, {gen['rows']['transactions']:,} orders "
        f"(seed {args.seed}, {gen['start']} to {gen['as_of']}); workspace Parquet "
        + (f"{_bytes(pq['customers'])} + {_bytes(pq['transactions'])}" if pq else "n/a")
        + f"; imported in {imp['seconds']:.1f} s" + (" (cached)" if imp.get("cached") else ""))
    if "error" not in tr:
        st = tr.get("fit_info", {})
        add(f"- **Settings**: `PredictSettings()` defaults — horizon 90 days, "
            f"{len(tr['dates'])} monthly observation dates ({tr['dates'][0]} … "
            f"{tr['dates'][-1]}), max_training_rows {tr['max_training_rows']:,} (a uniform "
            f"sample per date), LightGBM with depth search, calibration "
            f"{st.get('calibration', '?')}, {st.get('threads', '?')} threads")
    add("")
    add("### Targets")
    add("")
    add("| target | required | measured | verdict |")
    add("|---|---|---|---|")
    targets = scale_targets(r)
    for name, req, got, ok in targets:
        add(f"| {name} | {req} | {got} | {_verdict(ok)} |")
    add("")
    add("### Steps")
    add("")
    add("| step | what is timed | time | peak RSS | notes |")
    add("|---|---|---|---|---|")
    if "error" in fe:
        add(f"| (i) features, one date | | {_err(fe)} | | |")
    else:
        add(f"| (i) features of one observation date | `data.features({fe['as_of']})` for "
            f"every active customer | {_s(fe['features_seconds'])} | "
            f"{_mib(fe['peak_rss_mib_work'])} | {fe['rows']:,} customers × {fe['columns']} "
            f"features ({fe['frame_mib']:,.0f} MiB in pandas); on a second run the DuckDB "
            f"query to Arrow took {fe['rerun_query_seconds']:.2f} s and Arrow → pandas "
            f"{fe['rerun_to_pandas_seconds']:.2f} s; feature plan {fe['plan_seconds']:.2f} s |")
    if "error" in tr:
        add(f"| (ii) training | | {_err(tr)} | | |")
    else:
        add(f"| (ii) training | `train_risk_model(data, settings, evaluate=False)` | "
            f"{_s(tr['seconds'])} | {_mib(tr['peak_rss_mib'])} | {tr['rows']:,} rows "
            f"({tr['churners']:,} churners), {tr['features']} features |")
        add(f"| (ii-a) … features and labels of {len(tr['dates'])} dates | until the last "
            f"`progress(\"features\")` | {_s(tr['features_seconds'])} | "
            f"{_mib(tr['peak_rss_mib_features'])} | "
            f"{statistics.median(tr['features_seconds_per_date']):.2f} s per date (median; "
            f"the first {tr['features_seconds_per_date'][0]:.2f} s includes the lifecycle on "
            f"all data for the labels); stacking {tr['stack_seconds']:.2f} s |")
        fi = tr.get("fit_info", {})
        search = "; ".join(
            f"depth {x.get('depth')}: {x.get('rounds')} rounds, loss "
            f"{x.get('holdout_loss', x.get('cv_loss', float('nan'))):.5f}"
            for x in fi.get("search", []))
        add(f"| (ii-b) … fit | `ChurnRiskModel.fit` (`progress(\"fit\")`) | "
            f"{_s(tr['fit_seconds'])} | {_mib(tr['peak_rss_mib'])} | depth "
            f"{tr['depth']}, {tr['n_iter']} rounds; {fi.get('mode', '?')} mode; "
            + ", ".join(f"{k.replace('_', ' ')} {fi[k]:,}"
                        for k in ("train_rows", "early_stopping_rows", "calibration_rows")
                        if isinstance(fi.get(k), int))
            + (f"; depths tried ({search})" if search else "") + " |")
        add(f"| (ii-c) … save | `save_trained` (models/churn_risk.joblib) | "
            f"{_s(tr['save_seconds'])} | | {_bytes(tr['model_bytes'])} |")
    if "error" in pr:
        add(f"| (iii) the model step | | {_err(pr)} | | |")
    else:
        tiled = pr.get("tiled")
        extra = (f"; on the same rows repeated to {tiled['rows']:,}: "
                 f"{tiled['seconds']:.2f} s = {tiled['customers_per_second']:,.0f}/s"
                 if tiled else "")
        add(f"| (iii) the model step alone | `trained.model.predict_proba(X)`, X = the "
            f"scoring features at {pr['as_of']} | {_s(pr['seconds'])} | "
            f"{_mib(pr['peak_rss_mib_before_drivers'])} (with the features) | "
            f"{pr['rows']:,} customers → **{pr['customers_per_second']:,.0f} customers/s** "
            f"(median of {len(pr['predict_seconds_all'])}: "
            f"{', '.join(f'{x:.2f}' for x in pr['predict_seconds_all'])} s)"
            + (f"; CPU {pr['predict_cpu_seconds']:.2f} s per call (all threads) = "
               f"{pr['customers_per_cpu_second']:,.0f} customers per CPU-second"
               if pr.get("customers_per_cpu_second") else "") + f"{extra} |")
        add(f"| (v) drivers | `trained.model.contributions(X)` | "
            f"{_s(pr['contributions_seconds'])} | {_mib(pr['peak_rss_mib'])} (with the "
            f"features) | {pr['contributions_per_second']:,.0f} customers/s; then "
            f"`top_drivers` {pr['top_drivers_seconds']:.2f} s |")
    if "error" in sc:
        add(f"| (iv) score command | | {_err(sc)} | | |")
    else:
        n = (sc.get("output") or {}).get("customers")
        add(f"| (iv) the score command | `churnradar predict score DIR --json` (subprocess, "
            f"wall time: start-up, imports, features, model, drivers, ranking, writing "
            f"scores.parquet) | **{_s(sc['seconds'])}** | **{_mib(sc['peak_rss_mib'])}** | "
            + (f"{n:,} customers scored; " if isinstance(n, int) else "")
            + f"CPU {sc['user_seconds']:.1f} s user + {sc['system_seconds']:.1f} s system; "
            f"load {sc['loadavg_at_start'][0]:.2f} at the start |")
    add("")
    add("### Where the time and memory go")
    add("")
    if "error" not in tr:
        per = tr["features_seconds_per_date"]
        add(f"- Training: features {tr['features_seconds']:.1f} s "
            f"({tr['features_seconds'] / tr['seconds']:.0%}) and fit {tr['fit_seconds']:.1f} s "
            f"({tr['fit_seconds'] / tr['seconds']:.0%}) of {tr['seconds']:.1f} s. Per date: "
            + ", ".join(f"{d} {s:.1f} s" for d, s in zip(tr["dates"], per, strict=False))
            + f". Peak {tr['peak_rss_mib_features']:,.0f} MiB during the features, "
            f"{tr['peak_rss_mib']:,.0f} MiB with the fit.")
    if "error" not in pr:
        add(f"- Scoring, piece by piece (step iii/v, in one process): load the model "
            f"{pr['load_model_seconds']:.2f} s, features at {pr['as_of']} "
            f"{pr['features_seconds']:.2f} s, `predict_proba` {pr['seconds']:.2f} s, risk "
            f"tiers {pr['tiers_seconds']:.2f} s, `contributions` "
            f"{pr['contributions_seconds']:.2f} s, `top_drivers` "
            f"{pr['top_drivers_seconds']:.2f} s; module imports "
            f"{pr['import_seconds']:.2f} s.")
        if "error" not in sc:
            parts = (pr["import_seconds"] + pr["load_model_seconds"] + pr["features_seconds"]
                     + pr["seconds"] + pr["tiers_seconds"] + pr["contributions_seconds"]
                     + pr["top_drivers_seconds"])
            rest = sc["seconds"] - parts
            add(f"  Together {parts:.1f} s, against {sc['seconds']:.1f} s for the score "
                "command" + (f"; the rest ({rest:.1f} s) is interpreter start-up, the CLI, "
                             "sorting and writing the scores." if rest >= 0 else
                             " (the two ran at different moments under different load: "
                             "compare the load at their start in the table below)."))
    add("")
    add("### Details")
    add("")
    add("| step | time | peak RSS | RSS after imports | module imports | load at start |")
    add("|---|---|---|---|---|---|")
    for name in ("features", "train", "predict"):
        x = r.get(name, {"error": "not run"})
        if "error" in x:
            add(f"| {name} | {_err(x)} | | | | |")
            continue
        add(f"| {name} | {x['seconds']:.2f} s | {x['peak_rss_mib']:,.0f} MiB | "
            f"{x['rss_after_imports_mib']:,.0f} MiB | {x['import_seconds']:.2f} s | "
            f"{x['loadavg_at_start'][0]:.2f} |")
    if "error" not in sc:
        add(f"| score command | {sc['seconds']:.2f} s | {sc['peak_rss_mib']:,.0f} MiB | — | "
            f"— | {sc['loadavg_at_start'][0]:.2f} |")
    add("")
    add("### Reproduce")
    add("")
    add("```sh")
    add(".venv/bin/python benchmarks/predict.py                      # demo + 1,000,000")
    add(".venv/bin/python benchmarks/predict.py --customers 100000 --skip-demo   # quicker")
    add("```")
    add("")
    add("Options: `--customers`, `--demo-customers`, `--seed`, `--skip-demo`, `--skip-scale`, "
        "`--predict-repeat`, `--out`, `--data-dir` (CSV files and workspaces are cached "
        "there; default `benchmarks/.data`, git-ignored; raw results in "
        "`benchmarks/.data/predict/`).")
    add("")
    add("### History")
    add("")
    verdicts = " · ".join(f"{got} {('PASS' if ok else 'FAIL') if ok is not None else 'n/a'}"
                          for _name, _req, got, ok in targets)
    line = (f"- {now} · {args.customers:,} customers · train "
            f"{_s(None if 'error' in tr else tr['seconds'])} (fit "
            f"{_s(None if 'error' in tr else tr['fit_seconds'])}) · {verdicts} · load "
            f"{os.getloadavg()[0]:.2f}")
    L.extend(old_history(Path(args.out), SCALE_SECTION))
    add(line)
    summary = (f"{args.customers:,} customers: " + "; ".join(
        f"{got} {('PASS' if ok else 'FAIL') if ok is not None else 'n/a'}"
        for _name, _req, got, ok in targets))
    return "\n".join(L), summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000,
                    help="dealers customers of the scale run")
    ap.add_argument("--demo-customers", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--inactivity-days", type=int, default=180,
                    help="churn rule of the scale run (as `churnradar demo` sets for dealers)")
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--predict-repeat", type=int, default=3)
    ap.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    ap.add_argument("--data-dir", default=str(HERE / ".data"))
    args = ap.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    now = started.strftime("%Y-%m-%d %H:%M UTC")
    code_before = source_state()
    load_start = os.getloadavg()
    log(f"load average {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")
    data_dir = Path(args.data_dir).resolve()
    raw_dir = data_dir / "predict"
    raw: dict[str, Any] = {"started": now, "args": vars(args)}

    if not args.skip_demo:
        t_load = os.getloadavg()
        demo = run_demo(args, raw_dir / f"{stamp}-demo")
        head = header(started, t_load, (code_before, source_state()))
        text, summary = demo_markdown(args, demo, head)
        replace_section(args.out, DEMO_SECTION, text, summary=summary)
        raw["demo"] = demo
        log(f"wrote section {DEMO_SECTION} of {args.out}")

    if not args.skip_scale:
        base = data_dir / f"dealers-{args.customers}-seed{args.seed}"
        gen, imp, ws = prepare_scale(args, base)
        t_load = os.getloadavg()
        scale = run_scale(args, base, raw_dir / f"{stamp}-scale-{args.customers}", ws)
        code_after = source_state()
        if code_after["hash"] != code_before["hash"]:
            log("WARNING: src/ changed during the run")
        head = header(started, t_load, (code_before, code_after))
        text, summary = scale_markdown(args, gen, imp, scale, head, now)
        replace_section(args.out, SCALE_SECTION, text, summary=summary)
        raw.update(scale=scale, generate=gen, import_=imp)
        log(f"wrote section {SCALE_SECTION} of {args.out}")
        for name, req, got, ok in scale_targets(scale):
            log(f"{_verdict(ok).strip('*')}: {name} (required {req}, measured {got})")

    raw_dir.mkdir(parents=True, exist_ok=True)
    raw_path = raw_dir / f"{stamp}.json"
    raw_path.write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    log(f"raw results: {raw_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
