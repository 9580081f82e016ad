"""Value tiers and the value x risk matrix (domain.md §4: treat value tiers differently).

Every active customer has a customer lifetime value (CLV) and a churn risk. Ranking
both into three tiers gives the 3x3 matrix management uses to decide where retention
effort goes: high value and high risk first ("retain now"), high value and low risk
("keep and grow"), low value and high risk ("low-cost or let go"), and so on. The risk
is the churn probability of the prediction model when one was scored, else
``1 - P(alive)`` of the transaction model (non-contractual) or the sBG churn probability
of the next period (contractual).

The matrix counts customers, sums their CLV and their *value at risk*
(``sum(clv * risk)``, the expected CLV lost if nothing is done), and names the action
of each cell from the catalog (``matrix_action_*``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnradar.predict.scoring import risk_tiers

TIERS = ("high", "medium", "low")

#: the action of each (value tier, risk tier) cell: a catalog key suffix
ACTIONS: dict[tuple[str, str], str] = {
    ("high", "high"): "retain_now",
    ("high", "medium"): "retain_now",
    ("high", "low"): "keep_grow",
    ("medium", "high"): "retain_targeted",
    ("medium", "medium"): "monitor",
    ("medium", "low"): "keep_grow",
    ("low", "high"): "low_cost",
    ("low", "medium"): "low_cost",
    ("low", "low"): "maintain",
}


def value_tiers(clv: np.ndarray, *, high_share: float = 0.2,
                medium_share: float = 0.3) -> np.ndarray:
    """``high`` for the ``high_share`` of customers with the largest CLV, ``medium`` for
    the next ``medium_share``, ``low`` for the rest (ties broken by position)."""
    return risk_tiers(np.asarray(clv, np.float64), high_share=high_share,
                      medium_share=medium_share)


def value_risk_table(customers: pd.DataFrame, *, high_value_share: float = 0.2,
                     medium_value_share: float = 0.3, high_risk_share: float = 0.1,
                     medium_risk_share: float = 0.2) -> pd.DataFrame:
    """Add ``value_tier``, ``risk_tier``, ``value_at_risk`` and ``action`` to a table
    with columns ``customer_id``, ``clv`` and ``risk`` (a churn probability)."""
    for col in ("customer_id", "clv", "risk"):
        if col not in customers.columns:
            raise KeyError(f"value_risk_table needs a {col!r} column")
    out = customers.copy()
    clv = out["clv"].to_numpy(np.float64)
    risk = out["risk"].to_numpy(np.float64)
    out["value_tier"] = value_tiers(clv, high_share=high_value_share,
                                    medium_share=medium_value_share)
    out["risk_tier"] = risk_tiers(risk, high_share=high_risk_share,
                                  medium_share=medium_risk_share)
    out["value_at_risk"] = clv * risk
    out["action"] = [ACTIONS[(v, r)] for v, r in zip(out["value_tier"], out["risk_tier"],
                                                      strict=True)]
    return out


def value_risk_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (value tier, risk tier) cell, all nine present, in tier order:
    customers, share of customers, clv (sum), clv share, value_at_risk (sum), action."""
    cells = pd.MultiIndex.from_product([TIERS, TIERS], names=["value_tier", "risk_tier"])
    grouped = (table.groupby(["value_tier", "risk_tier"], observed=True)
               .agg(customers=("customer_id", "size"), clv=("clv", "sum"),
                    value_at_risk=("value_at_risk", "sum"))
               .reindex(cells, fill_value=0))
    out = grouped.reset_index()
    out["customers"] = out["customers"].astype(np.int64)
    n = max(int(out["customers"].sum()), 1)
    total = float(out["clv"].sum())
    out["customer_share"] = out["customers"] / n
    out["clv_share"] = out["clv"] / total if total > 0 else 0.0
    out["action"] = [ACTIONS[(v, r)] for v, r in zip(out["value_tier"], out["risk_tier"],
                                                      strict=True)]
    return out[["value_tier", "risk_tier", "customers", "customer_share", "clv",
                "clv_share", "value_at_risk", "action"]]
