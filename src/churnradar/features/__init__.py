"""Point-in-time behavioural features at observation dates (no future data)."""

from churnradar.features.build import (
    AS_OF,
    KEY_COLUMNS,
    build_features,
    feature_columns,
    feature_expr,
)
from churnradar.features.plan import FeaturePlan, make_plan
from churnradar.features.reasons import FEATURE_REASONS, reason_of

__all__ = [
    "AS_OF", "FEATURE_REASONS", "FeaturePlan", "KEY_COLUMNS", "build_features",
    "feature_columns", "feature_expr", "make_plan", "reason_of",
]
