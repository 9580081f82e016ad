"""The main jobs end to end, shared by the CLI (and later the web app).

- :func:`run_metrics` — compute the metrics of a workspace and save them in a run folder;
- :func:`build_report` — metrics + the HTML report and Excel workbook;
- :func:`run_demo` — generate demo data, write it as a user's export files, import them
  through the same path a user's files take, run every analysis (metrics, churn risk
  model, backtest, scores), write the report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from churnradar.engine import Backend
from churnradar.exceptions import WorkspaceError
from churnradar.fsutil import atomic_copy
from churnradar.i18n import check_language
from churnradar.metrics import MetricsResult, compute_metrics
from churnradar.metrics.store import save_result
from churnradar.workspace import SETTINGS_FILE, Workspace

if TYPE_CHECKING:
    from churnradar.datasets import DemoData
    from churnradar.predict.dataset import PredictionData
    from churnradar.report.sections import Section

#: step(name, done, total) — name is a catalog key suffix (``pipeline_step_<name>``)
Step = Callable[[str, int, int | None], None]


def _no_step(_name: str, _done: int, _total: int | None) -> None:
    return None


@dataclass
class MetricsRun:
    result: MetricsResult
    run_dir: Path


@dataclass
class ReportOutcome:
    result: MetricsResult
    html: Path
    excel: Path | None
    run_dir: Path


@dataclass
class DemoOutcome:
    workspace: Path
    report: ReportOutcome
    imported: dict[str, int] = field(default_factory=dict)
    export_dir: Path | None = None


def run_metrics(ws: Workspace, *, period: str | None = None,
                dimensions: Sequence[str] | None = None, as_of: dt.date | None = None,
                backend: Backend = "duckdb", step: Step | None = None,
                kind: str = "metrics") -> MetricsRun:
    """Compute the metrics and save them to ``runs/<id>-<kind>/``."""
    step = step or _no_step
    seen: list[str] = []

    def progress(name: str) -> None:  # the steps depend on the data: no total
        seen.append(name)
        step("metrics", len(seen), None)

    result = compute_metrics(ws, period=period, dimensions=dimensions, as_of=as_of,
                             backend=backend, progress=progress)
    run_dir = ws.new_run(kind)
    save_result(result, run_dir)
    return MetricsRun(result=result, run_dir=run_dir)


def _mark_ran(result: MetricsResult, analysis: str) -> None:
    """Mark a later analysis as done in the completeness check."""
    result.completeness = [replace(c, status="ran", missing=()) if c.analysis == analysis
                           else c for c in result.completeness]


def _skipped_section(id_: str, title_key: str, skip_key: str, err: Exception, lang: str,
                     after: str | None) -> Section:
    """A section that says why its analysis could not run on this data."""
    from markupsafe import escape

    from churnradar.exceptions import ChurnRadarError
    from churnradar.i18n import t
    from churnradar.report.sections import Section

    reason = err.localized(lang) if isinstance(err, ChurnRadarError) else str(err)
    note = f'<p class="note">{escape(t(skip_key, lang, reason=reason))}</p>'
    return Section(id=id_, title=t(title_key, lang), html=note, after=after)


def risk_sections(ws: Workspace, result: MetricsResult, lang: str,
                  step: Step, data: PredictionData | None = None) -> list[Section]:
    """The at-risk section when the workspace has a churn risk model: every active
    customer is scored with it now; the latest backtest is shown when there is one.
    Marks the risk prediction as done in the completeness check."""
    import json

    from churnradar.predict.jobs import latest_run, model_path, score_job
    from churnradar.report.risk import risk_section

    if not model_path(ws).exists():
        return []
    scored = score_job(ws, step=step, data=data)
    backtest = None
    bt_dir = latest_run(ws, "predict-backtest")
    if bt_dir is not None and (bt_dir / "backtest.json").exists():
        backtest = json.loads((bt_dir / "backtest.json").read_text(encoding="utf-8"))
    _mark_ran(result, "risk_prediction")
    return [risk_section(scored.scores, scored.trained.metadata, lang, backtest=backtest,
                         currency=result.currency)]


def value_sections(ws: Workspace, result: MetricsResult, lang: str, step: Step,
                   data: PredictionData | None = None,
                   after: str | None = None) -> list[Section]:
    """The customer value section: every active customer valued (CLV, value tier, value x
    risk matrix; the risk from the latest scores when there are some). Marks the value
    analysis as done in the completeness check. When the value models cannot be fitted
    on this data, the section says why instead (the rest of the report still stands)."""
    from churnradar.exceptions import ChurnRadarError
    from churnradar.report.value import value_section
    from churnradar.value.jobs import value_job

    try:
        outcome = value_job(ws, step=step, data=data)
    except ChurnRadarError as err:
        return [_skipped_section("customer-value", "report_section_value",
                                 "report_value_skipped", err, lang, after)]
    _mark_ran(result, "customer_value")
    section = value_section(outcome, lang, currency=result.currency)
    return [replace(section, after=after)]


def survival_sections(ws: Workspace, result: MetricsResult, lang: str, step: Step,
                      after: str | None = None) -> list[Section]:
    """The survival section (Kaplan-Meier by group, log-rank, Cox, remaining lifetime).
    Marks the survival analysis as done; when it cannot run on this data (e.g. nobody has
    churned yet), the section says why instead."""
    from churnradar.exceptions import ChurnRadarError
    from churnradar.report.survival import survival_section
    from churnradar.survival.jobs import job_options, survival_job

    try:
        outcome = survival_job(ws, step=step, **job_options(ws.settings))
    except ChurnRadarError as err:
        return [_skipped_section("survival", "report_section_survival",
                                 "report_survival_skipped", err, lang, after)]
    _mark_ran(result, "survival")
    return [survival_section(outcome, lang, after=after)]


def reasons_sections(ws: Workspace, result: MetricsResult, lang: str, step: Step,
                     data: PredictionData | None = None,
                     after: str | None = None) -> list[Section]:
    """The churn reasons section (by reason and type, complaint insights, staff
    departures). Marks the analyses it ran as done; says why when it cannot run."""
    from churnradar.exceptions import ChurnRadarError
    from churnradar.reasons.jobs import reasons_job
    from churnradar.report.reasons import reasons_section

    try:
        outcome = reasons_job(ws, period=result.period, step=step, data=data)
    except ChurnRadarError as err:
        return [_skipped_section("reasons", "report_section_reasons",
                                 "report_reasons_skipped", err, lang, after)]
    _mark_ran(result, "reasons")
    if outcome.complaints is not None:
        _mark_ran(result, "complaint_insights")
    if outcome.departures is not None:
        _mark_ran(result, "staff_departures")
    return [reasons_section(outcome, lang, currency=result.currency, after=after)]


def plan_sections(ws: Workspace, result: MetricsResult, lang: str, step: Step,
                  data: PredictionData | None = None,
                  after: str | None = None) -> list[Section]:
    """The retention plan section (plan, win-back, what-if, measured effects); needs a
    churn risk model (the at-risk section). Says why when it cannot run."""
    from churnradar.exceptions import ChurnRadarError
    from churnradar.report.plan import plan_section
    from churnradar.retention.jobs import plan_job

    try:
        outcome = plan_job(ws, step=step, data=data)
    except ChurnRadarError as err:
        return [_skipped_section("retention-plan", "report_section_plan",
                                 "report_plan_skipped", err, lang, after)]
    _mark_ran(result, "retention_plan")
    if outcome.effects is not None:
        _mark_ran(result, "playbook_effects")
    return [plan_section(outcome, ws.settings, lang, currency=result.currency, after=after)]


def build_report(ws: Workspace, *, lang: str | None = None, out: Path | None = None,
                 excel: Path | None = None, period: str | None = None,
                 step: Step | None = None, data: PredictionData | None = None,
                 ) -> ReportOutcome:
    """Metrics + report. The HTML (and Excel) files go to the run folder, and are copied
    to ``out`` / ``excel`` when given. With a churn risk model in the workspace
    (``churnradar predict train``), the report gains the at-risk section and the
    retention plan; the customer value, survival and churn reasons sections are always
    there (or say why they could not be computed)."""
    from churnradar.report import write_excel_report, write_html_report

    step = step or _no_step
    lang = check_language(lang or ws.settings.language)
    run = run_metrics(ws, period=period, step=step, kind="report")
    extra = risk_sections(ws, run.result, lang, step, data)
    extra += value_sections(ws, run.result, lang, step, data,
                            after="at-risk" if extra else "cohorts")
    extra += survival_sections(ws, run.result, lang, step, after="customer-value")
    extra += reasons_sections(ws, run.result, lang, step, data, after="survival")
    if any(sec.id == "at-risk" for sec in extra):
        extra += plan_sections(ws, run.result, lang, step, data, after="reasons")
    step("report", 0, 2)
    name = ws.root.resolve().name
    html = write_html_report(run.result, run.run_dir / "report.html", lang=lang, workspace=name,
                             extra_sections=extra)
    step("report", 1, 2)
    xlsx = write_excel_report(run.result, run.run_dir / "report.xlsx", lang=lang, workspace=name)
    step("report", 2, 2)
    if out is not None:
        html = atomic_copy(html, out)
    if excel is not None:
        xlsx = atomic_copy(xlsx, excel)
    return ReportOutcome(result=run.result, html=html, excel=xlsx, run_dir=run.run_dir)


def _demo_workspace(folder: Path, lang: str) -> Workspace:
    if (folder / SETTINGS_FILE).exists():
        ws = Workspace.open(folder)
        if ws.settings.language != lang:
            ws.set_setting(None, "language", lang)
        return ws
    if folder.exists() and any(folder.iterdir()):
        raise WorkspaceError(key="err_demo_folder", path=str(folder))
    return Workspace.create(folder, language=lang)


def _demo_settings(ws: Workspace, data: DemoData) -> None:
    """The settings a demo industry reads best with."""
    ws.set_setting("churn", "as_of", data.as_of)
    if data.industry == "dealers":
        # small dealers order every ~3-4 months: 90 days of silence is not yet churn
        ws.set_setting("churn", "inactivity_days", 180)
        # orders are lumpy: monthly revenue retention swings wildly, quarters read better
        ws.set_setting("metrics", "period", "quarter")


def demo_workspace(folder: str | Path, data: DemoData, *, lang: str = "en") -> Workspace:
    """A new workspace holding ``data``'s tables, each imported (validated) from Parquet,
    with the demo's settings; quicker than :func:`run_demo`, which also writes export
    files and runs every analysis (tests and benchmarks use this)."""
    import pyarrow.parquet as pq

    from churnradar.io import import_table

    folder = Path(folder)
    ws = Workspace.create(folder, language=check_language(lang))
    for name, table in data.tables.items():
        if table.num_rows == 0:
            continue
        path = folder / f".demo-{name}.parquet"
        pq.write_table(table, path)
        try:
            import_table(ws, name, path)
        finally:
            path.unlink()
    _demo_settings(ws, data)
    return Workspace.open(folder)


def run_demo(folder: str | Path, *, industry: str = "telecom", n_customers: int = 20_000,
             lang: str = "zh-CN", random_state: int = 0,
             step: Step | None = None) -> DemoOutcome:
    """Generate demo data and run the main job on it, as a user would.

    The generated tables are written as export files (``DIR/exports/*.csv``, the
    customers file with Chinese headers in GB18030 for zh-CN) and imported with
    :func:`churnradar.io.import_table`, so the demo exercises the user's path.
    """
    from churnradar.datasets import INDUSTRIES, make_demo_data, write_demo_files
    from churnradar.exceptions import InputError
    from churnradar.io import import_table

    step = step or _no_step
    lang = check_language(lang)
    if industry not in INDUSTRIES:
        raise InputError(key="err_industry", choices=", ".join(INDUSTRIES), value=industry)
    if n_customers < 100:
        raise InputError(key="err_demo_size", value=n_customers)
    folder = Path(folder)
    ws = _demo_workspace(folder, lang)
    step("generate", 0, 1)
    data = make_demo_data(industry, n_customers=n_customers,  # type: ignore[arg-type]
                          random_state=random_state)
    step("generate", 1, 1)
    exports = folder / "exports"
    files = write_demo_files(data, exports, lang=lang)
    _demo_settings(ws, data)
    imported: dict[str, int] = {}
    total = len(files)
    for i, (table, path) in enumerate(files.items()):
        step("import", i, total)
        res = import_table(ws, table, path, lang=lang)
        imported[table] = res.rows_imported
    step("import", total, total)
    # the main job includes prediction: a model (with its out-of-time check), a backtest
    # against the naive baselines, and the at-risk section of the report
    from churnradar.predict.jobs import backtest_job, open_data, train_job

    prediction = open_data(ws)  # one feature cache for the three jobs
    train_job(ws, step=step, data=prediction)
    backtest_job(ws, step=step, data=prediction)
    report = build_report(ws, lang=lang, step=step, data=prediction)
    return DemoOutcome(workspace=folder, report=report, imported=imported, export_dir=exports)
