"""The at-risk section of the report: who is about to leave, why, and how far to trust it.

Built from the scores of :func:`churnradar.predict.scoring.score_customers` and the
saved model's description (its out-of-time check: calibration per decile and the lift
curve), plus the latest backtest when one was run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup, escape

from churnradar.features.names import feature_label, reason_label
from churnradar.features.reasons import reason_of
from churnradar.i18n import fmt_int, fmt_num, fmt_pct, t
from churnradar.report.charts import COLORS, base_layout, esc, figure_html
from churnradar.report.sections import Section
from churnradar.report.tables import Column, render_table

REASON_COLORS: dict[str | None, str] = {
    "product": "#4a78b5", "price": "#e08a1e", "service": "#c0392b", "benefit": "#8e6bb8",
    "management": "#2a9d8f", "industry": "#6c757d", "natural": "#9aa5b1", None: "#c2c8d0",
}
METRICS: tuple[str, ...] = ("roc_auc", "pr_auc", "brier", "top_decile_lift", "capture_10",
                            "capture_30", "emp")


def driver_columns(scores: pd.DataFrame) -> list[str]:
    return [c for c in scores.columns if c.startswith("driver_") and c.count("_") == 1]


def drivers_figure(scores: pd.DataFrame, lang: str, *, tier: str = "high",
                   top: int = 12) -> go.Figure | None:
    """How often each feature is a top driver among the ``tier`` customers."""
    sub = scores[scores["risk_tier"] == tier]
    cols = driver_columns(sub)
    if not len(sub) or not cols:
        return None
    counts = pd.concat([sub[c] for c in cols]).dropna().value_counts().head(top)
    if counts.empty:
        return None
    counts = counts.iloc[::-1]  # largest on top in a horizontal bar chart
    reasons = [reason_of(str(f))[0] for f in counts.index]
    fig = go.Figure(go.Bar(
        x=counts.to_numpy(), y=[esc(feature_label(str(f), lang)) for f in counts.index],
        orientation="h", marker_color=[REASON_COLORS.get(r, COLORS["bar"]) for r in reasons],
        customdata=[reason_label(r, lang) for r in reasons],
        hovertemplate="%{y}: %{x}<br>%{customdata}<extra></extra>",
    ))
    fig.update_layout(**base_layout(
        title={"text": t("report_risk_drivers_chart", lang), "x": 0},
        xaxis={"title": t("report_risk_drivers_axis", lang)},
        margin={"l": 300, "r": 24, "t": 48, "b": 48}, showlegend=False))
    return fig


def calibration_figure(calibration: list[Mapping[str, Any]], lang: str) -> go.Figure | None:
    """Predicted against realised churn per decile of the out-of-time check."""
    if not calibration:
        return None
    df = pd.DataFrame(calibration)
    hi = float(max(df["predicted"].max(), df["realised"].max(), 0.01)) * 1.05
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, hi], y=[0, hi], mode="lines", name=t(
        "report_risk_perfect", lang), line={"dash": "dot", "color": COLORS["other"]}))
    fig.add_trace(go.Scatter(
        x=df["predicted"], y=df["realised"], mode="lines+markers",
        name=t("report_risk_calibration_series", lang), line={"color": COLORS["start"]},
        text=[t("report_risk_decile", lang, decile=int(d)) for d in df["decile"]],
        hovertemplate="%{text}<br>%{x:.1%} → %{y:.1%}<extra></extra>"))
    fig.update_layout(**base_layout(
        title={"text": t("report_risk_calibration_chart", lang), "x": 0},
        xaxis={"title": t("report_risk_predicted", lang), "tickformat": ".0%"},
        yaxis={"title": t("report_risk_realised", lang), "tickformat": ".0%"}))
    return fig


def lift_figure(curves: Mapping[str, pd.DataFrame], lang: str) -> go.Figure | None:
    """Share of the churners found when contacting the riskiest x% (gains chart)."""
    if not curves:
        return None
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines",
                             name=t("report_risk_random", lang),
                             line={"dash": "dot", "color": COLORS["other"]}))
    palette = [COLORS["start"], COLORS["end"], COLORS["contraction_loss"]]
    for i, (name, df) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(
            x=df["fraction"], y=df["capture"], mode="lines",
            name=t(f"predict_contender_{name}", lang),
            line={"color": palette[i % len(palette)], "width": 3 if i == 0 else 2},
            hovertemplate="%{x:.0%} → %{y:.0%}<extra></extra>"))
    fig.update_layout(**base_layout(
        title={"text": t("report_risk_lift_chart", lang), "x": 0},
        xaxis={"title": t("report_risk_contacted", lang), "tickformat": ".0%"},
        yaxis={"title": t("report_risk_captured", lang), "tickformat": ".0%"}))
    return fig


def _top_table(scores: pd.DataFrame, lang: str, top: int) -> Markup:
    head = scores.head(top).copy()
    sep = "；" if lang == "zh-CN" else "; "
    cols = driver_columns(head)
    head["drivers_text"] = [
        sep.join(feature_label(str(row[c]), lang) for c in cols if isinstance(row[c], str))
        for _, row in head.iterrows()]
    head["reason_text"] = [reason_label(r if isinstance(r, str) else None, lang)
                           for r in head.get("top_reason", pd.Series([None] * len(head)))]
    head["tier_text"] = [t(f"predict_tier_{x}", lang) for x in head["risk_tier"]]
    columns = [
        Column("risk_rank", t("report_risk_col_rank", lang), "int"),
        Column("customer_id", t("predict_col_customer", lang), "text"),
        Column("churn_probability", t("predict_col_probability", lang), "pct", 1),
        Column("tier_text", t("predict_col_tier", lang), "text"),
        Column("drivers_text", t("predict_col_drivers", lang), "text"),
        Column("reason_text", t("predict_col_reason", lang), "text"),
    ]
    return render_table(head, columns, lang)


def _metrics_table(rows: list[Mapping[str, Any]], lang: str) -> Markup:
    df = pd.DataFrame(rows)
    df["contender_text"] = [t(f"predict_contender_{c}", lang) for c in df["contender"]]
    kinds = {"capture_10": "pct", "capture_30": "pct", "brier": "num"}
    columns = [Column("contender_text", t("predict_col_contender", lang), "text")] + [
        Column(m, t(f"predict_metric_{m}", lang), kinds.get(m, "num"),  # type: ignore[arg-type]
               4 if m == "brier" else 3)
        for m in METRICS if m in df.columns]
    return render_table(df, columns, lang)


def risk_section(scores: pd.DataFrame, model_info: Mapping[str, Any], lang: str, *,
                 backtest: Mapping[str, Any] | None = None, top: int = 20,
                 currency: str = "CNY") -> Section:
    """The at-risk section (see the module docstring)."""
    n = len(scores)
    tiers = scores["risk_tier"].value_counts()
    as_of = str(pd.Timestamp(scores["as_of"].iloc[0]).date()) if n else "—"
    expected = float(scores["churn_probability"].sum()) if n else 0.0
    intro = t("report_risk_intro", lang, customers=fmt_int(n, lang), as_of=as_of,
              horizon=model_info.get("horizon_days", "—"),
              high=fmt_int(int(tiers.get("high", 0)), lang),
              medium=fmt_int(int(tiers.get("medium", 0)), lang),
              expected=fmt_num(expected, lang, 0))
    parts: list[str] = [f'<p class="intro">{escape(intro)}</p>']
    if "top_reason" in scores.columns and n:
        at_risk = scores[scores["risk_tier"] != "low"]
        shares = at_risk["top_reason"].fillna("none").value_counts(normalize=True)
        text = ("、" if lang == "zh-CN" else ", ").join(
            f"{reason_label(None if r == 'none' else str(r), lang)} {fmt_pct(v, lang)}"
            for r, v in shares.head(4).items())
        parts.append(f'<p>{escape(t("report_risk_reasons", lang, reasons=text))}</p>')
    parts.append(f"<h3>{escape(t('predict_top_title', lang, n=min(top, n)))}</h3>")
    parts.append(str(_top_table(scores, lang, top)))
    fig = drivers_figure(scores, lang)
    if fig is not None:
        parts.append(str(figure_html(fig, "risk-drivers", height=460)))
    ev = model_info.get("evaluation")
    if ev:
        parts.append(f"<h3>{escape(t('report_risk_trust', lang))}</h3>")
        note = t("report_risk_check_note", lang, date=model_info.get("evaluation_date"),
                 auc=fmt_num(ev["roc_auc"], lang, 3),
                 lift=fmt_num(ev["top_decile_lift"], lang, 2),
                 capture=fmt_pct(ev["capture_10"], lang))
        parts.append(f'<p class="note">{escape(note)}</p>')
        cal = calibration_figure(ev.get("calibration") or [], lang)
        if cal is not None:
            parts.append(str(figure_html(cal, "risk-calibration", height=400)))
    curves: dict[str, pd.DataFrame] = {}
    if backtest and backtest.get("lift"):
        curves = {k: pd.DataFrame(v) for k, v in backtest["lift"].items()}
    elif model_info.get("lift"):
        curves = {"model": pd.DataFrame(model_info["lift"])}
    lift = lift_figure(curves, lang)
    if lift is not None:
        parts.append(str(figure_html(lift, "risk-lift", height=400)))
    if backtest and backtest.get("mean"):
        heading = t("report_risk_backtest", lang, dates=len(backtest.get("dates", [])))
        parts.append(f"<h3>{escape(heading)}</h3>")
        parts.append(str(_metrics_table(list(backtest["mean"]), lang)))
    return Section(id="at-risk", title=t("report_section_at_risk", lang),
                   html="\n".join(parts), after="cohorts")
