"""One step of the prediction benchmark, run in a fresh process by benchmarks/predict.py.

    python benchmarks/predict_steps.py STEP CONFIG.json RESULT.json

As in benchmarks/steps.py, the modules are imported before the clock starts and the
peak memory is ``VmHWM`` of /proc/self/status (this process's own high-water mark), read
when the work is done; the train step also reads it when the fit starts, so that the
peak of the feature phase and of the fit can be told apart.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
Config = dict[str, Any]


def _status_mib(key: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) / 1024  # kB
    return float("nan")  # pragma: no cover


def rss_mib() -> float:
    return _status_mib("VmRSS:")


def peak_rss_mib() -> float:
    return _status_mib("VmHWM:")


def _frame_mib(df: Any) -> float:
    return float(df.memory_usage(deep=True).sum()) / 1024 ** 2


def _records(df: Any) -> list[dict[str, Any]]:
    return json.loads(df.to_json(orient="records", date_format="iso"))


# --- demo backtest ---------------------------------------------------------------------
def step_demo_backtest(cfg: Config) -> dict[str, Any]:
    """Generate a demo industry, import it into a fresh workspace as a user would (CSV
    exports -> ``import_table``), then ``run_backtest`` with the default settings."""
    from churnradar import engine
    from churnradar.datasets import make_demo_data, write_demo_files
    from churnradar.io import import_table
    from churnradar.predict.backtest import MODEL, run_backtest
    from churnradar.predict.dataset import PredictionData
    from churnradar.settings import ChurnSettings, PredictSettings
    from churnradar.workspace import Workspace

    root = Path(cfg["workspace"])
    shutil.rmtree(root, ignore_errors=True)
    t = time.perf_counter()
    demo = make_demo_data(cfg["industry"], n_customers=cfg["customers"],
                          random_state=cfg["seed"])
    files = write_demo_files(demo, root / "exports", lang="en")
    t_generate = time.perf_counter() - t
    ws = Workspace.create(root, language="en")
    t = time.perf_counter()
    rows = {name: import_table(ws, name, path).rows_imported for name, path in files.items()}
    t_import = time.perf_counter() - t

    churn = ChurnSettings(inactivity_days=cfg["inactivity_days"], as_of=demo.as_of)
    settings = PredictSettings()
    marks: list[float] = []
    t0 = time.perf_counter()
    con = engine.connect("duckdb", memory_limit=ws.settings.engine.memory_limit or None)
    data = PredictionData.from_tables(engine.tables(con, ws), churn)
    result = run_backtest(data, settings,
                          progress=lambda i, n: marks.append(time.perf_counter() - t0))
    seconds = time.perf_counter() - t0
    dates = sorted({d for d, _ in result.evaluations})
    latest = dates[-1]
    calibration = result.evaluations[(latest, MODEL)].calibration
    per_date = [marks[0]] + [b - a for a, b in zip(marks, marks[1:], strict=False)]
    return {
        "seconds": seconds, "generate_seconds": t_generate, "import_seconds_data": t_import,
        "rows": rows, "business": data.business, "data_end": data.data_end.isoformat(),
        "history_start": data.history_start.isoformat(), "settings": vars(settings),
        "churn": {"inactivity_days": churn.inactivity_days, "as_of": str(churn.as_of)},
        "dates": [d.isoformat() for d in dates], "seconds_per_date": per_date,
        "mean": _records(result.mean()), "per_date": _records(result.summary),
        "calibration_date": latest.isoformat(), "calibration": _records(calibration),
    }


# --- scale ------------------------------------------------------------------------------
def _open(cfg: Config) -> tuple[Any, Any]:
    """The workspace and its PredictionData exactly as the jobs open them (engine
    settings of the workspace), without the per-date feature cache."""
    from churnradar.predict.jobs import open_data
    from churnradar.workspace import Workspace

    ws = Workspace.open(cfg["workspace"])
    data = open_data(ws)
    data.cache = False
    return ws, data


def step_features(cfg: Config) -> dict[str, Any]:
    """Features of every active customer at the latest training observation date."""
    from churnradar.features.build import feature_expr
    from churnradar.lifecycle import build_lifecycle
    from churnradar.predict.labels import observation_dates

    t0 = time.perf_counter()
    ws, data = _open(cfg)
    settings = ws.settings.predict
    dates = observation_dates(data.data_end, horizon_days=settings.horizon_days,
                              count=settings.observation_months,
                              history_start=data.history_start)
    t_open = time.perf_counter() - t0
    t = time.perf_counter()
    plan = data.plan(dates[-1])
    t_plan = time.perf_counter() - t
    t = time.perf_counter()
    df = data.features(dates[-1], plan)
    t_features = time.perf_counter() - t
    seconds = time.perf_counter() - t0
    peak = peak_rss_mib()
    out = {"seconds": seconds, "open_seconds": t_open, "plan_seconds": t_plan,
           "features_seconds": t_features, "as_of": dates[-1].isoformat(),
           "rows": len(df), "columns": len(df.columns) - 2, "frame_mib": _frame_mib(df),
           "peak_rss_mib_work": peak}
    del df
    # where the time goes, on a second run: the DuckDB query to Arrow, then pandas
    t = time.perf_counter()
    life = build_lifecycle(data.tables, data.churn, as_of=dates[-1])
    arrow = feature_expr(data.tables, life.spells, as_of=dates[-1], plan=plan).to_pyarrow()
    out["rerun_query_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    arrow.to_pandas()
    out["rerun_to_pandas_seconds"] = time.perf_counter() - t
    return out


def step_train(cfg: Config) -> dict[str, Any]:
    """``train_risk_model(evaluate=False)`` on the workspace, then save it where
    ``churnradar predict score`` finds it."""
    from churnradar.predict.jobs import save_trained
    from churnradar.predict.training import train_risk_model

    ws, data = _open(cfg)
    settings = ws.settings.predict
    marks: list[dict[str, Any]] = []
    t0 = time.perf_counter()

    def progress(step: str, done: int, total: int) -> None:
        marks.append({"step": step, "done": done, "total": total,
                      "at": time.perf_counter() - t0, "rss_mib": rss_mib(),
                      "peak_rss_mib": peak_rss_mib()})

    trained = train_risk_model(data, settings, evaluate=False, progress=progress)
    seconds = time.perf_counter() - t0
    t = time.perf_counter()
    path = save_trained(ws, trained)
    save_seconds = time.perf_counter() - t
    feat = [m for m in marks if m["step"] == "features"]
    fit0 = next(m for m in marks if m["step"] == "fit" and m["done"] == 0)
    fit1 = next(m for m in marks if m["step"] == "fit" and m["done"] == 1)
    per_date = [feat[0]["at"]] + [b["at"] - a["at"] for a, b in zip(feat, feat[1:],
                                                                    strict=False)]
    info = dict(trained.model.fit_info_)  # with the depth search: depth, rounds, loss
    return {
        "seconds": seconds, "features_seconds": feat[-1]["at"],
        "features_seconds_per_date": per_date,
        "stack_seconds": fit0["at"] - feat[-1]["at"],
        "fit_seconds": fit1["at"] - fit0["at"], "after_fit_seconds": seconds - fit1["at"],
        "save_seconds": save_seconds, "peak_rss_mib_features": fit0["peak_rss_mib"],
        "rss_mib_fit_start": fit0["rss_mib"], "marks": marks,
        "dates": [d.isoformat() for d in trained.dates], "rows": trained.rows,
        "churners": trained.churners, "features": len(trained.model.feature_names_),
        "n_iter": int(getattr(trained.model, "n_iter_", 0)),
        "depth": getattr(trained.model, "depth_", None),
        "fit_info": info, "model_path": str(path), "model_bytes": path.stat().st_size,
        "max_training_rows": settings.max_training_rows,
    }


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return times, out


def step_predict(cfg: Config) -> dict[str, Any]:
    """The pieces of scoring, each timed: features at the data end, the model alone
    (``predict_proba``), the drivers (``contributions`` then ``top_drivers``), tiers."""
    import numpy as np
    import pandas as pd

    from churnradar.predict.jobs import load_trained, model_path
    from churnradar.predict.scoring import risk_tiers, top_drivers

    ws, data = _open(cfg)
    settings = ws.settings.predict
    t = time.perf_counter()
    trained = load_trained(model_path(ws))
    load_seconds = time.perf_counter() - t
    t = time.perf_counter()
    feats = data.features(data.data_end, trained.plan)
    features_seconds = time.perf_counter() - t
    x = feats[list(trained.model.feature_names_)]
    n = len(x)
    repeat = int(cfg.get("repeat", 3))
    cpu = time.process_time()
    times, proba = _timed(lambda: trained.model.predict_proba(x), repeat)
    cpu = (time.process_time() - cpu) / repeat  # all threads of this process
    p = proba[:, 1]
    t = time.perf_counter()
    risk_tiers(p, high_share=settings.high_risk_share, medium_share=settings.medium_risk_share)
    tiers_seconds = time.perf_counter() - t
    peak_before_drivers = peak_rss_mib()
    t = time.perf_counter()
    contrib = trained.model.contributions(x)
    contributions_seconds = time.perf_counter() - t
    t = time.perf_counter()
    top_drivers(contrib, settings.top_drivers)
    top_drivers_seconds = time.perf_counter() - t
    del contrib
    out: dict[str, Any] = {
        "seconds": statistics.median(times), "rows": n, "features": x.shape[1],
        "as_of": data.data_end.isoformat(), "load_model_seconds": load_seconds,
        "features_seconds": features_seconds, "predict_seconds_all": times,
        "customers_per_second": n / statistics.median(times),
        "predict_cpu_seconds": cpu, "customers_per_cpu_second": n / cpu if cpu else None,
        "tiers_seconds": tiers_seconds, "contributions_seconds": contributions_seconds,
        "contributions_per_second": n / contributions_seconds,
        "top_drivers_seconds": top_drivers_seconds,
        "peak_rss_mib_before_drivers": peak_before_drivers,
        "mean_probability": float(np.mean(p)), "threads": trained.model.fit_info_["threads"],
        "n_iter": int(getattr(trained.model, "n_iter_", 0)),
        "depth": getattr(trained.model, "depth_", None),
    }
    target = int(cfg.get("tile_to", 0))
    if 0 < n < target:  # fewer active customers than asked: the same rows, repeated
        reps = -(-target // n)
        big = pd.concat([x] * reps, ignore_index=True).iloc[:target]
        big_times, _ = _timed(lambda: trained.model.predict_proba(big), repeat)
        out["tiled"] = {"rows": target, "seconds_all": big_times,
                        "seconds": statistics.median(big_times),
                        "customers_per_second": target / statistics.median(big_times)}
    return out


STEPS: dict[str, Callable[[Config], dict[str, Any]]] = {
    "demo_backtest": step_demo_backtest,
    "features": step_features,
    "train": step_train,
    "predict": step_predict,
}


def main(argv: list[str]) -> int:
    step, config, result = argv
    cfg = json.loads(Path(config).read_text(encoding="utf-8"))
    fn = STEPS[step]
    t = time.perf_counter()  # imports before the clock starts (not part of the work)
    import ibis.backends.duckdb  # noqa: F401
    import lightgbm  # noqa: F401
    import sklearn  # noqa: F401

    import churnradar.io  # noqa: F401
    import churnradar.predict.backtest  # noqa: F401
    import churnradar.predict.jobs  # noqa: F401
    import_seconds = time.perf_counter() - t
    rss_before = rss_mib()
    load = os.getloadavg()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    out = fn(cfg)
    out.update(step=step, peak_rss_mib=peak_rss_mib(), rss_after_imports_mib=rss_before,
               import_seconds=import_seconds, loadavg_at_start=load,
               loadavg_at_end=os.getloadavg(), started=started,
               process_seconds=time.perf_counter() - T0)
    Path(result).write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
