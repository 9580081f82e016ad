"""Survival analysis of time to churn (lifelines).

- :mod:`~churnradar.survival.durations`: one row per customer (first spell): duration,
  churned, delayed entry for customers older than the data, cohort and attributes.
- :mod:`~churnradar.survival.km`: Kaplan–Meier curves by group with confidence intervals,
  median lifetime with its interval, log-rank tests (across groups and pairwise).
- :mod:`~churnradar.survival.cox`: Cox proportional-hazards model on the attributes, and
  the remaining survival of active customers (``conditional_after``).
- :mod:`~churnradar.survival.jobs`: the workspace job, results in ``runs/<id>-survival/``.

>>> from churnradar.survival import survival_job
>>> out = survival_job("my-workspace")  # doctest: +SKIP
>>> out.km.summary[["grouping", "group", "median_days"]]  # doctest: +SKIP
"""

from churnradar.survival.cox import CoxModel, CoxResult, fit_cox, remaining_survival
from churnradar.survival.durations import (
    ATTRIBUTES,
    CHURNED,
    COHORT,
    DURATION_DAYS,
    ENTRY_DAYS,
    GROUPINGS,
    PLAN,
    build_durations,
)
from churnradar.survival.jobs import SurvivalOutcome, survival_job
from churnradar.survival.km import (
    KaplanMeier,
    KMResult,
    LogRankTest,
    kaplan_meier,
    logrank_test,
    pairwise_logrank,
)

__all__ = [
    "ATTRIBUTES", "CHURNED", "COHORT", "DURATION_DAYS", "ENTRY_DAYS", "GROUPINGS", "PLAN",
    "CoxModel", "CoxResult", "KMResult", "KaplanMeier", "LogRankTest", "SurvivalOutcome",
    "build_durations", "fit_cox", "kaplan_meier", "logrank_test", "pairwise_logrank",
    "remaining_survival", "survival_job",
]
