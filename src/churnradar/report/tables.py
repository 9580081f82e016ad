"""Table specifications shared by the HTML report and the Excel workbook.

A table is a DataFrame plus a list of :class:`Column` (which field, its localized header,
how to format it), so the HTML table and the Excel sheet show the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from markupsafe import Markup

from churnradar.report.formatting import Kind, fmt_value
from churnradar.report.templating import render

#: How each column of the metrics tables is shown.
KINDS: dict[str, Kind] = {
    "dimension": "text", "segment": "text", "label": "text", "rank": "int",
    "period_start": "date", "period_end": "date",
    "start_count": "int", "new_count": "int", "winback_count": "int",
    "churned_count": "int", "end_count": "int", "joined_left_count": "int",
    "churn_rate_start": "pct", "churn_rate_end": "pct",
    "retention_rate_start": "pct", "retention_rate_end": "pct",
    "churn_rate_annualised": "pct",
    "revenue": "money", "base_revenue": "money", "churned_revenue": "money",
    "contraction": "money", "expansion": "money",
    "gross_revenue_churn": "pct", "net_revenue_churn": "pct", "net_revenue_retention": "pct",
    "arpu": "money", "lost_revenue": "money", "churn_loss": "money",
    "contraction_loss": "money", "complete": "bool",
    "ci_low": "pct", "ci_high": "pct", "too_small": "bool",
}


@dataclass(frozen=True)
class Column:
    """One column of a report table.

    Parameters
    ----------
    key
        Column of the DataFrame.
    header
        Localized header text.
    kind
        How values are formatted (see :data:`churnradar.report.formatting.Kind`).
    digits
        Decimal places for ``pct`` / ``num`` / ``ratio``.
    """

    key: str
    header: str
    kind: Kind = "text"
    digits: int = 2

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "pct", "money", "num", "ratio")


def columns_for(keys: Sequence[str], lang: str, *,
                headers: dict[str, str] | None = None) -> list[Column]:
    """Columns for metrics-table fields, headers from ``report_col_<key>``.

    ``headers`` overrides individual headers (e.g. ``segment`` -> the dimension's name).
    """
    from churnradar.i18n import t

    headers = headers or {}
    return [Column(k, headers.get(k) or t(f"report_col_{k}", lang), KINDS.get(k, "text"))
            for k in keys]


def render_table(
    df: pd.DataFrame,
    columns: Sequence[Column],
    lang: str,
    *,
    currency: str = "CNY",
    row_class: Callable[[pd.Series], str] | None = None,
    cell_text: Callable[[pd.Series, Column], str | None] | None = None,
    table_class: str = "",
) -> Markup:
    """An HTML table of ``df`` with locale-formatted cells (values are escaped).

    Parameters
    ----------
    df
        The rows.
    columns
        Which fields to show, in order.
    lang
        Language code for number formatting.
    currency
        ISO currency of ``money`` columns.
    row_class
        Optional CSS class per row (e.g. ``"too-small"``).
    cell_text
        Optional override: return the text of a cell, or None for the default formatting.
    table_class
        Extra CSS class of the ``<table>``.

    Returns
    -------
    markupsafe.Markup
    """
    rows: list[dict[str, Any]] = []
    for _, rec in df.iterrows():
        cells = []
        for col in columns:
            text = cell_text(rec, col) if cell_text else None
            if text is None:
                value = rec[col.key] if col.key in rec.index else None
                text = fmt_value(value, col.kind, lang, currency=currency, digits=col.digits)
            cells.append({"text": text, "numeric": col.numeric})
        rows.append({"cells": cells, "cls": row_class(rec) if row_class else ""})
    return render("table.html.j2", columns=columns, rows=rows, table_class=table_class)
