"""The retention plan section of the report (domain.md §4), from
:func:`churnradar.retention.jobs.plan_job`: the plan (actions by playbook, the customers
first in line), the optimised list against the simple alternatives at the same budget,
the win-back list, the what-if of lower churn with its assumptions shown as such, and
the measured effect of earlier actions (treated vs control, with confidence intervals).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from markupsafe import escape

from churnradar.i18n import fmt_int, fmt_money, fmt_num, fmt_pct, t
from churnradar.report.charts import COLORS, base_layout, figure_html, para
from churnradar.report.sections import Section
from churnradar.report.tables import Column, render_table


def _names(settings: Any, lang: str) -> dict[str, str]:
    from churnradar.retention.playbooks import load_playbooks

    return {b.key: b.name(lang) for b in load_playbooks(settings)}


def group_label(group: Any, lang: str) -> str:
    """Treatment / control (not contacted) / — for a customer not selected."""
    return t(f"plan_group_{group}", lang) if group in ("treatment", "control") else "—"


def strategies_figure(strategies: pd.DataFrame, lang: str, currency: str) -> go.Figure:
    names = [t(f"plan_strategy_{x}", lang) for x in strategies["strategy"]]
    fig = go.Figure(go.Bar(
        x=names, y=strategies["net"],
        marker_color=[COLORS["start"] if x == "optimised" else COLORS["other"]
                      for x in strategies["strategy"]],
        text=[fmt_money(v, lang, currency) for v in strategies["net"]], textposition="auto"))
    fig.update_layout(**base_layout(
        title={"text": t("report_plan_strategies_chart", lang), "x": 0},
        yaxis={"title": t("plan_col_net", lang)}))
    return fig


def effects_figure(effects: pd.DataFrame, names: dict[str, str], lang: str) -> go.Figure:
    """Churn prevented per customer by playbook, with its confidence interval."""
    e = effects[effects["control"] > 0].copy()
    labels = [t("report_plan_all_actions", lang) if a == "__all__" else names.get(a, a)
              for a in e["action"]]
    fig = go.Figure(go.Scatter(
        x=e["effect"], y=labels, mode="markers",
        marker={"size": 10, "color": COLORS["start"]},
        error_x={"type": "data", "symmetric": False,
                 "array": (e["effect_high"] - e["effect"]).tolist(),
                 "arrayminus": (e["effect"] - e["effect_low"]).tolist()},
        hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    fig.add_vline(x=0, line_dash="dot", line_color=COLORS["muted"])
    fig.update_layout(**base_layout(
        title={"text": t("report_plan_effects_chart", lang), "x": 0},
        xaxis={"title": t("report_plan_effect_axis", lang), "tickformat": ".0%"},
        margin={"l": 140, "r": 24, "t": 48, "b": 56}))
    return fig


def plan_section(outcome: Any, settings: Any, lang: str, *, currency: str = "CNY",
                 top: int = 20, after: str | None = None) -> Section:
    """The retention plan section (see the module docstring)."""
    names = _names(settings.retention, lang)
    summ = outcome.summary()
    table = outcome.plan.table
    parts = [f'<p class="intro">{escape(t("report_plan_intro", lang, customers=fmt_int(summ.get("customers", 0), lang), candidates=fmt_int(summ.get("candidates", 0), lang), selected=fmt_int(summ.get("selected", 0), lang), control=fmt_int(summ.get("control", 0), lang), cost=fmt_money(summ.get("total_cost") or 0.0, lang, currency), saved=fmt_money(summ.get("expected_saved") or 0.0, lang, currency), budget=fmt_money(summ["budget"], lang, currency) if summ.get("budget") else t("report_plan_no_limit", lang), capacity=fmt_int(summ["capacity"], lang) if summ.get("capacity") else t("report_plan_no_limit", lang)))}</p>']  # noqa: E501
    chosen = table[table["selected"]]
    if len(table):
        by = (table.groupby("action")
              .agg(customers=("customer_id", "size"), selected=("selected", "sum"),
                   cost=("cost", lambda x: x[table.loc[x.index, "selected"]].sum()),
                   saved=("expected_saved",
                          lambda x: x[table.loc[x.index, "selected"]].sum()))
              .reset_index().sort_values("selected", ascending=False))
        by["action_text"] = [names.get(a, a) for a in by["action"]]
        parts.append(str(render_table(by, [
            Column("action_text", t("plan_col_action", lang)),
            Column("customers", t("report_plan_col_candidates", lang), "int"),
            Column("selected", t("report_plan_col_selected", lang), "int"),
            Column("cost", t("plan_col_cost", lang), "money"),
            Column("saved", t("plan_col_saved", lang), "money")], lang, currency=currency)))
        parts.append(para("note", t("report_plan_malicious", lang)))
    if len(outcome.strategies):
        parts.append(str(figure_html(strategies_figure(outcome.strategies, lang, currency),
                                     "plan-strategies", height=340)))
    if len(chosen):
        head = chosen.sort_values("priority", ascending=False).head(top).copy()
        head["action_text"] = [names.get(a, a) for a in head["action"]]
        head["reason_text"] = [t(f"reason_{r}", lang) if isinstance(r, str)
                               else t("reason_none", lang) for r in head["reason_category"]]
        head["group_text"] = [group_label(g, lang) for g in head["group"]]
        parts.append(f"<h3>{escape(t('plan_title', lang, n=fmt_int(len(head), lang)))}</h3>")
        parts.append(str(render_table(head, [
            Column("customer_id", t("predict_col_customer", lang)),
            Column("action_text", t("plan_col_action", lang)),
            Column("reason_text", t("plan_col_reason", lang)),
            Column("churn_probability", t("plan_col_probability", lang), "pct", 1),
            Column("value", t("plan_col_value", lang), "money"),
            Column("cost", t("plan_col_cost", lang), "money"),
            Column("priority", t("plan_col_priority", lang), "money"),
            Column("group_text", t("plan_col_group", lang))], lang, currency=currency)))
    # win-back
    wb = outcome.winback
    parts.append(f"<h3>{escape(t('report_plan_winback', lang))}</h3>")
    parts.append(para("", t("plan_msg_winback", lang, n=fmt_int(len(wb), lang),
                                  value=fmt_money(float(wb["expected"].sum()) if len(wb)
                                                  else 0.0, lang, currency))))
    if len(wb):
        w = wb.head(top).copy()
        w["reason_text"] = [t(f"reason_{r}", lang) if isinstance(r, str)
                            else t("reason_none", lang) for r in w["reason_category"]]
        w["date_text"] = [str(pd.Timestamp(d).date()) for d in w["churn_date"]]
        parts.append(str(render_table(w, [
            Column("customer_id", t("predict_col_customer", lang)),
            Column("date_text", t("report_plan_col_churned_on", lang)),
            Column("reason_text", t("plan_col_reason", lang)),
            Column("value", t("report_plan_col_worth", lang), "money"),
            Column("expected", t("plan_col_net", lang), "money")], lang, currency=currency)))
    # what-if
    parts.append(f"<h3>{escape(t('report_plan_whatif', lang))}</h3>")
    wi = outcome.whatif
    sa = settings.safety
    parts.append(para("note", t(
        "report_plan_assumptions", lang,
        acquisition=fmt_money(sa.acquisition_cost, lang, currency),
        retention=fmt_money(sa.retention_cost, lang, currency),
        ratio=fmt_num(sa.acquisition_cost / sa.retention_cost, lang, 1)
        if sa.retention_cost else "—",
        wom=fmt_num(settings.retention.word_of_mouth, lang, 0),
        wom_share=fmt_pct(settings.retention.word_of_mouth_share, lang, 0))))
    if len(wi):
        w = wi.copy()
        w["segment_text"] = [t("report_plan_total", lang) if x == "__total__" else str(x)
                             for x in w["segment"]]
        parts.append(str(render_table(w, [
            Column("segment_text", t("report_plan_col_segment", lang)),
            Column("points", t("report_plan_col_points", lang), "num", 1),
            Column("churn_rate", t("report_plan_col_rate_now", lang), "pct", 1),
            Column("churn_rate_new", t("report_plan_col_rate_new", lang), "pct", 1),
            Column("customers_kept", t("report_plan_col_kept", lang), "num", 0),
            Column("profit_effect", t("report_plan_col_effect", lang), "money"),
            Column("profit_effect_share", t("report_plan_col_effect_share", lang), "pct", 1),
        ], lang, currency=currency)))
    lit = outcome.literature
    total = (lit[lit["segment"] == "__total__"] if lit is not None and len(lit)
             else pd.DataFrame())
    if len(total) and pd.notna(total["profit_effect_share"].iloc[0]):
        row = total.iloc[0]
        key = ("report_plan_literature_in" if row["position"] == "within"
               else "report_plan_literature_out")
        parts.append(para("note", t(
            key, lang, points=fmt_num(float(row["points"]), lang, 0),
            share=fmt_pct(float(row["profit_effect_share"]), lang, 1))))
    # did it work?
    parts.append(f"<h3>{escape(t('report_plan_effects', lang))}</h3>")
    eff = outcome.effects
    if eff is None or not len(eff):
        parts.append(para("note", t("plan_msg_no_effect", lang)))
    else:
        parts.append(str(figure_html(effects_figure(eff, names, lang), "plan-effects",
                                     height=360)))
        e = eff.copy()
        e["action_text"] = [t("report_plan_all_actions", lang) if a == "__all__"
                            else names.get(a, a) for a in e["action"]]
        parts.append(str(render_table(e, [
            Column("action_text", t("plan_col_action", lang)),
            Column("treated", t("report_plan_col_treated", lang), "int"),
            Column("control", t("report_plan_col_control", lang), "int"),
            Column("treated_rate", t("report_plan_col_churn_treated", lang), "pct", 1),
            Column("control_rate", t("report_plan_col_churn_control", lang), "pct", 1),
            Column("effect", t("report_plan_col_effect_pp", lang), "pct", 1),
            Column("effect_low", t("report_plan_col_ci_low", lang), "pct", 1),
            Column("effect_high", t("report_plan_col_ci_high", lang), "pct", 1),
            Column("p_value", t("report_plan_col_p", lang), "num", 3)], lang)))
        parts.append(para("note", t("report_plan_effects_note", lang)))
    return Section(id="retention-plan", title=t("report_section_plan", lang),
                   html="\n".join(parts), after=after)
