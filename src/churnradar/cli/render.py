"""Rich tables for the terminal: formatting only, no computation."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from churnradar.i18n import fmt_int, fmt_money, fmt_pct, t
from churnradar.metrics import MetricsResult
from churnradar.metrics.rates import AggregateChurn

STATUS_STYLE = {"pass": "green", "warn": "yellow", "alert": "bold red", "n/a": "dim"}


def calc_table(r: AggregateChurn, lang: str, currency: str) -> Table:
    table = Table(title=t("cli_calc_title", lang), show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [
        ("metrics_col_start_count", fmt_int(r.start, lang)),
        ("metrics_col_new_count", fmt_int(r.new, lang)),
        ("metrics_col_end_count", fmt_int(r.end, lang)),
        ("metrics_col_churned_count", fmt_int(r.churned, lang)),
        ("metrics_col_churn_rate_start", fmt_pct(r.churn_rate_start_basis, lang)),
        ("metrics_col_churn_rate_end", fmt_pct(r.churn_rate_end_basis, lang)),
        ("metrics_col_retention_rate_start", fmt_pct(r.retention_rate_start_basis, lang)),
        ("metrics_col_lost_revenue", fmt_money(r.lost_revenue, lang, currency)),
        ("metrics_col_churn_loss", fmt_money(r.churn_loss, lang, currency)),
    ]
    if r.contraction_loss is not None:
        rows.append(("metrics_col_contraction_loss",
                     fmt_money(r.contraction_loss, lang, currency)))
    for key, value in rows:
        table.add_row(t(key, lang), value)
    return table


def periods_table(result: MetricsResult, lang: str, basis: str, last: int = 12) -> Table:
    rate_col = f"churn_rate_{basis}"
    ret_col = f"retention_rate_{basis}"
    title = t("cli_metrics_title", lang, period=t(f"metrics_period_{result.period}", lang),
              as_of=result.as_of.isoformat(),
              business=t(f"metrics_business_{result.business}", lang))
    table = Table(title=title)
    cols = ["label", "start_count", "new_count", "winback_count", "churned_count", "end_count",
            rate_col, ret_col, "churn_loss", "net_revenue_retention"]
    for c in cols:
        table.add_column(t(f"metrics_col_{c}", lang), justify="left" if c == "label" else "right")
    for _, row in result.overall.tail(last).iterrows():
        label = row["label"] + ("" if row["complete"] else " *")
        table.add_row(
            label, *(fmt_int(row[c], lang) for c in cols[1:6]),
            fmt_pct(row[rate_col], lang), fmt_pct(row[ret_col], lang),
            fmt_money(row["churn_loss"], lang, result.currency),
            fmt_pct(row["net_revenue_retention"], lang),
        )
    if not result.overall["complete"].all():
        table.caption = t("cli_incomplete_note", lang)
    return table


def segments_table(result: MetricsResult, dim: str, lang: str, basis: str) -> Table:
    df: pd.DataFrame = result.latest_by(dim)
    label = result.latest()["label"]
    table = Table(title=t("cli_segments_title", lang, dimension=t(f"metrics_dim_{dim}", lang),
                          period=label, confidence=f"{result.confidence:.0%}"))
    # the Wilson interval is of the start-basis rate; the end basis is shown beside it
    cols = ["rank", "segment", "start_count", "churned_count", "churn_rate_start", "ci_low",
            "ci_high", *(["churn_rate_end"] if basis == "end" else []), "churn_loss"]
    for c in cols:
        table.add_column(t(f"metrics_col_{c}", lang), justify="left" if c == "segment" else "right")
    for _, row in df.iterrows():
        seg = row["segment"]
        if dim == "key_account":
            seg = t(f"metrics_segment_{seg}", lang) if seg in ("key", "other") else seg
        small = bool(row["too_small"])
        rank = t("metrics_col_too_small", lang) if small else (
            "–" if pd.isna(row["rank"]) else str(int(row["rank"])))
        end = [fmt_pct(row["churn_rate_end"], lang)] if basis == "end" else []
        table.add_row(rank, str(seg), fmt_int(row["start_count"], lang),
                      fmt_int(row["churned_count"], lang),
                      fmt_pct(row["churn_rate_start"], lang),
                      fmt_pct(row["ci_low"], lang), fmt_pct(row["ci_high"], lang), *end,
                      fmt_money(row["churn_loss"], lang, result.currency),
                      style="dim" if small else None)
    return table


def safety_table(result: MetricsResult, lang: str) -> Table:
    table = Table(title=t("cli_safety_title", lang), show_lines=True)
    table.add_column(t("cli_check", lang), style="bold")
    table.add_column(t("cli_status", lang))
    table.add_column(t("cli_explanation", lang))
    for check in result.safety:
        status = t(f"metrics_status_{check.status}", lang)
        table.add_row(t(f"metrics_safety_{check.check}_title", lang),
                      f"[{STATUS_STYLE[check.status]}]{status}[/]",
                      t(check.message_key, lang, **check.params))
    return table
