"""Train the churn risk model of a workspace on stacked observation dates.

:func:`train_risk_model` builds point-in-time features and labels at the month ends
before the data end (``[predict] observation_months`` of them, each with a known
outcome), fits :class:`~churnradar.predict.model.ChurnRiskModel` in time mode (early
stopping and calibration on the latest date, training rows at least one horizon older)
and, unless asked not to, measures it out of time first: the same recipe trained one
horizon earlier and evaluated on the latest date, as a backtest would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from churnradar.features.build import feature_columns
from churnradar.features.plan import FeaturePlan
from churnradar.predict.dataset import PredictionData, split_xy
from churnradar.predict.evaluation import Evaluation, evaluate_scores, lift_curve
from churnradar.predict.labels import observation_dates
from churnradar.predict.model import ChurnRiskModel
from churnradar.settings import PredictSettings

#: progress(step, done, total): step is "features" or "fit"
TrainProgress = Callable[[str, int, int], None]


def _no_progress(_step: str, _done: int, _total: int) -> None:
    return None


@dataclass
class TrainedModel:
    """A fitted model with everything needed to score a workspace with it again."""

    model: ChurnRiskModel
    plan: FeaturePlan
    horizon_days: int
    #: the observation dates of the training rows
    dates: list[dt.date]
    rows: int
    churners: int
    #: the out-of-time check (None when skipped or impossible)
    evaluation: Evaluation | None = None
    evaluation_date: dt.date | None = None
    lift: pd.DataFrame | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary (stored beside the saved model)."""
        return {
            "plan": self.plan.to_dict(),
            "horizon_days": self.horizon_days,
            "dates": [d.isoformat() for d in self.dates],
            "rows": self.rows,
            "churners": self.churners,
            "features": list(self.model.feature_names_),
            "evaluation_date": self.evaluation_date.isoformat() if self.evaluation_date else None,
            "evaluation": self.evaluation.to_dict() if self.evaluation else None,
            "lift": (self.lift.to_dict(orient="list") if self.lift is not None else None),
            **self.metadata,
        }


def make_model(settings: PredictSettings) -> ChurnRiskModel:
    return ChurnRiskModel(kind=settings.model,  # type: ignore[arg-type]
                          calibration=settings.calibration,  # type: ignore[arg-type]
                          horizon_days=settings.horizon_days,
                          random_state=settings.random_state)


def fit_on_dates(data: PredictionData, settings: PredictSettings, dates: list[dt.date],
                 plan: FeaturePlan, progress: TrainProgress = _no_progress,
                 ) -> tuple[ChurnRiskModel, pd.DataFrame]:
    """Fit the configured model on the labelled features of ``dates``."""
    frame = data.stacked(dates, plan, settings.horizon_days,
                         lambda i, n: progress("features", i, n),
                         max_rows=settings.max_training_rows,
                         random_state=settings.random_state)
    x, y, when = split_xy(frame)
    progress("fit", 0, 1)
    model = make_model(settings).fit(x, y, time=when)
    progress("fit", 1, 1)
    return model, frame


def train_risk_model(data: PredictionData, settings: PredictSettings, *,
                     as_of: dt.date | None = None, evaluate: bool = True,
                     progress: TrainProgress | None = None) -> TrainedModel:
    """Train on the observation dates before ``as_of`` (default: the data end).

    Raises
    ------
    InputError
        The history holds no observation date with a known outcome.
    """
    progress = progress or _no_progress
    end = as_of or data.data_end
    dates = observation_dates(end, horizon_days=settings.horizon_days,
                              count=settings.observation_months,
                              history_start=data.history_start)
    plan = data.plan(dates[-1])
    evaluation = lift = None
    eval_date = None
    if evaluate:
        earlier = [d for d in dates
                   if d + dt.timedelta(days=settings.horizon_days) <= dates[-1]]
        if len(earlier) >= 2:
            check, _ = fit_on_dates(data, settings, earlier, plan, progress)
            test = data.labelled(dates[-1], plan, settings.horizon_days)
            x, y, _when = split_xy(test)
            p = check.predict_proba(x)[:, 1]
            if 0 < int(y.sum()) < len(y):
                evaluation = evaluate_scores(y.to_numpy(), p)
                lift = lift_curve(y.to_numpy(), p)
                eval_date = dates[-1]
    model, frame = fit_on_dates(data, settings, dates, plan, progress)
    return TrainedModel(
        model=model, plan=plan, horizon_days=settings.horizon_days, dates=dates,
        rows=len(frame), churners=int(frame["churned"].sum()), evaluation=evaluation,
        evaluation_date=eval_date, lift=lift,
        metadata={"settings": asdict(settings), "feature_count": len(feature_columns(frame)) - 1},
    )
