"""The server's own settings, from the environment (pydantic ``BaseSettings``).

``CHURNRADAR_SECRET_KEY`` signs the session cookies and the CSRF tokens. Outside
development (``churnradar serve --dev``) the server refuses to start when it is empty,
a well-known placeholder, or shorter than 32 characters: a guessable key lets anybody
forge a session. In development an empty key is replaced by a random one for this run
(sessions then end when the server stops).
"""

from __future__ import annotations

import secrets

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from churnradar.exceptions import SettingsError

SECRET_ENV = "CHURNRADAR_SECRET_KEY"
MIN_SECRET_LENGTH = 32
#: placeholders people copy from examples; never accepted outside --dev
PLACEHOLDER_SECRETS = frozenset({
    "", "changeme", "change-me", "changethis", "secret", "secret-key", "dev", "development",
    "churnradar", "default", "password", "test", "insecure",
})


class WebSettings(BaseSettings):
    """Read from ``CHURNRADAR_*`` environment variables (e.g. ``CHURNRADAR_SECRET_KEY``)."""

    model_config = SettingsConfigDict(env_prefix="CHURNRADAR_", extra="ignore")

    secret_key: SecretStr = SecretStr("")
    #: development mode: a missing secret is replaced by a random one; cookies not Secure
    dev: bool = False
    #: send cookies only over HTTPS (set it when a TLS proxy is in front)
    cookie_secure: bool = False
    #: a session ends this many seconds after sign-in
    session_max_age: int = 8 * 3600
    #: failed sign-ins of one user name (or from one address) before it is throttled
    login_max_failures: int = 5
    #: ... within this many seconds; the throttle lifts when the window has passed
    login_window_seconds: int = 15 * 60
    #: rows per page of the customer lists
    page_size: int = 50
    #: the largest file the import page accepts, in MB
    max_upload_mb: int = 200

    def checked(self) -> WebSettings:
        """These settings with a usable secret, or :class:`SettingsError` saying why not."""
        key = self.secret_key.get_secret_value()
        weak = key.strip().lower() in PLACEHOLDER_SECRETS or len(key) < MIN_SECRET_LENGTH
        if not weak:
            return self
        if self.dev:
            if key:
                return self
            return self.model_copy(update={"secret_key": SecretStr(secrets.token_urlsafe(32))})
        raise SettingsError(key="web_err_secret", env=SECRET_ENV, n=MIN_SECRET_LENGTH)
