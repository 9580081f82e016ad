"""Plotly figures of the analysis pages (HTTP-free).

Where the HTML report already draws a chart (churn rate on both bases, churn loss,
segments with Wilson intervals, the cohort heat map, reasons, strategies) the same
builder is used, so the page and the report read alike; the figures only the pages have
are built here in the report's style. Every builder returns the figure as JSON text
(plotly's own encoder: numpy values and dates included), which the templates put in a
``data-figure`` attribute of a ``<div class="chart" data-chart="...">`` and
:data:`CHART_SCRIPT` draws with ``Plotly.newPlot``. User text (segment names) is escaped
for Plotly's HTML-like labels by the builders.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

from churnradar import schema as s
from churnradar.i18n import fmt_int, fmt_money, fmt_pct, t
from churnradar.report import charts as rc
from churnradar.report import plan as rplan
from churnradar.report import reasons as rreasons
from churnradar.report.formatting import is_missing

#: loads plotly.js (served from the installed package, never a CDN) and draws every
#: ``.chart[data-figure]`` of the page
CHART_SCRIPT = Markup(
    '<script src="/static/plotly.min.js"></script>\n<script>\n'
    "document.querySelectorAll('.chart[data-figure]').forEach(function (el) {\n"
    "  var f = JSON.parse(el.getAttribute('data-figure'));\n"
    "  Plotly.newPlot(el, f.data, f.layout,\n"
    "    {displaylogo: false, responsive: true, displayModeBar: false});\n"
    "});\n</script>")


def to_json(fig: go.Figure, *, height: int) -> str:
    """``fig`` as compact JSON for the page: fixed height, no zoom, no title (the page
    has one), and of the template's per-trace defaults only those of the trace types
    drawn (the rest of ``plotly_white`` is most of a small figure's size)."""
    fig.update_layout(height=height, title_text=None, autosize=True)
    fig.update_xaxes(fixedrange=True)
    fig.update_yaxes(fixedrange=True)
    obj = json.loads(fig.to_json())  # plotly's encoder: numpy values, dates
    template = obj.get("layout", {}).get("template")
    if isinstance(template, dict) and isinstance(template.get("data"), dict):
        used = {trace.get("type", "scatter") for trace in obj.get("data", [])}
        template["data"] = {k: v for k, v in template["data"].items() if k in used}
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# --- overview ------------------------------------------------------------------------
def churn_trend(overall: pd.DataFrame, lang: str) -> str:
    """Churn rate per period on the start basis and on the end basis."""
    return to_json(rc.trend_figure(overall, lang), height=380)


def churn_loss(overall: pd.DataFrame, lang: str, currency: str) -> str:
    """Churn loss (and, apart from it, contraction loss) per period."""
    return to_json(rc.loss_figure(overall, lang, currency), height=360)


# --- segments ------------------------------------------------------------------------
def segment_rates(latest: pd.DataFrame, overall_rate: float | None, lang: str, *,
                  confidence_text: str, top_n: int = 20) -> tuple[str, bool]:
    """Churn rate per segment of the latest period with its confidence interval;
    returns (figure, truncated)."""
    fig, truncated = rc.segment_figure(latest, overall_rate, lang,
                                       confidence_text=confidence_text, top_n=top_n)
    return to_json(fig, height=int(fig.layout.height or 320)), truncated


def segment_trend(rows: pd.DataFrame, lang: str) -> str:
    """Start-basis churn rate per period, one line per segment (e.g. per grade:
    Case 01 of domain.md, churn tracked by customer grade)."""
    fig = go.Figure()
    labels = [str(x) for x in dict.fromkeys(rows["label"])]
    for i, (segment, g) in enumerate(rows.groupby("segment", sort=True)):
        rates = [None if is_missing(v) else float(v) for v in g["churn_rate_start"]]
        hover = [f"{rc.esc(segment)} · {lb}: {fmt_pct(r, lang, 2) if r is not None else '–'}"
                 for lb, r in zip(g["label"], rates, strict=True)]
        fig.add_trace(go.Scatter(
            x=[str(x) for x in g["label"]], y=rates, name=rc.esc(segment),
            mode="lines+markers", marker={"size": 5},
            line={"width": 2, "color": rreasons.PALETTE[i % len(rreasons.PALETTE)]},
            customdata=hover, hovertemplate="%{customdata}<extra></extra>"))
    fig.update_layout(**rc.base_layout(hovermode="x unified"))
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels,
                     title_text=t("report_axis_period", lang), showgrid=False,
                     tickangle=-45 if len(labels) > 16 else 0)
    fig.update_yaxes(title_text=t("report_col_churn_rate_start", lang), tickformat=".1%",
                     rangemode="tozero", gridcolor=rc.COLORS["grid"])
    return to_json(fig, height=360)


def cohorts(table: pd.DataFrame, lang: str) -> str:
    """Cohort retention heat map (acquisition month × months since joining)."""
    fig = rc.cohort_figure(table, lang)
    return to_json(fig, height=int(fig.layout.height or 420))


