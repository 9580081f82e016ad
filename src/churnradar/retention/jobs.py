"""The retention plan of a workspace (``churnradar plan DIR``): who to contact, with
which playbook, within the budget and the contact capacity; the control group; the
win-back list; the what-if of lower churn; and whether earlier actions worked.

Inputs come from the other analyses, each run when it has not been yet:
the churn probability of every active customer (the latest ``predict score`` run, or a
fresh score), their value (CLV of the latest value run, or a fresh one), their likely
reason and churn type (:func:`churnradar.reasons.attribution.attribute` on their recent
complaints and the risk model's drivers), and the ``retention_actions`` table for the
measured effects. Results go to ``runs/<id>-plan/``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churnradar import schema as s
from churnradar.exceptions import ChurnRadarError, InputError
from churnradar.features.reasons import reason_of
from churnradar.fsutil import atomic_path, atomic_write_text
from churnradar.predict.dataset import PredictionData
from churnradar.reasons.attribution import AT, attribute
from churnradar.reasons.taxonomy import taxonomy
from churnradar.retention.effect import playbook_effects
from churnradar.retention.plan import PlanResult, build_plan, compare_strategies, export_actions
from churnradar.retention.playbooks import load_playbooks
from churnradar.retention.whatif import literature_check, whatif
from churnradar.retention.winback import winback_list
from churnradar.workspace import Workspace

Step = Callable[[str, int, int | None], None]
DAYS_PER_YEAR = 365.25


def _no_step(_name: str, _done: int, _total: int | None) -> None:
    return None


@dataclass
class PlanOutcome:
    """What the plan job produced (also written to ``runs/<id>-plan/``)."""

    as_of: dt.date
    plan: PlanResult
    #: optimised vs top-N risk vs random contact at the same budget
    strategies: pd.DataFrame
    winback: pd.DataFrame
    whatif: pd.DataFrame
    #: the workspace's own profit effect against the quoted 25-85 % (per segment)
    literature: pd.DataFrame
    #: measured effect per playbook (None without a retention_actions table)
    effects: pd.DataFrame | None
    risk_source: str = "model"
    value_source: str = "clv"
    run_dir: Path | None = None
    exported: Path | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        eff = self.effects
        overall = None
        if eff is not None and len(eff):
            row = eff[eff["action"] == "__all__"]
            if len(row):
                overall = {k: (None if pd.isna(v) else v) for k, v in row.iloc[0].items()
                           if k in ("treated", "control", "treated_rate", "control_rate",
                                    "effect", "effect_low", "effect_high", "p_value",
                                    "customers_saved", "pending")}
        return {
            "as_of": str(self.as_of), **self.plan.summary,
            "strategies": self.strategies.to_dict(orient="records"),
            "winback": int(len(self.winback)),
            "winback_expected": float(self.winback["expected"].sum())
            if len(self.winback) else 0.0,
            "effect": overall, "risk_source": self.risk_source,
            "value_source": self.value_source,
        }


# ------------------------------------------------------------------------ inputs


def _scores(ws: Workspace, data: PredictionData, step: Step) -> pd.DataFrame:
    from churnradar.predict.jobs import latest_run, score_job

    run = latest_run(ws, "predict-score")
    path = run / "scores.parquet" if run else None
    if path is not None and path.exists():
        return pd.read_parquet(path)
    return score_job(ws, step=step, data=data).scores


def _values(ws: Workspace, data: PredictionData, step: Step) -> pd.DataFrame:
    from churnradar.predict.jobs import latest_run
    from churnradar.value.jobs import value_job

    run = latest_run(ws, "value")
    path = run / "customers.parquet" if run else None
    if path is not None and path.exists():
        df = pd.read_parquet(path)
    else:
        df = value_job(ws, step=step, data=data).customers
    keep = [c for c in (s.CUSTOMER_ID, "clv", "value_tier") if c in df.columns]
    return df[keep]


def _drivers(scores: pd.DataFrame) -> pd.DataFrame:
    """customer_id, reason, hint from the scores' drivers (the first that names one)."""
    reason = scores["top_reason"] if "top_reason" in scores.columns else pd.Series(
        None, index=scores.index, dtype=object)
    hint = pd.Series(None, index=scores.index, dtype=object)
    for i in range(1, 10):
        col = f"driver_{i}"
        if col not in scores.columns:
            break
        h = scores[col].map(lambda f: reason_of(str(f))[1] if isinstance(f, str) else None)
        hint = hint.where(hint.notna(), h)
    return pd.DataFrame({s.CUSTOMER_ID: scores[s.CUSTOMER_ID].astype(str),
                         "reason": reason.where(reason.notna(), None), "hint": hint})


