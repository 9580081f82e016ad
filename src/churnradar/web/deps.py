"""Dependencies of the routes (style.md §6): the database session, the signed-in user,
the language, the CSRF check and the role checks. ``HTTPException`` is raised here and
in the routes only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from churnradar.i18n import LANGUAGES
from churnradar.web.accounts import token_holder, token_touch_due, touch_token
from churnradar.web.db import session_scope
from churnradar.web.models import User, WebSession
from churnradar.web.sessions import ANON_COOKIE, SESSION_COOKIE, load_session, tokens_equal

LANG_COOKIE = "churnradar_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """A page needs a signed-in user: the app answers with a redirect to the sign-in."""


def read_session(request: Request) -> Iterator[Session]:
    """A read-only session: one consistent snapshot, no write lock."""
    with session_scope(request.app.state.engine, readonly=True) as s:
        yield s


def write_session(request: Request) -> Iterator[Session]:
    """A session that commits at the end of the request (rolled back on an error)."""
    with session_scope(request.app.state.engine) as s:
        yield s


# scope="function": the session ends (commits) before the response is sent. With the
# default ("request") the commit comes after the client has the answer, so a browser
# following the sign-in redirect at once could arrive before its session exists.
ReadSession = Annotated[Session, Depends(read_session, scope="function")]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]


@dataclass
class Auth:
    """Who is asking, and how: ``web`` is their browser session (None for an API token)."""

    user: User
    web: WebSession | None

    @property
    def sees_all(self) -> bool:
        """Admins and managers: every customer and task, the team views, turning the
        plan into tasks, reassigning; sales users see only their own."""
        return self.user.role != "sales"

    @property
    def owner_scope(self) -> str | None:
        """The only owner_id whose customers and tasks this user may see; None = all."""
        return None if self.sees_all else self.user.owner_id

    @property
    def csrf(self) -> str:
        return self.web.csrf if self.web is not None else ""


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def resolve_auth(request: Request) -> Auth | None:
    """The caller from ``Authorization: Bearer`` or the session cookie, else None.
    Cached on the request."""
    if hasattr(request.state, "auth"):
        return request.state.auth  # type: ignore[no-any-return]
    auth: Auth | None = None
    engine = request.app.state.engine
    token = _bearer(request)
    if token is not None:
        # a read takes no write lock; the token's last use is written at most once a
        # minute (a write per API call would queue every request behind SQLite's lock)
        with session_scope(engine, readonly=True) as s:
            holder = token_holder(s, token=token)
        if holder is not None:
            row, user = holder
            if token_touch_due(row):
                with session_scope(engine) as s:
                    touch_token(s, token_id=row.id)
            auth = Auth(user=user, web=None)
    else:
        sid = request.app.state.signer.unsign(request.cookies.get(SESSION_COOKIE))
        if sid:
            with session_scope(engine, readonly=True) as s:
                found = load_session(s, session_id=sid)
            if found is not None:
                auth = Auth(user=found[1], web=found[0])
    request.state.auth = auth
    return auth


def page_auth(request: Request) -> Auth:
    """The signed-in user of a page (else a redirect to the sign-in page)."""
    auth = resolve_auth(request)
    if auth is None or auth.web is None:
        raise LoginRequired()
    return auth


def api_auth(request: Request) -> Auth:
    """The caller of the API: a bearer token or a browser session (else 401)."""
    auth = resolve_auth(request)
    if auth is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated",
                            headers={"WWW-Authenticate": "Bearer"})
    return auth


PageAuth = Annotated[Auth, Depends(page_auth)]
ApiAuth = Annotated[Auth, Depends(api_auth)]


async def csrf_check(request: Request) -> None:
    """Refuse (403) a state-changing request made with the session cookie that does not
    send back the session's CSRF token, in the form field or the header. Requests with
    a bearer token carry no ambient credential and need none."""
    if request.method in SAFE_METHODS or _bearer(request) is not None:
        return
    auth = resolve_auth(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected: str | None
    if auth is not None and auth.web is not None:
        expected = auth.web.csrf
    else:  # the sign-in form: bound to the anonymous cookie
        anon = request.app.state.signer.unsign(request.cookies.get(ANON_COOKIE))
        expected = request.app.state.signer.anon_csrf(anon) if anon else None
    if not tokens_equal(sent, expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong")


CsrfChecked = Depends(csrf_check)


def require_role(*roles: str) -> Any:
    """A dependency refusing (403) users whose role is not one of ``roles``."""

    def check(request: Request) -> Auth:
        auth = resolve_auth(request)
        if auth is None:
            if request.url.path.startswith("/api/"):
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated")
            raise LoginRequired()
        if auth.user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "not allowed for this role")
        return auth

    return Depends(check)


def request_lang(request: Request) -> str:
    """``?lang=`` of this request, else the language cookie, else the workspace's."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGUAGES:
            return value
    return str(request.app.state.default_lang)


Lang = Annotated[str, Depends(request_lang)]
