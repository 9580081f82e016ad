"""One message catalog for every user-facing string, in zh-CN and en.

The catalog is the set of TOML files in ``churnradar/locales/`` (one per area: cli,
io, metrics, report ...), merged into one dictionary at first use. Each entry is a table
with one string per language::

    [churn_rate_start]
    zh-CN = "流失率（期初基数）"
    en = "Churn rate (start basis)"

Numbers, percentages, money and dates are formatted for the locale with Babel.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tomllib
from functools import cache
from importlib import resources
from typing import Any

from babel import Locale
from babel import numbers as babel_numbers
from babel.dates import format_date as babel_format_date

from churnradar.exceptions import SettingsError

LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
_BABEL_LOCALE = {"zh-CN": "zh_Hans_CN", "en": "en_US"}


@cache
def catalog() -> dict[str, dict[str, str]]:
    """All messages: key -> {language -> text}."""
    merged: dict[str, dict[str, str]] = {}
    for entry in sorted(resources.files("churnradar.locales").iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        for key, texts in data.items():
            if key in merged:
                raise RuntimeError(f"message {key!r} is defined twice (second in {entry.name})")
            merged[key] = texts
    return merged


def check_language(lang: str | None) -> str:
    """Return a supported language code, or raise a clear error."""
    if lang is None:
        return default_language()
    if lang in LANGUAGES:
        return lang
    aliases = {"zh": "zh-CN", "zh_CN": "zh-CN", "zh-cn": "zh-CN", "cn": "zh-CN", "en-US": "en",
               "en_US": "en", "EN": "en"}
    if lang in aliases:
        return aliases[lang]
    raise SettingsError(key="err_language", choices=", ".join(LANGUAGES), value=lang)


def default_language() -> str:
    """``CHURNRADAR_LANG`` if set, else zh-CN (Chinese-speaking users first)."""
    env = os.environ.get("CHURNRADAR_LANG")
    return check_language(env) if env else DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, /, **kwargs: Any) -> str:
    """The message ``key`` in ``lang``, with ``{placeholders}`` filled from ``kwargs``."""
    lang = check_language(lang)
    try:
        text = catalog()[key][lang]
    except KeyError as exc:
        raise KeyError(f"message {key!r} has no {lang} text in churnradar/locales") from exc
    return text.format(**kwargs) if kwargs else text


def babel_locale(lang: str | None) -> str:
    return _BABEL_LOCALE[check_language(lang)]


@cache
def _locale(lang: str | None) -> Locale:
    """The parsed Babel locale of ``lang``: parsing it on every number costs more than
    formatting the number (a page formats hundreds)."""
    return Locale.parse(babel_locale(lang))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_int(value: Any, lang: str | None = None) -> str:
    if _missing(value):
        return "–"
    return babel_numbers.format_decimal(round(float(value)), locale=_locale(lang))


def fmt_num(value: Any, lang: str | None = None, digits: int = 2) -> str:
    if _missing(value):
        return "–"
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return babel_numbers.format_decimal(value, format=pattern, locale=_locale(lang))


def fmt_pct(value: Any, lang: str | None = None, digits: int = 2) -> str:
    if _missing(value):
        return "–"
    pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    return babel_numbers.format_percent(value, format=pattern, locale=_locale(lang))


def fmt_money(value: Any, lang: str | None = None, currency: str = "CNY") -> str:
    if _missing(value):
        return "–"
    return babel_numbers.format_currency(
        value, currency, format="¤#,##0", locale=_locale(lang), currency_digits=False
    )


def fmt_date(value: dt.date | None, lang: str | None = None) -> str:
    if value is None:
        return "–"
    return babel_format_date(value, format="medium", locale=_locale(lang))
