"""Plotly figures of the report, styled alike and drawn offline.

Figures are built with ``plotly.graph_objects`` and embedded with :func:`figure_html`
(``include_plotlyjs=False``: the page inlines plotly.js once). Hover texts and labels
are formatted with Babel before they reach Plotly, so numbers read the same in the
charts as in the tables. User data (segment names) is HTML-escaped because Plotly
interprets a subset of HTML in its labels.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup, escape

from churnradar.i18n import t
from churnradar.report.formatting import (
    currency_symbol,
    fmt_value,
    is_missing,
)

#: CJK-capable font stack, the same in CSS and in the Plotly layout.
FONT_FAMILY = (
    '-apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Hiragino Sans GB", '
    '"Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", '
    '"Helvetica Neue", Arial, sans-serif'
)

COLORS: dict[str, str] = {
    "ink": "#1d2733",
    "muted": "#5b6b7c",
    "grid": "#e6eaf0",
    "start": "#1f5fa8",        # churn rate, start basis
    "end": "#e08a1e",          # churn rate, end basis
    "bar": "#4a78b5",
    "above": "#c0392b",        # segment significantly above the overall rate
    "too_small": "#c2c8d0",
    "churn_loss": "#c0504d",
    "contraction_loss": "#8e6bb8",
    "key": "#1f5fa8",
    "other": "#9aa5b1",
    "band": "rgba(120, 130, 145, 0.12)",
}

#: Plotly options: a static, print-like chart with hover; no mode bar, no logo.
PLOTLY_CONFIG: dict[str, Any] = {
    "displayModeBar": False,
    "displaylogo": False,
    "responsive": True,
    "scrollZoom": False,
    "doubleClick": False,
}


def esc(text: object) -> str:
    """Escape user text for Plotly's HTML-like labels."""
    return html.escape(str(text), quote=False)


def para(cls: str, text: str) -> str:
    """A paragraph of (escaped) text; ``cls`` is its CSS class (``note``, ``alert``)."""
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{escape(text)}</p>"


def base_layout(**overrides: Any) -> dict[str, Any]:
    """The common layout: fonts, margins, grid colours, horizontal legend on top."""
    layout: dict[str, Any] = {
        "template": "plotly_white",
        "font": {"family": FONT_FAMILY, "size": 13, "color": COLORS["ink"]},
        "hoverlabel": {"font": {"family": FONT_FAMILY, "size": 13}},
        "margin": {"l": 64, "r": 24, "t": 48, "b": 48},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom",
                   "font": {"size": 13}},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "closest",
        "dragmode": False,
    }
    layout.update(overrides)
    return layout


def figure_html(fig: go.Figure, div_id: str, *, height: int | None = None) -> Markup:
    """Embed ``fig`` as a ``<div>`` plus its ``Plotly.newPlot`` script.

    The page must load plotly.js before (the report inlines it once in ``<head>``).
    Other report sections (added through :class:`churnradar.report.Section`) should use
    this function so every chart shares the fonts and configuration.

    Parameters
    ----------
    fig
        The figure.
    div_id
        A unique element id.
    height
        Height in pixels; by default the figure's own layout height or 420.
    """
    h = height or fig.layout.height or 420
    fig.update_layout(height=h)
    fig.update_xaxes(fixedrange=True)
    fig.update_yaxes(fixedrange=True)
    body = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config=PLOTLY_CONFIG, default_width="100%", default_height=f"{h}px",
                       validate=True)
    return Markup(f'<div class="chart" data-chart="{esc(div_id)}">{body}</div>')


def _add_incomplete_bands(fig: go.Figure, complete: Sequence[bool], lang: str) -> None:
    """Shade periods the data does not fully cover (category axis: index ± 0.5)."""
    label = t("report_incomplete", lang)
    for i, done in enumerate(complete):
        if done:
            continue
        fig.add_vrect(x0=i - 0.5, x1=i + 0.5, fillcolor=COLORS["band"], line_width=0,
                      layer="below", annotation_text=label, annotation_position="top",
                      annotation_font={"size": 11, "color": COLORS["muted"]})


def _period_axis(fig: go.Figure, labels: Sequence[str], lang: str) -> None:
    """Category x axis of periods; labels slanted when there are many."""
    fig.update_xaxes(type="category", title_text=t("report_axis_period", lang), showgrid=False,
                     tickangle=-45 if len(labels) > 16 else 0, linecolor=COLORS["grid"])


def _gap(hi: float | None, lo: float | None) -> float | None:
    return None if hi is None or lo is None else hi - lo


