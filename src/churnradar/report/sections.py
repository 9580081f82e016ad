"""The sections of the HTML report, and the :class:`Section` type later modules extend it with.

Each built-in section is a function ``(ReportContext) -> Section | None`` (None: nothing to
show). A section is just an id, a title and a fragment of trusted HTML, so other modules
(at-risk customers, customer value, churn reasons ...) can add their own with
``write_html_report(..., extra_sections=[Section(...)])``, using
:func:`churnradar.report.render_table` and :func:`churnradar.report.figure_html` to match
the look of the rest.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup

from churnradar.i18n import t
from churnradar.metrics.result import DIMENSIONS, MetricsResult, SafetyCheck
from churnradar.report import charts
from churnradar.report.formatting import (
    Text,
    analysis_label,
    by_heading,
    confidence_label,
    dimension_label,
    explain,
    fmt_pp,
    fmt_value,
    is_missing,
    status_label,
    table_label,
)
from churnradar.report.tables import Column, columns_for, render_table
from churnradar.report.templating import render

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")

#: The order of the four safety-line checks (domain.md §2).
SAFETY_ORDER: tuple[str, ...] = ("cost", "acquisition_peak", "deviation", "key_accounts")
#: How each check's value reads: a share, a multiple, a relative deviation, an annual rate.
SAFETY_VALUE_KIND: dict[str, str] = {
    "cost": "pct", "acquisition_peak": "ratio", "deviation": "pct", "key_accounts": "pct",
}
_ANNUAL_POWER = {"month": 12, "quarter": 4, "year": 1}


@dataclass(frozen=True)
class Section:
    """One section of the HTML report.

    Parameters
    ----------
    id
        Anchor id, unique in the report (letters, digits, ``-``, ``_``; starts with a letter).
    title
        Heading, already in the report language (escaped when rendered).
    html
        The body: **trusted** HTML, inserted as is. Escape user data when building it
        (Jinja2 autoescaping, :func:`markupsafe.escape`, or :func:`render_table`).
    after
        Id of the section this one follows; by default extra sections go just before
        the completeness check.
    """

    id: str
    title: str
    html: str
    after: str | None = None

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(
                f"section id must start with a letter and hold only letters, digits, '-' "
                f"and '_', got {self.id!r}"
            )


@dataclass
class ReportContext:
    """What every section builder needs: the result, the language and derived values."""

    result: MetricsResult
    lang: str
    currency: str
    confidence_text: str
    latest: pd.Series | None
    previous: pd.Series | None
    safety: dict[str, SafetyCheck] = field(default_factory=dict)

    @classmethod
    def build(cls, result: MetricsResult, lang: str) -> ReportContext:
        overall = result.overall
        latest = result.latest() if len(overall) else None
        previous = None
        if latest is not None:
            done = overall[overall["complete"].astype(bool)]
            earlier = done[done["label"] != latest["label"]]
            earlier = earlier[earlier["period_start"] < latest["period_start"]]
            previous = earlier.iloc[-1] if len(earlier) else None
        return cls(result=result, lang=lang, currency=result.currency,
                   confidence_text=confidence_label(result.confidence, lang),
                   latest=latest, previous=previous,
                   safety={c.check: c for c in result.safety})

    def fmt(self, value: Any, kind: str, digits: int = 2) -> str:
        return fmt_value(value, kind, self.lang, currency=self.currency,  # type: ignore[arg-type]
                         digits=digits)

    def msg(self, key: str, **params: Any) -> str:
        return t(key, self.lang, **params)


def _date_text(value: Any, lang: str, *, exclusive_end: bool = False) -> str:
    if is_missing(value):
        return "–"
    day = pd.Timestamp(value).date()
    if exclusive_end:
        day = day - dt.timedelta(days=1)
    return fmt_value(day, "date", lang)


def _section(ctx: ReportContext, id_: str, title_key: str, template: str,
             **body: Any) -> Section:
    html = render(template, t=lambda k, **kw: t(k, ctx.lang, **kw), lang=ctx.lang, **body)
    return Section(id=id_, title=t(title_key, ctx.lang), html=html)


# --- headline figures ----------------------------------------------------------------
def kpi_section(ctx: ReportContext) -> Section | None:
    """Headline KPI cards of the latest complete period, plus the safety-line strip."""
    if ctx.latest is None:
        return _section(ctx, "kpis", "report_section_kpis", "empty.html.j2")
    r = ctx.result
    cur, prev = ctx.latest, ctx.previous

    def delta(col: str) -> dict[str, str] | None:
        if prev is None or is_missing(cur[col]) or is_missing(prev[col]):
            return None
        d = float(cur[col]) - float(prev[col])
        direction = "bad" if d > 0 else "good" if d < 0 else "flat"
        return {"text": ctx.msg("report_kpi_delta", delta=fmt_pp(d, ctx.lang)),
                "dir": direction}

    s, c, e = cur["start_count"], cur["churned_count"], cur["end_count"]
    n = (0 if is_missing(cur["new_count"]) else cur["new_count"]) + (
        0 if is_missing(cur["winback_count"]) else cur["winback_count"])
    power = _ANNUAL_POWER.get(r.period, 12)
    annual_note = (ctx.msg("report_kpi_note_annual_period") if power == 1
                   else ctx.msg("report_kpi_note_annualised", power=power))
    cards = [
        {"id": "start_count", "label": ctx.msg("report_col_start_count"),
         "value": ctx.fmt(s, "int"),
         "note": ctx.msg("report_kpi_note_start_count",
                         date=_date_text(cur["period_start"], ctx.lang))},
        {"id": "churned_count", "label": ctx.msg("report_col_churned_count"),
         "value": ctx.fmt(c, "int"),
         "note": ctx.msg("report_kpi_note_churned",
                         value=f"{ctx.fmt(s, 'int')} − ({ctx.fmt(e, 'int')} − "
                               f"{ctx.fmt(n, 'int')})")},
        {"id": "churn_rate_start", "label": ctx.msg("report_col_churn_rate_start"),
         "value": ctx.fmt(cur["churn_rate_start"], "pct"), "accent": True,
         "note": ctx.msg("report_kpi_note_rate_start", churned=ctx.fmt(c, "int"),
                         start=ctx.fmt(s, "int")),
         "delta": delta("churn_rate_start")},
        {"id": "churn_rate_end", "label": ctx.msg("report_col_churn_rate_end"),
         "value": ctx.fmt(cur["churn_rate_end"], "pct"),
         "note": ctx.msg("report_kpi_note_rate_end", churned=ctx.fmt(c, "int"),
                         end=ctx.fmt(e, "int")),
         "delta": delta("churn_rate_end")},
        {"id": "retention_rate_start", "label": ctx.msg("report_col_retention_rate_start"),
         "value": ctx.fmt(cur["retention_rate_start"], "pct"),
         "note": ctx.msg("report_kpi_note_retention")},
        {"id": "annualised_churn_rate", "label": ctx.msg("report_col_annualised_churn_rate"),
         "value": ctx.fmt(r.annualised_churn_rate, "pct"), "note": annual_note},
        {"id": "lost_revenue", "label": ctx.msg("report_col_lost_revenue"),
         "value": ctx.fmt(cur["lost_revenue"], "money"),
         "note": ctx.msg("report_kpi_note_lost_revenue")},
        {"id": "churn_loss", "label": ctx.msg("report_col_churn_loss"),
         "value": ctx.fmt(cur["churn_loss"], "money"), "accent": True,
         "note": ctx.msg("report_kpi_note_churn_loss", margin=ctx.fmt(r.margin, "pct", 1))},
        {"id": "contraction_loss", "label": ctx.msg("report_col_contraction_loss"),
         "value": ctx.fmt(cur["contraction_loss"], "money"),
         "note": ctx.msg("report_kpi_note_contraction_loss",
                         margin=ctx.fmt(r.margin, "pct", 1))},
        {"id": "net_revenue_retention", "label": ctx.msg("report_col_net_revenue_retention"),
         "value": ctx.fmt(cur["net_revenue_retention"], "pct"),
         "note": ctx.msg("report_kpi_note_nrr")},
    ]
    complete = bool(cur["complete"])
    intro = (ctx.msg("report_kpis_intro", label=str(cur["label"]),
                     start=_date_text(cur["period_start"], ctx.lang),
                     end=_date_text(cur["period_end"], ctx.lang, exclusive_end=True))
             if complete else ctx.msg("report_kpis_no_complete", label=str(cur["label"])))
    strip = [{"title": ctx.msg(f"report_safety_{chk.check}"), "status": chk.status,
              "status_text": status_label(chk.status, ctx.lang)}
             for chk in ordered_checks(ctx)]
    return _section(ctx, "kpis", "report_section_kpis", "kpis.html.j2", intro=intro,
                    cards=cards, strip=strip, complete=complete)


# --- trend, loss, counts -------------------------------------------------------------
def trend_section(ctx: ReportContext) -> Section | None:
    """Churn rate on both bases over the periods."""
    overall = ctx.result.overall
    if overall.empty:
        return None
    chart = charts.figure_html(charts.trend_figure(overall, ctx.lang), "chart-trend",
                               height=420)
    return _section(ctx, "trend", "report_section_trend", "chart_section.html.j2",
                    intro=ctx.msg("report_trend_intro"), chart=chart, note="", table="")


def loss_section(ctx: ReportContext) -> Section | None:
    """Churn loss and contraction loss per period (bars), with the revenue table."""
    overall = ctx.result.overall
    if overall.empty:
        return None
    chart = charts.figure_html(charts.loss_figure(overall, ctx.lang, ctx.currency),
                               "chart-loss", height=400)
    done = overall[overall["complete"].astype(bool)]
    note = ctx.msg("report_loss_total",
                   churn_loss=ctx.fmt(done["churn_loss"].sum(min_count=1), "money"),
                   contraction_loss=ctx.fmt(done["contraction_loss"].sum(min_count=1),
                                            "money"))
    table, shortened = period_table(ctx, LOSS_TABLE)
    if shortened:
        note = f"{note} {shortened}"
    return _section(ctx, "loss", "report_section_loss", "chart_section.html.j2",
                    intro=ctx.msg("report_loss_intro", margin=ctx.fmt(ctx.result.margin,
                                                                     "pct", 1)),
                    chart=chart, note=note, table=table)


#: Columns of the per-period tables (HTML and Excel).
COUNTS_TABLE: tuple[str, ...] = (
    "label", "start_count", "new_count", "winback_count", "churned_count", "end_count",
    "churn_rate_start", "churn_rate_end", "retention_rate_start", "complete",
)
LOSS_TABLE: tuple[str, ...] = (
    "label", "base_revenue", "lost_revenue", "churn_loss", "contraction",
    "contraction_loss", "expansion", "gross_revenue_churn", "net_revenue_retention",
)
#: Columns of a dimension's latest-period table ("ci" is the interval as one text cell).
SEGMENT_TABLE: tuple[str, ...] = (
    "rank", "segment", "start_count", "churned_count", "churn_rate_start", "ci",
    "churn_rate_end", "lost_revenue", "churn_loss",
)


#: At most this many periods are listed in the HTML tables (the charts show them all).
TABLE_PERIODS: dict[str, int] = {"month": 13, "quarter": 8, "year": 10}


def _period_row_class(rec: pd.Series) -> str:
    return "" if bool(rec["complete"]) else "incomplete"


def period_table(ctx: ReportContext, keys: Sequence[str]) -> tuple[Markup, str]:
    """The per-period table of ``keys`` (latest periods only) and a note if shortened."""
    overall = ctx.result.overall
    limit = TABLE_PERIODS.get(ctx.result.period, 13)
    shown = overall.tail(limit)
    note = (t("report_table_latest", ctx.lang, n=len(shown), total=len(overall))
            if len(shown) < len(overall) else "")
    table = render_table(shown, columns_for(keys, ctx.lang), ctx.lang, currency=ctx.currency,
                         row_class=_period_row_class)
    return table, note


def counts_section(ctx: ReportContext) -> Section | None:
    """Start / new / win-back / churned / end counts per period."""
    overall = ctx.result.overall
    if overall.empty:
        return None
    table, note = period_table(ctx, COUNTS_TABLE)
    return _section(ctx, "counts", "report_section_counts", "chart_section.html.j2",
                    intro=ctx.msg("report_counts_intro"), chart="", note=note, table=table)


# --- by dimension --------------------------------------------------------------------
def segment_columns(ctx: ReportContext, dimension: str) -> list[Column]:
    """The columns of a dimension's latest-period table."""
    cols = columns_for([k for k in SEGMENT_TABLE if k != "ci"], ctx.lang,
                       headers={"segment": dimension_label(dimension, ctx.lang)})
    ci = Column("ci", t("report_col_ci", ctx.lang, confidence=ctx.confidence_text), "text")
    cols.insert(SEGMENT_TABLE.index("ci"), ci)
    return cols


