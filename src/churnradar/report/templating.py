"""The Jinja2 environment of the report (autoescaping on: segment names are user data)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup


@cache
def environment() -> Environment:
    """The shared environment loading ``churnradar/report/templates``."""
    return Environment(
        loader=PackageLoader("churnradar.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(template: str, /, **context: Any) -> Markup:
    """Render a template of the report to safe markup."""
    return Markup(environment().get_template(template).render(**context))


def read_static(name: str) -> str:
    """The text of a static file in the templates folder (the stylesheet)."""
    loader = environment().loader
    assert loader is not None
    source, _, _ = loader.get_source(environment(), name)
    return source
