"""``churnradar value …``: the value job of a workspace (``value DIR``), value models on
any transaction file (``value fit FILE``) and the sBG cohort fit (``value sbg``)."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from churnradar.cli.common import console, handle_errors, step_progress, use_lang
from churnradar.i18n import fmt_int, fmt_money, fmt_num, fmt_pct, t

TIERS = ("high", "medium", "low")


class _DefaultRun(TyperGroup):
    """``churnradar value DIR`` runs ``value run DIR``; ``fit`` and ``sbg`` stay commands."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


def params_table(models: dict[str, dict[str, Any]], lang: str) -> Table:
    table = Table(title=t("valuecli_params_title", lang))
    for key in ("valuecli_col_model", "valuecli_col_param", "valuecli_col_estimate",
                "valuecli_col_se"):
        table.add_column(t(key, lang), justify="left" if key.endswith("model") else "right")
    for name, info in models.items():
        first = True
        for p, v in info["params"].items():
            se = info.get("standard_errors", {}).get(p)
            table.add_row(t(f"valuecli_model_{name}", lang) if first else "", p,
                          fmt_num(v, lang, 4), "—" if se is None else fmt_num(se, lang, 4))
            first = False
        table.add_row("", "LL", fmt_num(info["log_likelihood"], lang, 1), "")
    return table


def matrix_table(matrix: Any, lang: str, currency: str) -> Table:
    """Value tiers down, risk tiers across: customers and CLV in each cell."""
    table = Table(title=t("valuecli_matrix_title", lang), show_lines=True)
    table.add_column("")
    for r in TIERS:
        table.add_column(t(f"matrix_risk_{r}", lang), justify="right")
    cells = {(row.value_tier, row.risk_tier): row for row in matrix.itertuples()}
    for v in TIERS:
        out = []
        for r in TIERS:
            c = cells[(v, r)]
            out.append(f"{fmt_int(c.customers, lang)}\n{fmt_money(c.clv, lang, currency)}")
        table.add_row(t(f"matrix_value_{v}", lang), *out)
    return table


def build_value_app(lang: str, h: Any, Dir: Any, Lang: Any) -> typer.Typer:
    """The ``value`` sub-app (help texts in ``lang``)."""
    lang_default = lang
    app = typer.Typer(name="value", help=h("value"), cls=_DefaultRun, no_args_is_help=True,
                      rich_markup_mode="rich")
    Json = Annotated[bool, typer.Option("--json", help=h("json"))]

    @app.command("run", help=h("value_run"))
    @handle_errors(lang)
    def run_cmd(directory: Dir,
                as_of: Annotated[str | None, typer.Option("--as-of", help=h("as_of"))] = None,
                top: Annotated[int, typer.Option("--top", help=h("top"))] = 15,
                json_: Json = False, lang: Lang = None) -> None:
        from churnradar.cli.app import _date
        from churnradar.value.jobs import value_job
        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        with step_progress(lg) as step:
            res = value_job(ws, as_of=_date(as_of), step=step)
        summary = res.summary()
        if json_:
            typer.echo(json.dumps({**summary, "run_dir": str(res.run_dir)},
                                  ensure_ascii=False, default=str))
            return
        cur = ws.settings.currency
        console.print(params_table(res.models, lg))
        hs = res.holdout_summary
        if hs.get("actual_purchases") is not None:
            console.print(t("valuecli_holdout", lg, start=hs["calibration_end"],
                            end=hs["observation_end"],
                            actual=fmt_num(hs["actual_purchases"], lg, 0),
                            predicted=fmt_num(hs["predicted_purchases"], lg, 0),
                            error=fmt_pct(hs["total_error"] or 0.0, lg, 1)))
        console.print(matrix_table(res.matrix, lg, cur))
        table = Table(title=t("valuecli_top_title", lg, n=min(top, len(res.customers))))
        for key in ("predict_col_customer", "valuecli_col_clv", "valuecli_col_risk",
                    "valuecli_col_value_tier", "valuecli_col_action"):
            table.add_column(t(key, lg))
        for row in res.customers.head(top).itertuples():
            table.add_row(str(row.customer_id), fmt_money(row.clv, lg, cur),
                          fmt_pct(row.risk, lg, 1), t(f"matrix_value_{row.value_tier}", lg),
                          t(f"matrix_action_{row.action}", lg))
        console.print(table)
        console.print(t("valuecli_done", lg, customers=fmt_int(summary["customers"], lg),
                        as_of=str(res.as_of), clv=fmt_money(summary["clv_total"], lg, cur),
                        at_risk=fmt_money(summary["value_at_risk"], lg, cur),
                        source=t(f"valuecli_risk_{res.risk_source}", lg),
                        path=str(res.run_dir)))

    @app.command("fit", help=h("value_fit"))
    @handle_errors(lang)
    def fit_cmd(
        file: Annotated[Path, typer.Argument(help=h("file"), show_default=False)],
        model: Annotated[str, typer.Option("--model", help=h("value_model"))],
        id_: Annotated[str, typer.Option("--id", help=h("value_id"))],
        date: Annotated[str, typer.Option("--date", help=h("value_date"))],
        calibration_end: Annotated[str, typer.Option("--calibration-end",
                                                     help=h("calibration_end"))],
        amount: Annotated[str | None, typer.Option("--amount", help=h("value_amount"))
                          ] = None,
        unit: Annotated[float, typer.Option("--time-unit-days", help=h("time_unit_days"))
                        ] = 7.0,
        json_: Json = False, lang: Lang = None,
    ) -> None:
        from churnradar.cli.app import _date
        from churnradar.i18n import check_language
        from churnradar.value.tabular import fit_file

        lg = use_lang(check_language(lang or lang_default))
        end = _date(calibration_end)
        assert end is not None
        res = fit_file(file, model=model, id_col=id_, date_col=date, amount_col=amount,
                       calibration_end=end, time_unit_days=unit)
        if json_:
            typer.echo(json.dumps(res, ensure_ascii=False))
            return
        console.print(params_table({model: res}, lg))
        console.print(t("valuecli_fit_done", lg, n=fmt_int(res["n_customers"], lg),
                        end=res["calibration_end"], unit=fmt_num(unit, lg, 0)))

    @app.command("sbg", help=h("value_sbg"))
    @handle_errors(lang)
    def sbg_cmd(
        surviving: Annotated[str, typer.Option("--surviving", help=h("surviving"))],
        periods: Annotated[int | None, typer.Option("--periods", help=h("periods"))] = None,
        json_: Json = False, lang: Lang = None,
    ) -> None:
        from churnradar.i18n import check_language
        from churnradar.value.tabular import fit_sbg, parse_surviving

        lg = use_lang(check_language(lang or lang_default))
        values = parse_surviving(surviving)
        res = fit_sbg(values, periods)
        if json_:
            typer.echo(json.dumps(res, ensure_ascii=False))
            return
        console.print(params_table({"sbg": res}, lg))
        table = Table(title=t("valuecli_sbg_title", lg))
        for key in ("valuecli_col_period", "valuecli_col_actual", "valuecli_col_projected"):
            table.add_column(t(key, lg), justify="right")
        for i, p in enumerate(res["projected"]):
            actual = fmt_num(values[i], lg, 1) if i < len(values) else "—"
            table.add_row(str(i), actual, fmt_num(p, lg, 1))
        console.print(table)

    return app

