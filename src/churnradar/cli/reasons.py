"""``churnradar reasons DIR``: classify complaints and notes, attribute a reason and a churn
type to every churn, churn and loss by reason, staff departures (a thin shell over
reasons.jobs)."""

import json
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from churnradar.cli.common import console, handle_errors, step_progress, use_lang
from churnradar.i18n import fmt_int, fmt_num, fmt_pct, t


def _pct(value: Any, lang: str) -> str:
    return "—" if value is None or pd.isna(value) else fmt_pct(float(value), lang, 1)


def register_reasons(app: typer.Typer, lang: str, h: Any, Dir: Any, Lang: Any) -> None:
    """``churnradar reasons DIR``."""

    @app.command("reasons", help=h("reasons"))
    @handle_errors(lang)
    def reasons_cmd(directory: Dir,
                    period: Annotated[str | None, typer.Option(help=h("period"))] = None,
                    json_: Annotated[bool, typer.Option("--json", help=h("json"))] = False,
                    lang: Lang = None) -> None:
        from churnradar.reasons.jobs import reasons_job
        from churnradar.reasons.taxonomy import taxonomy
        from churnradar.workspace import Workspace

        ws = Workspace.open(directory)
        lg = use_lang(lang or ws.settings.language)
        with step_progress(lg) as step:
            res = reasons_job(ws, period=period, step=step)
        summary = res.summary()
        if json_:
            typer.echo(json.dumps({**summary, "run_dir": str(res.run_dir)},
                                  ensure_ascii=False, default=str))
            return
        tax = taxonomy(ws.settings.reasons)
        bd = res.breakdown
        cats = (bd.by_category.groupby("reason_category")
                .agg(churned=("churned", "sum"), churn_loss=("churn_loss", "sum"))
                .sort_values("churned", ascending=False))
        total = max(int(cats["churned"].sum()), 1)
        table = Table(title=t("reasons_title_by_category", lg))
        for key in ("reasons_col_category", "reasons_col_controllable", "reasons_col_churned",
                    "reasons_col_share", "reasons_col_loss"):
            table.add_column(t(key, lg), justify="left" if key.endswith("category")
                             else "right")
        for cat, row in cats.iterrows():
            known = cat in {c.key for c in tax.categories}
            ctl = (t("reason_controllable" if tax.category(str(cat)).controllable
                     else "reason_uncontrollable", lg) if known else "—")
            name = t(f"reason_{cat}", lg) if known else t("reason_none", lg)
            table.add_row(name, ctl, fmt_int(int(row["churned"]), lg),
                          fmt_pct(row["churned"] / total, lg, 1),
                          fmt_num(float(row["churn_loss"]), lg, 0)
                          if pd.notna(row["churn_loss"]) else "—")
        console.print(table)
        types = (bd.by_type.groupby(["type_group", "churn_type"])["churned"].sum()
                 .sort_values(ascending=False))
        tt = Table(title=t("reasons_title_by_type", lg))
        for key in ("reasons_col_group", "reasons_col_type", "reasons_col_churned",
                    "reasons_col_share"):
            tt.add_column(t(key, lg))
        for (group, ctype), n in types.items():
            tt.add_row(t(f"churn_type_group_{group}", lg) if group != "unknown" else "—",
                       t(f"churn_type_{ctype}", lg) if ctype != "unknown"
                       else t("churn_type_none", lg),
                       fmt_int(int(n), lg), fmt_pct(n / total, lg, 1))
        console.print(tt)
        tot = bd.totals
        console.print(t("reasons_msg_controllable", lg,
                        share=_pct(tot.get("controllable_share"), lg),
                        loss_share=_pct(tot.get("controllable_loss_share"), lg)))
        console.print(t("reasons_msg_accuracy", lg,
                        complaints=_pct(summary.get("complaint_accuracy"), lg),
                        method=summary.get("complaint_classifier") or "—",
                        attribution=_pct(summary.get("attribution_accuracy"), lg)))
        dep = res.departures
        if dep is not None and len(dep):
            for _, row in dep[dep["flagged"]].iterrows():
                console.print(t("reasons_msg_departure", lg, owner=str(row["owner_id"]),
                                name=str(row.get("name") or ""),
                                left=str(pd.Timestamp(row["left_at"]).date()),
                                after=_pct(row["rate_after"], lg),
                                before=_pct(row["rate_before"], lg),
                                peers=_pct(row["peer_rate_after"], lg),
                                p=fmt_num(float(row["p_adjusted"]), lg, 4)))
            if not dep["flagged"].any():
                console.print(t("reasons_msg_no_departure", lg, n=fmt_int(len(dep), lg)))
        console.print(t("reasons_msg_done", lg, churns=fmt_int(summary["churns"], lg),
                        classified=fmt_int(summary["classified"], lg), path=str(res.run_dir)))
