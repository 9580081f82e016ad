"""The survival section of the report: how long customers stay, by group, and who among
the active customers is likely to leave soon (from :func:`churnradar.survival.jobs.survival_job`).

Kaplan-Meier curves (overall, and for the groupings whose log-rank test finds a
difference) with their confidence bands, the median lifetime and survival at the
horizons per group, the log-rank tests, the Cox model's hazard ratios, and the active
customers least likely to stay another 90 days.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from markupsafe import escape

from churnradar.i18n import fmt_int, fmt_num, t
from churnradar.report.charts import base_layout, esc, figure_html
from churnradar.report.sections import Section
from churnradar.report.tables import Column, render_table
from churnradar.survival.km import ALL, MISSING, OTHER

PALETTE = ("#1f5fa8", "#e08a1e", "#2a9d8f", "#c0392b", "#8e6bb8", "#6c757d", "#4a78b5",
           "#b5838d")
#: curves drawn for the groupings with the smallest log-rank p-values
MAX_GROUPINGS = 3


def group_text(grouping: str, group: str, lang: str) -> str:
    if grouping == ALL or group == ALL:
        return t("survival_group_all", lang)
    if group == OTHER:
        return t("survival_group_other", lang)
    if group == MISSING:
        return t("survival_group_missing", lang)
    return str(group)


def grouping_text(grouping: str, lang: str) -> str:
    key = f"survival_grouping_{grouping}"
    try:
        return t(key, lang)
    except KeyError:
        return grouping


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def km_figure(curve: pd.DataFrame, grouping: str, lang: str) -> go.Figure:
    """Step curves with pointwise confidence bands, one per group, in months."""
    fig = go.Figure()
    sub = curve[curve["grouping"] == grouping]
    for i, (group, g) in enumerate(sub.groupby("group", sort=False)):
        color = PALETTE[i % len(PALETTE)]
        months = g["t"] / 30.4375
        name = esc(group_text(grouping, str(group), lang))
        fig.add_trace(go.Scatter(x=months, y=g["upper"], mode="lines", line={"width": 0,
                                 "shape": "hv"}, hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=months, y=g["lower"], mode="lines", fill="tonexty",
                                 fillcolor=_rgba(color, 0.12), line={"width": 0,
                                                                      "shape": "hv"},
                                 hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=months, y=g["survival"], mode="lines", name=name,
                                 line={"shape": "hv", "color": color, "width": 2},
                                 hovertemplate=f"{name}<br>%{{x:.1f}} → %{{y:.1%}}"
                                               "<extra></extra>"))
    title = (t("report_survival_km_all", lang) if grouping == ALL
             else t("report_survival_km_by", lang, grouping=grouping_text(grouping, lang)))
    fig.update_layout(**base_layout(
        title={"text": esc(title), "x": 0},
        xaxis={"title": t("report_survival_months", lang)},
        yaxis={"title": t("report_value_surviving_axis", lang), "tickformat": ".0%",
               "range": [0, 1.02]}))
    return fig


def _median_text(row: pd.Series, lang: str) -> str:
    m = float(row["median_days"])
    if not math.isfinite(m):
        return t("survival_median_not_reached", lang)
    lo, hi = float(row["median_lower"]), float(row["median_upper"])
    ci = (f" ({fmt_num(lo, lang, 0)}–{fmt_num(hi, lang, 0)})"
          if math.isfinite(lo) and math.isfinite(hi) else "")
    return f"{fmt_num(m, lang, 0)}{ci}"


def _summary_table(summary: pd.DataFrame, groupings: list[str], horizons: list[int],
                   lang: str) -> str:
    df = summary[summary["grouping"].isin(groupings)].copy()
    df["grouping_text"] = [grouping_text(g, lang) if g != ALL else "—"
                           for g in df["grouping"]]
    df["group_text"] = [group_text(g, str(v), lang) for g, v in
                        zip(df["grouping"], df["group"], strict=True)]
    df["median_text"] = [_median_text(r, lang) for _, r in df.iterrows()]
    columns = [Column("grouping_text", t("survival_col_grouping", lang)),
               Column("group_text", t("survival_col_group", lang)),
               Column("n", t("survival_col_n", lang), "int"),
               Column("churned", t("survival_col_churned", lang), "int"),
               Column("median_text", t("report_survival_median", lang))]
    for h in horizons:
        col = f"survival_{h}d"
        if col in df.columns:
            columns.append(Column(col, t("survival_col_survival_at", lang, days=h), "pct", 1))
    return str(render_table(df, columns, lang))


def _logrank_lines(logrank: pd.DataFrame, lang: str) -> list[str]:
    out = []
    for _, row in logrank.iterrows():
        p = float(row["p_value"])
        key = ("survival_logrank_significant" if p < 0.05
               else "survival_logrank_not_significant")
        text = t(key, lang, grouping=grouping_text(str(row["grouping"]), lang),
                 p=("p < 0.001" if p < 0.001 else f"p = {fmt_num(p, lang, 3)}"))
        out.append(f"<li>{escape(text)}</li>")
    return out


def _cox_table(cox: Any, lang: str, top: int = 12) -> str:
    df = cox.summary.sort_values("p_value").head(top).copy()
    df["label"] = [f"{v} = {lv}" if isinstance(lv, str) and lv else str(v)
                   for v, lv in zip(df["variable"], df["level"], strict=True)]
    columns = [Column("label", t("survival_col_covariate", lang)),
               Column("hazard_ratio", t("survival_col_hazard_ratio", lang), "num", 2),
               Column("hr_lower", t("survival_col_hr_lower", lang), "num", 2),
               Column("hr_upper", t("survival_col_hr_upper", lang), "num", 2),
               Column("p_value", t("survival_col_p_value", lang), "num", 4)]
    return str(render_table(df, columns, lang))


def _remaining_table(remaining: pd.DataFrame, lang: str, top: int) -> str:
    head = remaining.head(top)
    columns = [Column("customer_id", t("survival_col_customer_id", lang)),
               Column("tenure_days", t("survival_col_tenure_days", lang), "int")]
    for c in head.columns:
        if c.startswith("p_stay_") and c.endswith("d"):
            columns.append(Column(c, t("survival_col_p_stay", lang, days=c[7:-1]), "pct", 1))
    columns.append(Column("median_remaining_days",
                          t("survival_col_median_remaining_days", lang), "num", 0))
    return str(render_table(head, columns, lang))


def survival_section(outcome: Any, lang: str, *, top: int = 15,
                     after: str | None = None) -> Section:
    """The survival section (see the module docstring)."""
    s = outcome.summary
    km = outcome.km
    median = (t("report_survival_days", lang, n=fmt_num(s["median_days"], lang, 0))
              if s.get("median_reached")
              else t("survival_median_not_reached", lang))
    intro = t("report_survival_intro", lang, customers=fmt_int(s["customers"], lang),
              customers_churned=fmt_int(s["churned"], lang), median=median)
    parts = [f'<p class="intro">{escape(intro)}</p>']
    parts.append(str(figure_html(km_figure(km.curve, ALL, lang), "survival-km-all",
                                 height=380)))
    ranked = km.logrank.sort_values("p_value")
    shown = [str(g) for g in ranked["grouping"].head(MAX_GROUPINGS)]
    for g in shown:
        parts.append(str(figure_html(km_figure(km.curve, g, lang), f"survival-km-{g}",
                                     height=400)))
    horizons = list(s.get("parameters", {}).get("horizons", (90, 180, 365)))
    parts.append(_summary_table(km.summary, [ALL, *shown], horizons, lang))
    if len(km.logrank):
        parts.append(f"<h3>{escape(t('survival_logrank_title', lang))}</h3>")
        parts.append("<ul>" + "".join(_logrank_lines(ranked, lang)) + "</ul>")
    if outcome.cox is not None:
        parts.append(f"<h3>{escape(t('survival_cox_title', lang))}</h3>")
        note = t("report_survival_cox_note", lang,
                 c=fmt_num(outcome.cox.concordance, lang, 3))
        parts.append(f'<p class="note">{escape(note)}</p>')
        parts.append(_cox_table(outcome.cox, lang))
    elif s.get("cox_skipped"):
        parts.append(f'<p class="note">{escape(t("survival_msg_cox_skipped", lang, reason=s["cox_skipped"]))}</p>')  # noqa: E501
    if len(outcome.remaining):
        parts.append(f"<h3>{escape(t('survival_remaining_title', lang))}</h3>")
        parts.append(_remaining_table(outcome.remaining, lang, top))
    return Section(id="survival", title=t("report_section_survival", lang),
                   html="\n".join(parts), after=after)
