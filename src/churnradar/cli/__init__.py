"""The ``churnradar`` command line (Typer + Rich), in zh-CN and en.

The language of help texts and messages is chosen before parsing: ``--lang en`` anywhere
on the command line, else ``CHURNRADAR_LANG``, else zh-CN; commands that work in a
workspace default to the workspace's language.
"""

from __future__ import annotations

import os
import sys

import typer
from typer.exceptions import Abort

try:  # Typer 0.2x vendors Click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older Typer on top of Click
    from click.exceptions import UsageError  # type: ignore[no-redef,assignment]

from churnradar.cli.app import build_app
from churnradar.cli.common import err_console, fail, lang_from_argv

__all__ = ["build_app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors and library errors are one red line and exit code 1."""
    args = list(sys.argv[1:] if argv is None else argv)
    lang = lang_from_argv(args)
    app = build_app(lang)
    try:
        code = app(args=args, prog_name="churnradar", standalone_mode=False)
    except UsageError as exc:
        err_console.print(exc.format_message() if exc.ctx is None else
                          f"{exc.ctx.command_path}: {exc.format_message()}", style="red")
        raise SystemExit(1) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except Abort:
        raise SystemExit(1) from None
    except Exception as exc:  # an unexpected failure: one line, traceback only on request
        if os.environ.get("CHURNRADAR_DEBUG"):
            raise
        try:
            fail(f"{type(exc).__name__}: {exc} (CHURNRADAR_DEBUG=1 shows the traceback)", lang)
        finally:
            raise SystemExit(2) from None
    raise SystemExit(code if isinstance(code, int) else 0)