def _customers(data: PredictionData) -> pd.DataFrame:
    t = data.tables["customers"]
    cols = [c for c in (s.CUSTOMER_ID, s.IS_KEY_ACCOUNT, s.OWNER_ID, s.GRADE, s.SEGMENT,
                        s.NAME) if c in t.columns]
    df = t.select(*cols).to_pandas()
    df[s.CUSTOMER_ID] = df[s.CUSTOMER_ID].astype(str)
    if s.IS_KEY_ACCOUNT not in df.columns:
        df[s.IS_KEY_ACCOUNT] = False
    df[s.IS_KEY_ACCOUNT] = df[s.IS_KEY_ACCOUNT].map(lambda v: bool(v) if isinstance(
        v, bool | np.bool_) else False)
    return df


def _complaint_evidence(ws: Workspace, data: PredictionData) -> pd.DataFrame | None:
    """Complaints classified with the workspace's complaint classifier."""
    from churnradar.reasons.jobs import (
        _evidence_complaints,
        _frame,
        classify_complaints,
        fit_text_models,
    )

    comp = _frame(data, "complaints", [s.CUSTOMER_ID, s.TIME, s.TEXT, s.CATEGORY,
                                       s.RESOLVED_AT])
    if comp is None or not len(comp):
        return None
    since = pd.Timestamp(data.data_end) - pd.Timedelta(
        days=ws.settings.reasons.complaint_window_days + 1)
    recent = comp[pd.to_datetime(comp[s.TIME]) >= since]
    if not len(recent):
        return None
    models = fit_text_models(data, ws.settings, complaints=comp, records=pd.DataFrame(
        columns=[s.CUSTOMER_ID, s.NOTE, s.REASON_CATEGORY]))
    return _evidence_complaints(classify_complaints(recent, models.complaints),
                                use_recorded=True)


def at_risk_frame(ws: Workspace, data: PredictionData, step: Step) -> tuple[pd.DataFrame, str]:
    """Every active customer with churn_probability, value, reason_category, churn_type,
    is_key_account (and risk_tier, value_tier, owner_id ...)."""
    scores = _scores(ws, data, step)
    scores = scores.assign(**{s.CUSTOMER_ID: scores[s.CUSTOMER_ID].astype(str)})
    try:
        values = _values(ws, data, step)
        value_source = "clv"
    except ChurnRadarError:  # no value model fits this data: a year's margin instead
        values = None
        value_source = "revenue"
    frame = scores[[c for c in (s.CUSTOMER_ID, "churn_probability", "risk_tier", "risk_rank",
                                "top_reason") if c in scores.columns]]
    if values is not None:
        values = values.assign(**{s.CUSTOMER_ID: values[s.CUSTOMER_ID].astype(str)})
        frame = frame.merge(values, on=s.CUSTOMER_ID, how="left")
        frame["value"] = frame["clv"].fillna(0.0)
    else:
        frame = frame.merge(_yearly_margin(ws, data), on=s.CUSTOMER_ID, how="left")
        frame["value"] = frame["yearly_margin"].fillna(0.0)
    frame = frame.merge(_customers(data), on=s.CUSTOMER_ID, how="left")
    frame[s.IS_KEY_ACCOUNT] = frame[s.IS_KEY_ACCOUNT].map(
        lambda v: bool(v) if isinstance(v, bool | np.bool_) else False)
    subjects = pd.DataFrame({s.CUSTOMER_ID: frame[s.CUSTOMER_ID],
                             AT: pd.Timestamp(data.data_end)})
    att = attribute(subjects, complaints=_complaint_evidence(ws, data),
                    drivers=_drivers(scores),
                    window_days=ws.settings.reasons.complaint_window_days,
                    tax=taxonomy(ws.settings.reasons))
    frame[s.REASON_CATEGORY] = att[s.REASON_CATEGORY].to_numpy(dtype=object)
    frame[s.CHURN_TYPE] = att[s.CHURN_TYPE].to_numpy(dtype=object)
    frame["reason_source"] = att["source"].to_numpy(dtype=object)
    frame["evidence"] = att["evidence"].to_numpy(dtype=object)
    return frame, value_source


