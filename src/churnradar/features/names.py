"""Display names of feature columns in zh-CN and en (from the ``predict_feat_*`` catalog).

Fixed columns have their own entry; columns built per window, event type, survey kind or
complaint category (``orders_90d``, ``ev_data_gb_30d``, ``survey_csat_last``) are
matched by pattern and filled in.
"""

from __future__ import annotations

import re

from churnradar.i18n import catalog, t

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), key) for p, key in (
        (r"^orders_(?P<w>\d+)d$", "orders"),
        (r"^amount_(?P<w>\d+)d$", "amount"),
        (r"^payment_failures_(?P<w>\d+)d$", "payment_failures"),
        (r"^discounts_(?P<w>\d+)d$", "discounts"),
        (r"^complaints_(?P<w>\d+)d$", "complaints"),
        (r"^complaints_(?P<cat>[a-z]+)_(?P<w>\d+)d$", "complaints_category"),
        (r"^ev_(?P<name>.+)_trend$", "event_trend"),
        (r"^ev_(?P<name>.+)_(?P<w>\d+)d$", "event"),
        (r"^survey_(?P<name>.+)_last$", "survey_last"),
        (r"^survey_(?P<name>.+)_mean_(?P<w>\d+)d$", "survey_mean"),
        (r"^survey_(?P<name>.+)_min_(?P<w>\d+)d$", "survey_min"),
        (r"^survey_(?P<name>.+)_days_since$", "survey_days_since"),
    )
)


def feature_label(feature: str, lang: str | None = None) -> str:
    """The display name of a feature column (the column name itself when unknown)."""
    key = f"predict_feat_{feature}"
    if key in catalog():
        return t(key, lang)
    for pattern, suffix in _PATTERNS:
        m = pattern.match(feature)
        if m:
            parts = m.groupdict()
            name = parts.get("name", "")
            if "cat" in parts:
                name = t(f"reason_{parts['cat']}", lang)
            if suffix.startswith("survey"):
                name = name.upper()
            return t(f"predict_feat_{suffix}", lang, w=parts.get("w", ""), name=name)
    return feature


def reason_label(category: str | None, lang: str | None = None) -> str:
    """The display name of a reason category (domain.md §3)."""
    return t(f"reason_{category or 'none'}", lang)
