"""What every command shares: the language, the consoles, errors and progress bars."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from churnradar.exceptions import ChurnRadarError
from churnradar.i18n import check_language, t

F = TypeVar("F", bound=Callable[..., Any])

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def lang_from_argv(argv: list[str]) -> str:
    """The language asked for with ``--lang X`` / ``--lang=X``, else CHURNRADAR_LANG, else
    zh-CN. Help texts are built before Typer parses anything, so this looks ahead."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value:
            try:
                return check_language(value)
            except ChurnRadarError:
                break
    env = os.environ.get("CHURNRADAR_LANG")
    if env:
        try:
            return check_language(env)
        except ChurnRadarError:
            pass
    return "zh-CN"


def fail(message: str, lang: str) -> typer.Exit:
    """Print a one-line red error and return the Exit(1) to raise."""
    text = escape(" ".join(str(message).split()))  # "[metrics]" is text, not markup
    err_console.print(f"[bold red]{t('cli_error', lang)}[/] [red]{text}[/]", soft_wrap=True)
    return typer.Exit(1)


#: the language of the running command's messages; a command working in a workspace
#: sets it to the workspace's language unless --lang was given (see use_workspace_lang)
_current_lang: ContextVar[str] = ContextVar("churnradar_cli_lang", default="zh-CN")


def use_lang(lang: str) -> str:
    """Make ``lang`` the language of this command's messages (errors included)."""
    _current_lang.set(lang)
    return lang


def _safe_lang(lang: str | None, default: str) -> str:
    try:
        return check_language(lang) if lang else default
    except ChurnRadarError:
        return default


def handle_errors(default_lang: str, lang_arg: str = "lang") -> Callable[[F], F]:
    """Turn library errors into a red line and exit code 1, never a traceback."""

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            use_lang(_safe_lang(kwargs.get(lang_arg), default_lang))
            try:
                if kwargs.get(lang_arg):
                    kwargs[lang_arg] = check_language(kwargs[lang_arg])
                return fn(*args, **kwargs)
            except ChurnRadarError as exc:
                lang = _current_lang.get()
                raise fail(exc.localized(lang), lang) from None
            except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
                raise fail(f"{exc.strerror}: {exc.filename}", _current_lang.get()) from None

        return wrapper  # type: ignore[return-value]

    return deco


def make_progress(transient: bool = True) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=transient,
        disable=not err_console.is_terminal and os.environ.get("CHURNRADAR_PROGRESS") != "1",
    )


@contextmanager
def step_progress(lang: str) -> Iterator[Callable[[str, int, int | None], None]]:
    """A Rich progress display fed by the pipeline's ``step(name, done, total)``."""
    with make_progress() as progress:
        tasks: dict[str, Any] = {}

        def step(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(t(f"cli_step_{name}", lang), total=total)
            progress.update(tasks[name], completed=done, total=total)

        yield step
