"""The prediction jobs of a workspace: train, backtest, score (used by the CLI and the
report). Each opens the workspace's tables on the engine, calls the library functions of
this package and saves what it produced: the model under ``models/``, results in a run
folder ``runs/<id>-predict-<job>/``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from churnradar import engine
from churnradar.exceptions import WorkspaceError
from churnradar.features.plan import FeaturePlan
from churnradar.fsutil import atomic_path, atomic_write_text
from churnradar.predict.backtest import BacktestResult, run_backtest
from churnradar.predict.dataset import PredictionData
from churnradar.predict.model import load_model, save_model
from churnradar.predict.scoring import score_customers
from churnradar.predict.training import TrainedModel, train_risk_model
from churnradar.workspace import Workspace

#: the workspace's current churn risk model
MODEL_PATH = Path("models") / "churn_risk.joblib"
#: step(name, done, total) — name is a catalog key suffix (``cli_step_<name>``)
Step = Callable[[str, int, int | None], None]


def _no_step(_name: str, _done: int, _total: int | None) -> None:
    return None


def open_data(ws: Workspace) -> PredictionData:
    """The workspace's tables on DuckDB, with the workspace's engine settings."""
    eng = ws.settings.engine
    con = engine.connect("duckdb", threads=eng.threads or None,
                         memory_limit=eng.memory_limit or None)
    return PredictionData.from_tables(engine.tables(con, ws), ws.settings.churn)


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1, default=str)


def model_path(ws: Workspace) -> Path:
    return ws.root / MODEL_PATH


def save_trained(ws: Workspace, trained: TrainedModel, path: Path | None = None) -> Path:
    """Save the model with its feature plan, settings and the data fingerprints."""
    path = path or model_path(ws)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = trained.describe()
    meta["data"] = {t: ws.fingerprint(t) for t in ws.tables()}
    meta["churn_settings"] = {k: str(v) for k, v in vars(ws.settings.churn).items()}
    meta["trained_at"] = dt.datetime.now().isoformat(timespec="seconds")
    save_model(trained.model, path, metadata=meta)
    return path


def load_trained(path: Path) -> TrainedModel:
    """A saved model (see :func:`save_trained`)."""
    model, meta = load_model(path)
    lift = meta.get("lift")
    return TrainedModel(
        model=model, plan=FeaturePlan.from_dict(meta["plan"]),
        horizon_days=int(meta["horizon_days"]),
        dates=[dt.date.fromisoformat(d) for d in meta["dates"]],
        rows=int(meta["rows"]), churners=int(meta["churners"]),
        evaluation_date=(dt.date.fromisoformat(meta["evaluation_date"])
                         if meta.get("evaluation_date") else None),
        lift=pd.DataFrame(lift) if lift else None,
        metadata=meta,
    )


@dataclass
class TrainOutcome:
    trained: TrainedModel
    path: Path
    run_dir: Path


def train_job(ws: Workspace, *, as_of: dt.date | None = None, evaluate: bool = True,
              step: Step | None = None, data: PredictionData | None = None) -> TrainOutcome:
    """Train the workspace's model and save it as ``models/churn_risk.joblib``.

    ``data`` (from :func:`open_data`) lets several jobs share one feature cache."""
    step = step or _no_step
    data = data or open_data(ws)
    trained = train_risk_model(data, ws.settings.predict, as_of=as_of, evaluate=evaluate,
                               progress=lambda name, i, n: step(f"predict_{name}", i, n))
    path = save_trained(ws, trained)
    run_dir = ws.new_run("predict-train")
    atomic_write_text(run_dir / "model.json", _json(load_trained(path).metadata))
    return TrainOutcome(trained=trained, path=path, run_dir=run_dir)


@dataclass
class ScoreOutcome:
    scores: pd.DataFrame
    trained: TrainedModel
    model_path: Path
    run_dir: Path
    trained_now: bool


def score_job(ws: Workspace, *, as_of: dt.date | None = None, model: Path | None = None,
              step: Step | None = None, data: PredictionData | None = None) -> ScoreOutcome:
    """Score every active customer; trains (and saves) a model first when there is none.

    The scores go to ``runs/<id>-predict-score/scores.parquet``.
    """
    step = step or _no_step
    path = model or model_path(ws)
    trained_now = False
    if not path.exists():
        if model is not None:
            raise WorkspaceError(key="err_model_missing", path=str(path))
        data = data or open_data(ws)
        train_job(ws, step=step, data=data)
        trained_now = True
    trained = load_trained(path)
    data = data or open_data(ws)
    step("predict_score", 0, 1)
    scores = score_customers(data, trained, ws.settings.predict, as_of=as_of)
    step("predict_score", 1, 1)
    run_dir = ws.new_run("predict-score")
    with atomic_path(run_dir / "scores.parquet") as tmp:
        scores.to_parquet(tmp, index=False)
    summary = {"as_of": str(as_of or data.data_end), "model": str(path),
               "customers": len(scores),
               "tiers": scores["risk_tier"].value_counts().to_dict(),
               "mean_probability": float(scores["churn_probability"].mean())
               if len(scores) else None}
    atomic_write_text(run_dir / "summary.json", _json(summary))
    return ScoreOutcome(scores=scores, trained=trained, model_path=path, run_dir=run_dir,
                        trained_now=trained_now)


@dataclass
class BacktestOutcome:
    result: BacktestResult
    run_dir: Path


def backtest_job(ws: Workspace, *, dates: int | None = None, step: Step | None = None,
                 data: PredictionData | None = None) -> BacktestOutcome:
    """Backtest the model and the two baselines; results in ``backtest.json``."""
    from churnradar.predict.backtest import backtest_dates

    step = step or _no_step
    data = data or open_data(ws)
    when = backtest_dates(data, ws.settings.predict, dates)
    step("predict_backtest", 0, len(when))
    result = run_backtest(data, ws.settings.predict, dates=when,
                          progress=lambda i, n: step("predict_backtest", i, n))
    run_dir = ws.new_run("predict-backtest")
    atomic_write_text(run_dir / "backtest.json", _json(result.to_dict()))
    return BacktestOutcome(result=result, run_dir=run_dir)


def latest_run(ws: Workspace, kind: str) -> Path | None:
    """The newest ``runs/<id>-<kind>/`` folder, if any."""
    if not ws.runs_dir.exists():
        return None
    import re

    pattern = re.compile(rf"^(\d{{8}}-\d{{6}})-{re.escape(kind)}(?:-(\d+))?$")
    found = []
    for p in ws.runs_dir.iterdir():
        m = pattern.match(p.name)
        if m and p.is_dir():
            found.append(((m.group(1), int(m.group(2) or 0)), p))
    runs = [p for _, p in sorted(found)]
    return runs[-1] if runs else None
