"""Stacked training tables: point-in-time features joined with their labels.

:class:`PredictionData` holds one workspace's tables on an engine connection, the
lifecycle spells built on all the data (for labels only) and a cache of feature tables
per observation date, so that a backtest building many overlapping training sets
computes each date's features once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from churnradar import schema as s
from churnradar.exceptions import InputError
from churnradar.features.build import AS_OF, build_features
from churnradar.features.plan import FeaturePlan, make_plan
from churnradar.lifecycle import build_lifecycle, data_bounds, detect_business
from churnradar.predict.labels import LABEL, make_labels, spells_frame
from churnradar.settings import ChurnSettings

log = logging.getLogger(__name__)

#: progress(done, total) over observation dates
DateProgress = Callable[[int, int], None]


@dataclass
class PredictionData:
    """A workspace's tables, ready for features and labels at any observation date."""

    tables: dict[str, ir.Table]
    churn: ChurnSettings
    data_end: dt.date
    history_start: dt.date
    business: str
    #: keep each date's features for reuse (a backtest revisits dates); off for scale
    cache: bool = True
    _spells: pd.DataFrame | None = None
    _features: dict[tuple[dt.date, str], pd.DataFrame] = field(default_factory=dict)

    @classmethod
    def from_tables(cls, tables: dict[str, ir.Table], churn: ChurnSettings,
                    *, data_end: dt.date | None = None) -> PredictionData:
        if "customers" not in tables and not ({"subscriptions", "transactions"} & set(tables)):
            raise InputError(key="err_no_activity_table")
        business = detect_business(tables, churn)
        lo, hi = data_bounds(tables, business)
        return cls(tables=tables, churn=churn, data_end=data_end or churn.as_of or hi,
                   history_start=lo, business=business)

    @property
    def spells(self) -> pd.DataFrame:
        """The spells on all the data up to ``data_end`` (labels only, never features)."""
        if self._spells is None:
            life = build_lifecycle(self.tables, self.churn, as_of=self.data_end)
            self._spells = spells_frame(life.spells)
        return self._spells

    def plan(self, as_of: dt.date) -> FeaturePlan:
        return make_plan(self.tables, business=self.business, as_of=as_of)

    def features(self, as_of: dt.date, plan: FeaturePlan) -> pd.DataFrame:
        """Features at ``as_of`` (kept for reuse while ``cache`` is on)."""
        key = (as_of, repr(plan))
        if key in self._features:
            return self._features[key]
        df = build_features(self.tables, self.churn, as_of=as_of, plan=plan)
        # float32 halves the memory of stacked dates; LightGBM bins features anyway
        floats = df.select_dtypes("float64").columns
        df[floats] = df[floats].astype("float32")
        if self.cache:
            self._features[key] = df
        return df

    def labelled(self, as_of: dt.date, plan: FeaturePlan, horizon_days: int,
                 *, max_rows: int | None = None, random_state: int = 0) -> pd.DataFrame:
        """Features at ``as_of`` with the label column ``churned``; a uniform sample of
        ``max_rows`` customers when there are more (the same sample every call)."""
        if as_of + dt.timedelta(days=horizon_days) > self.data_end:
            raise InputError(key="err_predict_unknown_outcome", as_of=str(as_of),
                             horizon=horizon_days, end=str(self.data_end))
        feats = self.features(as_of, plan)
        if max_rows is not None and len(feats) > max_rows:
            rng = np.random.default_rng([random_state, as_of.toordinal()])
            keep = np.sort(rng.choice(len(feats), max_rows, replace=False))
            feats = feats.iloc[keep].reset_index(drop=True)
        labels = make_labels(self.spells, as_of=as_of, horizon_days=horizon_days)
        out = feats.merge(labels[[s.CUSTOMER_ID, LABEL]], on=s.CUSTOMER_ID, how="inner")
        lost = len(feats) - len(out)
        if lost:  # active at as_of by the data up to then, not by all the data: rare edits
            log.warning("%s: %d customers active by the data up to then have no label",
                        as_of, lost)
        return out

    def stacked(self, dates: Sequence[dt.date], plan: FeaturePlan, horizon_days: int,
                progress: DateProgress | None = None, *, max_rows: int | None = None,
                random_state: int = 0) -> pd.DataFrame:
        """Labelled features of several observation dates, stacked (oldest first);
        at most ``max_rows`` rows in all (the same share of every date)."""
        parts = []
        per_date = None if max_rows is None else max(1, max_rows // max(len(dates), 1))
        for i, d in enumerate(sorted(dates)):
            parts.append(self.labelled(d, plan, horizon_days, max_rows=per_date,
                                       random_state=random_state))
            if progress is not None:
                progress(i + 1, len(dates))
        out = pd.concat(parts, ignore_index=True)
        for col in out.columns:  # categories differ per date: unite them
            if isinstance(parts[0][col].dtype, pd.CategoricalDtype):
                out[col] = out[col].astype("category")
        return out


def split_xy(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """(features X, label y, observation date per row) of a labelled table."""
    x = frame.drop(columns=[c for c in (s.CUSTOMER_ID, AS_OF, LABEL) if c in frame.columns])
    return x, frame[LABEL], frame[AS_OF]