def portfolio(rows: Sequence[Mapping[str, Any]], dimension_label: str, lang: str,
              currency: str) -> str:
    """Value at risk per value of a dimension (bars), active customers and mean risk in
    the hover; the bars count active customers when there is no value at risk."""
    keys = [rc.esc(r["key"]) if r["key"] is not None else "–" for r in rows]
    has_var = any(r.get("value_at_risk") is not None for r in rows)
    y = [(r.get("value_at_risk") if has_var else r.get("active")) or 0 for r in rows]
    hover = []
    for key, r in zip(keys, rows, strict=True):
        risk = r.get("mean_risk")
        hover.append("<br>".join([
            f"<b>{key}</b>",
            f"{t('web_pg_col_active', lang)}: {fmt_int(r.get('active'), lang)}",
            f"{t('web_pg_col_mean_risk', lang)}: "
            f"{fmt_pct(risk, lang, 1) if risk is not None else '–'}",
            f"{t('report_value_col_at_risk', lang)}: "
            f"{fmt_money(r.get('value_at_risk'), lang, currency)}"]))
    fig = go.Figure(go.Bar(x=keys, y=y, marker_color=rc.COLORS["bar"], customdata=hover,
                           hovertemplate="%{customdata}<extra></extra>"))
    fig.update_layout(**rc.base_layout())
    fig.update_xaxes(type="category", title_text=dimension_label, showgrid=False)
    fig.update_yaxes(title_text=t("report_value_col_at_risk", lang) if has_var
                     else t("web_pg_col_active", lang),
                     tickformat=",.0f", gridcolor=rc.COLORS["grid"], rangemode="tozero")
    return to_json(fig, height=320)


# --- reasons -------------------------------------------------------------------------
def reason_categories(by_category: pd.DataFrame, lang: str, currency: str) -> str:
    """Churned customers per reason, controllable reasons in colour."""
    return to_json(rreasons.category_figure(by_category, lang, currency), height=340)


def reason_matrix(matrix: pd.DataFrame, lang: str) -> str:
    """Reason category × churn type heat map of churn counts."""
    return to_json(rreasons.matrix_figure(matrix, lang), height=380)


def reason_trend(by_category: pd.DataFrame, lang: str) -> str:
    """Churn rate per period split by reason (stacked)."""
    return to_json(rreasons.trend_figure(by_category, lang), height=380)


def controllable_trend(controllable: pd.DataFrame, lang: str) -> str:
    """Share of churn (and of churn loss) with a controllable reason, per period."""
    labels = [str(x) for x in controllable["label"]]
    fig = go.Figure()
    for col, key, colour in (("controllable_share", "web_pg_controllable_share",
                              rc.COLORS["start"]),
                             ("controllable_loss_share", "web_pg_controllable_loss_share",
                              rc.COLORS["churn_loss"])):
        if col not in controllable.columns:
            continue
        name = t(key, lang)
        values = [None if is_missing(v) else float(v) for v in controllable[col]]
        hover = [f"{lb} · {name}: {fmt_pct(v, lang, 1) if v is not None else '–'}"
                 for lb, v in zip(labels, values, strict=True)]
        fig.add_trace(go.Scatter(x=labels, y=values, name=name, mode="lines+markers",
                                 line={"color": colour, "width": 2.5}, marker={"size": 6},
                                 customdata=hover,
                                 hovertemplate="%{customdata}<extra></extra>"))
    fig.update_layout(**rc.base_layout(hovermode="x unified"))
    fig.update_xaxes(type="category", title_text=t("report_axis_period", lang),
                     showgrid=False, tickangle=-45 if len(labels) > 16 else 0)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02], gridcolor=rc.COLORS["grid"])
    return to_json(fig, height=340)


def type_groups(by_type: pd.DataFrame, lang: str) -> str:
    """Churned customers per churn type, active and passive churn apart."""
    g = (by_type.groupby(["churn_type", "type_group"], dropna=False)["churned"].sum()
         .reset_index())
    order = {k: i for i, k in enumerate(s.CHURN_TYPES)}
    g = g.sort_values("churn_type", key=lambda c: c.map(order).fillna(len(order)))
    fig = go.Figure()
    for group, colour in (("active", rc.COLORS["start"]), ("passive", rc.COLORS["end"])):
        sub = g[g["type_group"] == group]
        if sub.empty:
            continue
        fig.add_trace(go.Bar(x=[rreasons.type_name(x, lang) for x in sub["churn_type"]],
                             y=sub["churned"].tolist(), marker_color=colour,
                             name=t(f"churn_type_group_{group}", lang),
                             hovertemplate="%{x}: %{y}<extra></extra>"))
    fig.update_layout(**rc.base_layout(barmode="group"))
    fig.update_yaxes(title_text=t("reasons_col_churned", lang), gridcolor=rc.COLORS["grid"])
    return to_json(fig, height=320)


# --- plan ----------------------------------------------------------------------------
def playbooks(by_action: pd.DataFrame, names: Mapping[str, str], lang: str,
              currency: str) -> str:
    """Cost and expected saved value of the treatment group, per playbook."""
    labels = [names.get(a, str(a)) for a in by_action["action"]]
    fig = go.Figure()
    for col, key, colour in (("cost", "web_pg_col_cost_treated", rc.COLORS["other"]),
                             ("expected_saved", "web_pg_col_saved_treated",
                              rc.COLORS["start"])):
        name = t(key, lang)
        values = [float(v) for v in by_action[col]]
        fig.add_trace(go.Bar(x=labels, y=values, name=name, marker_color=colour,
                             customdata=[f"{lb} · {name}: {fmt_money(v, lang, currency)}"
                                         for lb, v in zip(labels, values, strict=True)],
                             hovertemplate="%{customdata}<extra></extra>"))
    fig.update_layout(**rc.base_layout(barmode="group"))
    fig.update_xaxes(type="category", showgrid=False)
    fig.update_yaxes(tickformat=",.0f", gridcolor=rc.COLORS["grid"], rangemode="tozero")
    return to_json(fig, height=340)


def strategies(table: pd.DataFrame, lang: str, currency: str) -> str:
    """Net value of the optimised list against top-N-by-risk and random contact."""
    return to_json(rplan.strategies_figure(table, lang, currency), height=320)