def _last_year_revenue(data: PredictionData) -> pd.DataFrame | None:
    """customer_id, rev: each customer's revenue of the last 12 months (None without
    amounts), as the metrics count revenue (:func:`~churnradar.metrics.revenue.monthly_revenue`)."""
    from churnradar.metrics.periods import month_index_of
    from churnradar.metrics.revenue import monthly_revenue

    mrev = monthly_revenue(data.tables, data.business, data.data_end)
    if mrev is None:
        return None
    last = month_index_of(data.data_end)
    g = mrev.filter(mrev.m > last - 12).group_by(s.CUSTOMER_ID).aggregate(
        rev=mrev.revenue.sum()).to_pandas()
    g[s.CUSTOMER_ID] = g[s.CUSTOMER_ID].astype(str)
    return g


def _yearly_margin(ws: Workspace, data: PredictionData) -> pd.DataFrame:
    """customer_id, yearly_margin: revenue of the last 12 months x margin."""
    rev = _last_year_revenue(data)
    if rev is None:
        return pd.DataFrame({s.CUSTOMER_ID: pd.Series(dtype=str),
                             "yearly_margin": pd.Series(dtype=float)})
    return rev.assign(yearly_margin=rev["rev"] * ws.settings.metrics.margin)[
        [s.CUSTOMER_ID, "yearly_margin"]]


def _winback(ws: Workspace, data: PredictionData) -> pd.DataFrame:
    """Recently churned customers: their reason and type (the latest reasons run, else the
    churn records), and their worth (a year of margin before leaving)."""
    from churnradar.lifecycle import build_lifecycle
    from churnradar.reasons.jobs import latest_attribution
    from churnradar.reasons.losses import churn_losses

    rs = ws.settings.retention
    sp = data.spells
    since = pd.Timestamp(data.data_end) - pd.Timedelta(days=rs.winback_days)
    active = set(sp.loc[sp[s.CHURN_DATE].isna(), s.CUSTOMER_ID].astype(str))
    recent = sp[(sp[s.CHURN_DATE] >= since) & ~sp[s.CUSTOMER_ID].astype(str).isin(active)]
    recent = recent.sort_values(s.CHURN_DATE).drop_duplicates(s.CUSTOMER_ID, keep="last")
    churned = pd.DataFrame({s.CUSTOMER_ID: recent[s.CUSTOMER_ID].astype(str),
                            s.CHURN_DATE: recent[s.CHURN_DATE]})
    att = latest_attribution(ws)
    if att is not None and len(att):
        att = att.assign(**{s.CUSTOMER_ID: att[s.CUSTOMER_ID].astype(str),
                            s.CHURN_DATE: pd.to_datetime(att[AT])})
        churned = churned.merge(att[[s.CUSTOMER_ID, s.CHURN_DATE, s.REASON_CATEGORY,
                                     s.CHURN_TYPE]], on=[s.CUSTOMER_ID, s.CHURN_DATE],
                                how="left")
    else:
        recs = data.tables.get("churn_records")
        cols = [s.CUSTOMER_ID, s.CHURN_DATE, s.REASON_CATEGORY, s.CHURN_TYPE]
        if recs is not None and all(c in recs.columns for c in cols):
            r = recs.select(*cols).to_pandas()
            r[s.CUSTOMER_ID] = r[s.CUSTOMER_ID].astype(str)
            sub = pd.DataFrame({s.CUSTOMER_ID: churned[s.CUSTOMER_ID], AT: churned[s.CHURN_DATE]})
            a = attribute(sub, recorded=r, tolerance_days=45 if data.business == "contractual"
                          else int(data.churn.inactivity_days) + 60)
            churned[s.REASON_CATEGORY] = a[s.REASON_CATEGORY].to_numpy(dtype=object)
            churned[s.CHURN_TYPE] = a[s.CHURN_TYPE].to_numpy(dtype=object)
        else:
            churned[s.REASON_CATEGORY] = None
            churned[s.CHURN_TYPE] = None
    life = build_lifecycle(data.tables, data.churn, as_of=data.data_end)
    losses = churn_losses(data.tables, life, period="year", margin=ws.settings.metrics.margin)
    if losses is not None:
        losses = losses.assign(**{s.CUSTOMER_ID: losses[s.CUSTOMER_ID].astype(str)})
        churned = churned.merge(losses[[s.CUSTOMER_ID, s.CHURN_DATE, "churn_loss"]],
                                on=[s.CUSTOMER_ID, s.CHURN_DATE], how="left")
        churned["value"] = churned["churn_loss"].fillna(0.0)
        churned = churned.drop(columns="churn_loss")
    else:
        churned["value"] = 0.0
    return winback_list(churned, as_of=data.data_end, days=rs.winback_days,
                        cost=rs.winback_cost, success=rs.winback_success)