def _rates(values: Sequence[Any]) -> list[float | None]:
    return [None if is_missing(v) else float(v) for v in values]


def trend_figure(overall: pd.DataFrame, lang: str) -> go.Figure:
    """Churn rate per period on both bases; incomplete periods dashed and shaded."""
    labels = [str(v) for v in overall["label"]]
    complete = [bool(v) for v in overall["complete"]]
    fig = go.Figure()
    incomplete_suffix = t("report_incomplete", lang)
    for col, colour in (("churn_rate_start", COLORS["start"]), ("churn_rate_end", COLORS["end"])):
        name = t(f"report_col_{col}", lang)
        rates = _rates(overall[col])
        solid = [r if done else None for r, done in zip(rates, complete, strict=True)]
        fig.add_trace(go.Scatter(
            x=labels, y=solid, name=name, mode="lines+markers", legendgroup=col,
            line={"color": colour, "width": 2.5}, marker={"size": 7}, hoverinfo="skip",
            connectgaps=False))
        # dashed segments from each run of incomplete periods to its complete neighbours
        xs: list[str | None] = []
        ys: list[float | None] = []
        i = 0
        while i < len(labels):
            if complete[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(labels) and not complete[j + 1]:
                j += 1
            lo, hi = max(i - 1, 0), min(j + 1, len(labels) - 1)
            xs += labels[lo:hi + 1] + [labels[hi]]
            ys += rates[lo:hi + 1] + [None]
            i = j + 1
        if xs:
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="lines", legendgroup=col, showlegend=False,
                line={"color": colour, "width": 2, "dash": "dash"}, hoverinfo="skip",
                connectgaps=False))
            fig.add_trace(go.Scatter(
                x=[x for x, done in zip(labels, complete, strict=True) if not done],
                y=[r for r, done in zip(rates, complete, strict=True) if not done],
                mode="markers", legendgroup=col, showlegend=False, hoverinfo="skip",
                marker={"color": "#ffffff", "size": 8, "line": {"color": colour, "width": 2}}))
        hover = [
            f"{name}: {fmt_value(r, 'pct', lang)}" + ("" if done else f" ({incomplete_suffix})")
            for r, done in zip(rates, complete, strict=True)
        ]
        fig.add_trace(go.Scatter(
            x=labels, y=rates, mode="markers", showlegend=False, legendgroup=col,
            marker={"opacity": 0, "size": 10, "color": colour},
            customdata=hover, hovertemplate="%{customdata}<extra></extra>"))
    _add_incomplete_bands(fig, complete, lang)
    fig.update_layout(**base_layout(hovermode="x unified"))
    _period_axis(fig, labels, lang)
    fig.update_yaxes(title_text=t("report_axis_churn_rate", lang), tickformat=".1%",
                     rangemode="tozero", gridcolor=COLORS["grid"], zeroline=False)
    return fig


def loss_figure(overall: pd.DataFrame, lang: str, currency: str) -> go.Figure:
    """Churn loss and contraction loss per period, as separate bars."""
    labels = [str(v) for v in overall["label"]]
    complete = [bool(v) for v in overall["complete"]]
    fig = go.Figure()
    for col in ("churn_loss", "contraction_loss"):
        name = t(f"report_col_{col}", lang)
        values = _rates(overall[col])
        hover = [f"{label} · {name}: {fmt_value(v, 'money', lang, currency=currency)}"
                 for label, v in zip(labels, values, strict=True)]
        fig.add_trace(go.Bar(
            x=labels, y=values, name=name, customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            marker={"color": COLORS[col], "opacity": [1.0 if c else 0.45 for c in complete]}))
    _add_incomplete_bands(fig, complete, lang)
    fig.update_layout(**base_layout(barmode="group", bargap=0.25, bargroupgap=0.06))
    _period_axis(fig, labels, lang)
    fig.update_yaxes(title_text=t("report_axis_amount", lang,
                                  currency=currency_symbol(currency, lang)),
                     tickformat=",.0f", gridcolor=COLORS["grid"], rangemode="tozero")
    return fig


