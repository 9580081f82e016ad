"""The result of a metrics run: plain tables plus small dataclasses.

This is the contract between ``metrics`` (which computes it) and ``report`` / ``cli`` /
``web`` (which show it). All tables are pandas DataFrames with the columns listed below.

Period table columns (``MetricsResult.overall``; the segment tables add
``dimension`` and ``segment`` first and the Wilson columns last):

================================ =========================================================
period_start, period_end          dates; the period is [period_start, period_end)
label                             "2024-03", "2024-Q1" or "2024"
start_count                       S: customers active at the end of the previous period
                                  (期初数); a contract whose end date (the first day
                                  without service) is period_start is in S and churns in
                                  the period
new_count                         customers whose first relationship began in the period
winback_count                     returning customers (win-backs, 挽回), not counted as new
churned_count                     C: customers who churned in the period
end_count                         E: active at the end of the period (期末数);
                                  E = S + new + winback − C
joined_left_count                 customers who joined and left within the period: counted
                                  neither as new nor as churned (as in C = S − (E − N))
churn_rate_start                  C / S  (start basis; industry standard)
churn_rate_end                    C / E  (end basis; the textbook formula)
retention_rate_start              1 − C / S
retention_rate_end                1 − C / E
churn_rate_annualised             start-basis rate converted to a year: 1 − (1 − r)^(12/k)
revenue                           revenue of all customers in the period
base_revenue                      previous-period revenue of the S customers
churned_revenue                   previous-period revenue of the customers who churned
contraction                       revenue decrease of retained customers (vs previous period)
expansion                         revenue increase of retained customers
gross_revenue_churn               (churned_revenue + contraction) / base_revenue
net_revenue_churn                 (churned_revenue + contraction − expansion) / base_revenue
net_revenue_retention             1 − net_revenue_churn (NRR)
arpu                              base_revenue / start_count (previous-period ARPU)
lost_revenue                      revenue lost through churn (营业损失): each churned
                                  customer's revenue over a comparable prior period
churn_loss                        lost_revenue × margin (客户流失损失)
contraction_loss                  contraction × margin, reported apart from churn loss
complete                          False for a period that the data does not fully cover
ci_low, ci_high                   (segment tables) Wilson interval of churn_rate_start
too_small                         (segment tables) start_count < min_segment_size
================================ =========================================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

Status = Literal["pass", "warn", "alert", "n/a"]

PERIOD_COLUMNS: tuple[str, ...] = (
    "period_start", "period_end", "label", "start_count", "new_count", "winback_count",
    "churned_count", "end_count", "joined_left_count", "churn_rate_start", "churn_rate_end",
    "retention_rate_start", "retention_rate_end", "churn_rate_annualised", "revenue",
    "base_revenue", "churned_revenue", "contraction", "expansion", "gross_revenue_churn",
    "net_revenue_churn", "net_revenue_retention", "arpu", "lost_revenue", "churn_loss",
    "contraction_loss", "complete",
)
SEGMENT_COLUMNS: tuple[str, ...] = ("dimension", "segment", *PERIOD_COLUMNS,
                                    "ci_low", "ci_high", "too_small")
DIMENSIONS: tuple[str, ...] = ("grade", "segment", "region", "channel", "owner", "cohort",
                               "key_account")


@dataclass(frozen=True)
class SafetyCheck:
    """One of the four checks of the churn safety line (流失安全线).

    ``message_key`` names a catalog message (churnradar/locales) that explains the
    verdict; ``params`` fills its placeholders (numbers already rounded, not formatted).
    """

    check: Literal["cost", "acquisition_peak", "deviation", "key_accounts"]
    status: Status
    value: float | None
    threshold_warn: float | None
    threshold_alert: float | None
    message_key: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class AnalysisStatus:
    """One line of the completeness check (检查客户流失分析工作的完整性)."""

    analysis: str  # catalog key suffix, e.g. "churn_rates", "revenue_churn", "reasons"
    status: Literal["ran", "skipped", "not_yet"]
    needs: tuple[str, ...] = ()  # the tables (or columns, "customers.grade") it needs
    missing: tuple[str, ...] = ()  # of those, the ones that are absent


@dataclass
class MetricsResult:
    """Everything ``churnradar metrics`` computes for one workspace and one period length."""

    period: Literal["month", "quarter", "year"]
    as_of: dt.date
    business: Literal["contractual", "non_contractual"]
    currency: str
    margin: float
    confidence: float
    min_segment_size: int
    #: one row per period, PERIOD_COLUMNS
    overall: pd.DataFrame
    #: dimension -> rows per (period, segment), SEGMENT_COLUMNS
    by: dict[str, pd.DataFrame]
    #: cohort retention matrix: index = acquisition month ("2024-03"), column "size" then
    #: columns 0, 1, 2 ... = share of the cohort still active k months after joining
    cohorts: pd.DataFrame
    safety: list[SafetyCheck]
    completeness: list[AnalysisStatus]
    #: annualised churn rate of the latest complete period (period conversion)
    annualised_churn_rate: float | None = None

    def latest(self) -> pd.Series:
        """The latest complete period of ``overall``."""
        done = self.overall[self.overall["complete"]]
        return (done if len(done) else self.overall).iloc[-1]

    def latest_by(self, dimension: str) -> pd.DataFrame:
        """Segments of ``dimension`` in the latest complete period, judged ones ranked first
        by churn rate, those too small to judge after them (unranked)."""
        df = self.by[dimension]
        if df.empty:
            return df
        label = self.latest()["label"]
        cur = df[df["label"] == label].copy()
        cur["rank"] = cur["churn_rate_start"].where(~cur["too_small"]).rank(
            ascending=False, method="min")
        return cur.sort_values(["too_small", "rank", "segment"], na_position="last")
