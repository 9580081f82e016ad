"""The message catalog: every message exists in zh-CN and en with the same placeholders."""

from __future__ import annotations

import string

import pytest

from churnradar.exceptions import SettingsError
from churnradar.i18n import LANGUAGES, catalog, check_language, fmt_money, fmt_pct, t


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_message_has_both_languages_and_the_same_placeholders():
    cat = catalog()
    assert len(cat) > 300
    for key, texts in cat.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(texts[lang].strip() for lang in LANGUAGES), key
        assert _fields(texts["zh-CN"]) == _fields(texts["en"]), key


def test_chinese_messages_are_chinese():
    cat = catalog()
    han = [k for k, v in cat.items() if any("\u4e00" <= ch <= "\u9fff" for ch in v["zh-CN"])]
    assert len(han) / len(cat) > 0.9


def test_lookup_and_formatting():
    assert t("metrics_col_churn_rate_start", "zh-CN") == "流失率（期初基数）"
    assert t("metrics_col_churn_rate_start", "en") == "Churn rate (start basis)"
    assert check_language("zh") == "zh-CN"
    with pytest.raises(SettingsError, match="language must be one of"):
        check_language("fr")
    assert fmt_pct(0.0667, "en") == "6.67%"
    assert fmt_money(1_500_000, "zh-CN") == "¥1,500,000"
    assert fmt_pct(None, "en") == "–"