def whatif_segments(ws: Workspace, data: PredictionData, frame: pd.DataFrame,
                    by: str | None = None) -> pd.DataFrame:
    """Per segment (grade when the data has it): customers a year ago, the churn rate of
    the last year (start basis), the value of a kept customer (mean CLV of the segment's
    active customers) and the segment's profit of the last year (revenue x margin)."""
    cust = _customers(data)
    by = by or (s.GRADE if s.GRADE in cust.columns else None)
    seg = (cust.set_index(s.CUSTOMER_ID)[by].astype(str) if by
           else pd.Series("all", index=cust[s.CUSTOMER_ID]))
    end = pd.Timestamp(data.data_end)
    start = end - pd.Timedelta(days=365)
    sp = data.spells.assign(**{s.CUSTOMER_ID: data.spells[s.CUSTOMER_ID].astype(str)})
    at_start = sp[(sp[s.START_DATE] <= start)
                  & (sp[s.CHURN_DATE].isna() | (sp[s.CHURN_DATE] > start))]
    churned = at_start[at_start[s.CHURN_DATE].notna() & (at_start[s.CHURN_DATE] <= end)]
    rows = pd.DataFrame({
        "customers": at_start.groupby(at_start[s.CUSTOMER_ID].map(seg).fillna("—")).size(),
        "churned": churned.groupby(churned[s.CUSTOMER_ID].map(seg).fillna("—")).size(),
    }).fillna(0)
    rows["churn_rate"] = rows["churned"] / rows["customers"].where(rows["customers"] > 0)
    vals = frame.assign(seg=frame[s.CUSTOMER_ID].map(seg).fillna("—"))
    rows["value_per_customer"] = vals.groupby("seg")["value"].mean()
    rev = _last_year_revenue(data)
    if rev is not None:
        rows["profit"] = (rev.groupby(rev[s.CUSTOMER_ID].map(seg).fillna("—"))["rev"].sum()
                          * ws.settings.metrics.margin)
    else:
        rows["profit"] = np.nan
    rows = rows.fillna({"value_per_customer": 0.0}).reset_index(names="segment")
    rows = rows[rows["customers"] > 0]
    return rows[["segment", "customers", "churn_rate", "value_per_customer", "profit"]]


