"""``churnradar serve DIR``: the web app (a thin shell over web.app.create_app)."""

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
        settings = WebSettings(dev=True) if dev else WebSettings()
        web = create_app(ws.root, settings)
        with console.status(t("web_serve_snapshot", lg)):
            snap = web.state.store.current()
        console.print(t("web_serve_ready", lg, url=f"http://{host}:{port}/",
                        folder=str(snap.folder.name)))
        if dev:
            console.print(f"[yellow]{t('web_serve_dev', lg)}[/yellow]")
        uvicorn.run(web, host=host, port=port, log_level="info", proxy_headers=False)
