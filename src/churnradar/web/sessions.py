"""Sign-in sessions, CSRF tokens and the sign-in throttle (HTTP-free, style.md §6).

- A session is a row of ``web_sessions``; the browser holds its id in a cookie signed
  with the server's secret (itsdangerous), HttpOnly and SameSite=Lax. Every sign-in makes
  a new row — an id planted before sign-in is never promoted (session fixation) — and
  signing out deletes it, so a copied cookie stops working as well.
- Each session has its own CSRF token; every form carries it and every state-changing
  request made with the cookie must send it back (form field or ``X-CSRF-Token``).
  Before sign-in the sign-in form is protected the same way by a token bound to a signed
  anonymous cookie.
- Failed sign-ins are audit-log rows (``login.failed``); the throttle counts them per
  user name and per client address within a window, so it holds across processes and
  restarts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from churnradar.web.accounts import audit
from churnradar.web.models import AuditLog, User, WebSession, utcnow

SESSION_COOKIE = "churnradar_session"
ANON_COOKIE = "churnradar_anon"
LOGIN_FAILED = "login.failed"


class Signer:
    """Signs and checks cookie values with the server's secret."""

    def __init__(self, secret: str, *, max_age: int):
        self._s = URLSafeTimedSerializer(secret, salt="churnradar-cookie")
        self._key = hashlib.sha256(("csrf:" + secret).encode()).digest()
        self.max_age = max_age

    def sign(self, value: str) -> str:
        return self._s.dumps(value)

    def unsign(self, token: str | None) -> str | None:
        if not token:
            return None
        try:
            value = self._s.loads(token, max_age=self.max_age)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def anon_csrf(self, anon_id: str) -> str:
        """The CSRF token of the sign-in form for an anonymous cookie ``anon_id``."""
        return hmac.new(self._key, anon_id.encode(), hashlib.sha256).hexdigest()


def tokens_equal(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def create_session(session: Session, *, user: User, max_age: int) -> WebSession:
    """A brand-new session for ``user`` (new id, new CSRF token); expired rows of any
    user are swept on the way."""
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    row = WebSession(id=secrets.token_urlsafe(32), user_id=user.id,
                     csrf=secrets.token_urlsafe(32), created_at=now,
                     expires_at=now + dt.timedelta(seconds=max_age))
    session.add(row)
    session.flush()
    return row


def load_session(session: Session, *, session_id: str | None) -> tuple[WebSession, User] | None:
    """The live session ``session_id`` and its active user, else None."""
    if not session_id:
        return None
    found = session.execute(  # one query (it runs on every request)
        select(WebSession, User).join(User, User.id == WebSession.user_id)
        .where(WebSession.id == session_id)).one_or_none()
    if found is None:
        return None
    row, user = found
    if row.expires_at <= utcnow() or not user.active:
        return None
    return row, user


def end_session(session: Session, *, session_id: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == session_id))


def end_user_sessions(session: Session, *, user_id: int) -> None:
    """Sign a user out everywhere (their role or password changed, or they left)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def recent_failures(session: Session, *, name: str, address: str, window_seconds: int
                    ) -> int:
    """Failed sign-ins for ``name`` or from ``address`` within the window (the larger)."""
    since = utcnow() - dt.timedelta(seconds=window_seconds)
    base = select(func.count()).select_from(AuditLog).where(
        AuditLog.action == LOGIN_FAILED, AuditLog.at >= since)
    by_name = session.scalar(base.where(AuditLog.target == f"user:{name}")) or 0
    by_addr = session.scalar(base.where(AuditLog.detail == _addr_detail(address))) or 0
    return max(int(by_name), int(by_addr))


def _addr_detail(address: str) -> str:
    return json.dumps({"address": address}, sort_keys=True)


def record_failure(session: Session, *, name: str, address: str) -> None:
    row = audit(session, user=None, action=LOGIN_FAILED, target=f"user:{name[:100]}")
    row.detail = _addr_detail(address)
    session.flush()
