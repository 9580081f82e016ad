"""Time-based backtest: train on the data before ``T``, evaluate on ``T .. T + horizon``.

For each evaluation date ``T`` (the latest ``[predict] backtest_dates`` month ends whose
outcome is known, one month apart) the model is trained on observation dates whose own
outcome was known by ``T`` (``T' + horizon <= T``), exactly as it would have been on
that day, and scored on everyone active at ``T``. The two naive baselines of
:mod:`churnradar.predict.baselines` are fitted on the same training rows and evaluated on
the same customers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from churnradar.predict.baselines import RecencyBaseline, SegmentRateBaseline
from churnradar.predict.dataset import PredictionData, split_xy
from churnradar.predict.evaluation import Evaluation, evaluate_scores, lift_curve
from churnradar.predict.labels import months_back, observation_dates
from churnradar.predict.training import fit_on_dates
from churnradar.settings import PredictSettings

MODEL = "model"
RECENCY = "recency_baseline"
SEGMENT_RATE = "segment_rate_baseline"
CONTENDERS: tuple[str, ...] = (MODEL, RECENCY, SEGMENT_RATE)

#: progress(done, total) over evaluation dates
BacktestProgress = Callable[[int, int], None]


@dataclass
class BacktestResult:
    horizon_days: int
    #: one row per (date, contender): date, contender, n, churners, roc_auc, ...
    summary: pd.DataFrame
    evaluations: dict[tuple[dt.date, str], Evaluation] = field(default_factory=dict)
    #: lift curves of the latest date per contender (fraction, lift, capture)
    lift: dict[str, pd.DataFrame] = field(default_factory=dict)

    def mean(self) -> pd.DataFrame:
        """Mean of each metric over the dates, per contender."""
        num = self.summary.drop(columns=["date"]).groupby("contender", sort=False).mean()
        return num.reset_index()

    def to_dict(self) -> dict[str, Any]:
        return {
            "horizon_days": self.horizon_days,
            "dates": [d.isoformat() for d in sorted({d for d, _ in self.evaluations})],
            "mean": self.mean().to_dict(orient="records"),
            "per_date": [
                {"date": d.isoformat(), "contender": c, **e.to_dict()}
                for (d, c), e in sorted(self.evaluations.items())
            ],
            "lift": {name: df.to_dict(orient="list") for name, df in self.lift.items()},
        }


def backtest_dates(data: PredictionData, settings: PredictSettings,
                   count: int | None = None) -> list[dt.date]:
    latest = observation_dates(data.data_end, horizon_days=settings.horizon_days, count=1,
                               history_start=data.history_start)[-1]
    n = count or settings.backtest_dates
    return sorted(months_back(latest, i) for i in range(n))


def run_backtest(data: PredictionData, settings: PredictSettings, *,
                 dates: list[dt.date] | None = None,
                 progress: BacktestProgress | None = None) -> BacktestResult:
    """Evaluate the model and the baselines at each date (see the module docstring)."""
    dates = dates or backtest_dates(data, settings)
    rows: list[dict[str, Any]] = []
    evals: dict[tuple[dt.date, str], Evaluation] = {}
    lift: dict[str, pd.DataFrame] = {}
    for i, when in enumerate(dates):
        train_dates = observation_dates(when, horizon_days=settings.horizon_days,
                                        count=settings.observation_months,
                                        history_start=data.history_start)
        plan = data.plan(train_dates[-1])
        model, frame = fit_on_dates(data, settings, train_dates, plan)
        xt, yt, tt = split_xy(frame)
        recency = RecencyBaseline().fit(xt, yt)
        segment = SegmentRateBaseline().fit(xt, yt, time=tt)
        test = data.labelled(when, plan, settings.horizon_days)
        x, y, _ = split_xy(test)
        yv = y.to_numpy()
        if not 0 < int(yv.sum()) < len(yv):
            continue  # nobody (or everybody) churned: nothing to rank
        for name, est in ((MODEL, model), (RECENCY, recency), (SEGMENT_RATE, segment)):
            p = np.asarray(est.predict_proba(x))[:, 1]
            ev = evaluate_scores(yv, p)
            evals[(when, name)] = ev
            flat = {k: v for k, v in ev.to_dict().items() if k != "calibration"}
            rows.append({"date": when, "contender": name, **flat})
            if when == dates[-1]:
                lift[name] = lift_curve(yv, p)
        if progress is not None:
            progress(i + 1, len(dates))
    return BacktestResult(horizon_days=settings.horizon_days, summary=pd.DataFrame(rows),
                          evaluations=evals, lift=lift)
