"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from churnradar.web.accounts import audit, authenticate
from churnradar.web.deps import LANG_COOKIE, CsrfChecked, WriteSession, resolve_auth
from churnradar.web.render import render
from churnradar.web.sessions import (
    ANON_COOKIE,
    SESSION_COOKIE,
    create_session,
    end_session,
    recent_failures,
    record_failure,
)

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Only a path on this site (no scheme, no host, no //): no open redirect."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    parts = urlsplit(value)
    return "/" if parts.scheme or parts.netloc or "\\" in value else value


def _cookie_args(request: Request) -> dict[str, object]:
    s = request.app.state.settings
    return {"httponly": True, "samesite": "lax", "secure": bool(s.cookie_secure),
            "path": "/"}


def _login_page(request: Request, *, next_: str, error: str | None = None,
                status_code: int = 200) -> Response:
    signer = request.app.state.signer
    anon = signer.unsign(request.cookies.get(ANON_COOKIE)) or secrets.token_urlsafe(16)
    response = render(request, "login.html",
                      {"next": next_, "error": error, "csrf": signer.anon_csrf(anon)},
                      status_code=status_code)
    response.set_cookie(ANON_COOKIE, signer.sign(anon), max_age=3600,
                        **_cookie_args(request))  # type: ignore[arg-type]
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002
    auth = resolve_auth(request)
    if auth is not None and auth.web is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next_=_safe_next(next))


@router.post("/login", include_in_schema=False, dependencies=[CsrfChecked])
def login(request: Request, db: WriteSession, username: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002
    settings = request.app.state.settings
    address = request.client.host if request.client else "-"
    name = username.strip()[:100]
    if recent_failures(db, name=name, address=address,
                       window_seconds=settings.login_window_seconds
                       ) >= settings.login_max_failures:
        record_failure(db, name=name, address=address)
        minutes = max(1, settings.login_window_seconds // 60)
        return _login_page(request, next_=_safe_next(next), status_code=429,
                           error=_t(request, "web_login_throttled", minutes=minutes))
    user = authenticate(db, name=name, password=password)
    if user is None:
        record_failure(db, name=name, address=address)
        return _login_page(request, next_=_safe_next(next), status_code=401,
                           error=_t(request, "web_login_failed"))
    # a new session every time: whatever session id the browser had is not reused
    old = request.app.state.signer.unsign(request.cookies.get(SESSION_COOKIE))
    if old:
        end_session(db, session_id=old)
    web = create_session(db, user=user, max_age=settings.session_max_age)
    audit(db, user=user, action="login", target=f"user:{user.name}",
          detail={"address": address})
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, request.app.state.signer.sign(web.id),
                        max_age=settings.session_max_age,
                        **_cookie_args(request))  # type: ignore[arg-type]
    response.delete_cookie(ANON_COOKIE, path="/")
    return response


@router.post("/logout", include_in_schema=False, dependencies=[CsrfChecked])
def logout(request: Request, db: WriteSession) -> Response:
    auth = resolve_auth(request)
    if auth is not None and auth.web is not None:
        end_session(db, session_id=auth.web.id)
        audit(db, user=auth.user, action="logout", target=f"user:{auth.user.name}")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{lang}", include_in_schema=False)
def switch_language(request: Request, lang: str, next: str | None = None  # noqa: A002
                    ) -> Response:
    from churnradar.i18n import LANGUAGES

    response = RedirectResponse(_safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax",
                            path="/")
    return response


def _t(request: Request, key: str, **kwargs: object) -> str:
    from churnradar.i18n import t
    from churnradar.web.deps import request_lang

    return t(key, request_lang(request), **kwargs)
