"""Rendering pages: the Jinja2 environment with the catalog, number formats and the
signed-in user in every template."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from churnradar import i18n
from churnradar.web.deps import CSRF_FIELD, Auth, request_lang
from churnradar.web.models import ROLES

#: the navigation: (path, catalog key, roles that see it)
NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/", "web_nav_home", ROLES),
    ("/overview", "web_nav_overview", ROLES),
    ("/segments", "web_nav_segments", ROLES),
    ("/customers", "web_nav_customers", ROLES),
    ("/reasons", "web_nav_reasons", ROLES),
    ("/plan", "web_nav_plan", ROLES),
    ("/tasks", "web_nav_tasks", ROLES),
    ("/import", "web_nav_import", ("admin",)),
    ("/settings", "web_nav_settings", ("admin",)),
    ("/users", "web_nav_users", ("admin",)),
    ("/audit", "web_nav_audit", ("admin",)),
)


def make_templates() -> Jinja2Templates:
    folder = str(resources.files("churnradar.web") / "templates")
    env = Environment(loader=FileSystemLoader(folder),
                      autoescape=select_autoescape(["html", "xml"]),
                      trim_blocks=True, lstrip_blocks=True,
                      # the templates ship with the package: no stat() per page to see
                      # whether they changed
                      auto_reload=False)
    env.filters["tojson_attr"] = lambda v: Markup(json.dumps(v, ensure_ascii=False,
                                                             default=str))
    return Jinja2Templates(env=env)


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           auth: Auth | None = None, status_code: int = 200) -> HTMLResponse:
    """``template`` rendered in the request's language with the helpers every page uses:
    ``_`` (catalog), ``fmt_int``/``fmt_pct``/``fmt_money``/``fmt_num``/``fmt_date``,
    ``user``, ``csrf_field`` (the hidden form field) and ``nav``."""
    lang = request_lang(request)
    auth = auth if auth is not None else getattr(request.state, "auth", None)
    user = auth.user if auth is not None else None
    csrf = context.get("csrf") if context and "csrf" in context else (
        auth.csrf if auth is not None else "")

    def _(key: str, **kwargs: Any) -> str:
        return i18n.t(key, lang, **kwargs)

    ctx: dict[str, Any] = {
        "request": request, "lang": lang, "languages": i18n.LANGUAGES, "_": _,
        "user": user, "csrf": csrf,
        "csrf_field": Markup(f'<input type="hidden" name="{CSRF_FIELD}" '
                             f'value="{Markup.escape(csrf)}">'),
        "nav": [(p, k) for p, k, roles in NAV if user is not None and user.role in roles],
        "fmt_int": lambda v: i18n.fmt_int(v, lang),
        "fmt_num": lambda v, d=2: i18n.fmt_num(v, lang, d),
        "fmt_pct": lambda v, d=1: i18n.fmt_pct(v, lang, d),
        "fmt_money": lambda v: i18n.fmt_money(v, lang, request.app.state.currency),
        "fmt_date": lambda v: i18n.fmt_date(v, lang),
        "path": request.url.path,
    }
    ctx.update(context or {})
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)
