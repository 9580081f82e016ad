"""One message catalog for every user-facing string, in zh-CN and en.

The catalog is the set of TOML files in ``churnradar/locales/`` (one per area: cli,
io, metrics, report ...), merged into one dictionary at first use. Each entry is a table
with one string per language::

    [churn_rate_start]
    zh-CN = "流失率（期初基数）"
    en = "Churn rate (start basis)"

Numbers, percentages, money and dates are formatted for the locale with Babel.

Numbers take a fast path that gives exactly Babel's strings: a web page formats ~1,000
numbers per request and Babel costs 5–20 µs per number (8 µs for a float), the largest
CPU cost of the table pages; the fast path takes about 1 µs. For each (language,
function, pattern, currency) a small formatter is built once from Babel's parsed
pattern, its locale symbols and its own output (sign, currency and percent affixes are
read off formatted probes). It repeats Babel's
``decimal`` steps (``Decimal(str(value))``, scaling, sign before rounding, half-even
quantize), with exact shortcuts for ints and for floats that are not near a rounding tie
(see ``_compile``). Each formatter is checked against Babel on probe values (ties, negative
zero, large numbers, ints, Decimal, numpy scalars) when built, and is plain Babel if any
string differs; strings, bools, non-finite and huge values always go to Babel.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tomllib
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Context, Decimal, getcontext, localcontext
from functools import cache, lru_cache
from importlib import resources
from math import copysign
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
    """None and float NaN (also numpy's float64 NaN) are missing."""
    return value is None or (isinstance(value, float) and value != value)


# --- numbers: Babel, compiled -------------------------------------------------------

_log = logging.getLogger(__name__)

# Python ints below this size take an exact integer path (Babel's Decimal steps cannot
# round them in a decimal context of at least _SAFE_PREC digits); larger ones go through
# Decimal like in Babel.
_INT_LIMIT = 10**15
_SAFE_PREC = 20
# A float scaled to its last shown digit (y = value * 10**digits, times 100 for percent)
# is rounded by the float shortcut only if it is this far from a tie, relative to |y|:
# Babel rounds the shortest repr r of the float, which is within |y| * 2**-52 of y.
_FLOAT_LIMIT = 2.0**49
_TIE_MARGIN = 2.0**-49
_MONEY_PATTERN = "¤#,##0"


def _babel_formatter(kind: str, pattern: str | None, locale: Locale,
                     currency: Any) -> Callable[[Any], str]:
    """The reference: exactly the Babel call the public function stands for. Babel's
    functions are looked up at call time (tests swap them to prove the fast path is used)."""
    if kind == "num":
        return lambda v: babel_numbers.format_decimal(v, format=pattern, locale=locale)
    if kind == "pct":
        return lambda v: babel_numbers.format_percent(v, format=pattern, locale=locale)
    if kind == "money":
        return lambda v: babel_numbers.format_currency(
            v, currency, format=_MONEY_PATTERN, locale=locale, currency_digits=False)
    return lambda v: babel_numbers.format_decimal(v, locale=locale)  # "int"


def _probe_values() -> list[Any]:
    """Values a compiled formatter must format exactly like Babel before it is used."""
    values: list[Any] = [
        0, 1, -1, 7, -7, 10, 999, 1000, -1000, 1234567, -1234567, 10**12, -(10**12),
        _INT_LIMIT - 1, -(_INT_LIMIT - 1), _INT_LIMIT, 10**20,
        0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.125, -0.125, 0.375, 2.675, -2.675, 1.005,
        0.285, 0.004, -0.004, 0.005, -0.005, 0.015, 0.025, 0.0049999, 0.045, 0.0005, 5e-05,
        5e-06, 1e-07, -1e-07, 5e-324, 0.995, 9.995, 99.995, 999.995, 999999.5, 1 / 3,
        -2 / 3, 0.1 + 0.2, 0.0667, 1234.5678, -98765.4321, 123456789.987, -123456789.987,
        12345678901234.5, 1e13, 1e15, -1e15, 1e16, 1e20, 1e300, float("inf"), float("-inf"),
        Decimal("2.675"), Decimal("-0"), Decimal("-0.004"), Decimal("0.125"), Decimal("1E+3"),
        Decimal("1.23456789012345678901"), Decimal("-12345.6789"), Decimal("NaN"),
        Decimal("Infinity"),
    ]
    # Decimal ties at every position a pattern can round at (digits 0..4, percent + 2):
    # the float is just above or below the tie, its repr is the tie (2.675, 0.05 ...).
    values += [sign * (k + 0.5) / 10**shift for shift in range(7)
               for k in (*range(12), 83, 267, 501, 1004, 6432, 99999, 413128)
               for sign in (1, -1)]
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return values
    return values + [np.float64(2.675), np.float64(-0.004), np.float64(-0.0),
                     np.float64(1234567.891), np.int64(-1234567), np.int64(0), np.int32(42),
                     np.float32(0.1), np.float32(2.675), np.float32(-1234.5)]


def _compile(kind: str, pattern: str | None, locale: Locale,
             ref: Callable[[Any], str]) -> Callable[[Any], str] | None:
    """A fast formatter giving the same strings as ``ref`` (a Babel call) and calling
    ``ref`` for the inputs it leaves to Babel; None if the pattern is not a plain
    ``#,##0.00``-style one or the formatter differs from Babel on a probe value.

    It mirrors ``NumberPattern.apply``: the value becomes ``Decimal(str(value))`` (a
    Decimal as is), is scaled (percent), its sign is taken *before* rounding (so -0.004
    gives "-0.00", like Babel), then ``abs().normalize().quantize(10**-max_frac)`` in the
    current decimal context. Two shortcuts give the same digits without Decimal when the
    context is Babel's default (half-even, >= 20 digits): ints below 1e15 (exact), and
    floats not near a rounding tie, where rounding the binary value (Python's correctly
    rounded ``format``) and rounding its shortest repr (Babel) cannot differ."""
    number_pattern = (babel_numbers.parse_pattern(pattern) if pattern is not None
                      else locale.decimal_formats[None])
    if (number_pattern.exp_prec or "@" in number_pattern.pattern
            or number_pattern.grouping != (3, 3) or number_pattern.int_prec[0] > 1
            or not number_pattern.number_pattern or "¤¤¤" in number_pattern.pattern):
        return None
    scale = number_pattern.scale
    int_factor = 10**scale
    frac_min, frac_max = number_pattern.frac_prec
    quantum = babel_numbers.get_decimal_quantum(frac_max)
    float_shift = 10.0 ** (scale + frac_max)
    float_unshift = 10.0**frac_max
    float_spec = f",.{frac_max}f"
    small_spec = f"%.{frac_max}f"
    float_ok = frac_min == frac_max  # else Babel trims trailing zeros: Decimal path
    group = babel_numbers.get_group_symbol(locale, numbering_system="latn")
    point = babel_numbers.get_decimal_symbol(locale, numbering_system="latn")
    table = None if (group, point) == (",", ".") else str.maketrans({",": group, ".": point})
    # Babel's fraction of an integer: all zeros, cut down to frac_min (or dropped).
    int_frac = point + "0" * frac_min if frac_min and frac_max else ""
    # Filled in from Babel's own output below; empty while probing for them.
    pos_prefix = pos_suffix = neg_prefix = neg_suffix = ""
    # While probing, declined inputs give None; once checked, they go to Babel.
    fallback: Callable[[Any], Any] = lambda value: None  # noqa: E731

    half_even, safe_prec, get_context = ROUND_HALF_EVEN, _SAFE_PREC, getcontext
    int_limit, float_limit, tie_margin = _INT_LIMIT, _FLOAT_LIMIT, _TIE_MARGIN

    def render(value: Any) -> str:
        try:
            kind_of = type(value)  # exact types: not bool, not numpy (str(value) may differ)
            if kind_of is float:
                context = get_context()
                if float_ok and context.rounding == half_even and context.prec >= safe_prec:
                    scaled = value * float_shift
                    if (-float_limit < scaled < float_limit
                            and abs(scaled % 1.0 - 0.5) > abs(scaled) * tie_margin + 1e-9):
                        shown = abs(round(scaled)) / float_unshift if scale else abs(value)
                        # the same correctly rounded digits; "%" is faster, no grouping
                        body = (small_spec % shown if shown < 999.0
                                else format(shown, float_spec))
                        if table is not None:
                            body = body.translate(table)
                        if value < 0.0 or (value == 0.0 and copysign(1.0, value) < 0.0):
                            return neg_prefix + body + neg_suffix
                        return pos_prefix + body + pos_suffix
            elif kind_of is int:
                context = get_context()
                if (-int_limit < value < int_limit and context.rounding == half_even
                        and context.prec >= safe_prec):
                    body = f"{abs(value) * int_factor:,}"
                    if table is not None:
                        body = body.translate(table)
                    if value < 0:
                        return neg_prefix + body + int_frac + neg_suffix
                    return pos_prefix + body + int_frac + pos_suffix
            elif isinstance(value, (str, bytes, bool)):
                return fallback(value)
            # Babel's own steps (numpy scalars, Decimals, floats near a tie, ...)
            number = value if isinstance(value, Decimal) else Decimal(str(value))
            if scale:
                number = number.scaleb(scale)
            negative = number.is_signed()
            number = abs(number).normalize()
            if not number.is_finite():
                return fallback(value)
            body = f"{number.quantize(quantum):,f}"
            if frac_min != frac_max:  # Babel's _format_frac: trailing zeros down to frac_min
                whole, _, frac = body.partition(".")
                if frac_min == 0 and not frac.strip("0"):
                    frac = ""
                else:
                    frac = frac[:frac_min] + frac[frac_min:].rstrip("0")
                body = whole + "." + frac if frac else whole
            if table is not None:
                body = body.translate(table)
            if negative:
                return neg_prefix + body + neg_suffix
            return pos_prefix + body + pos_suffix
        except Exception:  # anything unusual: Babel's string, or Babel's error
            return fallback(value)

    with localcontext(Context()):  # a default context: the shortcuts are probed too
        # Prefix and suffix (sign, currency symbol, percent sign) as Babel writes them.
        probe = 1234567
        bare = render(probe)
        if bare is None:
            return None
        pos_parts, neg_parts = ref(probe).split(bare), ref(-probe).split(bare)
        if len(pos_parts) != 2 or len(neg_parts) != 2:
            return None
        (pos_prefix, pos_suffix), (neg_prefix, neg_suffix) = pos_parts, neg_parts

        for value in _probe_values():
            got = render(value)
            if got is None:  # left to Babel
                continue
            try:
                want: str | None = ref(value)
            except Exception:
                want = None
            if got != want:
                _log.warning("fast %s formatter for %s/%r differs from Babel on %r "
                             "(%r != %r); using Babel", kind, locale, pattern, value, got, want)
                return None
    fallback = ref
    return render


@cache
def _number_formatter(lang: str | None, kind: str, pattern: str | None,
                      currency: Any = None) -> Callable[[Any], str]:
    """The formatter for one (language, kind, pattern, currency): compiled and checked
    against Babel once, and Babel itself if that fails."""
    locale = _locale(lang)
    ref = _babel_formatter(kind, pattern, locale, currency)
    try:
        fast = _compile(kind, pattern, locale, ref)
    except Exception:
        _log.warning("no fast %s formatter for %s/%r", kind, locale, pattern, exc_info=True)
        fast = None
    return ref if fast is None else fast


def fmt_int(value: Any, lang: str | None = None) -> str:
    """``value`` rounded to an integer with grouping, e.g. "1,234"; "–" if missing."""
    if _missing(value):
        return "–"
    return _number_formatter(lang, "int", None)(round(float(value)))


def fmt_num(value: Any, lang: str | None = None, digits: int = 2) -> str:
    """``value`` with grouping and exactly ``digits`` decimals; "–" if missing."""
    if _missing(value):
        return "–"
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return _number_formatter(lang, "num", pattern)(value)


def fmt_pct(value: Any, lang: str | None = None, digits: int = 2) -> str:
    """The fraction ``value`` as a percentage with ``digits`` decimals; "–" if missing."""
    if _missing(value):
        return "–"
    pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    return _number_formatter(lang, "pct", pattern)(value)


def fmt_money(value: Any, lang: str | None = None, currency: str = "CNY") -> str:
    """``value`` rounded to whole units with the currency sign, e.g. "¥1,500,000"; "–" if
    missing."""
    if _missing(value):
        return "–"
    return _number_formatter(lang, "money", _MONEY_PATTERN, currency)(value)


@lru_cache(maxsize=4096)
def _format_day(value: dt.date, lang: str | None) -> str:
    return babel_format_date(value, format="medium", locale=_locale(lang))


def fmt_date(value: dt.date | None, lang: str | None = None) -> str:
    """``value`` in the locale's medium date format; "–" if missing."""
    if value is None:
        return "–"
    if type(value) is dt.date:  # plain dates repeat on a page; datetimes are not cached
        return _format_day(value, lang)
    return babel_format_date(value, format="medium", locale=_locale(lang))