def _actions(data: PredictionData) -> pd.DataFrame | None:
    t = data.tables.get("retention_actions")
    if t is None:
        return None
    cols = [c for c in (s.CUSTOMER_ID, s.ACTION, s.DATE, s.GROUP, s.OUTCOME) if c in t.columns]
    df = t.select(*cols).to_pandas()
    df[s.CUSTOMER_ID] = df[s.CUSTOMER_ID].astype(str)
    return df


def plan_job(ws: Workspace, *, budget: float | None = None, capacity: int | None = None,
             step: Step | None = None, data: PredictionData | None = None,
             export: Path | None = None) -> PlanOutcome:
    """Build the retention plan; see the module docstring."""
    from churnradar.predict.jobs import open_data

    step = step or _no_step
    data = data or open_data(ws)
    rs = ws.settings.retention
    total = 5
    step("plan", 0, total)
    frame, value_source = at_risk_frame(ws, data, step)
    tiers = set(rs.tier_list())
    if "risk_tier" in frame.columns:
        frame = frame[frame["risk_tier"].isin(tiers)].reset_index(drop=True)
    step("plan", 1, total)
    books = load_playbooks(rs)
    budget = budget if budget is not None else (rs.budget or None)
    capacity = capacity if capacity is not None else (rs.capacity or None)
    plan = build_plan(frame, rs, budget=budget, capacity=capacity, playbooks=books)
    # "the same budget": without a limit, the alternatives may spend what the plan spends
    same_budget = budget if budget is not None else float(plan.summary["total_cost"])
    strategies = compare_strategies(plan.table, budget=same_budget, capacity=capacity,
                                    random_state=rs.random_state)
    step("plan", 2, total)
    winback = _winback(ws, data)
    step("plan", 3, total)
    segs = whatif_segments(ws, data, frame)
    sa = ws.settings.safety
    wi = whatif(segs, rs.whatif_list(), acquisition_cost=sa.acquisition_cost,
                retention_cost=sa.retention_cost, word_of_mouth=rs.word_of_mouth,
                word_of_mouth_share=rs.word_of_mouth_share)
    try:
        lit = literature_check(wi)
    except InputError:  # the what-if points do not include the quoted 5 points
        lit = pd.DataFrame()
    actions = _actions(data)
    effects = None
    if actions is not None and len(actions):
        effects = playbook_effects(actions, data.spells, as_of=data.data_end,
                                   effect_days=rs.effect_days,
                                   confidence=ws.settings.metrics.confidence)
    step("plan", 4, total)
    out = PlanOutcome(as_of=data.data_end, plan=plan, strategies=strategies, winback=winback,
                      whatif=wi, literature=lit, effects=effects, value_source=value_source)
    out.run_dir = _write(ws, out)
    if export is not None:
        out.exported = export_plan(out, export)
    step("plan", total, total)
    return out


def export_plan(out: PlanOutcome, path: Path) -> Path:
    """The plan in the ``retention_actions`` format (CSV or Excel by the suffix): fill in
    the outcomes and import it back with ``churnradar import DIR retention_actions``."""
    df = export_actions(out.plan, out.as_of)
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            df.to_excel(tmp, index=False)
        else:
            df.to_csv(tmp, index=False, encoding="utf-8-sig")
    return path


def _write(ws: Workspace, out: PlanOutcome) -> Path:
    run_dir = ws.new_run("plan")
    with atomic_path(run_dir / "plan.parquet") as tmp:
        out.plan.table.to_parquet(tmp, index=False)
    frames = {"strategies": out.strategies, "winback": out.winback, "whatif": out.whatif,
              "literature": out.literature, "effects": out.effects}
    for name, df in frames.items():
        if df is not None:
            with atomic_path(run_dir / f"{name}.csv") as tmp:
                df.to_csv(tmp, index=False)
    atomic_write_text(run_dir / "summary.json",
                      json.dumps(out.summary(), ensure_ascii=False, indent=1, default=str))
    return run_dir