def segment_table(ctx: ReportContext, latest: pd.DataFrame, dimension: str,
                  segment_names: Callable[[Any], str] | None = None) -> Markup:
    """HTML table of one dimension's latest period; too-small rows greyed and unranked."""
    small_text = t("report_too_small", ctx.lang)

    def cell(rec: pd.Series, col: Column) -> str | None:
        if col.key == "rank":
            return "–" if bool(rec["too_small"]) else None
        if col.key == "ci":
            return f"{ctx.fmt(rec['ci_low'], 'pct', 1)} – {ctx.fmt(rec['ci_high'], 'pct', 1)}"
        if col.key == "segment":
            name = segment_names(rec["segment"]) if segment_names else str(rec["segment"])
            if bool(rec["too_small"]):
                return Markup('{} <span class="tag tag-small">{}</span>').format(
                    name, small_text)
            return name
        return None

    return render_table(latest, segment_columns(ctx, dimension), ctx.lang,
                        currency=ctx.currency, cell_text=cell,
                        row_class=lambda rec: "too-small" if bool(rec["too_small"]) else "")


def ordered_dimensions(result: MetricsResult) -> list[str]:
    """Dimensions of ``result.by`` in the canonical order, key accounts excluded."""
    known = [d for d in DIMENSIONS if d in result.by and d != "key_account"]
    extra = sorted(d for d in result.by if d not in DIMENSIONS)
    return known + extra


