"""Which reason category of domain.md §3 a feature points to, as data.

A driver of a customer's risk score is mapped to a reason category where the feature
implies one: complaints and poor satisfaction → service, a price rise or paying above
the plan's usual price → price, fewer discounts/rebates → benefit, the owner left or
the owner's customers are leaving → management, payment failures → management (payment
terms; the churn-type hint is non-malicious passive churn, prevented by reminders).
Features that describe behaviour without saying why (usage, orders, tenure) map to
nothing: a fading customer is a symptom, not a reason.
"""

from __future__ import annotations

import re

from churnradar import schema as s

#: (pattern on the feature name, reason category, churn-type hint or None); first match wins
FEATURE_REASONS: tuple[tuple[str, str, str | None], ...] = (
    # complaints with a recorded category point to that category
    *((rf"^complaints_{cat}_", cat, None) for cat in s.REASON_CATEGORIES),
    (r"^complaint|^complaints_|^days_since_complaint", "service", "retaliatory"),
    (r"^survey_", "service", None),
    (r"^payment_failures_", "management", "non_malicious"),
    (r"^discounts_", "benefit", None),
    (r"^(amount_change|price_vs_plan|monthly_amount$|amount_vs_max)", "price", None),
    (r"^(owner_left|days_since_owner_left|owner_churn_rate)", "management", None),
    (r"^(product|plan_changes|days_since_plan_change)", "product", None),
)
_COMPILED = tuple((re.compile(p), cat, hint) for p, cat, hint in FEATURE_REASONS)


def reason_of(feature: str) -> tuple[str | None, str | None]:
    """(reason category, churn-type hint) a feature implies, or (None, None)."""
    for pattern, cat, hint in _COMPILED:
        if pattern.search(feature):
            return cat, hint
    return None, None
