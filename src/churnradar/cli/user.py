"""``churnradar user …``: the web app's users and API tokens (a thin shell over
web.accounts). Passwords come from standard input only, never from the command line."""

import sys
from typing import Annotated, Any

import typer

from churnradar.cli.common import console, err_console, handle_errors, use_lang
from churnradar.exceptions import InputError
from churnradar.i18n import t


def build_user_app(lang: str, h: Any, Dir: Any, Lang: Any) -> typer.Typer:
    """The ``user`` sub-app (help texts in ``lang``)."""
    app = typer.Typer(name="user", help=h("user"), no_args_is_help=True,
                      rich_markup_mode="rich")
    Name = Annotated[str, typer.Argument(help=h("user_name"), show_default=False)]

    @app.command("add", help=h("user_add"))
    @handle_errors(lang)
    def add_cmd(
        directory: Dir,
        name: Name,
        role: Annotated[str, typer.Option("--role", help=h("role"), show_default=False)],
        owner_id: Annotated[str | None, typer.Option("--owner-id", help=h("owner_id"))
                            ] = None,
        password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                     help=h("password_stdin"))] = False,
        lang: Lang = None,
    ) -> None:
        from churnradar.web.accounts import create_user
        from churnradar.web.db import open_database, printable_url, session_scope
        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        if not password_stdin:
            raise InputError(key="web_err_password_stdin")
        if sys.stdin.isatty():  # typed by hand: do not echo it
            import getpass

            password = getpass.getpass(f"{name}: ")
        else:
            password = sys.stdin.read().rstrip("\r\n")
        if not password:
            raise InputError(key="web_err_password_empty")
        engine = open_database(ws.root)
        try:
            with session_scope(engine) as session:
                user = create_user(session, name=name, role=role, password=password,
                                   owner_id=owner_id)
            where = printable_url(engine)
        finally:
            engine.dispose()
        console.print(t("web_user_created", lg, name=user.name, role=user.role, db=where))
        if user.role == "sales":
            console.print(t("web_user_owner", lg, owner_id=user.owner_id))

    @app.command("token", help=h("user_token"))
    @handle_errors(lang)
    def token_cmd(directory: Dir, name: Name, lang: Lang = None) -> None:
        from churnradar.web.accounts import issue_token
        from churnradar.web.db import open_database, session_scope
        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        engine = open_database(ws.root)
        try:
            with session_scope(engine) as session:
                token = issue_token(session, name=name)
        finally:
            engine.dispose()
        typer.echo(token)  # stdout holds the token alone: TOKEN=$(churnradar user token …)
        err_console.print(t("web_token_note", lg, name=name))

    return app