def segment_figure(latest: pd.DataFrame, overall_rate: float | None, lang: str, *,
                   confidence_text: str, top_n: int = 20, max_small: int = 10,
                   ) -> tuple[go.Figure, bool]:
    """Churn rate per segment with Wilson error bars; too-small segments greyed, unranked.

    Parameters
    ----------
    latest
        Rows of one dimension for the latest complete period, as ordered by
        :meth:`MetricsResult.latest_by` (ranked first, too small after).
    overall_rate
        The overall start-basis churn rate of that period (dashed reference line).
    lang
        Language code.
    confidence_text
        e.g. "95%".
    top_n, max_small
        At most this many ranked / too-small segments are drawn.

    Returns
    -------
    (figure, truncated)
        ``truncated`` is True when some segments were left out of the chart.
    """
    small_mask = latest["too_small"].astype(bool)
    judged = latest[~small_mask]
    small = latest[small_mask]
    truncated = len(judged) > top_n or len(small) > max_small
    rows = pd.concat([judged.head(top_n), small.head(max_small)])
    names = [esc(s) for s in rows["segment"]]
    rates = _rates(rows["churn_rate_start"])
    lows = _rates(rows["ci_low"])
    highs = _rates(rows["ci_high"])
    too_small = [bool(v) for v in rows["too_small"]]
    small_label = t("report_too_small", lang)
    ci_header = t("report_col_ci", lang, confidence=confidence_text)

    hover = []
    for (_, rec), r, lo, hi, sm in zip(rows.iterrows(), rates, lows, highs, too_small,
                                       strict=True):
        lines = [f"<b>{esc(rec['segment'])}</b>",
                 t("report_hover_counts", lang, start=fmt_value(rec["start_count"], "int", lang),
                   churned=fmt_value(rec["churned_count"], "int", lang)),
                 f"{t('report_col_churn_rate_start', lang)}: {fmt_value(r, 'pct', lang)}",
                 f"{ci_header}: {fmt_value(lo, 'pct', lang)} – {fmt_value(hi, 'pct', lang)}"]
        if sm:
            lines.append(small_label)
        hover.append("<br>".join(lines))

    def above(r: float | None, lo: float | None) -> bool:
        return overall_rate is not None and lo is not None and lo > overall_rate

    groups = (
        ("judged", t("report_legend_judged", lang), COLORS["bar"],
         [not sm and not above(r, lo) for sm, r, lo in zip(too_small, rates, lows, strict=True)]),
        ("above", t("report_legend_above", lang), COLORS["above"],
         [not sm and above(r, lo) for sm, r, lo in zip(too_small, rates, lows, strict=True)]),
        ("too_small", small_label, COLORS["too_small"], too_small),
    )
    judged_vals = [v for r, hi, sm in zip(rates, highs, too_small, strict=True) if not sm
                   for v in (r, hi) if v is not None]
    small_vals = [r for r, sm in zip(rates, too_small, strict=True) if sm and r is not None]
    xmax = max(judged_vals + small_vals + ([overall_rate] if overall_rate is not None else [])
               or [0.1]) or 0.1
    pad = xmax * 0.015
    fig = go.Figure()
    for key, name, colour, mask in groups:
        if not any(mask):
            continue
        idx = [i for i, m in enumerate(mask) if m]
        bar: dict[str, Any] = {}
        if key != "too_small":  # too small to judge: no interval drawn (it is in the table)
            bar["error_x"] = {
                "type": "data", "symmetric": False, "thickness": 1.4, "width": 4,
                "color": "#2b3440",
                "array": [_gap(highs[i], rates[i]) for i in idx],
                "arrayminus": [_gap(rates[i], lows[i]) for i in idx]}
        fig.add_trace(go.Bar(
            x=[rates[i] for i in idx], y=[names[i] for i in idx], orientation="h", name=name,
            marker={"color": colour}, customdata=[hover[i] for i in idx],
            hovertemplate="%{customdata}<extra></extra>", **bar))
    # value labels just right of each interval (or bar), so they never collide with it
    text_x = [((r or 0.0) if sm else (hi if hi is not None else (r or 0.0))) + pad
              for r, hi, sm in zip(rates, highs, too_small, strict=True)]
    labels = [f"{fmt_value(r, 'pct', lang)} · {small_label}" if sm else fmt_value(r, "pct", lang)
              for r, sm in zip(rates, too_small, strict=True)]
    fig.add_trace(go.Scatter(
        x=text_x, y=names, mode="text", text=labels, textposition="middle right",
        showlegend=False, hoverinfo="skip", cliponaxis=False,
        textfont={"size": 12, "color": [COLORS["muted"] if sm else COLORS["ink"]
                                        for sm in too_small]}))
    if overall_rate is not None:
        fig.add_vline(x=overall_rate, line_dash="dash", line_color=COLORS["muted"],
                      line_width=1.2)
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="lines", hoverinfo="skip",
            name=t("report_overall", lang, value=fmt_value(overall_rate, "pct", lang)),
            line={"color": COLORS["muted"], "dash": "dash", "width": 1.2}))
    fig.update_layout(**base_layout(barmode="overlay", bargap=0.35,
                                    margin={"l": 16, "r": 180, "t": 44, "b": 40}))
    fig.update_xaxes(tickformat=".0%" if xmax > 0.05 else ".1%", range=[0, xmax * 1.12],
                     gridcolor=COLORS["grid"], zeroline=False,
                     title_text=t("report_col_churn_rate_start", lang))
    fig.update_yaxes(type="category", autorange="reversed", automargin=True,
                     categoryorder="array", categoryarray=names, showgrid=False)
    fig.update_layout(height=max(200, 110 + 34 * len(names)))
    return fig, truncated