def by_section(ctx: ReportContext) -> Section | None:
    """Churn rate per segment of each dimension, with Wilson intervals."""
    if ctx.latest is None:
        return None
    blocks = []
    overall_rate = None if is_missing(ctx.latest["churn_rate_start"]) else float(
        ctx.latest["churn_rate_start"])
    for dim in ordered_dimensions(ctx.result):
        latest = ctx.result.latest_by(dim)
        if latest.empty:
            continue
        fig, truncated = charts.segment_figure(latest, overall_rate, ctx.lang,
                                               confidence_text=ctx.confidence_text)
        blocks.append({
            "id": f"by-{dim}",
            "heading": by_heading(dim, ctx.lang),
            "chart": charts.figure_html(fig, f"chart-by-{dim}"),
            "note": t("report_by_top_n", ctx.lang, n=20) if truncated else "",
            "table": segment_table(ctx, latest, dim),
        })
    if not blocks:
        return None
    intro = t("report_by_intro", ctx.lang, label=str(ctx.latest["label"]),
              confidence=ctx.confidence_text,
              min_size=fmt_value(ctx.result.min_segment_size, "int", ctx.lang))
    return _section(ctx, "by", "report_section_by", "by_dimension.html.j2", intro=intro,
                    blocks=blocks)


# --- key accounts --------------------------------------------------------------------
_KEY_TRUE = {"true", "1", "yes", "y", "key", "key_account", "key account", "是", "重点",
             "重点客户", "大客户"}


