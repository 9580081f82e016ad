"""The four checks of the churn safety line (流失安全线, domain.md §2).

1. ``cost`` — replacing the churned customers (acquisition cost) against keeping them
   (retention cost), as a share of the period's revenue.
2. ``acquisition_peak`` — is high churn coming from new cohorts (judge acquisition peaks
   correctly)? New-customer churn rate against established customers'.
3. ``deviation`` — the latest period's churn rate against the long-run rate.
4. ``key_accounts`` — key / large accounts watched separately, annualised.

Thresholds come from ``[safety]`` in the settings; each check returns pass / warn /
alert with the numbers that explain the verdict (catalog keys ``metrics_safety_*``).
"""

from __future__ import annotations

import pandas as pd

from churnradar.metrics.rates import convert_rate
from churnradar.metrics.result import SafetyCheck, Status
from churnradar.settings import SafetySettings


def _status(value: float, warn: float, alert: float) -> Status:
    return "alert" if value >= alert else "warn" if value >= warn else "pass"


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or pd.isna(x) else round(float(x), digits)


def check_cost(latest: pd.Series, cfg: SafetySettings) -> SafetyCheck:
    churned = int(latest["churned_count"])
    replace = churned * cfg.acquisition_cost
    keep = churned * cfg.retention_cost
    revenue = float(latest["revenue"]) if pd.notna(latest.get("revenue")) else 0.0
    ratio = cfg.acquisition_cost / cfg.retention_cost if cfg.retention_cost else None
    params: dict[str, object] = {"churned": churned, "replacement_cost": round(replace, 2),
              "retention_cost": round(keep, 2), "cost_ratio": _r(ratio, 2),
              "period": latest["label"]}
    if revenue <= 0:
        return SafetyCheck("cost", "n/a", None, cfg.replacement_cost_warn,
                           cfg.replacement_cost_alert, "metrics_safety_cost_norevenue", params)
    share = replace / revenue
    params["share"] = _r(share)
    status = _status(share, cfg.replacement_cost_warn, cfg.replacement_cost_alert)
    return SafetyCheck("cost", status, share, cfg.replacement_cost_warn,
                       cfg.replacement_cost_alert, f"metrics_safety_cost_{status}", params)


def check_acquisition_peak(new_s: int, new_c: int, old_s: int, old_c: int, label: str,
                           months: int, cfg: SafetySettings) -> SafetyCheck:
    params: dict[str, object] = {"period": label, "months": months, "new_start": new_s,
                                 "new_churned": new_c, "old_start": old_s, "old_churned": old_c}
    if new_s == 0 or old_s == 0 or old_c == 0:
        return SafetyCheck("acquisition_peak", "n/a", None, cfg.new_cohort_ratio_warn, None,
                           "metrics_safety_peak_na", params)
    new_rate, old_rate = new_c / new_s, old_c / old_s
    ratio = new_rate / old_rate
    params.update(new_rate=_r(new_rate), old_rate=_r(old_rate), ratio=_r(ratio, 2))
    status: Status = "warn" if ratio >= cfg.new_cohort_ratio_warn else "pass"
    return SafetyCheck("acquisition_peak", status, ratio, cfg.new_cohort_ratio_warn, None,
                       f"metrics_safety_peak_{status}", params)


def check_deviation(overall: pd.DataFrame, cfg: SafetySettings) -> SafetyCheck:
    done = overall[overall["complete"] & (overall["start_count"] > 0)]
    if len(done) < 3:
        return SafetyCheck("deviation", "n/a", None, cfg.deviation_warn, cfg.deviation_alert,
                           "metrics_safety_deviation_na", {"periods": len(done)})
    latest, history = done.iloc[-1], done.iloc[:-1]
    long_run = history["churned_count"].sum() / history["start_count"].sum()
    rate = latest["churn_rate_start"]
    params: dict[str, object] = {"period": latest["label"], "rate": _r(rate),
                                 "long_run": _r(long_run), "periods": len(history)}
    if long_run == 0:
        zero: Status = "alert" if rate > 0 else "pass"
        return SafetyCheck("deviation", zero, None, cfg.deviation_warn, cfg.deviation_alert,
                           f"metrics_safety_deviation_from_zero_{zero}", params)
    dev = (rate - long_run) / long_run
    params["deviation"] = _r(dev)
    status: Status = (_status(dev, cfg.deviation_warn, cfg.deviation_alert) if dev > 0
                      else "pass")
    return SafetyCheck("deviation", status, dev, cfg.deviation_warn, cfg.deviation_alert,
                       f"metrics_safety_deviation_{status}", params)


def check_key_accounts(by_key: pd.DataFrame | None, label: str, period: str,
                       cfg: SafetySettings) -> SafetyCheck:
    warn, alert = cfg.key_account_annual_warn, cfg.key_account_annual_alert
    if by_key is None or by_key.empty:
        return SafetyCheck("key_accounts", "n/a", None, warn, alert,
                           "metrics_safety_key_na", {})
    cur = by_key[by_key["label"] == label].set_index("segment")
    if "key" not in cur.index or cur.loc["key", "start_count"] == 0:
        return SafetyCheck("key_accounts", "n/a", None, warn, alert,
                           "metrics_safety_key_na", {"period": label})
    key = cur.loc["key"]
    rate = float(key["churn_rate_start"])
    annual = convert_rate(min(rate, 1.0), period, "year")  # type: ignore[arg-type]
    other = cur.loc["other"] if "other" in cur.index else None
    other_rate = (float(other["churn_rate_start"])
                  if other is not None and other["start_count"] > 0 else None)
    params: dict[str, object] = {
        "period": label, "rate": _r(rate), "annual": _r(annual),
        "key_start": int(key["start_count"]), "key_churned": int(key["churned_count"]),
        "key_loss": _r(key["churn_loss"], 2), "other_rate": _r(other_rate)}
    status = _status(annual, warn, alert)
    if status == "pass" and other_rate is not None and rate > other_rate:
        status = "warn"
        return SafetyCheck("key_accounts", status, annual, warn, alert,
                           "metrics_safety_key_above_others", params)
    return SafetyCheck("key_accounts", status, annual, warn, alert,
                       f"metrics_safety_key_{status}", params)
