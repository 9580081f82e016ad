"""A realistic synthetic MetricsResult for the report tests (builder and messages).

The metrics module computes the real thing; until then (and to keep these tests about
rendering only) the fixture builds the contract of ``churnradar.metrics.result`` by hand:
thirteen monthly periods (the last one incomplete) with consistent counts
(E = S + new + win-back − C, the next period's S = this period's E), three dimensions
(region with Chinese names and one segment too small to judge, grade, key account),
a cohort triangle, the four safety checks and a completeness list with skipped analyses,
shaped exactly as ``churnradar.metrics.compute`` produces them (key-account segments
"key" / "other", safety message keys ``metrics_safety_*``, analysis names of the
completeness check).
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from churnradar.metrics.result import (
    PERIOD_COLUMNS,
    SEGMENT_COLUMNS,
    AnalysisStatus,
    MetricsResult,
    SafetyCheck,
)

MARGIN = 0.2
MIN_SEGMENT_SIZE = 30
CONFIDENCE = 0.95
AS_OF = dt.date(2025, 1, 15)

#: region -> (share of customers, churn-rate multiplier); 西北 is tiny (too small to judge)
REGIONS = {"华东": (0.47, 0.8), "华南": (0.31, 1.35), "华北": (0.212, 1.0), "西北": (0.008, 2.2)}
GRADES = {"A": (0.2, 0.6), "B": (0.5, 1.0), "C": (0.3, 1.3)}
KEY = {"key": (0.04, 0.5), "other": (0.96, 1.02)}
BASE_RATES = [0.031, 0.029, 0.033, 0.030, 0.028, 0.034, 0.046, 0.032, 0.030, 0.029, 0.031,
              0.033, 0.012]

def wilson(c: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval (independent of churnradar.metrics)."""
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = c / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def _months() -> list[tuple[dt.date, dt.date, str]]:
    out = []
    for i in range(13):
        y, m = 2024 + (i // 12), i % 12 + 1
        start = dt.date(y, m, 1)
        end = dt.date(y + (m == 12), m % 12 + 1, 1)
        out.append((start, end, f"{y}-{m:02d}"))
    return out


def _row(start: dt.date, end: dt.date, label: str, s: int, new: int, win: int, c: int,
         arpu: float, complete: bool) -> dict[str, object]:
    e = s + new + win - c
    base = s * arpu
    churned_rev = c * arpu
    contraction = (s - c) * arpu * 0.012
    expansion = (s - c) * arpu * 0.006
    revenue = (s - c) * arpu * (1 - 0.012 + 0.006) + (new + win) * arpu * 0.5
    return {
        "period_start": pd.Timestamp(start), "period_end": pd.Timestamp(end), "label": label,
        "start_count": s, "new_count": new, "winback_count": win, "churned_count": c,
        "end_count": e, "joined_left_count": 0,
        "churn_rate_start": c / s if s else float("nan"),
        "churn_rate_end": c / e if e else float("nan"),
        "retention_rate_start": 1 - c / s if s else float("nan"),
        "retention_rate_end": 1 - c / e if e else float("nan"),
        "churn_rate_annualised": 1 - (1 - c / s) ** 12 if s else float("nan"),
        "revenue": revenue, "base_revenue": base, "churned_revenue": churned_rev,
        "contraction": contraction, "expansion": expansion,
        "gross_revenue_churn": (churned_rev + contraction) / base,
        "net_revenue_churn": (churned_rev + contraction - expansion) / base,
        "net_revenue_retention": 1 - (churned_rev + contraction - expansion) / base,
        "arpu": arpu, "lost_revenue": churned_rev, "churn_loss": churned_rev * MARGIN,
        "contraction_loss": contraction * MARGIN, "complete": complete,
    }


def _split(total: int, shares: list[float]) -> list[int]:
    parts = [int(round(total * sh)) for sh in shares[:-1]]
    return [*parts, total - sum(parts)]


def make_result() -> MetricsResult:
    """Build the synthetic result (deterministic)."""
    months = _months()
    region_rows: list[dict[str, object]] = []
    seg_start = {name: int(round(3000 * share)) for name, (share, _) in REGIONS.items()}
    seg_start["西北"] = 14
    for i, (start, end, label) in enumerate(months):
        complete = end <= AS_OF
        arpu = 1000.0 - 6 * i
        for name, (share, mult) in REGIONS.items():
            s = seg_start[name]
            new = int(round((150 + 25 * math.sin(i / 2)) * share)) if name != "西北" else 1
            win = int(round(9 * share))
            c = int(round(s * BASE_RATES[i] * mult))
            if name == "西北":
                c = 1 if i % 3 else 0
            row = _row(start, end, label, s, new, win, c, arpu * (1.1 if name == "华东" else 1),
                       complete)
            region_rows.append({"dimension": "region", "segment": name, **row})
            seg_start[name] = int(row["end_count"])  # type: ignore[call-overload]
    region = _segment_frame(region_rows)

    overall_rows = []
    for (start, end, label) in months:
        part = region[region["label"] == label]
        sums = {k: int(part[k].sum()) for k in ("start_count", "new_count", "winback_count",
                                               "churned_count")}
        arpu = float(part["base_revenue"].sum() / sums["start_count"])
        overall_rows.append(_row(start, end, label, sums["start_count"], sums["new_count"],
                                 sums["winback_count"], sums["churned_count"], arpu,
                                 end <= AS_OF))
    overall = pd.DataFrame(overall_rows, columns=list(PERIOD_COLUMNS))

    def split_dim(dimension: str, spec: dict[object, tuple[float, float]]) -> pd.DataFrame:
        rows = []
        names = list(spec)
        shares = [spec[n][0] for n in names]
        for _, o in overall.iterrows():
            starts = _split(int(o["start_count"]), shares)
            news = _split(int(o["new_count"]), shares)
            wins = _split(int(o["winback_count"]), shares)
            weights = [sh * spec[n][1] for n, sh in zip(names, shares, strict=True)]
            churn = _split(int(o["churned_count"]), [w / sum(weights) for w in weights])
            for n, s, nw, w, c in zip(names, starts, news, wins, churn, strict=True):
                row = _row(o["period_start"].date(), o["period_end"].date(), o["label"], s,
                           nw, w, min(c, s), float(o["arpu"]) * (3 if n == "key" else 1),
                           bool(o["complete"]))
                rows.append({"dimension": dimension, "segment": n, **row})
        return _segment_frame(rows)

    by = {"region": region, "grade": split_dim("grade", GRADES),
          "key_account": split_dim("key_account", KEY)}

    cohort_rows = {}
    for i, (_, _, label) in enumerate(months[:12]):
        size = int(overall.loc[i, "new_count"])
        row: dict[object, float] = {"size": size}
        for k in range(0, 12 - i):
            row[k] = 1.0 if k == 0 else round(0.62 + 0.38 * math.exp(-k / 2.5) - 0.004 * i, 4)
        cohort_rows[label] = row
    cohorts = pd.DataFrame.from_dict(cohort_rows, orient="index")
    cohorts = cohorts[["size", *range(12)]]

    # as churnradar.metrics.safety builds them (message keys of locales/metrics.toml)
    safety = [
        SafetyCheck("cost", "warn", 0.072, 0.05, 0.10, "metrics_safety_cost_warn",
                    {"churned": 118, "replacement_cost": 59000.0, "retention_cost": 11800.0,
                     "cost_ratio": 5.0, "period": "2024-12", "share": 0.072}),
        SafetyCheck("acquisition_peak", "warn", 2.6, 2.0, None, "metrics_safety_peak_warn",
                    {"period": "2024-12", "months": 6, "new_start": 800, "new_churned": 48,
                     "old_start": 2777, "old_churned": 70, "new_rate": 0.06,
                     "old_rate": 0.0252, "ratio": 2.38}),
        SafetyCheck("deviation", "pass", 0.08, 0.2, 0.5, "metrics_safety_deviation_pass",
                    {"period": "2024-12", "rate": 0.033, "long_run": 0.0306, "periods": 11,
                     "deviation": 0.08}),
        SafetyCheck("key_accounts", "alert", 0.232, 0.10, 0.20, "metrics_safety_key_alert",
                    {"period": "2024-12", "rate": 0.0216, "annual": 0.232, "key_start": 143,
                     "key_churned": 3, "key_loss": 1177.0, "other_rate": 0.0338}),
    ]
    # as churnradar.metrics.compute lists them: ran / skipped (missing column) / not yet
    completeness = [
        AnalysisStatus("churn_rates", "ran", ("customers", "subscriptions|transactions")),
        AnalysisStatus("revenue_churn", "ran", ("subscriptions.amount_per_month",)),
        AnalysisStatus("churn_loss", "ran", ("subscriptions.amount_per_month",)),
        AnalysisStatus("by_grade", "ran", ("customers.grade",)),
        AnalysisStatus("by_owner", "skipped", ("customers.owner_id",), ("customers.owner_id",)),
        AnalysisStatus("by_region", "ran", ("customers.region",)),
        AnalysisStatus("by_channel", "skipped", ("customers.channel",),
                       ("customers.channel",)),
        AnalysisStatus("by_key_account", "ran", ("customers.is_key_account",)),
        AnalysisStatus("cohorts", "ran", ("customers",)),
        AnalysisStatus("safety_line", "ran", ("customers",)),
        AnalysisStatus("reasons", "not_yet", ("churn_records", "complaints"),
                       ("churn_records", "complaints")),
        AnalysisStatus("risk_prediction", "not_yet", ("customers",)),
    ]
    latest = overall[overall["complete"]].iloc[-1]
    return MetricsResult(
        period="month", as_of=AS_OF, business="contractual", currency="CNY", margin=MARGIN,
        confidence=CONFIDENCE, min_segment_size=MIN_SEGMENT_SIZE, overall=overall, by=by,
        cohorts=cohorts, safety=safety, completeness=completeness,
        annualised_churn_rate=1 - (1 - float(latest["churn_rate_start"])) ** 12,
    )


def _segment_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    lows, highs = [], []
    for s, c in zip(df["start_count"], df["churned_count"], strict=True):
        lo, hi = wilson(int(c), int(s)) if s else (float("nan"), float("nan"))
        lows.append(lo)
        highs.append(hi)
    df["ci_low"], df["ci_high"] = lows, highs
    df["too_small"] = df["start_count"] < MIN_SEGMENT_SIZE
    return df[list(SEGMENT_COLUMNS)]