def is_key_segment(value: Any) -> bool:
    """Whether a ``key_account`` segment value means "key account" (True, "true", "是"...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and not is_missing(value):
        return bool(value)
    return str(value).strip().lower() in _KEY_TRUE


def key_account_section(ctx: ReportContext) -> Section:
    """Key accounts vs the others: churn rate, interval, churn loss and its share."""
    df = ctx.result.by.get("key_account")
    check = ctx.safety.get("key_accounts")
    badge = ({"status": check.status,
              "text": t("report_key_check", ctx.lang,
                        status=status_label(check.status, ctx.lang))}
             if check is not None else None)
    if df is None or df.empty or ctx.latest is None:
        return _section(ctx, "key_accounts", "report_section_key_accounts",
                        "key_accounts.html.j2", missing=t("report_key_missing", ctx.lang),
                        badge=badge, intro="", cards=[], chart="", share="", table="")
    key_mask = df["segment"].map(is_key_segment)
    latest = ctx.result.latest_by("key_account")
    latest_key = latest[latest["segment"].map(is_key_segment)]
    latest_other = latest[~latest["segment"].map(is_key_segment)]

    def total(rows: pd.DataFrame, col: str) -> float | None:
        return None if rows.empty else float(rows[col].sum(min_count=1))

    def rate(rows: pd.DataFrame) -> float | None:
        s, c = total(rows, "start_count"), total(rows, "churned_count")
        return c / s if s and c is not None else None

    def group_name(value: Any) -> str:
        return t("report_key_group_key" if is_key_segment(value) else "report_key_group_other",
                 ctx.lang)

    cards = []
    for rows, name_key in ((latest_key, "report_key_group_key"),
                           (latest_other, "report_key_group_other")):
        if rows.empty:
            continue
        ci = ""
        if len(rows) == 1:
            ci = t("report_col_ci", ctx.lang, confidence=ctx.confidence_text) + ": " + (
                f"{ctx.fmt(rows.iloc[0]['ci_low'], 'pct', 1)} – "
                f"{ctx.fmt(rows.iloc[0]['ci_high'], 'pct', 1)}")
        cards.append({
            "group": t(name_key, ctx.lang),
            "rate": ctx.fmt(rate(rows), "pct"),
            "rate_label": t("report_col_churn_rate_start", ctx.lang),
            "ci": ci,
            "counts": t("report_hover_counts", ctx.lang,
                        start=ctx.fmt(total(rows, "start_count"), "int"),
                        churned=ctx.fmt(total(rows, "churned_count"), "int")),
            "loss_label": t("report_col_churn_loss", ctx.lang),
            "loss": ctx.fmt(total(rows, "churn_loss"), "money"),
            "key": name_key == "report_key_group_key",
        })
    share = ""
    key_s, all_s = total(latest_key, "start_count"), total(latest, "start_count")
    key_l, all_l = total(latest_key, "churn_loss"), total(latest, "churn_loss")
    if key_s is not None and all_s:
        share = t("report_key_share", ctx.lang,
                  share_customers=ctx.fmt(key_s / all_s, "pct", 1),
                  share_loss=ctx.fmt(key_l / all_l if key_l is not None and all_l else None,
                                     "pct", 1))

    def by_period(rows: pd.DataFrame) -> pd.DataFrame:
        if rows.empty:
            return rows
        agg = rows.groupby(["period_start", "label"], as_index=False, sort=True).agg(
            start_count=("start_count", "sum"), churned_count=("churned_count", "sum"),
            complete=("complete", "all"))
        agg["churn_rate_start"] = agg["churned_count"] / agg["start_count"].where(
            agg["start_count"] > 0)
        return agg

    fig = charts.key_trend_figure(by_period(df[key_mask]), by_period(df[~key_mask]), ctx.lang)
    chart = charts.figure_html(fig, "chart-key-accounts", height=360)
    table = segment_table(ctx, latest, "key_account", segment_names=group_name)
    return _section(ctx, "key_accounts", "report_section_key_accounts",
                    "key_accounts.html.j2", missing="", badge=badge,
                    intro=t("report_key_intro", ctx.lang, label=str(ctx.latest["label"])),
                    cards=cards, chart=chart, share=share, table=table)


# --- cohorts -------------------------------------------------------------------------
def cohort_section(ctx: ReportContext) -> Section:
    """Cohort retention heatmap."""
    cohorts = ctx.result.cohorts
    if cohorts is None or cohorts.empty or "size" not in cohorts.columns:
        return _section(ctx, "cohorts", "report_section_cohorts", "chart_section.html.j2",
                        intro=t("report_cohorts_intro", ctx.lang), chart="",
                        note=t("report_no_data", ctx.lang), table="")
    chart = charts.figure_html(charts.cohort_figure(cohorts, ctx.lang), "chart-cohorts")
    return _section(ctx, "cohorts", "report_section_cohorts", "chart_section.html.j2",
                    intro=t("report_cohorts_intro", ctx.lang), chart=chart, note="", table="")


# --- safety line ---------------------------------------------------------------------
def ordered_checks(ctx: ReportContext) -> list[SafetyCheck]:
    """The safety checks in the order of domain.md (cost, peak, deviation, key accounts)."""
    order = {name: i for i, name in enumerate(SAFETY_ORDER)}
    return sorted(ctx.result.safety, key=lambda c: order.get(c.check, len(order)))


def safety_rows(ctx: ReportContext) -> list[dict[str, Any]]:
    """One dict per safety check: title, status, formatted value/thresholds, explanation."""
    rows = []
    for chk in ordered_checks(ctx):
        kind = SAFETY_VALUE_KIND.get(chk.check, "num")
        explanation: Text = explain(chk.message_key, dict(chk.params), ctx.lang)
        rows.append({
            "check": chk.check,
            "title": t(f"report_safety_{chk.check}", ctx.lang)
            if chk.check in SAFETY_ORDER else chk.check,
            "status": chk.status,
            "status_class": "na" if chk.status == "n/a" else chk.status,
            "status_text": status_label(chk.status, ctx.lang),
            "value": ctx.fmt(chk.value, kind),
            "warn": ctx.fmt(chk.threshold_warn, kind),
            "alert": ctx.fmt(chk.threshold_alert, kind),
            "explanation": explanation,
            "kind": kind,
            "raw": chk,
        })
    return rows


def safety_section(ctx: ReportContext) -> Section:
    """The four checks of the churn safety line, each pass / warn / alert / n/a."""
    rows = safety_rows(ctx)
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("pass", "warn", "alert",
                                                                  "n/a")}
    summary = t("report_safety_summary", ctx.lang, alert=counts["alert"], warn=counts["warn"],
                pass_=counts["pass"], na=counts["n/a"])
    return _section(ctx, "safety", "report_section_safety", "safety.html.j2",
                    intro=t("report_safety_intro", ctx.lang), summary=summary, rows=rows)


# --- completeness --------------------------------------------------------------------
#: the checklist of domain.md §4 (检查客户流失分析工作的完整性), in its order
CHECKLIST_STEPS: tuple[str, ...] = ("harm", "reasons", "quantitative", "targeted",
                                    "strategy")
#: which checklist step each analysis of the completeness check answers
CHECKLIST: dict[str, str] = {
    "churn_loss": "harm", "revenue_churn": "harm", "safety_line": "harm",
    "reasons": "reasons", "complaint_insights": "reasons", "staff_departures": "reasons",
    "churn_rates": "quantitative", "cohorts": "quantitative",
    **{f"by_{d}": "quantitative" for d in ("grade", "owner", "region", "segment", "channel",
                                           "key_account")},
    "risk_prediction": "targeted", "customer_value": "targeted", "survival": "targeted",
    "retention_plan": "strategy", "playbook_effects": "strategy",
}

def completeness_rows(ctx: ReportContext) -> list[dict[str, Any]]:
    """One dict per analysis: name, status and the tables it needs / misses (localized)."""
    rows = []
    order = {step: i for i, step in enumerate(CHECKLIST_STEPS)}
    items = sorted(ctx.result.completeness,
                   key=lambda a: order.get(CHECKLIST.get(a.analysis, "quantitative"), 9))
    last = None
    for item in items:
        missing = [table_label(m, ctx.lang) for m in item.missing]
        step = CHECKLIST.get(item.analysis, "quantitative")
        rows.append({
            "step": t(f"report_checklist_{step}", ctx.lang) if step != last else "",
            "analysis": item.analysis,
            "name": analysis_label(item.analysis, ctx.lang),
            "status": item.status,
            "status_text": t(f"report_analysis_status_{item.status}", ctx.lang),
            "needs": "、".join(table_label(n, ctx.lang) for n in item.needs)
            if ctx.lang == "zh-CN" else ", ".join(table_label(n, ctx.lang) for n in item.needs),
            "missing": ("、" if ctx.lang == "zh-CN" else ", ").join(missing),
            "hint": t("report_completeness_hint", ctx.lang)
            if item.status == "skipped" and missing else "",
        })
        last = step
    return rows


def completeness_section(ctx: ReportContext) -> Section:
    """Which analyses ran, which were skipped for lack of which table."""
    rows = completeness_rows(ctx)
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("ran", "skipped", "not_yet")}
    summary = t("report_completeness_summary", ctx.lang, **counts)
    return _section(ctx, "completeness", "report_section_completeness",
                    "completeness.html.j2", intro=t("report_completeness_intro", ctx.lang),
                    summary=summary, rows=rows)


# --- glossary ------------------------------------------------------------------------
GLOSSARY: tuple[str, ...] = ("churned", "rate_start", "rate_end", "retention", "annualised",
                             "loss", "contraction", "nrr", "wilson")


def glossary_section(ctx: ReportContext) -> Section:
    """The formulas behind the numbers, in the report language."""
    items = [{"term": t(f"report_glossary_{k}_term", ctx.lang),
              "definition": t(f"report_glossary_{k}_def", ctx.lang)} for k in GLOSSARY]
    return _section(ctx, "glossary", "report_section_glossary", "glossary.html.j2",
                    items=items)


#: The built-in sections, in report order.
BUILTIN_SECTIONS: tuple[Callable[[ReportContext], Section | None], ...] = (
    kpi_section, trend_section, loss_section, counts_section, by_section,
    key_account_section, cohort_section, safety_section, completeness_section,
    glossary_section,
)
