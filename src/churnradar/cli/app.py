"""``churnradar`` commands. Each parses its input, calls one library function and formats
the result (style.md §6: no business logic here)."""

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from churnradar import __version__
from churnradar.cli.common import (
    console,
    handle_errors,
    make_progress,
    step_progress,
    use_lang,
)
from churnradar.cli.render import calc_table, periods_table, safety_table, segments_table
from churnradar.exceptions import InputError
from churnradar.i18n import fmt_int, t


def _parse_map(items: list[str] | None, lang: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise InputError(t("cli_bad_map", lang, item=item))
        src, dst = item.split("=", 1)
        if not src.strip() or not dst.strip():
            raise InputError(t("cli_bad_map", lang, item=item))
        mapping[src.strip()] = dst.strip()
    return mapping


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(key="err_as_of", value=value) from None


def _with_lang(sub: typer.Typer, Lang: object) -> typer.Typer:
    """Let a command group accept ``--lang`` before its command (``churnradar value
    --help --lang en``): the language is read ahead of parsing (cli.common.
    lang_from_argv), so the group only has to accept the option."""
    if sub.registered_callback is None:

        @sub.callback()
        def _group(lang: Lang = None) -> None:  # type: ignore[valid-type]
            """(accepts --lang)"""

    return sub


def build_app(lang: str) -> typer.Typer:
    """The Typer application with help texts in ``lang``.

    ``lang`` is also the default language of commands that work without a workspace;
    commands in a workspace default to the workspace's language. ``--lang`` overrides.
    """
    app_lang = lang

    def h(key: str) -> str:
        return t(f"cli_help_{key}", lang)

    app = typer.Typer(
        name="churnradar", help=h("app"), no_args_is_help=True, add_completion=False,
        rich_markup_mode="rich", context_settings={"help_option_names": ["-h", "--help"]},
    )
    Lang = Annotated[str | None, typer.Option("--lang", help=h("lang"))]
    Dir = Annotated[Path, typer.Argument(help=h("dir"), show_default=False)]

    def version_cb(value: bool) -> None:
        if value:
            console.print(f"churnradar {__version__}")
            raise typer.Exit()

    @app.callback()
    def root(
        version: Annotated[bool, typer.Option("--version", callback=version_cb,
                                              is_eager=True, help=h("version"))] = False,
        lang: Lang = None,
    ) -> None:
        """churnradar"""

    # --- init ------------------------------------------------------------------------
    @app.command("init", help=h("init"))
    @handle_errors(app_lang)
    def init_cmd(directory: Dir, lang: Lang = None) -> None:
        from churnradar.i18n import check_language
        from churnradar.workspace import Workspace

        lg = check_language(lang or app_lang)
        ws = Workspace.create(directory, language=lg)
        console.print(t("cli_init_done", lg, path=str(ws.root)))
        console.print(t("cli_next_import", lg, path=str(ws.root)))

    # --- import ----------------------------------------------------------------------
    @app.command("import", help=h("import"))
    @handle_errors(app_lang)
    def import_cmd(
        directory: Dir,
        table: Annotated[str, typer.Argument(help=h("table"), show_default=False)],
        file: Annotated[Path, typer.Argument(help=h("file"), show_default=False)],
        map_: Annotated[list[str] | None, typer.Option("--map", help=h("map"))] = None,
        sheet: Annotated[str | None, typer.Option(help=h("sheet"))] = None,
        encoding: Annotated[str | None, typer.Option(help=h("encoding"))] = None,
        strict: Annotated[bool, typer.Option("--strict/--skip-bad-rows", help=h("strict"))
                          ] = True,
        append: Annotated[bool, typer.Option("--append", help=h("append"))] = False,
        reject_file: Annotated[Path | None, typer.Option(help=h("reject_file"))] = None,
        lang: Lang = None,
    ) -> None:
        from churnradar.io import import_table
        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        mapping = _parse_map(map_, lg)
        with make_progress() as progress:
            task = progress.add_task(t("cli_step_import", lg), total=None)

            def report(done: int, total: int | None) -> None:
                progress.update(task, completed=done, total=total)

            res = import_table(ws, table, file, mapping=mapping or None, sheet=sheet,
                               encoding=encoding, strict=strict, append=append,
                               reject_file=reject_file, progress=report, lang=lg)
        console.print(t("cli_import_done", lg, table=res.table, rows=fmt_int(res.rows_imported, lg),
                        total=fmt_int(res.total_rows_in_table, lg), file=str(res.source)))
        if res.encoding:
            console.print(t("cli_import_encoding", lg, encoding=res.encoding))
        mapped = {k: v for k, v in res.mapping.items() if k != v}
        if mapped:
            console.print(t("cli_import_mapping", lg, mapping=", ".join(
                f"{k} → {v}" for k, v in mapped.items())))
        for warning in res.warnings:
            console.print(f"[yellow]{warning}[/]")
        if res.rows_rejected:
            console.print(t("cli_import_rejected", lg, rows=fmt_int(res.rows_rejected, lg),
                            path=str(res.rejects_path)), style="yellow")

    # --- tables ----------------------------------------------------------------------
    @app.command("tables", help=h("tables"))
    @handle_errors(app_lang)
    def tables_cmd(directory: Dir, lang: Lang = None) -> None:
        from rich.table import Table

        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        out = Table(title=t("cli_tables_title", lg, path=str(ws.root)))
        out.add_column(t("cli_table", lg))
        out.add_column(t("cli_rows", lg), justify="right")
        out.add_column(t("cli_columns", lg))
        for name in ws.tables():
            info = ws.table_info(name)
            out.add_row(name, fmt_int(info["rows"], lg), ", ".join(info["columns"]))
        console.print(out)

    # --- metrics ---------------------------------------------------------------------
    @app.command("metrics", help=h("metrics"))
    @handle_errors(app_lang)
    def metrics_cmd(
        directory: Dir,
        period: Annotated[str | None, typer.Option(help=h("period"))] = None,
        by: Annotated[list[str] | None, typer.Option("--by", help=h("by"))] = None,
        basis: Annotated[str | None, typer.Option(help=h("basis"))] = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help=h("as_of"))] = None,
        json_: Annotated[bool, typer.Option("--json", help=h("json"))] = False,
        lang: Lang = None,
    ) -> None:
        from churnradar.metrics.store import result_to_dict
        from churnradar.pipeline import run_metrics
        from churnradar.settings import BASES
        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        basis_ = basis or ws.settings.metrics.basis
        if basis_ not in BASES:
            raise InputError(key="err_basis", choices=", ".join(BASES), value=basis_)
        with step_progress(lg) as step:
            run = run_metrics(ws, period=period, dimensions=by, as_of=_date(as_of), step=step)
        result = run.result
        if json_:
            payload = result_to_dict(result)
            payload["run_dir"] = str(run.run_dir)
            typer.echo(json.dumps(payload, ensure_ascii=False, indent=1))
            return
        console.print(periods_table(result, lg, basis_))
        for dim in result.by:
            console.print(segments_table(result, dim, lg, basis_))
        console.print(safety_table(result, lg))
        console.print(t("cli_saved_run", lg, path=str(run.run_dir)))

    # --- calc ------------------------------------------------------------------------
    @app.command("calc", help=h("calc"))
    @handle_errors(app_lang)
    def calc_cmd(
        start: Annotated[int, typer.Option("--start", help=h("calc_start"))],
        new: Annotated[int, typer.Option("--new", help=h("calc_new"))],
        end: Annotated[int, typer.Option("--end", help=h("calc_end"))],
        lost_revenue: Annotated[float | None, typer.Option("--lost-revenue",
                                                           help=h("calc_lost"))] = None,
        arpu: Annotated[float | None, typer.Option("--arpu", help=h("calc_arpu"))] = None,
        current_arpu: Annotated[float | None, typer.Option("--current-arpu",
                                                           help=h("calc_current_arpu"))] = None,
        margin: Annotated[float | None, typer.Option("--margin", help=h("calc_margin"))
                          ] = None,
        json_: Annotated[bool, typer.Option("--json", help=h("json"))] = False,
        currency: Annotated[str, typer.Option(help=h("currency"))] = "CNY",
        lang: Lang = None,
    ) -> None:
        from churnradar.i18n import check_language
        from churnradar.metrics import aggregate_churn

        lg = check_language(lang or app_lang)
        r = aggregate_churn(start, new, end, lost_revenue=lost_revenue, arpu=arpu,
                            margin=margin, current_arpu=current_arpu)
        if json_:
            typer.echo(json.dumps(r.json_dict()))
            return
        console.print(calc_table(r, lg, currency))
        console.print(t("cli_calc_formula", lg))

    # --- report ----------------------------------------------------------------------
    @app.command("report", help=h("report"))
    @handle_errors(app_lang)
    def report_cmd(
        directory: Dir,
        out: Annotated[Path | None, typer.Option("--out", help=h("out"))] = None,
        excel: Annotated[Path | None, typer.Option("--excel", help=h("excel"))] = None,
        period: Annotated[str | None, typer.Option(help=h("period"))] = None,
        lang: Lang = None,
    ) -> None:
        from churnradar.pipeline import build_report
        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        with step_progress(lg) as step:
            res = build_report(ws, lang=lg, out=out, excel=excel, period=period, step=step)
        console.print(t("cli_report_done", lg, path=str(res.html)))
        if res.excel:
            console.print(t("cli_excel_done", lg, path=str(res.excel)))

    # --- demo ------------------------------------------------------------------------
    @app.command("demo", help=h("demo"))
    @handle_errors(app_lang)
    def demo_cmd(
        directory: Dir,
        industry: Annotated[str, typer.Option(help=h("industry"))] = "telecom",
        customers: Annotated[int, typer.Option(help=h("customers"))] = 20_000,
        seed: Annotated[int, typer.Option(help=h("seed"))] = 0,
        lang: Lang = None,
    ) -> None:
        from churnradar.i18n import check_language
        from churnradar.pipeline import run_demo

        lg = check_language(lang or app_lang)
        with step_progress(lg) as step:
            res = run_demo(directory, industry=industry, n_customers=customers, lang=lg,
                           random_state=seed, step=step)
        latest = res.report.result.latest()
        console.print(t("cli_demo_done", lg, path=str(res.workspace),
                        customers=fmt_int(customers, lg), industry=industry))
        console.print(periods_table(res.report.result, lg, "start", last=6))
        console.print(t("cli_report_done", lg, path=str(res.report.html.resolve())))
        if res.report.excel:
            console.print(t("cli_excel_done", lg, path=str(res.report.excel.resolve())))
        console.print(t("cli_demo_next", lg, path=str(res.workspace),
                        period=latest["label"]))

    # --- predict ---------------------------------------------------------------------
    from churnradar.cli.predict import build_predict_app

    app.add_typer(_with_lang(build_predict_app(app_lang, h, Dir, Lang), Lang),
                  name="predict")

    # --- value ---------------------------------------------------------------------
    from churnradar.cli.survival import register_survival
    from churnradar.cli.value import build_value_app

    app.add_typer(_with_lang(build_value_app(app_lang, h, Dir, Lang), Lang), name="value")
    register_survival(app, app_lang, h, Dir, Lang)

    # --- reasons and the retention plan -------------------------------------------
    from churnradar.cli.plan import register_plan
    from churnradar.cli.reasons import register_reasons

    register_reasons(app, app_lang, h, Dir, Lang)
    register_plan(app, app_lang, h, Dir, Lang)

    # --- the web app's users ------------------------------------------------------
    from churnradar.cli.user import build_user_app

    app.add_typer(_with_lang(build_user_app(app_lang, h, Dir, Lang), Lang), name="user")

    # --- the web app ---------------------------------------------------------------
    from churnradar.cli.serve import register_serve

    register_serve(app, app_lang, h, Dir, Lang)
    return app
