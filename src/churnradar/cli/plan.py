"""``churnradar plan DIR [--budget AMOUNT] [--capacity N]``: the retention plan, the
win-back list, the what-if and the measured effect of earlier actions (a thin shell over
retention.jobs)."""

import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from churnradar.cli.common import console, handle_errors, step_progress, use_lang
from churnradar.i18n import fmt_int, fmt_money, fmt_pct, t
from churnradar.report.plan import group_label


def _money(v: Any, lang: str, currency: str) -> str:
    return "—" if v is None or pd.isna(v) else fmt_money(float(v), lang, currency)


def register_plan(app: typer.Typer, lang: str, h: Any, Dir: Any, Lang: Any) -> None:
    """``churnradar plan DIR``."""

    @app.command("plan", help=h("plan"))
    @handle_errors(lang)
    def plan_cmd(directory: Dir,
                 budget: Annotated[float | None, typer.Option(help=h("plan_budget"))] = None,
                 capacity: Annotated[int | None, typer.Option(help=h("plan_capacity"))] = None,
                 export: Annotated[Path | None, typer.Option(help=h("plan_export"))] = None,
                 top: Annotated[int, typer.Option("--top", help=h("top"))] = 15,
                 json_: Annotated[bool, typer.Option("--json", help=h("json"))] = False,
                 lang: Lang = None) -> None:
        from churnradar.exceptions import InputError
        from churnradar.retention.jobs import plan_job
        from churnradar.retention.playbooks import load_playbooks
        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        if budget is not None and budget < 0:
            raise InputError(key="err_plan_negative", option="--budget", value=budget)
        if capacity is not None and capacity < 0:
            raise InputError(key="err_plan_negative", option="--capacity", value=capacity)
        with step_progress(lg) as step:
            res = plan_job(ws, budget=budget, capacity=capacity, step=step, export=export)
        summary = res.summary()
        if json_:
            typer.echo(json.dumps({**summary, "run_dir": str(res.run_dir),
                                   "exported": str(res.exported) if res.exported else None},
                                  ensure_ascii=False, default=str))
            return
        cur = ws.settings.currency
        names = {b.key: b.name(lg) for b in load_playbooks(ws.settings.retention)}
        table = res.plan.table
        chosen = table[table["selected"]].sort_values("priority", ascending=False)
        tb = Table(title=t("plan_title", lg, n=fmt_int(min(top, len(chosen)), lg)))
        for key in ("predict_col_customer", "plan_col_action", "plan_col_probability",
                    "plan_col_value", "plan_col_priority", "plan_col_group"):
            tb.add_column(t(key, lg), overflow="fold")
        for _, row in chosen.head(top).iterrows():
            tb.add_row(str(row["customer_id"]), names.get(row["action"], str(row["action"])),
                       fmt_pct(float(row["churn_probability"]), lg, 1),
                       _money(row["value"], lg, cur), _money(row["priority"], lg, cur),
                       group_label(row["group"], lg))
        console.print(tb)
        console.print(t("plan_msg_summary", lg,
                        customers=fmt_int(summary.get("customers", 0), lg),
                        selected=fmt_int(summary.get("selected", 0), lg),
                        candidates=fmt_int(summary.get("candidates", 0), lg),
                        control=fmt_int(summary.get("control", 0), lg),
                        cost=_money(summary.get("total_cost"), lg, cur),
                        saved=_money(summary.get("expected_saved"), lg, cur)))
        st = Table(title=t("plan_title_strategies", lg))
        for key in ("plan_col_strategy", "plan_col_contacted", "plan_col_cost",
                    "plan_col_saved", "plan_col_net"):
            st.add_column(t(key, lg))
        for _, row in res.strategies.iterrows():
            st.add_row(t(f"plan_strategy_{row['strategy']}", lg),
                       fmt_int(int(row["contacted"]), lg), _money(row["cost"], lg, cur),
                       _money(row["expected_saved"], lg, cur), _money(row["net"], lg, cur))
        console.print(st)
        console.print(t("plan_msg_winback", lg, n=fmt_int(len(res.winback), lg),
                        value=_money(summary.get("winback_expected"), lg, cur)))
        eff = summary.get("effect")
        if eff:
            console.print(t("plan_msg_effect", lg, treated=fmt_int(int(eff["treated"]), lg),
                            control=fmt_int(int(eff["control"]), lg),
                            effect=fmt_pct(float(eff["effect"]), lg, 1),
                            low=fmt_pct(float(eff["effect_low"]), lg, 1),
                            high=fmt_pct(float(eff["effect_high"]), lg, 1)))
        else:
            console.print(t("plan_msg_no_effect", lg))
        if res.exported:
            console.print(t("plan_msg_exported", lg, path=str(res.exported)))
        console.print(t("plan_msg_done", lg, path=str(res.run_dir)))
