"""churnradar (客户流失雷达): measure, explain, predict and reduce customer churn."""

from churnradar.exceptions import (
    ChurnRadarError,
    ImportFailed,
    InputError,
    NotFittedError,
    SchemaError,
    SettingsError,
    WorkspaceError,
)

__version__ = "0.1.0"

__all__ = [
    "ChurnRadarError", "ImportFailed", "InputError", "NotFittedError", "SchemaError",
    "SettingsError", "WorkspaceError", "__version__",
]
