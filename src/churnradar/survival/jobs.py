"""The survival job of a workspace: durations → Kaplan–Meier by group + log-rank → Cox →
remaining lifetime of active customers, saved in ``runs/<id>-survival/``.

Files of the run folder (besides ``manifest.json``)::

    durations.parquet          one row per customer (durations.build_durations)
    km_curve.parquet           KMResult.curve
    km_summary.parquet         KMResult.summary
    logrank.parquet            KMResult.logrank
    logrank_pairwise.parquet   KMResult.pairwise
    cox_summary.parquet        CoxResult.summary (when a Cox model was fitted)
    remaining.parquet          remaining survival of the active customers
    survival.json              the headline numbers and the parameters used
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from churnradar import engine
from churnradar.exceptions import InputError
from churnradar.fsutil import atomic_path, atomic_write_text
from churnradar.lifecycle import build_lifecycle
from churnradar.settings import Period, Settings
from churnradar.survival.cox import CoxResult, fit_cox, remaining_survival
from churnradar.survival.durations import (
    CHURNED,
    COHORT,
    DURATION_DAYS,
    ENTRY_DAYS,
    LEFT_TRUNCATED,
    PLAN,
    build_durations,
)
from churnradar.survival.km import (
    ALL,
    GROUPING,
    MEDIAN_DAYS,
    MEDIAN_LOWER,
    MEDIAN_UPPER,
    P_VALUE,
    KMResult,
    available_groupings,
    check_durations,
    check_horizons,
    kaplan_meier,
    survival_col,
)
from churnradar.workspace import Workspace

log = logging.getLogger(__name__)

#: step(name, done, total) — as in predict.jobs, the CLI shows catalog key
#: ``cli_step_<name>``; names: survival_durations, survival_km, survival_cox, survival_save
Step = Callable[[str, int, int | None], None]

#: Cox failures after which the job carries on with Kaplan–Meier only
_COX_FALLBACK = {"survival_err_no_covariates", "survival_err_cox_failed"}


def _no_step(_name: str, _done: int, _total: int | None) -> None:
    return None


def job_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of :func:`survival_job` from the ``[survival]`` settings."""
    sv = settings.survival
    return {"groupings": sv.grouping_list(), "horizons": sv.horizon_days(),
            "remaining_horizons": sv.remaining_days(), "confidence": sv.confidence,
            "penalizer": sv.penalizer, "cohort_period": sv.cohort_period,
            "min_group_size": sv.min_group_size, "max_groups": sv.max_groups,
            "max_cox_rows": sv.max_cox_rows}


@dataclass(frozen=True)
class SurvivalOutcome:
    """What :func:`survival_job` computed and where it saved it.

    Attributes
    ----------
    durations : pandas.DataFrame
        :func:`~churnradar.survival.durations.build_durations`.
    km : KMResult
        Curves, summaries and log-rank tests (overall and per grouping).
    cox : CoxResult or None
        None when no covariate has two values or lifelines could not fit (see
        ``summary["cox_skipped"]``).
    remaining : pandas.DataFrame
        Remaining survival of the active customers, riskiest first (from the Cox model,
        else from the overall Kaplan–Meier curve).
    summary : dict
        The content of ``survival.json``.
    run_dir : pathlib.Path
    """

    durations: pd.DataFrame
    km: KMResult
    cox: CoxResult | None
    remaining: pd.DataFrame
    summary: dict[str, Any]
    run_dir: Path


