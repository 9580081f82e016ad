"""The Excel workbook: the report's tables, one sheet each, numbers kept as numbers.

Sheets: summary (headline figures), periods, one per dimension (latest complete period,
with the Wilson interval and the too-small flag), cohorts, safety line, completeness.
Headers are in the report language; counts, money and rates are numeric cells with
number formats (``#,##0``, ``"¥"#,##0``, ``0.00%``), so they can be recalculated.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from churnradar.fsutil import atomic_path
from churnradar.i18n import check_language, t
from churnradar.metrics.result import PERIOD_COLUMNS, MetricsResult
from churnradar.report import charts
from churnradar.report.formatting import (
    Kind,
    business_label,
    by_heading,
    currency_symbol,
    dimension_label,
    is_missing,
    period_label,
)
from churnradar.report.html import make_shareable
from churnradar.report.sections import (
    ReportContext,
    completeness_rows,
    is_key_segment,
    ordered_dimensions,
    safety_rows,
)
from churnradar.report.tables import KINDS

#: Columns of the periods sheet: all of PERIOD_COLUMNS, the label first.
PERIOD_SHEET: tuple[str, ...] = (
    "label", "period_start", "period_end", "complete",
    *[c for c in PERIOD_COLUMNS if c not in ("label", "period_start", "period_end", "complete")],
)
#: Columns of a dimension sheet (latest complete period).
SEGMENT_SHEET: tuple[str, ...] = (
    "rank", "segment", "label", "start_count", "new_count", "winback_count",
    "churned_count", "end_count", "churn_rate_start", "ci_low", "ci_high", "churn_rate_end",
    "too_small", "lost_revenue", "churn_loss", "contraction_loss",
)

Cell = tuple[Any, Kind]

_HEADER_FONT = Font(bold=True, color="1F3A5F")
_HEADER_FILL = PatternFill("solid", fgColor="E8EEF5")
_HEADER_BORDER = Border(bottom=Side(style="thin", color="9AA5B1"))


def number_format(kind: Kind, currency_sign: str) -> str | None:
    """The Excel number format of a value kind (None: leave as General)."""
    return {
        "int": "#,##0",
        "pct": "0.00%",
        "money": f'"{currency_sign}"#,##0',
        "num": "#,##0.00",
        "ratio": '0.00"×"',
        "date": "yyyy-mm-dd",
    }.get(kind)


def _cell_value(value: Any, kind: Kind, lang: str) -> Any:
    if is_missing(value):
        return None
    if kind == "bool":
        return t("report_yes" if bool(value) else "report_no", lang)
    if kind == "date":
        if isinstance(value, pd.Timestamp | dt.datetime):
            return value.date()
        return value
    if kind == "int":
        return int(round(float(value)))
    if kind in ("pct", "money", "num", "ratio"):
        return float(value)
    return str(value)


def _width(text: Any) -> int:
    s = str(text) if text is not None else ""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _sheet_title(wb: Workbook, name: str) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", "-", name).strip("'")[:31] or "Sheet"
    title, n = clean, 2
    while title in wb.sheetnames:
        suffix = f" ({n})"
        title = clean[:31 - len(suffix)] + suffix
        n += 1
    return title


def write_table(wb: Workbook, name: str, headers: Sequence[str],
                rows: Sequence[Sequence[Cell]], *, lang: str, currency_sign: str) -> Worksheet:
    """Add a sheet holding one table: a styled header row, then typed, formatted cells."""
    ws = wb.create_sheet(_sheet_title(wb, name))
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.border = _HEADER_BORDER
        cell.alignment = Alignment(vertical="center", wrap_text=False)
    widths = [_width(h) for h in headers]
    for r, row in enumerate(rows, start=2):
        for c, (value, kind) in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=_cell_value(value, kind, lang))
            fmt = number_format(kind, currency_sign)
            if fmt and cell.value is not None:
                cell.number_format = fmt
            shown = cell.value
            if kind in ("pct",) and isinstance(shown, float):
                shown = f"{shown:.2%}"
            elif kind in ("money", "int") and isinstance(shown, int | float):
                shown = f"{currency_sign if kind == 'money' else ''}{shown:,.0f}"
            widths[c - 1] = max(widths[c - 1], _width(shown))
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(max(w + 2, 8), 60)
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = ws.dimensions
    return ws


def _frame_rows(df: pd.DataFrame, keys: Sequence[str]) -> list[list[Cell]]:
    out = []
    for _, rec in df.iterrows():
        out.append([(rec[k] if k in rec.index else None, KINDS.get(k, "text")) for k in keys])
    return out


def _summary_rows(ctx: ReportContext, workspace: str | None) -> list[list[Cell]]:
    r, lang = ctx.result, ctx.lang
    rows: list[list[Cell]] = []
    if workspace:
        rows.append([(t("report_meta_workspace", lang), "text"), (workspace, "text")])
    rows += [
        [(t("report_meta_as_of", lang), "text"), (r.as_of, "date")],
        [(t("report_meta_period", lang), "text"), (period_label(r.period, lang), "text")],
        [(t("report_meta_business", lang), "text"), (business_label(r.business, lang), "text")],
        [(t("report_meta_currency", lang), "text"), (r.currency, "text")],
        [(t("report_meta_margin", lang), "text"), (r.margin, "pct")],
    ]
    cur = ctx.latest
    if cur is None:
        return rows
    rows.append([(t("report_col_label", lang), "text"), (str(cur["label"]), "text")])
    for key in ("start_count", "churned_count", "churn_rate_start", "churn_rate_end",
                "retention_rate_start"):
        rows.append([(t(f"report_col_{key}", lang), "text"), (cur[key], KINDS[key])])
    rows.append([(t("report_col_annualised_churn_rate", lang), "text"),
                 (r.annualised_churn_rate, "pct")])
    for key in ("lost_revenue", "churn_loss", "contraction_loss", "net_revenue_retention"):
        rows.append([(t(f"report_col_{key}", lang), "text"), (cur[key], KINDS[key])])
    return rows


def write_excel_report(result: MetricsResult, path: str | Path, *, lang: str = "zh-CN",
                       workspace: str | None = None) -> Path:
    """Write the report's tables to an Excel workbook at ``path``, atomically.

    Parameters
    ----------
    result
        The metrics to write.
    path
        Target ``.xlsx`` file (replaced atomically).
    lang
        ``"zh-CN"`` or ``"en"``: sheet names, headers and yes/no texts.
    workspace
        Name of the workspace, written on the summary sheet.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    lang = check_language(lang)
    path = Path(path)
    ctx = ReportContext.build(result, lang)
    sign = currency_symbol(result.currency, lang)
    wb = Workbook()
    default = wb.active
    if default is not None:
        wb.remove(default)

    def table(name: str, headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> Worksheet:
        return write_table(wb, name, headers, rows, lang=lang, currency_sign=sign)

    summary = table(t("report_sheet_summary", lang),
                    [t("report_col_item", lang), t("report_col_content", lang)],
                    _summary_rows(ctx, workspace))
    summary.column_dimensions["B"].width = max(summary.column_dimensions["B"].width, 18)

    table(t("report_sheet_periods", lang), [t(f"report_col_{k}", lang) for k in PERIOD_SHEET],
          _frame_rows(result.overall, PERIOD_SHEET))

    for dim in [*ordered_dimensions(result), *(["key_account"] if "key_account" in result.by
                                               else [])]:
        latest = result.latest_by(dim)
        if dim == "key_account" and not latest.empty:
            latest = latest.assign(segment=[
                t("report_key_group_key" if is_key_segment(v) else "report_key_group_other",
                  lang) for v in latest["segment"]])
        headers = [dimension_label(dim, lang) if k == "segment" else t(f"report_col_{k}", lang)
                   for k in SEGMENT_SHEET]
        table(by_heading(dim, lang), headers, _frame_rows(latest, SEGMENT_SHEET))

    cohorts = result.cohorts
    if cohorts is not None and not cohorts.empty and "size" in cohorts.columns:
        cols = charts.cohort_columns(cohorts)
        headers = [t("report_col_cohort", lang), t("report_col_cohort_size", lang),
                   *[t("report_col_month_k", lang, k=str(c)) for c in cols]]
        rows: list[list[Cell]] = [
            [(str(idx), "text"), (rec["size"], "int"), *[(rec[c], "pct") for c in cols]]
            for idx, rec in cohorts.iterrows()]
        table(t("report_sheet_cohorts", lang), headers, rows)

    safety = [[(r["title"], "text"), (r["status_text"], "text"),
               (r["raw"].value, r["kind"]), (r["raw"].threshold_warn, r["kind"]),
               (r["raw"].threshold_alert, r["kind"]), (r["explanation"].text, "text")]
              for r in safety_rows(ctx)]
    ws = table(t("report_sheet_safety", lang),
               [t(k, lang) for k in ("report_col_check", "report_col_status", "report_col_value",
                                     "report_col_threshold_warn", "report_col_threshold_alert",
                                     "report_col_explanation")], safety)
    ws.column_dimensions["F"].width = 80
    for row in ws.iter_rows(min_row=2, min_col=6, max_col=6):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    completeness: list[list[Cell]] = [[(r["name"].text, "text"), (r["status_text"], "text"),
                     (r["needs"], "text"), (r["missing"] or None, "text")]
                    for r in completeness_rows(ctx)]
    table(t("report_sheet_completeness", lang),
          [t(k, lang) for k in ("report_col_analysis", "report_col_status", "report_col_needs",
                                "report_col_missing")], completeness)

    for ws in wb.worksheets:
        ws.sheet_view.zoomScale = 110
    with atomic_path(path) as tmp:
        wb.save(tmp)
        make_shareable(tmp)
    return path


__all__ = ["number_format", "write_excel_report", "write_table"]
