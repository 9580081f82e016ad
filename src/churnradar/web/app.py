"""The web app: ``create_app(workspace)`` builds the FastAPI application that
``churnradar serve`` runs.

Pages are server-rendered (Jinja2) with Plotly served from the installed plotly package
(never a CDN); the JSON API lives under ``/api/v1`` with its own OpenAPI schema at
``/api/v1/openapi.json``. Routes are thin (style.md §6): they check the caller
(:mod:`churnradar.web.deps`), call one data function (:mod:`churnradar.web.store`,
:mod:`churnradar.web.tasks`, ...) and render.
"""

from __future__ import annotations

import json
import os
from importlib import import_module
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from churnradar.web.config import WebSettings
from churnradar.web.deps import LoginRequired
from churnradar.web.sessions import Signer
from churnradar.workspace import Workspace

#: page routers (``churnradar.web.routes.<name>.router``), in navigation order
PAGE_ROUTERS: tuple[str, ...] = ("auth", "pages", "customers", "tasks", "admin")
#: API routers (``churnradar.web.api.<name>.router``), mounted under /api/v1
API_ROUTERS: tuple[str, ...] = ("data", "tasks")
API_PREFIX = "/api/v1"

_HERE = Path(__file__).parent


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def create_app(workspace: str | Path, settings: WebSettings | None = None) -> FastAPI:
    """The application serving ``workspace``.

    Raises
    ------
    SettingsError
        No usable ``CHURNRADAR_SECRET_KEY`` outside development (:mod:`.config`).
    WorkspaceError
        The workspace or its app database cannot be opened.
    """
    from churnradar import __version__
    from churnradar.web.db import open_database
    from churnradar.web.render import make_templates, render
    from churnradar.web.store import Store

    settings = (settings or WebSettings()).checked()
    ws = Workspace.open(workspace)
    app = FastAPI(title="churnradar", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    app.state.ws = ws
    app.state.engine = open_database(ws.root)
    app.state.signer = Signer(settings.secret_key.get_secret_value(),
                              max_age=settings.session_max_age)
    app.state.templates = make_templates()
    app.state.store = Store(ws)
    app.state.default_lang = ws.settings.language
    app.state.currency = getattr(ws.settings, "currency", "CNY")
    _warm_formats(app.state.currency)

    api = FastAPI(title="churnradar API", version=__version__,
                  description="churnradar JSON API. Authenticate with "
                              "`Authorization: Bearer <token>` "
                              "(`churnradar user token DIR NAME`).",
                  docs_url="/docs", redoc_url=None, openapi_url="/openapi.json")
    api.state = app.state  # one workspace, engine and store for both

    @api.exception_handler(RequestValidationError)
    def invalid_request(_request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own handler echoes the input as UTF-8 and fails (500) on a lone
        # surrogate ("\ud800" in a JSON body): escape everything non-ASCII instead
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True,
                          default=str)
        return Response(body, status_code=422, media_type="application/json")

    for name in API_ROUTERS:
        api.include_router(import_module(f"churnradar.web.api.{name}").router)
    app.mount(API_PREFIX, api)
    for name in PAGE_ROUTERS:
        app.include_router(import_module(f"churnradar.web.routes.{name}").router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(_plotly_js(), media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        path = _HERE / "static" / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})

    @app.exception_handler(LoginRequired)
    def login_required(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        wants_html = "text/html" in request.headers.get("accept", "")
        if not wants_html:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return render(request, "error.html", {"status": exc.status_code,
                                              "detail": exc.detail},
                      status_code=exc.status_code)

    app.add_middleware(SecurityHeaders)
    return app


def _warm_formats(currency: str) -> None:
    """Load Babel's locale data now, not in the first requests (it takes a moment)."""
    import datetime as dt

    from churnradar import i18n

    for lang in i18n.LANGUAGES:
        i18n.fmt_date(dt.date.today(), lang)
        i18n.fmt_money(1.0, lang, currency)
        i18n.fmt_pct(0.5, lang, 1)
        i18n.fmt_num(1.5, lang)
        i18n.fmt_int(1, lang)


#: sent with every answer (unless a route set its own)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response: a plain ASGI middleware
    (Starlette's ``@app.middleware("http")`` wraps each request in a task and streams
    the body through a queue, about 1 ms of CPU per request here)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _v in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory churnradar.web.app:app_from_env`` (``churnradar serve
    --workers N``): the workspace comes from ``CHURNRADAR_WORKSPACE``. The snapshot is
    opened here, before the worker takes connections (else its first requests wait
    seconds for it on a large workspace)."""
    app = create_app(os.environ["CHURNRADAR_WORKSPACE"])
    app.state.store.current()
    return app
