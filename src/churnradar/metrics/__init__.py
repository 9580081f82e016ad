"""Churn and retention metrics (domain.md §2): rates on both bases, revenue churn, churn
loss, segments with Wilson intervals, cohorts and the churn safety line."""

from churnradar.metrics.compute import compute_metrics, compute_metrics_from_tables
from churnradar.metrics.rates import (
    AggregateChurn,
    aggregate_churn,
    convert_rate,
    wilson_interval,
)
from churnradar.metrics.result import AnalysisStatus, MetricsResult, SafetyCheck

__all__ = [
    "AggregateChurn", "AnalysisStatus", "MetricsResult", "SafetyCheck", "aggregate_churn",
    "compute_metrics", "compute_metrics_from_tables", "convert_rate",
    "wilson_interval",
]