def survival_job(
    workspace: Workspace | str | Path,
    settings: Settings | None = None,
    *,
    as_of: dt.date | None = None,
    groupings: Sequence[str] | None = None,
    covariates: Sequence[str] | None = None,
    horizons: Sequence[int] = (90, 180, 365),
    remaining_horizons: Sequence[int] = (30, 90, 180, 365),
    confidence: float = 0.95,
    penalizer: float = 0.01,
    cohort_period: Period = "quarter",
    min_group_size: int = 30,
    max_groups: int = 16,
    left_truncation: bool = True,
    max_cox_rows: int = 200_000,
    random_state: int | None = 0,
    step: Step | None = None,
) -> SurvivalOutcome:
    """Run the survival analysis of a workspace and save it in a run folder.

    Parameters
    ----------
    workspace
        A :class:`~churnradar.workspace.Workspace` or its folder.
    settings
        Settings to use instead of the workspace's (``[churn]`` and ``[engine]``).
    as_of
        Overrides ``[churn] as_of``.
    groupings
        Kaplan–Meier groupings; default every known one present (grade, segment, region,
        channel, is_key_account, owner_id, plan, cohort). Customer columns beyond these
        may be named too.
    covariates
        Cox covariates; default: the groupings.
    horizons
        Days at which the Kaplan–Meier summary gives the survival probability.
    remaining_horizons
        Days ahead for the active customers' probability to stay.
    confidence, penalizer, cohort_period, min_group_size, max_groups, left_truncation,
    max_cox_rows, random_state
        See :func:`~churnradar.survival.km.kaplan_meier`,
        :func:`~churnradar.survival.cox.fit_cox` and
        :func:`~churnradar.survival.durations.build_durations`.
    step
        Progress callback ``step(name, done, total)`` with the names
        ``survival_durations``, ``survival_km``, ``survival_cox``, ``survival_save``
        (shown by the CLI as catalog keys ``cli_step_<name>``).

    Returns
    -------
    SurvivalOutcome

    Raises
    ------
    WorkspaceError
        Not a workspace, or no subscriptions / transactions table.
    SchemaError
        A grouping or covariate is not a column.
    InputError
        Too few customers, no churn yet, or invalid arguments.
    """
    step = step or _no_step
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    settings = settings or ws.settings
    horizons_t = check_horizons(horizons)
    remaining_t = check_horizons(remaining_horizons, "remaining_horizons")

    step("survival_durations", 0, 1)
    eng = settings.engine
    con = engine.connect("duckdb", threads=eng.threads or None,
                         memory_limit=eng.memory_limit or None)
    tables = engine.tables(con, ws)
    life = build_lifecycle(tables, settings.churn, as_of=as_of)
    attributes = None
    if groupings is not None or covariates is not None:
        named = [*(groupings or []), *(covariates or [])]
        attributes = list(dict.fromkeys(c for c in named if c not in (PLAN, COHORT)))
        if groupings is None:  # the groupings keep their default (covariates follow them)
            attributes = _with_defaults(tables, attributes)
    durations = build_durations(tables, settings.churn, lifecycle=life, attributes=attributes,
                                cohort_period=cohort_period, left_truncation=left_truncation)
    check_durations(durations, DURATION_DAYS, CHURNED, ENTRY_DAYS)
    step("survival_durations", 1, 1)

    step("survival_km", 0, 1)
    km = kaplan_meier(durations, groupings, confidence=confidence, horizons=horizons_t,
                      min_group_size=min_group_size, max_groups=max_groups)
    step("survival_km", 1, 1)

    step("survival_cox", 0, 1)
    cox: CoxResult | None = None
    cox_skipped: str | None = None
    covs = list(covariates) if covariates is not None else (
        list(groupings) if groupings is not None else available_groupings(durations))
    if covs:
        try:
            cox = fit_cox(durations, covs, penalizer=penalizer, confidence=confidence,
                          min_level_size=min_group_size, max_levels=max_groups,
                          max_rows=max_cox_rows, random_state=random_state)
        except InputError as exc:
            if exc.key not in _COX_FALLBACK:
                raise
            cox_skipped = exc.key
            log.warning("survival: no Cox model: %s", exc)
    else:
        cox_skipped = "survival_err_no_covariates"
    model = cox.model if cox is not None else km.fitted[ALL]
    remaining = remaining_survival(durations, model, horizons=remaining_t)
    step("survival_cox", 1, 1)

    step("survival_save", 0, 1)
    summary = _summary(durations, km, cox, remaining, life_info={
        "as_of": life.as_of.isoformat(), "business": life.business,
        "history_start": life.history_start.isoformat()}, params={
        "horizons": list(horizons_t), "remaining_horizons": list(remaining_t),
        "confidence": confidence, "penalizer": penalizer, "cohort_period": cohort_period,
        "min_group_size": min_group_size, "max_groups": max_groups,
        "left_truncation": left_truncation, "max_cox_rows": max_cox_rows,
        "random_state": random_state}, cox_skipped=cox_skipped)
    run_dir = ws.new_run("survival")
    frames = {"durations": durations, "km_curve": km.curve, "km_summary": km.summary,
              "logrank": km.logrank, "logrank_pairwise": km.pairwise,
              "remaining": remaining}
    if cox is not None:
        frames["cox_summary"] = cox.summary
    for name, frame in frames.items():
        with atomic_path(run_dir / f"{name}.parquet") as tmp:
            frame.to_parquet(tmp, index=False)
    summary["files"] = sorted(f"{n}.parquet" for n in frames)
    atomic_write_text(run_dir / "survival.json",
                      json.dumps(summary, ensure_ascii=False, indent=1, allow_nan=False))
    step("survival_save", 1, 1)
    return SurvivalOutcome(durations=durations, km=km, cox=cox, remaining=remaining,
                           summary=summary, run_dir=run_dir)


def _with_defaults(tables: dict[str, Any], named: list[str]) -> list[str]:
    from churnradar.survival.durations import ATTRIBUTES

    customers = tables.get("customers")
    have = [] if customers is None else list(customers.columns)
    return list(dict.fromkeys([*named, *(c for c in ATTRIBUTES if c in have)]))


def _finite(value: Any) -> float | None:
    """A number for JSON: None for inf / NaN (the json says why next to it)."""
    v = float(value)
    return v if math.isfinite(v) else None


def _summary(durations: pd.DataFrame, km: KMResult, cox: CoxResult | None,
             remaining: pd.DataFrame, *, life_info: dict[str, str], params: dict[str, Any],
             cox_skipped: str | None) -> dict[str, Any]:
    overall = km.summary[km.summary[GROUPING] == ALL].iloc[0]
    median = float(overall[MEDIAN_DAYS])
    out: dict[str, Any] = {
        **life_info,
        "customers": len(durations),
        "churned": int(durations[CHURNED].sum()),
        "active": int((~durations[CHURNED].astype(bool)).sum()),
        "left_truncated": int(durations[LEFT_TRUNCATED].sum()),
        # null when the curve stays above one half: more than half are still customers
        "median_days": _finite(median),
        "median_reached": math.isfinite(median),
        "median_lower": _finite(overall[MEDIAN_LOWER]),
        "median_upper": _finite(overall[MEDIAN_UPPER]),
        # null beyond the longest follow-up
        "survival": {str(h): _finite(overall[survival_col(h)])
                     for h in params["horizons"]},
        "groupings": [g for g in km.logrank[GROUPING]],
        "skipped": {g: reason for g, reason in km.skipped},
        "logrank_p": {g: _finite(p) for g, p in zip(km.logrank[GROUPING],
                                                     km.logrank[P_VALUE], strict=True)},
        "cox": ({k: (_finite(v) if isinstance(v, float) else v)
                 for k, v in cox.to_dict().items()} if cox is not None else None),
        "cox_skipped": cox_skipped,
        "remaining_model": "cox" if cox is not None else "kaplan_meier",
        "remaining_customers": len(remaining),
        "parameters": params,
    }
    return out
