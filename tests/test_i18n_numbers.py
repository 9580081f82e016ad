"""The fast number formatters in ``churnradar.i18n`` give exactly Babel's strings.

The reference in each test is the direct Babel call the function used to make (written
out here), compared on many random values: floats over many magnitudes and both signs,
exact rounding ties, ``x.xx5`` values, ints, numpy scalars, Decimals, zero and -0.0.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from babel import Locale
from babel import numbers as babel_numbers
from babel.dates import format_date as babel_format_date

from churnradar import i18n
from churnradar.i18n import fmt_date, fmt_int, fmt_money, fmt_num, fmt_pct

LANGS = ("zh-CN", "en")
LOCALES = {"zh-CN": Locale.parse("zh_Hans_CN"), "en": Locale.parse("en_US")}
DIGITS = (0, 1, 2, 3)
CURRENCIES = ("CNY", "USD", "EUR", "JPY")
PER_CASE = 5_000  # x 4 digits or currencies = 20,000 values per function and language


# --- the reference: the original implementation, straight Babel ---------------------

def ref_int(value: Any, lang: str) -> str:
    return babel_numbers.format_decimal(round(float(value)), locale=LOCALES[lang])


def ref_num(value: Any, lang: str, digits: int) -> str:
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return babel_numbers.format_decimal(value, format=pattern, locale=LOCALES[lang])


def ref_pct(value: Any, lang: str, digits: int) -> str:
    pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    return babel_numbers.format_percent(value, format=pattern, locale=LOCALES[lang])


def ref_money(value: Any, lang: str, currency: str) -> str:
    return babel_numbers.format_currency(value, currency, format="¤#,##0",
                                         locale=LOCALES[lang], currency_digits=False)


# --- values --------------------------------------------------------------------------

def random_values(seed: int, n: int, tie_digits: int) -> list[Any]:
    """``n`` values of mixed kinds; the ties are ties at ``tie_digits`` decimals."""
    rng = np.random.default_rng(seed)
    scale = 10.0**tie_digits
    out: list[Any] = []
    while len(out) < n:
        sign = -1 if rng.random() < 0.5 else 1
        kind = int(rng.integers(0, 10))
        if kind == 0:  # uniform over magnitudes 1e-6 .. 1e13
            out.append(sign * float(10 ** rng.uniform(-6, 13)))
        elif kind == 1:  # uniform in a narrow band, where most values are
            out.append(sign * float(rng.uniform(0, 1000)))
        elif kind == 2:  # exact ties (k + 0.5) / 10**d
            k = int(rng.integers(0, 10 ** int(rng.integers(1, 8))))
            out.append(sign * (k + 0.5) / scale)
        elif kind == 3:  # x.xx5 written in decimal (not exact in binary)
            k = int(rng.integers(0, 10 ** int(rng.integers(1, 8))))
            out.append(sign * float(f"{k}5e-{tie_digits + 1}"))
        elif kind == 4:  # Python ints
            out.append(sign * int(rng.integers(0, 10 ** int(rng.integers(1, 14)))))
        elif kind == 5:  # numpy scalars
            x = sign * float(10 ** rng.uniform(-4, 10))
            pick = int(rng.integers(0, 4))
            out.append([np.float64(x), np.int64(round(x)), np.float32(x),
                        np.float64(round(x * scale) / scale + 0.5 / scale)][pick])
        elif kind == 6:  # Decimals, also with more digits than a float holds
            digits = int(rng.integers(1, 22))
            mantissa = "".join(str(d) for d in rng.integers(0, 10, size=digits))
            exponent = -int(rng.integers(0, digits + 1))
            out.append(Decimal(("-" if sign < 0 else "") + mantissa).scaleb(exponent))
        elif kind == 7:  # zeros and tiny values that round to (negative) zero
            out.append([0, 0.0, -0.0, Decimal("-0"), Decimal("0.000"), np.float64(-0.0),
                        sign * 0.4 / scale, sign * 1e-9][int(rng.integers(0, 8))])
        elif kind == 8:  # repeating binary fractions (0.1 + 0.2 and the like), or a
            # few ulps from a tie: rounding the float or its repr may differ there
            if rng.random() < 0.5:
                out.append(sign * int(rng.integers(0, 10**6)) / float(rng.choice([3, 7, 100])))
            else:
                k = int(rng.integers(0, 10 ** int(rng.integers(1, 12))))
                x = sign * (k + 0.5) / scale
                for _ in range(int(rng.integers(1, 40))):
                    x = float(np.nextafter(x, math.inf if rng.random() < 0.5 else -math.inf))
                out.append(x)
        else:  # percent-sized ties (fractions whose percentage is a tie)
            k = int(rng.integers(0, 10**5))
            out.append(sign * (k + 0.5) / (scale * 100))
    return out


def _outcome(fn: Callable[..., str], *args: Any) -> str | type[BaseException]:
    try:
        return fn(*args)
    except Exception as exc:  # the same failure is as good as the same string
        return type(exc)


def _assert_same(pairs: list[tuple[Any, str | type[BaseException], str | type[BaseException]]]):
    bad = [(v, got, want) for v, got, want in pairs if got != want]
    assert not bad, f"{len(bad)} of {len(pairs)} differ from Babel, e.g. {bad[:10]}"


# --- random comparison -----------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_fmt_int_equals_babel(lang):
    values = random_values(1, 4 * PER_CASE, 0)
    _assert_same([(v, _outcome(fmt_int, v, lang), _outcome(ref_int, v, lang))
                  for v in values])


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("fast", "ref", "seed", "shift"), [
    (fmt_num, ref_num, 10, 0),
    (fmt_pct, ref_pct, 20, 2),  # ties of the percentage: fractions with digits + 2 decimals
], ids=["num", "pct"])
def test_fmt_num_and_pct_equal_babel(lang, fast, ref, seed, shift):
    pairs = []
    for digits in DIGITS:
        for v in random_values(seed + digits, PER_CASE, digits + shift):
            pairs.append((v, _outcome(fast, v, lang, digits), _outcome(ref, v, lang, digits)))
    _assert_same(pairs)


@pytest.mark.parametrize("lang", LANGS)
def test_fmt_money_equals_babel(lang):
    pairs = []
    for i, currency in enumerate(CURRENCIES):
        for v in random_values(30 + i, PER_CASE, 0):
            pairs.append((v, _outcome(fmt_money, v, lang, currency),
                          _outcome(ref_money, v, lang, currency)))
    _assert_same(pairs)


UNUSUAL = [math.inf, -math.inf, 1e15, -1e15, 1e16, 1e25, 1e300, -1e300, 10**15, 10**20,
           10**30, -(10**30), 5e-324, Decimal("NaN"), Decimal("Infinity"), Decimal("-1E+40"),
           Decimal("1.2345678901234567890123456789"), np.float32("nan"), np.float32("inf"),
           np.longdouble("0.125"), "1234.5", "-0.005", "abc", True, False, 0.5, -0.5, 2.5,
           -2.5, 0.125, 2.675, 1.005, -0.004, 123456789.987]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("value", UNUSUAL, ids=repr)
def test_unusual_values_equal_babel_or_fail_like_it(lang, value):
    assert _outcome(fmt_int, value, lang) == _outcome(ref_int, value, lang)
    for digits in DIGITS:
        assert (_outcome(fmt_num, value, lang, digits)
                == _outcome(ref_num, value, lang, digits))
        assert (_outcome(fmt_pct, value, lang, digits)
                == _outcome(ref_pct, value, lang, digits))
    for currency in CURRENCIES:
        assert (_outcome(fmt_money, value, lang, currency)
                == _outcome(ref_money, value, lang, currency))


@pytest.mark.parametrize("context", [dict(rounding=decimal.ROUND_HALF_UP),
                                     dict(rounding=decimal.ROUND_DOWN), dict(prec=12)], ids=str)
def test_a_changed_decimal_context_changes_nothing(context):
    """Babel rounds in the current decimal context; so do the fast formatters."""
    values = random_values(40, 3_000, 2) + UNUSUAL
    with decimal.localcontext(**context):
        for lang in LANGS:
            for v in values:
                assert _outcome(fmt_int, v, lang) == _outcome(ref_int, v, lang), v
                assert _outcome(fmt_num, v, lang, 2) == _outcome(ref_num, v, lang, 2), v
                assert _outcome(fmt_pct, v, lang, 1) == _outcome(ref_pct, v, lang, 1), v
                assert (_outcome(fmt_money, v, lang, "USD")
                        == _outcome(ref_money, v, lang, "USD")), v


@pytest.mark.parametrize("lang", LANGS)
def test_missing_values_give_a_dash(lang):
    for missing in (None, math.nan, float("nan"), np.float64("nan")):
        assert fmt_int(missing, lang) == "–"
        assert fmt_num(missing, lang, 2) == "–"
        assert fmt_pct(missing, lang, 1) == "–"
        assert fmt_money(missing, lang, "USD") == "–"
    assert fmt_date(None, lang) == "–"


def test_known_strings():
    assert fmt_num(2.675, "en") == "2.68"  # Babel rounds the decimal text, half to even
    assert fmt_num(0.125, "en") == "0.12"
    assert fmt_num(-0.004, "en") == "-0.00"  # the sign is taken before rounding
    assert fmt_pct(-0.0, "en", 0) == "-0%"
    assert fmt_int(2.5, "en") == "2"
    assert fmt_int(-1234567.6, "zh-CN") == "-1,234,568"
    assert fmt_money(1_500_000, "zh-CN") == "¥1,500,000"
    assert fmt_money(1_500_000, "en") == "CN¥1,500,000"
    assert fmt_money(-2.5, "en", "USD") == "-$2"
    assert fmt_money(1234.5, "zh-CN", "JPY") == "JP¥1,234"
    assert fmt_pct(0.0667, "en") == "6.67%"


# --- the fast path is really taken -------------------------------------------------------

COMMON = [0, 7, -1234567, 0.0, -0.0, 0.5, 2.675, -0.004, 1234567.891, 0.0667, -98765.4321,
          np.float64(0.125), np.int64(-42), np.float32(2.5), Decimal("1.005"), Decimal("-0")]


def _calls() -> list[Callable[[Any], str]]:
    calls: list[Callable[[Any], str]] = []
    for lang in LANGS:
        calls.append(lambda v, lang=lang: fmt_int(v, lang))
        for digits in DIGITS:
            calls.append(lambda v, lang=lang, d=digits: fmt_num(v, lang, d))
            calls.append(lambda v, lang=lang, d=digits: fmt_pct(v, lang, d))
        for currency in CURRENCIES:
            calls.append(lambda v, lang=lang, c=currency: fmt_money(v, lang, c))
    return calls


class BabelCalled(Exception):
    pass


def test_fast_path_does_not_call_babel(monkeypatch):
    calls = _calls()
    expected = [[call(v) for v in COMMON] for call in calls]  # also builds the formatters

    def boom(*args: Any, **kwargs: Any) -> str:
        raise BabelCalled

    for name in ("format_decimal", "format_percent", "format_currency"):
        monkeypatch.setattr(babel_numbers, name, boom)
    monkeypatch.setattr(babel_numbers.NumberPattern, "apply", boom)

    assert [[call(v) for v in COMMON] for call in calls] == expected
    # ... while what the fast path leaves alone still goes to (the broken) Babel
    with pytest.raises(BabelCalled):
        fmt_num("1.5", "en")
    with pytest.raises(BabelCalled):
        fmt_pct(math.inf, "zh-CN")


def test_a_formatter_that_disagrees_with_babel_is_not_used(monkeypatch):
    """If Babel's output cannot be reproduced, the formatter is Babel itself."""
    real = babel_numbers.format_decimal

    def odd(value: Any, *args: Any, **kwargs: Any) -> str:
        text = real(value, *args, **kwargs)
        return text + "!" if value == 0.125 else text  # disagrees on one probe only

    monkeypatch.setattr(babel_numbers, "format_decimal", odd)
    i18n._number_formatter.cache_clear()
    try:
        assert fmt_num(0.125, "en", 2) == "0.12!"
        assert fmt_num(1.5, "en", 2) == "1.50"
    finally:
        i18n._number_formatter.cache_clear()


# --- dates -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_fmt_date_equals_babel(lang):
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(0, 2000, 7)]
    days += [dt.datetime(2024, 2, 29, 23, 59), dt.datetime(2024, 2, 29, 1, 0)]
    for _ in range(2):  # second round from the cache
        for day in days:
            assert fmt_date(day, lang) == babel_format_date(day, format="medium",
                                                            locale=LOCALES[lang])