def key_trend_figure(key_rows: pd.DataFrame, other_rows: pd.DataFrame, lang: str,
                     ) -> go.Figure:
    """Start-basis churn rate of key accounts vs the other customers, per period."""
    fig = go.Figure()
    for rows, name, colour in ((key_rows, t("report_key_group_key", lang), COLORS["key"]),
                               (other_rows, t("report_key_group_other", lang),
                                COLORS["other"])):
        if rows.empty:
            continue
        rates = _rates(rows["churn_rate_start"])
        hover = [f"{name}: {fmt_value(r, 'pct', lang)}" for r in rates]
        fig.add_trace(go.Scatter(
            x=[str(v) for v in rows["label"]], y=rates, name=name, mode="lines+markers",
            line={"color": colour, "width": 2.5}, marker={"size": 7}, customdata=hover,
            hovertemplate="%{customdata}<extra></extra>"))
    base = key_rows if not key_rows.empty else other_rows
    if not base.empty:
        _add_incomplete_bands(fig, [bool(v) for v in base["complete"]], lang)
    fig.update_layout(**base_layout(hovermode="x unified"))
    _period_axis(fig, [str(v) for v in base["label"]] if not base.empty else [], lang)
    fig.update_yaxes(title_text=t("report_col_churn_rate_start", lang), tickformat=".1%",
                     rangemode="tozero", gridcolor=COLORS["grid"])
    return fig


def cohort_columns(cohorts: pd.DataFrame) -> list[Any]:
    """The "months since joining" columns of the cohort matrix, in numeric order."""
    cols = [c for c in cohorts.columns if str(c).isdigit()]
    return sorted(cols, key=lambda c: int(str(c)))


def cohort_figure(cohorts: pd.DataFrame, lang: str) -> go.Figure:
    """Heatmap: acquisition month × months since joining → share still active."""
    cols = cohort_columns(cohorts)
    ticks = [t("report_cohort_tick", lang, cohort=esc(idx),
               size=fmt_value(size, "int", lang))
             for idx, size in zip(cohorts.index, cohorts["size"], strict=True)]
    z = [[None if is_missing(v) else float(v) for v in row]
         for row in cohorts[cols].itertuples(index=False)]
    text = [["" if v is None else fmt_value(v, "pct", lang, digits=0) for v in row] for row in z]
    hover = [[t("report_cohort_hover", lang, cohort=esc(idx), k=str(c),
                share=fmt_value(v, "pct", lang, digits=1)) if v is not None else ""
              for c, v in zip(cols, row, strict=True)]
             for idx, row in zip(cohorts.index, z, strict=True)]
    fig = go.Figure(go.Heatmap(
        z=z, x=[str(c) for c in cols], y=ticks, text=text, texttemplate="%{text}",
        textfont={"size": 11}, customdata=hover, hovertemplate="%{customdata}<extra></extra>",
        colorscale=[[0.0, "#f4f8fc"], [0.5, "#7fa7d3"], [1.0, "#123f73"]], zmin=0, zmax=1,
        xgap=2, ygap=2, hoverongaps=False,
        colorbar={"title": {"text": t("report_legend_retained", lang)}, "tickformat": ".0%",
                  "thickness": 12, "len": 0.9}))
    fig.update_layout(**base_layout(margin={"l": 16, "r": 16, "t": 24, "b": 48}))
    fig.update_xaxes(type="category", title_text=t("report_axis_months_since", lang),
                     showgrid=False, side="bottom")
    fig.update_yaxes(type="category", autorange="reversed", automargin=True, showgrid=False,
                     title_text=t("report_axis_cohort", lang))
    fig.update_layout(height=max(260, 110 + 28 * len(ticks)))
    return fig
