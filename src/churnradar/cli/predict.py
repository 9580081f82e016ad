"""``churnradar predict …``: train, backtest, score, evaluate (thin shells, style.md §6)."""

import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from churnradar.cli.common import console, handle_errors, step_progress, use_lang
from churnradar.i18n import fmt_int, fmt_num, fmt_pct, t

#: metrics shown in the tables (catalog keys predict_metric_<name>)
METRICS: tuple[str, ...] = ("roc_auc", "pr_auc", "brier", "top_decile_lift", "capture_10",
                            "capture_20", "capture_30", "emp")
PERCENT = {"capture_10", "capture_20", "capture_30", "base_rate", "emp_fraction"}


def _fmt(name: str, value: Any, lang: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if name in PERCENT:
        return fmt_pct(float(value), lang)
    if name in ("n", "churners"):
        return fmt_int(int(value), lang)
    return fmt_num(float(value), lang, 3)


def metrics_table(rows: list[tuple[str, dict[str, Any]]], lang: str, title: str,
                  first: str = "predict_col_contender") -> Table:
    table = Table(title=title)
    table.add_column(t(first, lang))
    for m in METRICS:
        table.add_column(t(f"predict_metric_{m}", lang), justify="right")
    for label, values in rows:
        table.add_row(label, *(_fmt(m, values.get(m), lang) for m in METRICS))
    return table


def single_table(values: dict[str, Any], lang: str, title: str) -> Table:
    """One model's metrics, one per line (reads well in a narrow terminal)."""
    table = Table(title=title, show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for m in ("base_rate", *METRICS, "emp_fraction"):
        if m in values:
            table.add_row(t(f"predict_metric_{m}", lang), _fmt(m, values[m], lang))
    return table


def build_predict_app(lang: str, h: Any, Dir: Any, Lang: Any) -> typer.Typer:
    """The ``predict`` sub-app (help texts in ``lang``)."""
    lang_default = lang  # commands outside a workspace speak the language of the help
    app = typer.Typer(name="predict", help=h("predict"), no_args_is_help=True,
                      rich_markup_mode="rich")
    AsOf = Annotated[str | None, typer.Option("--as-of", help=h("as_of"))]
    Json = Annotated[bool, typer.Option("--json", help=h("json"))]

    @app.command("train", help=h("predict_train"))
    @handle_errors(lang)
    def train_cmd(directory: Dir, as_of: AsOf = None,
                  no_check: Annotated[bool, typer.Option("--no-check", help=h("no_check"))
                                      ] = False,
                  json_: Json = False, lang: Lang = None) -> None:
        from churnradar.cli.app import _date
        from churnradar.predict.jobs import train_job
        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        with step_progress(lg) as step:
            res = train_job(ws, as_of=_date(as_of), evaluate=not no_check, step=step)
        summary = res.trained.describe()
        if json_:
            typer.echo(json.dumps({**summary, "path": str(res.path)}, ensure_ascii=False,
                                  default=str))
            return
        tr = res.trained
        console.print(t("predict_trained", lg, rows=fmt_int(tr.rows, lg),
                        dates=len(tr.dates), first=tr.dates[0].isoformat(),
                        last=tr.dates[-1].isoformat(), churners=fmt_int(tr.churners, lg),
                        path=str(res.path)))
        ev = summary.get("evaluation")
        if ev:
            console.print(t("predict_check", lg, date=summary["evaluation_date"],
                            horizon=tr.horizon_days, auc=fmt_num(ev["roc_auc"], lg, 3),
                            lift=fmt_num(ev["top_decile_lift"], lg, 2),
                            brier=fmt_num(ev["brier"], lg, 4)))

    @app.command("backtest", help=h("predict_backtest"))
    @handle_errors(lang)
    def backtest_cmd(directory: Dir,
                     dates: Annotated[int | None, typer.Option("--dates",
                                                               help=h("backtest_dates"))] = None,
                     json_: Json = False, lang: Lang = None) -> None:
        from churnradar.predict.jobs import backtest_job
        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        with step_progress(lg) as step:
            res = backtest_job(ws, dates=dates, step=step)
        payload = res.result.to_dict()
        if json_:
            typer.echo(json.dumps({**payload, "run_dir": str(res.run_dir)},
                                  ensure_ascii=False, default=str))
            return
        rows = [(t(f"predict_contender_{r['contender']}", lg), r) for r in payload["mean"]]
        console.print(metrics_table(rows, lg, t("predict_backtest_title", lg,
                                                horizon=res.result.horizon_days,
                                                dates=len(payload["dates"]))))
        per = [(f"{r['date']} · {t('predict_contender_' + r['contender'], lg)}", r)
               for r in payload["per_date"]]
        console.print(metrics_table(per, lg, "", first="predict_col_date"))
        console.print(t("cli_saved_run", lg, path=str(res.run_dir)))

    @app.command("score", help=h("predict_score"))
    @handle_errors(lang)
    def score_cmd(directory: Dir, as_of: AsOf = None,
                  model: Annotated[Path | None, typer.Option("--model", help=h("model_file"))
                                   ] = None,
                  top: Annotated[int, typer.Option("--top", help=h("top"))] = 20,
                  json_: Json = False, lang: Lang = None) -> None:
        from churnradar.cli.app import _date
        from churnradar.features.names import feature_label, reason_label
        from churnradar.predict.jobs import score_job
        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        with step_progress(lg) as step:
            res = score_job(ws, as_of=_date(as_of), model=model, step=step)
        sc = res.scores
        tiers = sc["risk_tier"].value_counts()
        as_of_text = str(sc["as_of"].iloc[0].date()) if len(sc) else str(as_of)
        if json_:
            typer.echo(json.dumps({
                "as_of": as_of_text, "customers": len(sc),
                "tiers": {k: int(tiers.get(k, 0)) for k in ("high", "medium", "low")},
                "scores": str(res.run_dir / "scores.parquet"),
                "model": str(res.model_path), "trained_now": res.trained_now,
            }, ensure_ascii=False))
            return
        if res.trained_now:
            console.print(t("predict_trained_now", lg))
        table = Table(title=t("predict_top_title", lg, n=min(top, len(sc))))
        for key in ("predict_col_customer", "predict_col_probability", "predict_col_tier",
                    "predict_col_drivers", "predict_col_reason"):
            table.add_column(t(key, lg))
        drivers = [c for c in sc.columns if c.startswith("driver_") and c.count("_") == 1]
        for _, row in sc.head(top).iterrows():
            names = [feature_label(row[c], lg) for c in drivers if isinstance(row[c], str)]
            table.add_row(str(row["customer_id"]), fmt_pct(row["churn_probability"], lg),
                          t(f"predict_tier_{row['risk_tier']}", lg), "；".join(names)
                          if lg == "zh-CN" else "; ".join(names),
                          reason_label(row.get("top_reason") if isinstance(
                              row.get("top_reason"), str) else None, lg))
        console.print(table)
        console.print(t("predict_scored", lg, customers=fmt_int(len(sc), lg), as_of=as_of_text,
                        horizon=res.trained.horizon_days,
                        high=fmt_int(int(tiers.get("high", 0)), lg),
                        medium=fmt_int(int(tiers.get("medium", 0)), lg),
                        low=fmt_int(int(tiers.get("low", 0)), lg),
                        path=str(res.run_dir / "scores.parquet")))

    @app.command("evaluate", help=h("predict_evaluate"))
    @handle_errors(lang)
    def evaluate_cmd(
        file: Annotated[Path, typer.Argument(help=h("file"), show_default=False)],
        label: Annotated[str, typer.Option("--label", help=h("label"))],
        id_: Annotated[str | None, typer.Option("--id", help=h("id"))] = None,
        test: Annotated[Path | None, typer.Option("--test", help=h("test_file"))] = None,
        folds: Annotated[int, typer.Option("--folds", help=h("folds"))] = 5,
        kind: Annotated[str, typer.Option("--model", help=h("model_kind"))] = "lightgbm",
        seed: Annotated[int, typer.Option("--seed", help=h("seed"))] = 0,
        json_: Json = False, lang: Lang = None,
    ) -> None:
        from churnradar.i18n import check_language
        from churnradar.predict.tabular import evaluate_table, read_table_file

        lg = use_lang(check_language(lang or lang_default))
        df = read_table_file(file)
        test_df = read_table_file(test) if test is not None else None
        res = evaluate_table(df, label=label, id_column=id_, test=test_df, folds=folds,
                             kind=kind, random_state=seed)  # type: ignore[arg-type]
        mean = res.mean
        if json_:
            typer.echo(json.dumps(mean, ensure_ascii=False))
            return
        mode = (t("predict_mode_test", lg) if test is not None
                else t("predict_mode_folds", lg, folds=folds))
        title = t("predict_evaluate_title", lg, file=file.name, rows=fmt_int(res.n_rows, lg),
                  positives=fmt_int(res.positives, lg), mode=mode)
        console.print(single_table(mean, lg, title))

    return app
