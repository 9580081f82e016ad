"""``churnradar serve DIR``: the web app (a thin shell over web.app.create_app)."""

import os
from typing import Annotated, Any

import typer

from churnradar.cli.common import console, handle_errors, use_lang
from churnradar.exceptions import WorkspaceError
from churnradar.i18n import t


def register_serve(app: typer.Typer, lang: str, h: Any, Dir: Any, Lang: Any) -> None:
    @app.command("serve", help=h("serve"))
    @handle_errors(lang)
    def serve_cmd(
        directory: Dir,
        host: Annotated[str, typer.Option("--host", help=h("serve_host"))] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help=h("serve_port"))] = 8000,
        workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                             help=h("serve_workers"))] = 1,
        dev: Annotated[bool, typer.Option("--dev", help=h("serve_dev"))] = False,
        lang: Lang = None,
    ) -> None:
        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        try:
            import uvicorn

            from churnradar.web.app import create_app
            from churnradar.web.config import WebSettings
        except ModuleNotFoundError as exc:
            raise WorkspaceError(key="web_err_extra", module=exc.name or "fastapi") from None
        settings = (WebSettings(dev=True) if dev else WebSettings()).checked()
        if workers == 1:
            web = create_app(ws.root, settings)
            with console.status(t("web_serve_snapshot", lg)):
                folder = web.state.store.current().folder
        else:  # the workers open it; here it is only made ready
            from churnradar.web.db import open_database
            from churnradar.web.store import ensure_snapshot

            open_database(ws.root).dispose()  # migrated, or its error shown here

            with console.status(t("web_serve_snapshot", lg)):
                folder = ensure_snapshot(ws)
        console.print(t("web_serve_ready", lg, url=f"http://{host}:{port}/",
                        folder=str(folder.name)))
        if dev:
            console.print(f"[yellow]{t('web_serve_dev', lg)}[/yellow]")
        if workers == 1:
            uvicorn.run(web, host=host, port=port, log_level="info", proxy_headers=False)
            return
        # each worker process builds its own app from the environment. One secret for
        # all, or a cookie signed by one worker would not be accepted by the next
        # (--dev: this run's random key).
        os.environ["CHURNRADAR_WORKSPACE"] = str(ws.root)
        os.environ["CHURNRADAR_SECRET_KEY"] = settings.secret_key.get_secret_value()
        os.environ["CHURNRADAR_DEV"] = "true" if dev else "false"
        uvicorn.run("churnradar.web.app:app_from_env", factory=True, workers=workers,
                    host=host, port=port, log_level="info", proxy_headers=False)
