"""The customer value section of the report: what customers are worth, and where the
retention effort should go (domain.md §4), from :func:`churnradar.value.jobs.value_job`.

Shows the value x risk matrix (a heat map and the actions per cell), the CLV
distribution, the P(alive) map of the purchase model by frequency and recency
(non-contractual) or the retention curve with its sBG fit (contractual), the model
check on the holdout months, and the customers with the most value at risk. Survival
curves (Kaplan-Meier) join when the survival analysis ran.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import escape

from churnradar.i18n import fmt_int, fmt_money, fmt_num, fmt_pct, t
from churnradar.report.charts import COLORS, base_layout, figure_html
from churnradar.report.sections import Section
from churnradar.report.tables import Column, render_table
from churnradar.value.matrix import TIERS

#: P(alive) map: at most this many frequency / recency steps
GRID = 40


def matrix_figure(matrix: pd.DataFrame, lang: str, currency: str) -> go.Figure:
    """3 x 3 heat map: value tiers down, risk tiers across, coloured by value at risk."""
    cells = {(r.value_tier, r.risk_tier): r for r in matrix.itertuples()}
    z, text = [], []
    for v in TIERS:
        z.append([float(cells[(v, r)].value_at_risk) for r in TIERS])
        text.append([t("report_value_cell", lang,
                       customers=fmt_int(cells[(v, r)].customers, lang),
                       clv=fmt_money(cells[(v, r)].clv, lang, currency),
                       at_risk=fmt_money(cells[(v, r)].value_at_risk, lang, currency))
                     for r in TIERS])
    fig = go.Figure(go.Heatmap(
        z=z, x=[t(f"matrix_risk_{r}", lang) for r in TIERS],
        y=[t(f"matrix_value_{v}", lang) for v in TIERS], text=text,
        texttemplate="%{text}", hovertemplate="%{y} · %{x}<br>%{text}<extra></extra>",
        colorscale=[[0, "#f4f6f9"], [1, COLORS["above"]]], showscale=False))
    fig.update_layout(**base_layout(
        title={"text": t("report_value_matrix_chart", lang), "x": 0},
        yaxis={"autorange": "reversed"}, margin={"l": 96, "r": 24, "t": 48, "b": 48}))
    return fig


def clv_figure(customers: pd.DataFrame, lang: str, currency: str) -> go.Figure:
    """Histogram of CLV by value tier (the top 1% cut off so the body stays readable)."""
    cap = float(customers["clv"].quantile(0.99)) if len(customers) else 0.0
    fig = go.Figure()
    colors = {"high": COLORS["start"], "medium": COLORS["bar"], "low": COLORS["other"]}
    for tier in TIERS:
        sub = customers.loc[customers["value_tier"] == tier, "clv"].clip(upper=cap)
        fig.add_trace(go.Histogram(x=sub, name=t(f"matrix_value_{tier}", lang), nbinsx=40,
                                   marker_color=colors[tier]))
    fig.update_layout(**base_layout(
        title={"text": t("report_value_clv_chart", lang), "x": 0}, barmode="stack",
        xaxis={"title": t("report_value_clv_axis", lang, currency=currency)},
        yaxis={"title": t("report_value_customers_axis", lang)}))
    return fig


def p_alive_figure(model: Any, customers: pd.DataFrame, lang: str) -> go.Figure | None:
    """P(alive) of the purchase model over frequency x recency, at the median age T."""
    if model is None or not len(customers):
        return None
    T = float(customers["T"].median())
    f_max = int(max(1, customers["frequency"].quantile(0.99)))
    freq = np.unique(np.linspace(0, f_max, min(GRID, f_max + 1)).round().astype(int))
    rec = np.linspace(0, T, GRID)
    F, R = np.meshgrid(freq, rec, indexing="ij")
    grid = pd.DataFrame({"frequency": F.ravel().astype(float), "recency": R.ravel(),
                         "T": T})
    grid.loc[grid["frequency"] == 0, "recency"] = 0.0
    p = np.asarray(model.p_alive(grid), np.float64).reshape(F.shape)
    fig = go.Figure(go.Heatmap(
        z=p, x=np.round(rec, 1), y=freq, colorscale="RdYlGn", zmin=0, zmax=1,
        colorbar={"title": "P(alive)", "tickformat": ".0%"},
        hovertemplate=(t("report_value_palive_hover", lang)
                       + "<extra></extra>")))
    fig.update_layout(**base_layout(
        title={"text": t("report_value_palive_chart", lang, T=fmt_num(T, lang, 0)), "x": 0},
        xaxis={"title": t("report_value_recency_axis", lang)},
        yaxis={"title": t("report_value_frequency_axis", lang)}))
    return fig


def holdout_figure(holdout: pd.DataFrame, lang: str) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Bar(x=holdout["label"], y=holdout["actual"],
                         name=t("report_value_actual", lang), marker_color=COLORS["other"]))
    fig.add_trace(go.Bar(x=holdout["label"], y=holdout["predicted"],
                         name=t("report_value_predicted", lang), marker_color=COLORS["start"]))
    fig.update_layout(**base_layout(
        title={"text": t("report_value_holdout_chart", lang), "x": 0}, barmode="group",
        xaxis={"title": t("report_value_holdout_axis", lang), "type": "category"},
        yaxis={"title": t("report_value_holdout_yaxis", lang)}))
    return fig


def retention_figure(retention: pd.DataFrame, lang: str) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=retention["month"], y=retention["survival"], mode="lines",
                             line={"shape": "hv", "color": COLORS["other"]},
                             name=t("report_value_km", lang)))
    fig.add_trace(go.Scatter(x=retention["month"], y=retention["sbg_survival"],
                             mode="lines", line={"color": COLORS["start"]},
                             name=t("report_value_sbg", lang)))
    fig.update_layout(**base_layout(
        title={"text": t("report_value_retention_chart", lang), "x": 0},
        xaxis={"title": t("report_value_tenure_axis", lang)},
        yaxis={"title": t("report_value_surviving_axis", lang), "tickformat": ".0%",
               "range": [0, 1.02]}))
    return fig


def _matrix_table(matrix: pd.DataFrame, lang: str, currency: str) -> str:
    df = matrix.copy()
    df["value_text"] = [t(f"matrix_value_{v}", lang) for v in df["value_tier"]]
    df["risk_text"] = [t(f"matrix_risk_{r}", lang) for r in df["risk_tier"]]
    df["action_text"] = [t(f"matrix_action_{a}", lang) for a in df["action"]]
    columns = [
        Column("value_text", t("valuecli_col_value_tier", lang)),
        Column("risk_text", t("report_value_col_risk_tier", lang)),
        Column("customers", t("report_value_col_customers", lang), "int"),
        Column("clv", t("report_value_col_clv_sum", lang), "money"),
        Column("clv_share", t("report_value_col_clv_share", lang), "pct", 1),
        Column("value_at_risk", t("report_value_col_at_risk", lang), "money"),
        Column("action_text", t("valuecli_col_action", lang)),
    ]
    return str(render_table(df, columns, lang, currency=currency))


def _top_table(customers: pd.DataFrame, lang: str, currency: str, top: int) -> str:
    head = customers.head(top).copy()
    head["value_text"] = [t(f"matrix_value_{v}", lang) for v in head["value_tier"]]
    head["action_text"] = [t(f"matrix_action_{a}", lang) for a in head["action"]]
    columns = [Column("customer_id", t("predict_col_customer", lang)),
               Column("clv", t("valuecli_col_clv", lang), "money"),
               Column("risk", t("valuecli_col_risk", lang), "pct", 1),
               Column("value_at_risk", t("report_value_col_at_risk", lang), "money"),
               Column("value_text", t("valuecli_col_value_tier", lang))]
    if "segment" in head.columns:
        head["segment_text"] = [t(f"rfm_segment_{x}", lang) if isinstance(x, str) else "—"
                                for x in head["segment"]]
        columns.append(Column("segment_text", t("report_value_col_segment", lang)))
    columns.append(Column("action_text", t("valuecli_col_action", lang)))
    return str(render_table(head, columns, lang, currency=currency))


def value_section(outcome: Any, lang: str, *, currency: str = "CNY", top: int = 20,
                  survival_html: str = "") -> Section:
    """The customer value section (see the module docstring)."""
    summary = outcome.summary()
    c = outcome.customers
    intro = t("report_value_intro", lang, customers=fmt_int(summary["customers"], lang),
              as_of=str(outcome.as_of), clv=fmt_money(summary["clv_total"], lang, currency),
              mean=fmt_money(summary["clv_mean"] or 0.0, lang, currency),
              at_risk=fmt_money(summary["value_at_risk"], lang, currency),
              source=t(f"valuecli_risk_{outcome.risk_source}", lang))
    parts = [f'<p class="intro">{escape(intro)}</p>']
    high = c[c["value_tier"] == "high"]
    if len(c) and len(high):
        share = float(high["clv"].sum()) / max(float(c["clv"].sum()), 1e-12)
        parts.append(f"<p>{escape(t('report_value_concentration', lang, share=fmt_pct(share, lang, 0), tier_share=fmt_pct(len(high) / len(c), lang, 0)))}</p>")  # noqa: E501
    parts.append(str(figure_html(matrix_figure(outcome.matrix, lang, currency),
                                 "value-matrix", height=380)))
    parts.append(_matrix_table(outcome.matrix, lang, currency))
    if len(c):
        parts.append(str(figure_html(clv_figure(c, lang, currency), "value-clv", height=380)))
    pal = p_alive_figure(outcome.fitted.get("purchases"), c, lang) \
        if outcome.business == "non_contractual" else None
    if pal is not None:
        parts.append(str(figure_html(pal, "value-palive", height=440)))
    if outcome.retention is not None:
        parts.append(str(figure_html(retention_figure(outcome.retention, lang),
                                     "value-retention", height=400)))
    hs = outcome.holdout_summary
    if outcome.holdout is not None and hs.get("actual_purchases") is not None:
        parts.append(f"<h3>{escape(t('report_value_check', lang))}</h3>")
        parts.append('<p class="note">' + escape(t(
            "valuecli_holdout", lang, start=hs["calibration_end"], end=hs["observation_end"],
            actual=fmt_num(hs["actual_purchases"], lang, 0),
            predicted=fmt_num(hs["predicted_purchases"], lang, 0),
            error=fmt_pct(hs["total_error"] or 0.0, lang, 1))) + "</p>")
        parts.append(str(figure_html(holdout_figure(outcome.holdout, lang), "value-holdout",
                                     height=380)))
    parts.append(f"<h3>{escape(t('valuecli_top_title', lang, n=min(top, len(c))))}</h3>")
    parts.append(_top_table(c, lang, currency, top))
    if survival_html:
        parts.append(survival_html)
    return Section(id="customer-value", title=t("report_section_value", lang),
                   html="\n".join(parts), after="at-risk")
