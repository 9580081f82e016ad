"""The churn reasons section of the report (domain.md §3), from
:func:`churnradar.reasons.jobs.reasons_job`: churn and churn loss by reason category and
churn type, the controllable share, the trend by reason, complaint insights (the terms
that characterise each category), the classifiers' accuracy, how each churn was
attributed, and staff departures followed by churn.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from markupsafe import escape

from churnradar import schema as s
from churnradar.i18n import fmt_int, fmt_money, fmt_num, fmt_pct, t
from churnradar.report.charts import COLORS, base_layout, figure_html, para
from churnradar.report.sections import Section
from churnradar.report.tables import Column, render_table

PALETTE = ("#3b6fb6", "#e07b39", "#c23b3b", "#7a5cb8", "#2e9e6a", "#8c8c8c", "#b5a642",
           "#cccccc")


def cat_name(key: Any, lang: str) -> str:
    return t(f"reason_{key}", lang) if key in s.REASON_CATEGORIES else t("reason_none", lang)


def type_name(key: Any, lang: str) -> str:
    return t(f"churn_type_{key}", lang) if key in s.CHURN_TYPES else t("churn_type_none", lang)


def category_figure(by_cat: pd.DataFrame, lang: str, currency: str) -> go.Figure:
    """Churned customers and churn loss by reason (all periods), controllable in colour."""
    g = (by_cat.groupby(["reason_category", "controllable"], dropna=False)
         .agg(churned=("churned", "sum"), loss=("churn_loss", "sum")).reset_index()
         .sort_values("churned"))
    color = g["controllable"].map({"controllable": COLORS["start"],
                                   "uncontrollable": COLORS["other"]}).fillna("#cccccc")
    fig = go.Figure(go.Bar(
        y=[cat_name(c, lang) for c in g["reason_category"]], x=g["churned"], orientation="h",
        marker_color=color.tolist(),
        customdata=[fmt_money(v, lang, currency) if pd.notna(v) else "—" for v in g["loss"]],
        hovertemplate="%{y}: %{x}<br>" + t("reasons_col_loss", lang)
        + " %{customdata}<extra></extra>"))
    fig.update_layout(**base_layout(
        title={"text": t("report_reasons_category_chart", lang), "x": 0},
        xaxis={"title": t("reasons_col_churned", lang)},
        margin={"l": 120, "r": 24, "t": 48, "b": 48}))
    return fig


def matrix_figure(matrix: pd.DataFrame, lang: str) -> go.Figure:
    """Reason category x churn type heat map of churn counts."""
    rows = [c for c in (*s.REASON_CATEGORIES, "unknown") if c in matrix.index]
    cols = [c for c in (*s.CHURN_TYPES, "unknown") if c in matrix.columns]
    z = matrix.reindex(index=rows, columns=cols).fillna(0).astype(int)
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(), x=[type_name(c, lang) for c in cols],
        y=[cat_name(r, lang) for r in rows], text=z.to_numpy(), texttemplate="%{text}",
        colorscale=[[0, "#f4f6f9"], [1, COLORS["above"]]], showscale=False,
        hovertemplate="%{y} · %{x}: %{z}<extra></extra>"))
    fig.update_layout(**base_layout(
        title={"text": t("report_reasons_matrix_chart", lang), "x": 0},
        yaxis={"autorange": "reversed"}, margin={"l": 120, "r": 24, "t": 48, "b": 64}))
    return fig


def trend_figure(by_cat: pd.DataFrame, lang: str) -> go.Figure:
    """Churn rate by reason per period, stacked: which reason drives a bad period."""
    fig = go.Figure()
    cats = [c for c in (*s.REASON_CATEGORIES, "unknown")
            if c in set(by_cat["reason_category"])]
    labels = sorted(set(by_cat["label"]), key=lambda x: by_cat.loc[by_cat["label"] == x, "p"]
                    .iloc[0])
    for i, cat in enumerate(cats):
        sub = by_cat[by_cat["reason_category"] == cat].set_index("label")
        fig.add_trace(go.Bar(x=labels, y=[sub["rate"].get(lb) for lb in labels],
                             name=cat_name(cat, lang), marker_color=PALETTE[i % len(PALETTE)]))
    fig.update_layout(**base_layout(
        title={"text": t("report_reasons_trend_chart", lang), "x": 0}, barmode="stack",
        legend={"orientation": "h", "y": -0.12, "x": 0},
        yaxis={"title": t("reasons_col_rate", lang), "tickformat": ".1%"}))
    return fig


def _accuracy_table(choice: Any, lang: str) -> str:
    df = choice.per_category.copy()
    df["category_text"] = [cat_name(c, lang) for c in df["category"]]
    columns = [Column("category_text", t("reasons_col_category", lang)),
               Column("n", t("report_reasons_col_labelled", lang), "int"),
               Column("lexicon_accuracy", t("report_reasons_col_lexicon", lang), "pct", 1)]
    if "supervised_accuracy" in df.columns and df["supervised_accuracy"].notna().any():
        columns.append(Column("supervised_accuracy", t("report_reasons_col_supervised", lang),
                              "pct", 1))
    return str(render_table(df, columns, lang))


def _terms_table(terms: pd.DataFrame, lang: str) -> str:
    rows = []
    for cat, g in terms.groupby("category", sort=False):
        rows.append({"category_text": cat_name(cat, lang),
                     "terms": "、".join(str(x) for x in g["term"].head(8)) if lang == "zh-CN"
                     else ", ".join(str(x) for x in g["term"].head(8))})
    df = pd.DataFrame(rows)
    return str(render_table(df, [Column("category_text", t("reasons_col_category", lang)),
                                 Column("terms", t("report_reasons_col_terms", lang))], lang))


def _departures_table(dep: pd.DataFrame, lang: str) -> str:
    df = dep.head(10).copy()
    df["left_text"] = [str(pd.Timestamp(x).date()) for x in df["left_at"]]
    df["flag_text"] = [t("report_reasons_flagged" if f else "report_reasons_not_flagged", lang)
                       for f in df["flagged"]]
    columns = [Column("owner_id", t("report_reasons_col_owner", lang)),
               Column("name", t("report_reasons_col_name", lang)),
               Column("left_text", t("report_reasons_col_left", lang)),
               Column("customers", t("report_reasons_col_customers", lang), "int"),
               Column("rate_after", t("report_reasons_col_after", lang), "pct", 1),
               Column("rate_before", t("report_reasons_col_before", lang), "pct", 1),
               Column("peer_rate_after", t("report_reasons_col_peers", lang), "pct", 1),
               Column("p_adjusted", t("report_reasons_col_p", lang), "num", 4),
               Column("flag_text", t("report_reasons_col_flag", lang))]
    return str(render_table(df, columns, lang,
                            row_class=lambda r: "alert" if r["flagged"] else ""))


def reasons_section(outcome: Any, lang: str, *, currency: str = "CNY",
                    after: str | None = None) -> Section:
    """The churn reasons section (see the module docstring)."""
    summary = outcome.summary()
    bd = outcome.breakdown
    tot = bd.totals
    parts = [f'<p class="intro">{escape(t("report_reasons_intro", lang, churns=fmt_int(tot["churned"], lang), share=fmt_pct(tot["controllable_share"] or 0.0, lang, 1), loss=fmt_money(tot["churn_loss"], lang, currency) if tot.get("churn_loss") is not None else "—", loss_ctl=fmt_money(tot["controllable_loss"], lang, currency) if tot.get("controllable_loss") is not None else "—", loss_share=fmt_pct(tot["controllable_loss_share"] or 0.0, lang, 1)))}</p>']  # noqa: E501
    if len(bd.by_category):
        parts.append(str(figure_html(category_figure(bd.by_category, lang, currency),
                                     "reasons-category", height=380)))
        parts.append(str(figure_html(matrix_figure(bd.matrix, lang), "reasons-matrix",
                                     height=400)))
        parts.append(str(figure_html(trend_figure(bd.by_category, lang), "reasons-trend",
                                     height=400)))
        latest = bd.by_category[bd.by_category["p"] == bd.by_category["p"].max()].copy()
        latest["category_text"] = [cat_name(c, lang) for c in latest["reason_category"]]
        latest["ctl_text"] = [t(f"reason_{c}", lang) if c in ("controllable", "uncontrollable")
                              else "—" for c in latest["controllable"]]
        label = str(latest["label"].iloc[0]) if len(latest) else ""
        parts.append(f"<h3>{escape(t('report_reasons_latest', lang, period=label))}</h3>")
        parts.append(str(render_table(latest, [
            Column("category_text", t("reasons_col_category", lang)),
            Column("ctl_text", t("reasons_col_controllable", lang)),
            Column("churned", t("reasons_col_churned", lang), "int"),
            Column("share", t("reasons_col_share", lang), "pct", 1),
            Column("rate", t("reasons_col_rate", lang), "pct", 2),
            Column("churn_loss", t("reasons_col_loss", lang), "money")], lang,
            currency=currency)))
    sources = outcome.attributed["source"].value_counts()
    parts.append(para("", t("report_reasons_sources", lang, **{
        k: fmt_int(int(sources.get(k, 0)), lang)
        for k in ("recorded", "note", "complaint", "driver", "rule", "none")})))
    cc = outcome.complaint_choice
    if cc is not None or outcome.terms is not None:
        parts.append(f"<h3>{escape(t('report_reasons_complaints', lang))}</h3>")
    if cc is not None:
        parts.append(para("note", t(
            "report_reasons_classifier", lang, n=fmt_int(cc.n_labelled, lang),
            lexicon=fmt_pct(cc.lexicon_accuracy, lang, 1),
            supervised=fmt_pct(cc.supervised_accuracy, lang, 1)
            if cc.supervised_accuracy is not None else "—",
            used=t(f"report_reasons_method_{cc.used}", lang))))
        parts.append(_accuracy_table(cc, lang))
    if summary.get("attribution_accuracy") is not None:
        parts.append(para("note", t(
            "report_reasons_attribution_check", lang,
            n=fmt_int(summary["attribution_checked"], lang),
            category=fmt_pct(summary["attribution_accuracy"], lang, 1),
            type=fmt_pct(summary["attribution_type_accuracy"] or 0.0, lang, 1))))
    if outcome.terms is not None and len(outcome.terms):
        parts.append(_terms_table(outcome.terms, lang))
    dep = outcome.departures
    parts.append(f"<h3>{escape(t('report_reasons_staff', lang))}</h3>")
    if dep is None:
        parts.append(para("note", t("report_reasons_no_staff", lang)))
    elif not len(dep):
        parts.append(para("note", t("report_reasons_no_departures", lang)))
    else:
        flagged = dep[dep["flagged"]]
        for _, row in flagged.iterrows():
            parts.append(para("alert", t(
                "reasons_msg_departure", lang, owner=str(row["owner_id"]),
                name=str(row.get("name") or ""), left=str(pd.Timestamp(row["left_at"]).date()),
                after=fmt_pct(float(row["rate_after"]), lang, 1),
                before=fmt_pct(float(row["rate_before"]), lang, 1)
                if pd.notna(row["rate_before"]) else "—",
                peers=fmt_pct(float(row["peer_rate_after"]), lang, 1),
                p=fmt_num(float(row["p_adjusted"]), lang, 4))))
        if not len(flagged):
            parts.append(para("", t("reasons_msg_no_departure", lang,
                                          n=fmt_int(len(dep), lang))))
        parts.append(_departures_table(dep, lang))
    return Section(id="reasons", title=t("report_section_reasons", lang),
                   html="\n".join(parts), after=after)
