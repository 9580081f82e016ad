"""``churnradar survival DIR``: Kaplan-Meier by group, log-rank tests, the Cox model and
the remaining lifetime of active customers (a thin shell over survival.jobs)."""

import json
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from churnradar.cli.common import console, handle_errors, step_progress, use_lang
from churnradar.i18n import fmt_int, fmt_num, fmt_pct, t


def register_survival(app: typer.Typer, lang: str, h: Any, Dir: Any, Lang: Any) -> None:
    """``churnradar survival DIR``."""

    @app.command("survival", help=h("survival"))
    @handle_errors(lang)
    def survival_cmd(directory: Dir,
                     as_of: Annotated[str | None, typer.Option("--as-of", help=h("as_of"))
                                      ] = None,
                     by: Annotated[str | None, typer.Option("--by", help=h("survival_by"))] = None,
                     top: Annotated[int, typer.Option("--top", help=h("top"))] = 10,
                     json_: Annotated[bool, typer.Option("--json", help=h("json"))] = False,
                     lang: Lang = None) -> None:
        import math

        from churnradar.cli.app import _date
        from churnradar.report.survival import group_text, grouping_text
        from churnradar.survival.jobs import job_options, survival_job
        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        options = job_options(ws.settings)
        if by:
            options["groupings"] = [g.strip() for g in by.split(",") if g.strip()]
        with step_progress(lg) as step:
            res = survival_job(ws, as_of=_date(as_of), step=step, **options)
        if json_:
            typer.echo(json.dumps({**res.summary, "run_dir": str(res.run_dir)},
                                  ensure_ascii=False, default=str))
            return
        summ = res.km.summary
        horizons = list(options["horizons"])
        table = Table(title=t("report_section_survival", lg))
        for key in ("survival_col_grouping", "survival_col_group", "survival_col_n",
                    "survival_col_churned", "report_survival_median"):
            table.add_column(t(key, lg))
        for hd in horizons:
            table.add_column(t("survival_col_survival_at", lg, days=hd), justify="right")
        p_of = dict(zip(res.km.logrank["grouping"], res.km.logrank["p_value"], strict=True))
        seen: set[str] = set()
        for _, row in summ.iterrows():
            g = str(row["grouping"])
            m = float(row["median_days"])
            median = fmt_num(m, lg, 0) if math.isfinite(m) else "—"
            cells = [fmt_pct(row[f"survival_{hd}d"], lg, 1)
                     if pd.notna(row.get(f"survival_{hd}d"))
                     else "—" for hd in horizons]
            label = "" if g in seen else (grouping_text(g, lg) if g != "all" else "—")
            seen.add(g)
            table.add_row(label, group_text(g, str(row["group"]), lg),
                          fmt_int(int(row["n"]), lg), fmt_int(int(row["churned"]), lg),
                          median, *cells)
        console.print(table)
        for g, p in sorted(p_of.items(), key=lambda kv: kv[1]):
            key = ("survival_logrank_significant" if p < 0.05
                   else "survival_logrank_not_significant")
            console.print(t(key, lg, grouping=grouping_text(str(g), lg),
                            p="p < 0.001" if p < 0.001 else f"p = {fmt_num(float(p), lg, 3)}"))
        if res.cox is not None:
            cox = Table(title=t("survival_cox_title", lg))
            for key in ("survival_col_covariate", "survival_col_hazard_ratio",
                        "survival_col_p_value"):
                cox.add_column(t(key, lg))
            for _, row in res.cox.summary.sort_values("p_value").head(top).iterrows():
                level = row["level"] if isinstance(row["level"], str) and row["level"] else ""
                cox.add_row(f"{row['variable']} {level}".strip(),
                            fmt_num(float(row["hazard_ratio"]), lg, 2),
                            fmt_num(float(row["p_value"]), lg, 4))
            console.print(cox)
        s = res.summary
        median = (t("report_survival_days", lg, n=fmt_num(s["median_days"], lg, 0))
                  if s.get("median_reached") else t("survival_median_not_reached", lg))
        console.print(t("survival_msg_done", lg, customers=fmt_int(s["customers"], lg),
                        churned=fmt_int(s["churned"], lg), median=median,
                        path=str(res.run_dir)))

