"""The at-risk list as an Excel workbook, and the display names its cells share with the
pages (HTTP-free, style.md §6).

:func:`write_customers_xlsx` streams the rows of
:meth:`churnradar.web.store.Snapshot.iter_customers` into a write-only openpyxl workbook
(constant memory per row, up to Excel's 1,048,575 data rows) with headers, risk tiers,
drivers, reasons and actions in the reader's language. Text that Excel would run as a
formula (``=``, ``+``, ``-``, ``@`` first) is stored as text, never as a formula.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from churnradar.features.names import feature_label
from churnradar.i18n import catalog, t

#: Excel's last row, less the header
MAX_ROWS = 1_048_575
#: how many drivers each customer row carries (driver_1 .. driver_3)
DRIVERS = 3
#: the columns of the export, in order (those a snapshot lacks are left out)
EXPORT_COLUMNS: tuple[str, ...] = (
    "customer_id", "name", "grade", "segment", "region", "owner_id", "is_key_account",
    "churn_probability", "risk_rank", "risk_tier",
    "driver_1", "driver_1_reason", "driver_2", "driver_2_reason", "driver_3",
    "driver_3_reason", "top_reason", "clv", "value_tier", "value_at_risk",
    "amount_per_month", "action", "plan_group", "as_of",
)
_HEADER_KEYS: dict[str, str] = {
    "customer_id": "web_cu_col_customer_id", "name": "web_cu_col_name",
    "grade": "web_cu_col_grade", "segment": "web_cu_col_segment",
    "region": "web_cu_col_region", "owner_id": "web_cu_col_owner",
    "is_key_account": "web_cu_col_key_account", "churn_probability": "web_cu_col_probability",
    "risk_rank": "web_cu_col_rank", "risk_tier": "web_cu_col_tier",
    "top_reason": "web_cu_col_reason", "clv": "web_cu_col_clv",
    "value_tier": "web_cu_col_value_tier", "value_at_risk": "web_cu_col_value_at_risk",
    "amount_per_month": "web_cu_col_amount", "action": "web_cu_col_action",
    "plan_group": "web_cu_col_group", "as_of": "web_cu_col_as_of",
}
_FORMULA_START = ("=", "+", "-", "@")


# --- display names shared with the pages -----------------------------------------------
def _maybe(key: str, lang: str, fallback: str) -> str:
    return t(key, lang) if key in catalog() else fallback


def tier_label(tier: str | None, lang: str) -> str:
    """A risk tier (high/medium/low) in ``lang``; '–' when not scored."""
    return _maybe(f"predict_tier_{tier}", lang, tier) if tier else "–"


def value_tier_label(tier: str | None, lang: str) -> str:
    return _maybe(f"matrix_value_{tier}", lang, tier) if tier else "–"


def reason_name(category: str | None, lang: str) -> str:
    """A reason category (domain.md §3) in ``lang``; empty when there is none."""
    return _maybe(f"reason_{category}", lang, category) if category else ""


def churn_type_name(kind: str | None, lang: str) -> str:
    return _maybe(f"churn_type_{kind or 'none'}", lang, kind or "")


def group_name(group: str | None, lang: str) -> str:
    return _maybe(f"plan_group_{group}", lang, group) if group else ""


def driver_name(feature: str | None, lang: str) -> str:
    return feature_label(feature, lang) if feature else ""


def action_name(key: str | None, lang: str, names: Mapping[str, str] | None = None) -> str:
    """A playbook (``names``: the workspace's playbooks, key -> name in ``lang``), else
    a value x risk action (``matrix_action_*``), else the key itself."""
    if not key:
        return ""
    if names is not None and key in names:
        return names[key]
    for prefix in ("playbook_", "matrix_action_"):
        if f"{prefix}{key}" in catalog():
            return t(f"{prefix}{key}", lang)
    return key


def recommended_action(row: Mapping[str, Any], lang: str,
                       names: Mapping[str, str] | None = None) -> str:
    """The retention plan's action for the customer, else the value x risk action."""
    return action_name(row.get("plan_action") or row.get("value_action"), lang, names)


def drivers(row: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """The customer's top drivers: feature, display name, effect, reason category (and
    its display name), most important first."""
    out = []
    for i in range(1, DRIVERS + 1):
        feature = row.get(f"driver_{i}")
        if not feature:
            continue
        reason = row.get(f"driver_{i}_reason")
        out.append({"feature": feature, "label": driver_name(feature, lang),
                    "effect": row.get(f"driver_{i}_effect"), "reason": reason,
                    "reason_label": reason_name(reason, lang)})
    return out


# --- the workbook ------------------------------------------------------------------------
def export_columns(available: Sequence[str]) -> list[str]:
    """The export columns a snapshot with ``available`` columns can fill."""
    have = set(available)
    return [c for c in EXPORT_COLUMNS
            if c in have or (c == "action" and {"plan_action", "value_action"} & have)]


def header(column: str, lang: str) -> str:
    if column.startswith("driver_"):
        n = column.split("_")[1]
        key = "web_cu_col_driver_reason" if column.endswith("_reason") else "web_cu_col_driver"
        return t(key, lang, n=n)
    return t(_HEADER_KEYS[column], lang)


def cell_value(column: str, row: Mapping[str, Any], lang: str,
               names: Mapping[str, str] | None = None) -> Any:
    """What the export writes for ``column`` of a customer ``row``."""
    value = row.get(column)
    if column == "risk_tier":
        return tier_label(value, lang) if value else None
    if column == "value_tier":
        return value_tier_label(value, lang) if value else None
    if column in ("top_reason",) or (column.startswith("driver_") and column.endswith("_reason")):
        return reason_name(value, lang) or None
    if column.startswith("driver_"):
        return driver_name(value, lang) or None
    if column == "action":
        return recommended_action(row, lang, names) or None
    if column == "plan_group":
        return group_name(value, lang) or None
    if column == "is_key_account":
        return None if value is None else t("report_yes" if value else "report_no", lang)
    if column == "as_of" and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


def _safe_text(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value)


def write_customers_xlsx(rows: Iterable[Mapping[str, Any]], target: str | Path | IO[bytes], *,
                         columns: Sequence[str], lang: str,
                         action_names: Mapping[str, str] | None = None,
                         about: Sequence[tuple[str, Any]] = (),
                         limit: int = MAX_ROWS) -> int:
    """Write the customer ``rows`` as an Excel workbook to ``target``.

    Parameters
    ----------
    rows
        Customer rows (dicts) as the snapshot returns them.
    target
        A path or a binary file object.
    columns
        The columns to write (:func:`export_columns`), one localized header each.
    lang
        The language of the headers and of the labels in the cells.
    action_names
        The workspace's playbooks, key -> name in ``lang`` (built-in names otherwise).
    about
        (label, value) pairs written on a second sheet (as of, filters, who exported).
    limit
        At most this many rows (Excel holds 1,048,575 below the header).

    Returns
    -------
    int
        The number of customer rows written.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(t("web_cu_sheet_customers", lang))
    ws.freeze_panes = "B2"
    bold = Font(bold=True)
    head = []
    for col in columns:
        cell = WriteOnlyCell(ws, value=header(col, lang))
        cell.font = bold
        head.append(cell)
    ws.append(head)
    pct = {"churn_probability"}
    money = {"clv", "value_at_risk", "amount_per_month"}
    n = 0
    for row in rows:
        if n >= limit:
            break
        out: list[Any] = []
        for col in columns:
            value = cell_value(col, row, lang, action_names)
            if isinstance(value, str):
                value = _safe_text(value)
                if value.startswith(_FORMULA_START):
                    cell = WriteOnlyCell(ws, value=value)
                    cell.data_type = "s"  # text, never a formula
                    out.append(cell)
                    continue
            elif col in pct and isinstance(value, float):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "0.0%"
                out.append(cell)
                continue
            elif col in money and isinstance(value, float):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "#,##0.00"
                out.append(cell)
                continue
            elif col == "as_of" and isinstance(value, dt.date):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd"
                out.append(cell)
                continue
            out.append(value)
        ws.append(out)
        n += 1
    info = wb.create_sheet(t("web_cu_sheet_about", lang))
    for label, value in about:
        text = _safe_text(str(value)) if value is not None else ""
        cell = WriteOnlyCell(info, value=text)
        cell.data_type = "s"
        info.append([_safe_text(label), cell])
    info.append([t("web_cu_about_rows", lang), n])
    wb.save(target)
    return n
