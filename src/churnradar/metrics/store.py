"""Save a :class:`MetricsResult` into a run folder, and turn it into JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from churnradar.fsutil import atomic_write_text
from churnradar.metrics.result import MetricsResult


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def result_to_dict(result: MetricsResult) -> dict[str, Any]:
    """A JSON-ready dictionary of everything in ``result`` (dates ISO, NaN as null)."""
    cohorts = result.cohorts.copy()
    cohorts.columns = [str(c) for c in cohorts.columns]
    return {
        "period": result.period,
        "as_of": result.as_of.isoformat(),
        "business": result.business,
        "currency": result.currency,
        "margin": result.margin,
        "annualised_churn_rate": _plain(result.annualised_churn_rate),
        "overall": records(result.overall),
        "by": {dim: records(df) for dim, df in result.by.items()},
        "cohorts": records(cohorts.reset_index()),
        "safety": [{k: _plain(v) for k, v in dataclasses.asdict(c).items()}
                   for c in result.safety],
        "completeness": [dataclasses.asdict(a) for a in result.completeness],
    }


def save_result(result: MetricsResult, run_dir: Path) -> list[Path]:
    """Write the tables as CSV (UTF-8 with BOM, so Excel shows Chinese) plus a JSON file."""
    written = []

    def csv(name: str, df: pd.DataFrame, index: bool = False) -> None:
        path = run_dir / name
        atomic_write_text(path, "\ufeff" + df.to_csv(index=index))
        written.append(path)

    csv("periods.csv", result.overall)
    for dim, df in result.by.items():
        csv(f"by_{dim}.csv", df)
    csv("cohorts.csv", result.cohorts, index=True)
    path = run_dir / "metrics.json"
    atomic_write_text(path, json.dumps(result_to_dict(result), ensure_ascii=False, indent=1))
    written.append(path)
    return written
