"""Value models on any transaction file, outside a workspace
(``churnradar value fit FILE`` and ``churnradar value sbg``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churnradar.exceptions import InputError

MODELS = ("bgnbd", "paretonbd", "gammagamma")


def _finite(value: Any) -> float | None:
    v = float(value)
    return v if np.isfinite(v) else None


def describe_fit(model: Any) -> dict[str, Any]:
    """A fitted value model as JSON-ready numbers: params, standard errors (None where
    the Hessian gives none), log-likelihood, number of customers."""
    return {"params": {k: float(v) for k, v in model.params_.items()},
            "standard_errors": {k: _finite(v) for k, v in model.standard_errors_.items()},
            "log_likelihood": float(model.log_likelihood_),
            "n_customers": int(model.n_customers_)}


def _check_columns(df: pd.DataFrame, name: str, columns: dict[str, str | None]) -> None:
    for option, col in columns.items():
        if col is not None and col not in df.columns:
            raise InputError(key="matrix_err_column", file=name, column=col, option=option,
                             columns=", ".join(map(str, df.columns)))


def transactions_frame(df: pd.DataFrame, *, name: str, id_col: str, date_col: str,
                       amount_col: str | None) -> pd.DataFrame:
    """``customer_id``, ``date`` (and ``amount``) from a user's table, with a clear error
    naming the file, row and column of the first bad date or amount."""
    _check_columns(df, name, {"--id": id_col, "--date": date_col, "--amount": amount_col})
    raw = df[date_col]
    text = raw.astype("string").str.strip()
    dates = pd.to_datetime(text, errors="coerce", format="mixed")
    if text.str.fullmatch(r"\d{8}").fillna(False).all():  # 19970101 (CDNOW style)
        dates = pd.to_datetime(text, errors="coerce", format="%Y%m%d")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise InputError(key="matrix_err_date", file=name, row=i + 2, column=date_col,
                         value=str(raw.iloc[i]), count=len(bad))
    out = pd.DataFrame({"customer_id": df[id_col].astype("string").to_numpy(),
                        "date": dates.dt.normalize().to_numpy()})
    if amount_col is not None:
        amount = pd.to_numeric(df[amount_col], errors="coerce")
        bad = np.flatnonzero((amount.isna() | (amount < 0)).to_numpy())
        if len(bad):
            i = int(bad[0])
            raise InputError(key="matrix_err_amount", file=name, row=i + 2,
                             column=amount_col, value=str(df[amount_col].iloc[i]),
                             count=len(bad))
        out["amount"] = amount.to_numpy(np.float64)
    return out


def summary_from_frame(tx: pd.DataFrame, *, calibration_end: dt.date,
                       time_unit_days: float) -> pd.DataFrame:
    """The RFM summary of a transactions frame (through the engine, on DuckDB)."""
    from churnradar import engine
    from churnradar.value.rfm import rfm_summary

    con = engine.connect("duckdb")
    if "amount" not in tx.columns:
        tx = tx.assign(amount=0.0)
    table = engine.register(con, "cr_value_transactions", tx)
    return rfm_summary(table, calibration_end=calibration_end, time_unit_days=time_unit_days,
                       customer_col="customer_id", time_col="date", amount_col="amount")


def fit_file(path: str | Path, *, model: str, id_col: str, date_col: str,
             amount_col: str | None, calibration_end: dt.date,
             time_unit_days: float = 7.0, penalizer: float = 0.0) -> dict[str, Any]:
    """Fit one value model on a transaction file; the JSON of ``value fit``."""
    from churnradar.predict.tabular import read_table_file
    from churnradar.value.bgnbd import BGNBDModel
    from churnradar.value.gammagamma import GammaGammaModel
    from churnradar.value.paretonbd import ParetoNBDModel

    if model not in MODELS:
        raise InputError(key="matrix_err_model", model=model, models=", ".join(MODELS))
    if model == "gammagamma" and amount_col is None:
        raise InputError(key="matrix_err_need_amount")
    name = Path(path).name
    tx = transactions_frame(read_table_file(path), name=name, id_col=id_col,
                            date_col=date_col, amount_col=amount_col)
    summary = summary_from_frame(tx, calibration_end=calibration_end,
                                 time_unit_days=time_unit_days)
    if model == "gammagamma":
        fitted: Any = GammaGammaModel(penalizer=penalizer).fit(
            summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)])
    elif model == "bgnbd":
        fitted = BGNBDModel(penalizer=penalizer).fit(summary)
    else:
        fitted = ParetoNBDModel(penalizer=penalizer).fit(summary)
    return {
        "model": model,
        **describe_fit(fitted),
        "calibration_end": calibration_end.isoformat(),
        "time_unit_days": time_unit_days,
    }


def parse_surviving(text: str) -> list[float]:
    """``"100,63.1,46.8"`` (commas, spaces or Chinese commas) as numbers."""
    parts = [p for p in text.replace("，", ",").replace(" ", ",").split(",") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(key="matrix_err_surviving", value=text) from None
    if len(values) < 3 or any(b > a for a, b in zip(values, values[1:], strict=False)) \
            or values[-1] <= 0:
        raise InputError(key="matrix_err_surviving", value=text)
    return values


def fit_sbg(surviving: list[float], periods: int | None = None) -> dict[str, Any]:
    """The shifted-beta-geometric fit of one cohort; the JSON of ``value sbg``."""
    from churnradar.value.sbg import ShiftedBetaGeometricModel

    model = ShiftedBetaGeometricModel().fit(surviving)
    horizon = periods if periods is not None else max(12, len(surviving) - 1)
    return {
        **describe_fit(model),
        "projected": [float(v) for v in model.project(horizon)],
        "retention": [float(v) for v in model.retention(horizon)],
    }
