"""One hierarchy of errors and warnings for churnradar.

Every message states the fact and, where one exists, the fix ("Suggestion: ...").
The CLI turns any :class:`ChurnRadarError` into a one-line red message and exit code 1.
"""

from __future__ import annotations


class ChurnRadarError(Exception):
    """Base class of every error churnradar raises on purpose.

    An error raised with a catalog ``key`` (and its ``params``) can be shown in either
    language with :meth:`localized`; ``str(error)`` is the English text.
    """

    def __init__(self, message: str = "", *, key: str | None = None, **params: object):
        if key is not None and not message:
            from churnradar.i18n import t

            message = t(key, "en", **params)
        super().__init__(message)
        self.key = key
        self.params = params

    def localized(self, lang: str | None) -> str:
        """The message in ``lang`` (the English text where no catalog key was given)."""
        if self.key is None:
            return str(self)
        from churnradar.i18n import t

        return t(self.key, lang, **self.params)


class SchemaError(ChurnRadarError):
    """A table does not fit its contract (missing column, bad value, duplicate key...)."""


class ImportFailed(ChurnRadarError):
    """An import was refused; the workspace was left exactly as it was."""


class NotFittedError(ChurnRadarError, ValueError):
    """An estimator was used before ``fit``."""


class SettingsError(ChurnRadarError):
    """``churnradar.toml`` (or an argument standing in for it) is invalid."""


class WorkspaceError(ChurnRadarError):
    """The folder is not a workspace, or a table it needs is missing."""


class InputError(ChurnRadarError):
    """A command-line or API argument is out of range or inconsistent."""


class ModelFitError(ChurnRadarError):
    """A statistical model cannot be fitted to the data given (no repeat buyers, values
    out of range, a likelihood that cannot be maximised...)."""


class LeakageWarning(UserWarning):
    """Data after ``as_of`` could reach a feature."""


class ConvergenceWarning(UserWarning):
    """A model fit did not converge."""
