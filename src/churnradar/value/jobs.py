"""The value job of a workspace: what every active customer is worth, and where the
retention effort should go (used by ``churnradar value DIR``, the report and the demo).

Non-contractual businesses (orders): the RFM summary of the transactions at the data
end, a purchase model (BG/NBD or Pareto/NBD, ``[value] transaction_model``) for the
expected purchases and P(alive), Gamma-Gamma for the spend per purchase, and the CLV
over ``[value] horizon_months`` with the annual ``discount_rate`` and the
``[metrics] margin``. A model check refits on the history up to ``holdout_months``
before the data end and compares predicted with actual purchases over those months.

Contractual businesses (subscriptions): a shifted-beta-geometric model of monthly
renewals, fitted to the Kaplan-Meier survival by tenure month of all customer spells
(so censored spells count), gives each active customer the probability to still be a
customer in each of the next months given its tenure; the CLV is the discounted sum of
its current monthly amount times the margin over the horizon. The discounted expected
residual lifetime (DERL, months) is reported too.

The churn risk in the value x risk matrix is the prediction model's probability when a
``predict score`` run exists, else ``1 - P(alive)`` (non-contractual) or the sBG
probability to churn within the prediction horizon (contractual).
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
from churnradar.fsutil import atomic_path, atomic_write_text
from churnradar.predict.dataset import PredictionData
from churnradar.value.matrix import value_risk_matrix, value_risk_table
from churnradar.value.tabular import describe_fit
from churnradar.workspace import Workspace

#: days per month in the model's month arithmetic (365.25 / 12)
MONTH_DAYS = 30.4375
Step = Callable[[str, int, int | None], None]


def _no_step(_name: str, _done: int, _total: int | None) -> None:
    return None


@dataclass
class ValueOutcome:
    """What the value job produced (also written to ``runs/<id>-value/``)."""

    business: str
    as_of: dt.date
    #: one row per active customer: customer_id, clv, risk, risk_source, value_tier,
    #: risk_tier, value_at_risk, action, and the model's own columns
    customers: pd.DataFrame
    #: the 3 x 3 value x risk matrix (see :func:`~churnradar.value.matrix.value_risk_matrix`)
    matrix: pd.DataFrame
    #: per fitted model: params, standard_errors, log_likelihood, n_customers
    models: dict[str, dict[str, Any]]
    #: model check: predicted vs actual purchases in the holdout (non-contractual)
    holdout: pd.DataFrame | None = None
    holdout_summary: dict[str, Any] = field(default_factory=dict)
    #: RFM segments: segment, customers, share, monetary (non-contractual)
    segments: pd.DataFrame | None = None
    #: contractual: the Kaplan-Meier survival by tenure month and the sBG fit of it
    retention: pd.DataFrame | None = None
    risk_source: str = ""
    run_dir: Path | None = None
    #: the fitted model objects (not written; for the report's charts)
    fitted: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        c = self.customers
        return {
            "business": self.business, "as_of": str(self.as_of),
            "customers": int(len(c)),
            "clv_total": float(c["clv"].sum()) if len(c) else 0.0,
            "clv_mean": float(c["clv"].mean()) if len(c) else None,
            "value_at_risk": float(c["value_at_risk"].sum()) if len(c) else 0.0,
            "risk_source": self.risk_source,
            "models": self.models,
            "holdout": self.holdout_summary,
        }


def _active(data: PredictionData, as_of: dt.date) -> pd.DataFrame:
    """customer_id and start_date of the spell every active customer is in at ``as_of``."""
    spells = data.spells
    t = pd.Timestamp(as_of)
    churn = spells[s.CHURN_DATE]
    active = (spells[s.START_DATE] <= t) & (churn.isna() | (churn > t))
    return (spells.loc[active, [s.CUSTOMER_ID, s.START_DATE]]
            .sort_values(s.START_DATE).drop_duplicates(s.CUSTOMER_ID, keep="last"))


def _months_before(day: dt.date, months: int) -> dt.date:
    return (pd.Timestamp(day) - pd.DateOffset(months=months)).date()


# ------------------------------------------------------------------ non-contractual


def _purchase_model(name: str, penalizer: float) -> Any:
    from churnradar.value.bgnbd import BGNBDModel
    from churnradar.value.paretonbd import ParetoNBDModel

    return (BGNBDModel(penalizer=penalizer) if name == "bgnbd"
            else ParetoNBDModel(penalizer=penalizer))


def _holdout_check(tx: Any, as_of: dt.date, months: int, unit: float, name: str,
                   penalizer: float) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """Fit up to ``as_of - months``; predicted vs actual repeat purchases after it, by
    the number of repeat purchases in the calibration period (0..6, 7+)."""
    from churnradar.value.rfm import rfm_summary

    cal_end = _months_before(as_of, months)
    try:
        summ = rfm_summary(tx, calibration_end=cal_end, observation_end=as_of,
                           time_unit_days=unit, customer_col=s.CUSTOMER_ID,
                           time_col=s.DATE, amount_col=s.AMOUNT)
        model = _purchase_model(name, penalizer).fit(summ)
    except ChurnRadarError as err:  # too little history before the holdout: no check
        return None, {"skipped": str(err)}
    predicted = model.expected_purchases(summ["duration_holdout"].to_numpy(), summ)
    actual = summ["frequency_holdout"].to_numpy(np.float64)
    bucket = np.minimum(summ["frequency"].to_numpy(), 7).astype(int)
    table = (pd.DataFrame({"frequency": bucket, "actual": actual, "predicted": predicted})
             .groupby("frequency").agg(customers=("actual", "size"), actual=("actual", "mean"),
                                       predicted=("predicted", "mean")).reset_index())
    table["label"] = [f"{f}+" if f == 7 else str(f) for f in table["frequency"]]
    total_a, total_p = float(actual.sum()), float(predicted.sum())
    return table, {
        "calibration_end": str(cal_end), "observation_end": str(as_of),
        "customers": int(len(summ)), "actual_purchases": total_a,
        "predicted_purchases": total_p,
        "total_error": (total_p - total_a) / total_a if total_a else None,
        "mae_per_customer": float(np.mean(np.abs(predicted - actual))),
        "correlation": float(np.corrcoef(predicted, actual)[0, 1])
        if len(actual) > 2 and actual.std() > 0 else None,
    }


def _non_contractual(data: PredictionData, ws: Workspace, as_of: dt.date,
                     step: Step) -> ValueOutcome:
    from churnradar.value.clv import customer_lifetime_value
    from churnradar.value.gammagamma import GammaGammaModel
    from churnradar.value.rfm import rfm_scores, rfm_summary

    vs = ws.settings.value
    unit = vs.time_unit_days
    tx = data.tables["transactions"]
    step("value_rfm", 0, 4)
    summ = rfm_summary(tx, calibration_end=as_of, time_unit_days=unit,
                       customer_col=s.CUSTOMER_ID, time_col=s.DATE, amount_col=s.AMOUNT)
    step("value_fit", 1, 4)
    purchases = _purchase_model(vs.transaction_model, vs.penalizer).fit(summ)
    repeat = summ[(summ["frequency"] > 0) & (summ["monetary_value"] > 0)]
    spend = GammaGammaModel(penalizer=vs.penalizer).fit(repeat)
    horizon = vs.horizon_months * MONTH_DAYS / unit
    clv = customer_lifetime_value(purchases, spend, summ, horizon=horizon,
                                  time_unit_days=unit, discount_rate=vs.discount_rate,
                                  margin=ws.settings.metrics.margin)
    table = pd.DataFrame({
        s.CUSTOMER_ID: summ[s.CUSTOMER_ID].to_numpy(),
        "frequency": summ["frequency"].to_numpy(),
        "recency": summ["recency"].to_numpy(),
        "T": summ["T"].to_numpy(),
        "monetary_value": summ["monetary_value"].to_numpy(),
        "p_alive": purchases.p_alive(summ),
        "expected_purchases": purchases.expected_purchases(np.full(len(summ), horizon), summ),
        "expected_spend": spend.expected_spend(summ),
        "clv": np.asarray(clv, np.float64),
    })
    scores = rfm_scores(summ, calibration_end=as_of, time_unit_days=unit)
    keep = [c for c in ("r_score", "f_score", "m_score", "segment") if c in scores.columns]
    table = table.merge(scores[[s.CUSTOMER_ID, *keep]], on=s.CUSTOMER_ID, how="left")
    step("value_check", 2, 4)
    holdout: pd.DataFrame | None = None
    holdout_summary: dict[str, Any] = {}
    if vs.holdout_months > 0:
        holdout, holdout_summary = _holdout_check(tx, as_of, vs.holdout_months, unit,
                                                  vs.transaction_model, vs.penalizer)
    segments = None
    if "segment" in table.columns:
        segments = (table.groupby("segment").agg(customers=(s.CUSTOMER_ID, "size"),
                                                 clv=("clv", "sum"),
                                                 p_alive=("p_alive", "mean"))
                    .reset_index().sort_values("clv", ascending=False))
        segments["share"] = segments["customers"] / max(len(table), 1)
    active = _active(data, as_of)[[s.CUSTOMER_ID]]
    table = active.merge(table, on=s.CUSTOMER_ID, how="inner")
    table["risk"] = 1.0 - table["p_alive"]
    return ValueOutcome(business="non_contractual", as_of=as_of, customers=table,
                        matrix=pd.DataFrame(),
                        models={vs.transaction_model: describe_fit(purchases),
                                "gammagamma": describe_fit(spend)},
                        holdout=holdout, holdout_summary=holdout_summary,
                        segments=segments, risk_source="p_alive",
                        fitted={"purchases": purchases, "spend": spend})


# ------------------------------------------------------------------------ contractual


def km_by_tenure(spells: pd.DataFrame, as_of: dt.date, months: int) -> pd.DataFrame:
    """Kaplan-Meier survival of the spells by whole tenure months 0..``months``
    (lifelines), with the customers at risk."""
    from lifelines import KaplanMeierFitter

    t = pd.Timestamp(as_of)
    start = spells[s.START_DATE]
    end = spells[s.CHURN_DATE].where(spells[s.CHURN_DATE] <= t, t).fillna(t)
    keep = start <= t
    durations = ((end - start).dt.days / MONTH_DAYS)[keep].clip(lower=0.0)
    observed = (spells[s.CHURN_DATE].notna() & (spells[s.CHURN_DATE] <= t))[keep]
    if int(observed.sum()) == 0:
        raise InputError(key="matrix_err_no_churn")
    km = KaplanMeierFitter().fit(durations, observed)
    grid = np.arange(months + 1, dtype=np.float64)
    surv = km.survival_function_at_times(grid).to_numpy()
    at_risk = np.array([(durations >= g).sum() for g in grid])
    return pd.DataFrame({"month": grid.astype(int), "survival": surv, "at_risk": at_risk})


def _contractual(data: PredictionData, ws: Workspace, as_of: dt.date,
                 step: Step) -> ValueOutcome:
    from churnradar.value.sbg import ShiftedBetaGeometricModel

    vs = ws.settings.value
    step("value_fit", 0, 2)
    spells = data.spells
    history = int((pd.Timestamp(as_of) - spells[s.START_DATE].min()).days // MONTH_DAYS)
    months = max(2, min(history, 60))
    km = km_by_tenure(spells, as_of, months)
    # the sBG sees the KM curve as one cohort of the spells' size (censoring handled by KM)
    n0 = float(len(spells))
    sbg = ShiftedBetaGeometricModel().fit((km["survival"].to_numpy() * n0).tolist())
    km["sbg_survival"] = sbg.survival(months)
    active = _active(data, as_of)
    tenure = np.floor((pd.Timestamp(as_of) - active[s.START_DATE]).dt.days
                      / MONTH_DAYS).to_numpy().astype(int)
    H = vs.horizon_months
    horizon_m = max(1, round(ws.settings.predict.horizon_days / MONTH_DAYS))
    grid = int(tenure.max(initial=0)) + max(H, horizon_m) + 1
    S = np.asarray(sbg.survival(grid), np.float64)  # S(0..grid)
    monthly = (1.0 + vs.discount_rate) ** (1.0 / 12.0) - 1.0
    disc = (1.0 + monthly) ** -np.arange(H, dtype=np.float64)
    # P(still a customer k months on | a customer now, at tenure n) = S(n + k) / S(n)
    ahead = S[tenure[:, None] + np.arange(H)[None, :]] / S[tenure][:, None]
    expected_months = ahead @ disc
    amount = _monthly_amount(data, as_of, active[s.CUSTOMER_ID])
    risk = 1.0 - S[tenure + horizon_m] / S[tenure]
    # DERL diverges without discounting (heavy-tailed lifetimes): only with a rate
    derl = np.full(len(tenure), np.nan)
    if len(tenure) and monthly > 0:
        uniq, inverse = np.unique(tenure, return_inverse=True)
        derl = np.asarray([sbg.derl(monthly, renewals_so_far=int(n)) for n in uniq],
                          np.float64)[inverse]
    table = pd.DataFrame({
        s.CUSTOMER_ID: active[s.CUSTOMER_ID].to_numpy(),
        "tenure_months": tenure,
        "amount_per_month": amount,
        "expected_months": expected_months,
        "derl_months": derl,
        "clv": amount * ws.settings.metrics.margin * expected_months,
        "risk": risk,
    })
    step("value_fit", 2, 2)
    return ValueOutcome(business="contractual", as_of=as_of, customers=table,
                        matrix=pd.DataFrame(), models={"sbg": describe_fit(sbg)},
                        retention=km, risk_source="sbg", fitted={"sbg": sbg})


def _monthly_amount(data: PredictionData, as_of: dt.date, ids: pd.Series) -> np.ndarray:
    """The summed ``amount_per_month`` of each customer's subscriptions running at
    ``as_of`` (0 where the column is missing or empty)."""
    subs = data.tables["subscriptions"]
    if s.AMOUNT_PER_MONTH not in subs.columns:
        return np.zeros(len(ids))
    day = pd.Timestamp(as_of).date()
    running = subs.filter((subs[s.START_DATE] <= day)
                          & (subs[s.END_DATE].isnull() | (subs[s.END_DATE] > day)))
    amounts = (running.group_by(s.CUSTOMER_ID)
               .aggregate(amount=running[s.AMOUNT_PER_MONTH].sum()).to_pandas())
    merged = pd.DataFrame({s.CUSTOMER_ID: ids.to_numpy()}).merge(amounts, on=s.CUSTOMER_ID,
                                                                  how="left")
    return merged["amount"].fillna(0.0).to_numpy(np.float64)


# ------------------------------------------------------------------------------ job


def _latest_scores(ws: Workspace) -> pd.DataFrame | None:
    from churnradar.predict.jobs import latest_run

    run = latest_run(ws, "predict-score")
    path = run / "scores.parquet" if run else None
    if path is None or not path.exists():
        return None
    return pd.read_parquet(path, columns=[s.CUSTOMER_ID, "churn_probability"])


def value_job(ws: Workspace, *, as_of: dt.date | None = None, step: Step | None = None,
              data: PredictionData | None = None, use_scores: bool = True) -> ValueOutcome:
    """Value every active customer and build the value x risk matrix; the results go to
    ``runs/<id>-value/`` (customers.parquet, matrix.csv, summary.json ...)."""
    from churnradar.predict.jobs import open_data

    step = step or _no_step
    data = data or open_data(ws)
    as_of = as_of or data.data_end
    if data.business == "contractual":
        out = _contractual(data, ws, as_of, step)
    else:
        out = _non_contractual(data, ws, as_of, step)
    scores = _latest_scores(ws) if use_scores else None
    table = out.customers
    if scores is not None and len(scores):
        merged = table.merge(scores, on=s.CUSTOMER_ID, how="left")
        has = merged["churn_probability"].notna()
        if has.mean() >= 0.5:  # a score run of (mostly) the same customers
            table = merged.assign(risk=merged["churn_probability"].where(has, merged["risk"]))
            table = table.drop(columns="churn_probability")
            out.risk_source = "model"
    ps, vs = ws.settings.predict, ws.settings.value
    table = value_risk_table(table, high_value_share=vs.high_value_share,
                             medium_value_share=vs.medium_value_share,
                             high_risk_share=ps.high_risk_share,
                             medium_risk_share=ps.medium_risk_share)
    table["risk_source"] = out.risk_source
    out.customers = table.sort_values("value_at_risk", ascending=False, kind="stable")
    out.matrix = value_risk_matrix(table)
    out.run_dir = _write(ws, out)
    return out


def _write(ws: Workspace, out: ValueOutcome) -> Path:
    run_dir = ws.new_run("value")
    with atomic_path(run_dir / "customers.parquet") as tmp:
        out.customers.to_parquet(tmp, index=False)
    with atomic_path(run_dir / "matrix.csv") as tmp:
        out.matrix.to_csv(tmp, index=False)
    for name, df in (("holdout", out.holdout), ("segments", out.segments),
                     ("retention", out.retention)):
        if df is not None:
            with atomic_path(run_dir / f"{name}.csv") as tmp:
                df.to_csv(tmp, index=False)
    atomic_write_text(run_dir / "summary.json",
                      json.dumps(out.summary(), ensure_ascii=False, indent=1, default=str))
    return run_dir
