"""Words and numbers of the report: catalog look-ups with fallbacks, locale formatting.

Every string the report shows comes from the message catalog (``churnradar/locales``);
every number goes through :mod:`churnradar.i18n` (Babel). Messages owned by other modules
(safety-check explanations, analysis names) may be missing while those modules are being
written; :func:`lookup` then returns a visible, detectable fallback instead of failing the
whole report.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from babel.numbers import get_currency_symbol

from churnradar import i18n
from churnradar.i18n import t
from churnradar.schema import TABLES

logger = logging.getLogger(__name__)

#: How a value is shown: in HTML (Babel) and as an Excel number format.
Kind = Literal["text", "int", "pct", "money", "num", "ratio", "date", "bool"]


@dataclass(frozen=True)
class Text:
    """A catalog message after look-up.

    ``missing_key`` is set when no catalog entry could be used and ``text`` is a fallback;
    the HTML marks such text with ``data-missing-message`` so tests can find it.
    """

    text: str
    missing_key: str | None = None

    @property
    def missing(self) -> bool:
        return self.missing_key is not None

    def __str__(self) -> str:
        return self.text


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and pandas' NA."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _float(value: Any) -> float | None:
    if is_missing(value):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def lookup(keys: Sequence[str], lang: str, fallback: str, **params: Any) -> Text:
    """The first of ``keys`` the catalog has in ``lang``, filled with ``params``.

    Parameters
    ----------
    keys
        Catalog keys to try in order.
    lang
        Language code.
    fallback
        Shown when none of the keys can be used (missing, or its placeholders do not
        match ``params``); the result then has ``missing_key`` set to the first key.
    **params
        Values for the message's ``{placeholders}``.

    Returns
    -------
    Text
    """
    for key in keys:
        try:
            return Text(t(key, lang, **params))
        except (KeyError, IndexError, ValueError) as exc:
            if lang in i18n.catalog().get(key, {}):
                logger.warning("message %r could not be filled with %r: %s", key, params, exc)
    logger.warning("message %r is missing from the catalog; using a fallback", keys[0])
    return Text(fallback, missing_key=keys[0])


def explain(message_key: str, params: dict[str, object], lang: str) -> Text:
    """The explanation of a safety check, or a detectable placeholder naming the key."""
    return lookup([message_key], lang, t("report_message_missing", lang, key=message_key),
                  **params)


def analysis_label(name: str, lang: str) -> Text:
    """Display name of an analysis of the completeness check.

    Looks up ``metrics_analysis_<name>`` (the metrics catalog names every analysis of the
    completeness check), then ``analysis_<name>`` (for modules that add their own); falls
    back to the raw name, marked as missing.
    """
    return lookup([f"metrics_analysis_{name}", f"analysis_{name}"], lang,
                  name.replace("_", " "))


def dimension_label(dimension: str, lang: str) -> str:
    """Column header for a dimension (客户等级 / Customer grade)."""
    return lookup([f"report_dim_{dimension}"], lang, dimension).text


def by_heading(dimension: str, lang: str) -> str:
    """Heading of a dimension block (按客户等级 / By customer grade)."""
    key = f"report_by_{dimension}"
    if key in i18n.catalog():
        return t(key, lang)
    return t("report_by_other", lang, dimension=dimension)


def table_label(name: str, lang: str) -> str:
    """A table or ``table.column`` as the user knows it: 投诉记录（complaints）.

    Alternatives written ``a|b`` ("subscriptions or transactions") are joined with "或"/"or".
    """
    if "|" in name:
        return f" {t('report_or', lang)} ".join(table_label(n, lang) for n in name.split("|"))
    table, _, column = name.partition(".")
    if table not in TABLES:
        return name
    shown = t(f"report_table_{table}", lang)
    if lang == "en":
        return f"{shown}.{column}" if column else shown
    return f"{shown}（{name}）"


def currency_symbol(currency: str, lang: str) -> str:
    """The currency sign used by :func:`churnradar.i18n.fmt_money` in ``lang``."""
    return get_currency_symbol(currency, locale=i18n.babel_locale(lang))


def fmt_value(value: Any, kind: Kind, lang: str, *, currency: str = "CNY",
              digits: int = 2) -> str:
    """Format one value for the HTML report (missing values become "–").

    Parameters
    ----------
    value
        The value; None/NaN/NA are shown as "–".
    kind
        ``int``, ``pct``, ``money``, ``num``, ``ratio`` (×), ``date``, ``bool`` or ``text``.
    lang
        Language code.
    currency
        ISO code for ``money``.
    digits
        Decimal places of ``pct``, ``num`` and ``ratio``.
    """
    if is_missing(value):
        return "–"
    if kind == "text":
        return str(value)
    if kind == "bool":
        return t("report_yes" if bool(value) else "report_no", lang)
    if kind == "date":
        if isinstance(value, pd.Timestamp | dt.datetime):
            value = value.date()
        return i18n.fmt_date(value, lang) if isinstance(value, dt.date) else str(value)
    number = _float(value)
    if number is None:
        return "–"
    if kind == "int":
        return i18n.fmt_int(number, lang)
    if kind == "pct":
        return i18n.fmt_pct(number, lang, digits=digits)
    if kind == "money":
        return i18n.fmt_money(number, lang, currency=currency)
    if kind == "ratio":
        return t("report_ratio", lang, value=i18n.fmt_num(number, lang, digits=digits))
    return i18n.fmt_num(number, lang, digits=digits)


def fmt_pp(delta: float | None, lang: str, digits: int = 2) -> str:
    """A change of a rate in percentage points, signed: +0.35 个百分点 / −0.35 pp."""
    if delta is None:
        return "–"
    points = delta * 100.0
    sign = "+" if points > 0 else ("−" if points < 0 else "±")
    return t("report_pp", lang, value=sign + i18n.fmt_num(abs(points), lang, digits=digits))


def confidence_label(confidence: float, lang: str) -> str:
    """95% for 0.95, formatted for the locale."""
    digits = 0 if round(confidence * 100, 6).is_integer() else 1
    return i18n.fmt_pct(confidence, lang, digits=digits)


def period_label(period: str, lang: str) -> str:
    return lookup([f"report_period_{period}"], lang, period).text


def business_label(business: str, lang: str) -> str:
    return lookup([f"report_business_{business}"], lang, business).text


def status_label(status: str, lang: str) -> str:
    """Safety-check status: pass / warn / alert / n/a."""
    key = "report_status_na" if status == "n/a" else f"report_status_{status}"
    return lookup([key], lang, status).text


__all__ = [
    "Kind", "Text", "analysis_label", "business_label", "by_heading", "confidence_label",
    "currency_symbol", "dimension_label", "explain", "fmt_pp", "fmt_value", "is_missing",
    "lookup", "period_label", "status_label", "table_label",
]
