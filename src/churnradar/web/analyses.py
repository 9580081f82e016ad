"""What the analysis pages show (overview, segments, reasons, plan), HTTP-free
(style.md §6): keyword-only functions of the current snapshot and the workspace that
return plain dictionaries for the templates.

Sources, and why no request loads a whole table:

- the churn metrics (both bases, churn loss, segments, cohorts, safety line) come from
  the snapshot's ``metrics`` (the latest ``metrics.json``);
- the portfolio now (risk and value at risk per grade or region) is one ``GROUP BY`` of
  the snapshot (:meth:`Snapshot.count_by`), in the caller's owner scope;
- the reasons run's aggregates (``by_category``, ``by_type``, ``controllable``,
  ``terms``, ``departures``, ``matrix.csv``, ``summary.json``) and the plan run's
  ``summary.json``, ``strategies.csv`` and per-playbook totals of ``plan.parquet`` are
  small; they are read once per file version (path and modification time) and kept;
- the plan's customers are a page of the snapshot (``ORDER BY plan_priority LIMIT``),
  in the caller's owner scope.

The runs are those the snapshot was made from (its ``sources.json``), so the totals and
the customer rows of a page always belong to the same plan; without them, the newest
run of that kind.

Role rules: company-level aggregates are shown to every role; per-customer rows and
per-owner breakdowns only within ``owner_scope`` (a sales user's own owner_id; None for
admin and manager); the staff departures table only with ``show_departures``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from churnradar import schema as s
from churnradar.i18n import fmt_pct, t
from churnradar.web import charts
from churnradar.web.lru import LRU
from churnradar.web.store import CustomerPage, Snapshot, plain
from churnradar.workspace import Workspace

#: dimensions of the segments page, in this order (metrics ``by`` keys)
SEGMENT_DIMENSIONS: tuple[str, ...] = ("grade", "region", "owner")
#: columns of the snapshot a customer's count by is shown for (portfolio now)
PORTFOLIO_COLUMNS: tuple[str, ...] = ("grade", "region")
#: at most this many rows of a segment table (the owner table can be long)
MAX_SEGMENT_ROWS = 100
#: at most this many periods in the overview's table (the charts show all)
TABLE_PERIODS = 13
#: the overview's KPI cards: (id, column of the period row, kind)
KPIS: tuple[tuple[str, str, str], ...] = (
    ("churn_rate_start", "churn_rate_start", "pct"),
    ("churn_rate_end", "churn_rate_end", "pct"),
    ("retention_rate_start", "retention_rate_start", "pct"),
    ("retention_rate_end", "retention_rate_end", "pct"),
    ("annualised_churn_rate", "churn_rate_annualised", "pct"),
    ("start_count", "start_count", "int"),
    ("new_count", "new_count", "int"),
    ("churned_count", "churned_count", "int"),
    ("end_count", "end_count", "int"),
    ("churn_loss", "churn_loss", "money"),
    ("lost_revenue", "lost_revenue", "money"),
    ("contraction_loss", "contraction_loss", "money"),
    ("gross_revenue_churn", "gross_revenue_churn", "pct"),
    ("net_revenue_retention", "net_revenue_retention", "pct"),
)
PERIOD_TABLE: tuple[tuple[str, str], ...] = (
    ("label", "text"), ("start_count", "int"), ("new_count", "int"),
    ("churned_count", "int"), ("end_count", "int"), ("churn_rate_start", "pct"),
    ("churn_rate_end", "pct"), ("churn_loss", "money"),
)
SAFETY_ORDER: tuple[str, ...] = ("cost", "acquisition_peak", "deviation", "key_accounts")
_ANNUAL_POWER = {"month": 12, "quarter": 4, "year": 1}


# --- caches --------------------------------------------------------------------------
_FILES = LRU(16)
_PAGES = LRU(256)


def clear_caches() -> None:
    """Forget every cached file and page (tests)."""
    _FILES.clear()
    _PAGES.clear()


def _stamp(paths: list[Path]) -> tuple[tuple[str, int], ...]:
    """The version of a set of files: (path, mtime) of those that exist."""
    out = []
    for p in paths:
        try:
            out.append((str(p), p.stat().st_mtime_ns))
        except OSError:
            continue
    return tuple(out)


# --- the runs behind the snapshot ----------------------------------------------------
def _snapshot_sources(snapshot: Snapshot) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        try:
            data = json.loads((snapshot.folder / "sources.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    return _FILES.get(("sources", str(snapshot.folder)), read)


def run_folder(*, ws: Workspace, snapshot: Snapshot, source: str, kind: str) -> Path | None:
    """The run folder of ``kind`` whose output ``source`` the snapshot was made from,
    else the newest run of that kind."""
    item = _snapshot_sources(snapshot).get(source)
    if isinstance(item, dict) and "path" in item:
        path = Path(item["path"])
        path = path if path.is_absolute() else ws.root / path
        if path.parent.is_dir():
            return path.parent
    from churnradar.predict.jobs import latest_run

    return latest_run(ws, kind)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame | None:
    if not path.exists():
        return None
    return pd.read_parquet(path, columns=columns)


def _read_csv(path: Path, **kwargs: Any) -> pd.DataFrame | None:
    return pd.read_csv(path, **kwargs) if path.exists() else None


@dataclass(frozen=True)
class ReasonsOutputs:
    """The aggregates of one reasons run (any may be None when it did not write it)."""

    run: Path
    summary: dict[str, Any]
    by_category: pd.DataFrame | None
    by_type: pd.DataFrame | None
    controllable: pd.DataFrame | None
    terms: pd.DataFrame | None
    departures: pd.DataFrame | None
    matrix: pd.DataFrame | None


REASONS_FILES: tuple[str, ...] = ("by_category", "by_type", "controllable", "terms",
                                  "departures")


def reasons_outputs(*, ws: Workspace, snapshot: Snapshot) -> ReasonsOutputs | None:
    """The latest reasons run's aggregates (cached per file version), or None."""
    run = run_folder(ws=ws, snapshot=snapshot, source="attribution", kind="reasons")
    if run is None or not run.is_dir():
        return None
    paths = [run / f"{n}.parquet" for n in REASONS_FILES] + [run / "matrix.csv",
                                                             run / "summary.json"]

    def read() -> ReasonsOutputs:
        frames = {n: _read_parquet(run / f"{n}.parquet") for n in REASONS_FILES}
        return ReasonsOutputs(run=run, summary=_read_json(run / "summary.json"),
                              matrix=_read_csv(run / "matrix.csv", index_col=0), **frames)

    return _FILES.get(("reasons", _stamp(paths)), read)


@dataclass(frozen=True)
class PlanOutputs:
    """One plan run: its summary, totals per playbook and the strategy comparison."""

    run: Path
    summary: dict[str, Any]
    by_action: pd.DataFrame
    strategies: pd.DataFrame | None


def playbook_totals(plan: pd.DataFrame) -> pd.DataFrame:
    """Per playbook (``action``) of the selected customers: how many, how many in the
    treatment and in the control group, and the cost, expected saved value and net of
    the treatment group (the control group is not contacted); largest first."""
    chosen = plan[plan["selected"].fillna(False).astype(bool)]
    treated = chosen["group"] == "treatment"
    df = pd.DataFrame({
        "action": chosen["action"].astype(str),
        "treatment": treated.astype(int),
        "control": (chosen["group"] == "control").astype(int),
        "cost": chosen["cost"].where(treated, 0.0).fillna(0.0),
        "expected_saved": chosen["expected_saved"].where(treated, 0.0).fillna(0.0),
    })
    out = df.groupby("action", as_index=False).agg(
        selected=("action", "size"), treatment=("treatment", "sum"),
        control=("control", "sum"), cost=("cost", "sum"),
        expected_saved=("expected_saved", "sum"))
    out["net"] = out["expected_saved"] - out["cost"]
    return out.sort_values(["selected", "action"], ascending=[False, True],
                           ignore_index=True)


def plan_outputs(*, ws: Workspace, snapshot: Snapshot) -> PlanOutputs | None:
    """The plan run behind the snapshot (cached per file version), or None."""
    run = run_folder(ws=ws, snapshot=snapshot, source="plan", kind="plan")
    if run is None or not (run / "plan.parquet").exists():
        return None
    paths = [run / "plan.parquet", run / "summary.json", run / "strategies.csv"]

    def read() -> PlanOutputs:
        plan = pd.read_parquet(run / "plan.parquet",
                               columns=["action", "selected", "group", "cost",
                                        "expected_saved"])
        return PlanOutputs(run=run, summary=_read_json(run / "summary.json"),
                           by_action=playbook_totals(plan),
                           strategies=_read_csv(run / "strategies.csv"))

    return _FILES.get(("plan", _stamp(paths)), read)


#: the columns of a plan page row (those the snapshot has)
PLAN_ROW_COLUMNS: tuple[str, ...] = (
    "customer_id", "name", "owner_id", "grade", "is_key_account", "risk_tier",
    "churn_probability", "clv", "value_at_risk", "plan_reason", "plan_action",
    "plan_priority", "plan_expected_saved", "plan_group",
)


def plan_customers(*, snapshot: Snapshot, owner_scope: str | None, page: int = 1,
                   per_page: int = 50) -> CustomerPage:
    """One page of the plan's selected customers by priority (highest first), only
    those of ``owner_scope`` when it is set."""
    page = max(1, int(page))
    per_page = min(max(1, int(per_page)), 200)
    if not (snapshot.has("plan_selected") and snapshot.has("plan_priority")):
        return CustomerPage(rows=[], total=0, page=page, per_page=per_page)
    where = "WHERE plan_selected"
    params: list[Any] = []
    if owner_scope is not None:
        where += " AND owner_id = ?"
        params.append(owner_scope)
    cols = ", ".join(f'"{c}"' for c in PLAN_ROW_COLUMNS if snapshot.has(c))
    with snapshot.cursor() as cur:
        row = cur.execute(f"SELECT count(*) FROM customers {where}", params).fetchone()
        total = int(row[0]) if row else 0
        cur.execute(f"SELECT {cols} FROM customers {where} ORDER BY plan_priority DESC "
                    f"NULLS LAST, customer_id LIMIT {per_page} OFFSET {(page - 1) * per_page}",
                    params)
        names = [d[0] for d in cur.description or []]
        rows = [dict(zip(names, values, strict=True)) for values in cur.fetchall()]
    for i, r in enumerate(rows):
        r["position"] = (page - 1) * per_page + i + 1
    return CustomerPage(rows=rows, total=total, page=page, per_page=per_page)


# --- helpers -------------------------------------------------------------------------
def _num(value: Any) -> float | None:
    """A plain float, None for missing values."""
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if out != out else out  # NaN


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _latest_index(overall: pd.DataFrame) -> int:
    """The row of the latest complete period (the latest period when none is)."""
    done = overall.index[overall["complete"].astype(bool)] if "complete" in overall else []
    return int(done[-1]) if len(done) else int(overall.index[-1])


def _overall(metrics: dict[str, Any] | None) -> pd.DataFrame | None:
    rows = (metrics or {}).get("overall") or []
    if not rows:
        return None
    df = pd.DataFrame(rows)
    if "complete" not in df.columns:
        df["complete"] = True
    return df


def _metrics_frames(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot's metrics as frames, made once per snapshot."""
    def build() -> dict[str, Any]:
        m = snapshot.metrics
        overall = _overall(m)
        by = {dim: pd.DataFrame(rows) for dim, rows in ((m or {}).get("by") or {}).items()
              if rows}
        cohorts = pd.DataFrame((m or {}).get("cohorts") or [])
        return {"overall": overall, "by": by, "cohorts": cohorts}

    return _FILES.get(("metrics", str(snapshot.folder)), build)


def _safety(metrics: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    from churnradar.report.formatting import explain

    order = {name: i for i, name in enumerate(SAFETY_ORDER)}
    out = []
    for chk in sorted(metrics.get("safety") or [],
                      key=lambda c: order.get(c.get("check"), len(order))):
        check = str(chk.get("check"))
        status = str(chk.get("status") or "n/a")
        title_key = f"report_safety_{check}"
        out.append({
            "check": check, "status": status,
            "title": t(title_key, lang) if check in SAFETY_ORDER else check,
            "status_text": t("report_status_" + ("na" if status == "n/a" else status), lang)
            if status in ("pass", "warn", "alert", "n/a") else status,
            "text": explain(str(chk.get("message_key")), dict(chk.get("params") or {}),
                            lang).text,
            "breached": status in ("warn", "alert"),
        })
    return out


def confidence_text(ws: Workspace, lang: str) -> str:
    from churnradar.report.formatting import confidence_label

    return confidence_label(float(ws.settings.metrics.confidence), lang)


def _tiers(snapshot: Snapshot, owner_scope: str | None) -> list[dict[str, Any]]:
    rows = {r["key"]: r for r in snapshot.count_by("risk_tier", owner_id=owner_scope)}
    return [{"tier": tier, "active": rows.get(tier, {}).get("active", 0) or 0,
             "value_at_risk": rows.get(tier, {}).get("value_at_risk")}
            for tier in ("high", "medium", "low")]


# --- overview ------------------------------------------------------------------------
def overview_page(*, ws: Workspace, snapshot: Snapshot, lang: str, currency: str,
                  owner_scope: str | None) -> dict[str, Any]:
    """The overview: KPIs of the latest complete period on both bases, the trend and
    churn loss per period, the safety-line checks (breached ones apart) and the
    customers at risk now in the caller's scope. ``metrics`` is None when no report has
    been made yet."""
    def build() -> dict[str, Any]:
        # company-level: the same for every caller, made once per snapshot and language
        frames = _metrics_frames(snapshot)
        overall: pd.DataFrame | None = frames["overall"]
        m = snapshot.metrics
        out: dict[str, Any] = {"metrics": None}
        if m is None or overall is None:
            return out
        i = _latest_index(overall)
        cur = overall.loc[i]
        prev = overall.loc[i - 1] if i - 1 in overall.index else None
        margin = _num(m.get("margin"))
        power = _ANNUAL_POWER.get(str(m.get("period")), 12)
        c, st, en = cur.get("churned_count"), cur.get("start_count"), cur.get("end_count")
        new = (_num(cur.get("new_count")) or 0) + (_num(cur.get("winback_count")) or 0)
        notes = {
            "churn_rate_start": t("report_kpi_note_rate_start", lang, churned=_int(c, lang),
                                  start=_int(st, lang)),
            "churn_rate_end": t("report_kpi_note_rate_end", lang, churned=_int(c, lang),
                                end=_int(en, lang)),
            "retention_rate_start": t("report_kpi_note_retention", lang),
            "retention_rate_end": t("web_pg_note_retention_end", lang),
            "annualised_churn_rate": t("report_kpi_note_annual_period", lang) if power == 1
            else t("report_kpi_note_annualised", lang, power=power),
            "churned_count": t("report_kpi_note_churned", lang,
                               value=f"{_int(st, lang)} − ({_int(en, lang)} − "
                                     f"{_int(new, lang)})"),
            "start_count": t("web_pg_note_start_count", lang),
            "new_count": t("web_pg_note_new_count", lang),
            "end_count": t("web_pg_note_end_count", lang),
            "churn_loss": t("report_kpi_note_churn_loss", lang,
                            margin=fmt_pct(margin, lang, 1)),
            "lost_revenue": t("report_kpi_note_lost_revenue", lang),
            "contraction_loss": t("report_kpi_note_contraction_loss", lang,
                                  margin=fmt_pct(margin, lang, 1)),
            "gross_revenue_churn": t("web_pg_note_gross_revenue_churn", lang),
            "net_revenue_retention": t("report_kpi_note_nrr", lang),
        }
        kpis = []
        for kid, col, kind in KPIS:
            value = _num(cur.get(col))
            if kid == "annualised_churn_rate" and value is None:
                value = _num(m.get("annualised_churn_rate"))
            if value is None and kind != "int":
                continue  # e.g. no revenue data: no revenue churn, NRR or churn loss
            delta = None
            if kind == "pct" and kid.startswith("churn_rate") and prev is not None:
                before = _num(prev.get(col))
                if value is not None and before is not None:
                    from churnradar.report.formatting import fmt_pp

                    d = value - before
                    delta = {"text": t("report_kpi_delta", lang, delta=fmt_pp(d, lang)),
                             "dir": "bad" if d > 0 else "good" if d < 0 else "flat"}
            label_key = ("report_col_annualised_churn_rate" if kid == "annualised_churn_rate"
                         else f"metrics_col_{col}")
            kpis.append({"id": kid, "label": t(label_key, lang), "value": value,
                         "kind": kind, "note": notes.get(kid, ""), "delta": delta,
                         "accent": kid in ("churn_rate_start", "churn_loss")})
        table = overall.tail(TABLE_PERIODS).iloc[::-1]
        has_loss = "churn_loss" in overall and overall["churn_loss"].notna().any()
        out["metrics"] = {
            "label": str(cur.get("label")), "complete": bool(cur.get("complete", True)),
            "start": _date(cur.get("period_start")),
            "last_day": (end - dt.timedelta(days=1))
            if (end := _date(cur.get("period_end"))) else None,
            "period": str(m.get("period") or ""), "as_of": _date(m.get("as_of")),
            "business": str(m.get("business") or ""),
            "kpis": kpis,
            "safety": _safety(m, lang),
            "trend": charts.churn_trend(overall, lang),
            "loss": charts.churn_loss(_with_loss_columns(overall), lang, currency)
            if has_loss else None,
            "columns": [(col, kind, t(f"metrics_col_{col}", lang))
                        for col, kind in PERIOD_TABLE if col in overall.columns],
            "rows": [{col: plain(r.get(col)) for col, _ in PERIOD_TABLE}
                     | {"complete": bool(r.get("complete", True))}
                     for _, r in table.iterrows()],
        }
        out["metrics"]["breached"] = [x for x in out["metrics"]["safety"] if x["breached"]]
        return out

    folder = str(snapshot.folder)
    company = _PAGES.get(("overview", folder, lang, currency), build)
    tiers = _PAGES.get(("tiers", folder, owner_scope),
                       lambda: _tiers(snapshot, owner_scope)
                       if snapshot.has("risk_tier") else [])
    return {**company, "tiers": tiers}


def _with_loss_columns(overall: pd.DataFrame) -> pd.DataFrame:
    df = overall
    for col in ("churn_loss", "contraction_loss"):
        if col not in df.columns:
            df = df.assign(**{col: None})
    return df


def _int(value: Any, lang: str) -> str:
    from churnradar.i18n import fmt_int

    return fmt_int(value, lang)


# --- segments ------------------------------------------------------------------------
def _latest_rows(by: pd.DataFrame, label: str) -> pd.DataFrame:
    """Segments of the period ``label``: judged ones ranked by churn rate first, those
    too small to judge after them (as the report's ``latest_by``)."""
    cur = by[by["label"] == label].copy()
    if cur.empty:
        return cur
    if "too_small" not in cur.columns:
        cur["too_small"] = False
    for col in ("ci_low", "ci_high"):
        if col not in cur.columns:
            cur[col] = None
    cur["too_small"] = cur["too_small"].fillna(False).astype(bool)
    cur["rank"] = cur["churn_rate_start"].where(~cur["too_small"]).rank(
        ascending=False, method="min")
    return cur.sort_values(["too_small", "rank", "segment"], na_position="last")


SEGMENT_COLUMNS: tuple[str, ...] = (
    "rank", "segment", "start_count", "churned_count", "churn_rate_start", "ci_low",
    "ci_high", "churn_rate_end", "churn_loss", "too_small")


def _segment_dimension(*, snapshot: Snapshot, dim: str, label: str,
                       overall_rate: float | None, lang: str, conf: str,
                       owner_scope: str | None) -> dict[str, Any] | None:
    by = _metrics_frames(snapshot)["by"].get(dim)
    if by is None or by.empty:
        return None
    latest = _latest_rows(by, label)
    if dim == "owner" and owner_scope is not None:
        latest = latest[latest["segment"].astype(str) == owner_scope]
    chart, truncated = (charts.segment_rates(latest, overall_rate, lang, confidence_text=conf)
                        if not latest.empty else (None, False))
    return {"dim": dim, "title": t(f"report_by_{dim}", lang),
            "label": t(f"metrics_dim_{dim}", lang), "chart": chart, "truncated": truncated,
            "total": len(latest),
            "rows": [{c: plain(r.get(c)) for c in SEGMENT_COLUMNS}
                     for _, r in latest.head(MAX_SEGMENT_ROWS).iterrows()]}


def segments_page(*, ws: Workspace, snapshot: Snapshot, lang: str, currency: str,
                  owner_scope: str | None) -> dict[str, Any]:
    """The segments: churn by grade, region and owner in the latest complete period (a
    sales user sees only their own owner row), the churn trend by grade, the cohort
    heat map, and the customers, risk and value at risk now per grade and region in
    the caller's scope."""
    folder = str(snapshot.folder)

    def company() -> dict[str, Any]:
        # the same for every caller: made once per snapshot and language
        frames = _metrics_frames(snapshot)
        overall: pd.DataFrame | None = frames["overall"]
        out: dict[str, Any] = {"metrics": overall is not None, "grade_trend": None,
                               "cohorts": None}
        if overall is None:
            return out
        i = _latest_index(overall)
        out["label"] = str(overall.loc[i, "label"])
        out["overall_rate"] = _num(overall.loc[i].get("churn_rate_start"))
        out["confidence"] = confidence_text(ws, lang)
        grade = frames["by"].get("grade")
        if grade is not None and not grade.empty:
            out["grade_trend"] = charts.segment_trend(grade, lang)
        cohorts = frames["cohorts"]
        if not cohorts.empty and {"cohort", "size"} <= set(cohorts.columns):
            out["cohorts"] = charts.cohorts(cohorts.set_index("cohort"), lang)
        return out

    def portfolio() -> list[dict[str, Any]]:
        out = []
        for col in PORTFOLIO_COLUMNS:
            rows = snapshot.count_by(col, owner_id=owner_scope)
            if rows:
                name = t(f"metrics_dim_{col}", lang)
                out.append({"column": col, "label": name, "rows": rows,
                            "chart": charts.portfolio(rows, name, lang, currency)})
        return out

    page = dict(_PAGES.get(("segments", folder, lang), company))
    dimensions = []
    if page["metrics"]:
        for dim in SEGMENT_DIMENSIONS:
            scope = owner_scope if dim == "owner" else None
            item = _PAGES.get(("segment", folder, lang, dim, scope),
                              partial(_segment_dimension, snapshot=snapshot, dim=dim,
                                      label=page["label"],
                                      overall_rate=page["overall_rate"], lang=lang,
                                      conf=page["confidence"], owner_scope=scope))
            if item is not None:
                dimensions.append(item)
    page["dimensions"] = dimensions
    page["portfolio"] = _PAGES.get(("portfolio", folder, lang, currency, owner_scope),
                                   portfolio)
    return page


# --- reasons -------------------------------------------------------------------------
def reason_totals(by_category: pd.DataFrame) -> pd.DataFrame:
    """Per reason category over all periods: churned customers, share of them, churn
    loss and controllability; largest first."""
    g = (by_category.groupby("reason_category", dropna=False)
         .agg(churned=("churned", "sum"), churn_loss=("churn_loss", "sum"),
              lost_revenue=("lost_revenue", "sum"),
              controllable=("controllable", "first"))
         .reset_index())
    total = g["churned"].sum()
    g["share"] = g["churned"] / total if total else None
    return g.sort_values(["churned", "reason_category"], ascending=[False, True],
                         ignore_index=True)


def _reason_key(value: Any) -> str:
    return str(value) if value in s.REASON_CATEGORIES else "none"


def reasons_page(*, ws: Workspace, snapshot: Snapshot, lang: str, currency: str,
                 show_departures: bool) -> dict[str, Any]:
    """Why customers leave: churn by reason (count, share, rate, churn loss,
    controllable), reason × churn type, the controllable share per period, the
    characteristic complaint terms and, with ``show_departures``, staff departures
    followed by churn. ``reasons`` is None when no reasons run exists."""
    out_files = reasons_outputs(ws=ws, snapshot=snapshot)
    key = ("reasons", str(snapshot.folder), lang, currency,
           str(out_files.run) if out_files else None)

    def build() -> dict[str, Any]:
        from churnradar.report.reasons import cat_name, type_name

        if out_files is None:
            return {"reasons": None}
        r = out_files
        res: dict[str, Any] = {"run": r.run.name}
        totals = r.summary.get("totals") or {}
        res["totals"] = totals
        if r.by_category is not None and not r.by_category.empty:
            by_cat = r.by_category
            cats = reason_totals(by_cat)
            last_p = by_cat["p"].max() if "p" in by_cat.columns else None
            latest = (by_cat[by_cat["p"] == last_p].set_index("reason_category")
                      if last_p is not None else pd.DataFrame())
            res["latest_label"] = (str(latest["label"].iloc[0]) if len(latest) else None)
            res["categories"] = [{
                "key": _reason_key(row["reason_category"]),
                "name": cat_name(row["reason_category"], lang),
                "controllable": row["controllable"],
                "churned": int(row["churned"]), "share": _num(row["share"]),
                "churn_loss": _num(row["churn_loss"]),
                "lost_revenue": _num(row["lost_revenue"]),
                "latest_rate": _num(latest["rate"].get(row["reason_category"]))
                if len(latest) and "rate" in latest.columns else None,
            } for _, row in cats.iterrows()]
            res["category_chart"] = charts.reason_categories(by_cat, lang, currency)
            res["trend_chart"] = charts.reason_trend(by_cat, lang)
        if r.by_type is not None and not r.by_type.empty:
            g = (r.by_type.groupby(["churn_type", "type_group"], dropna=False)
                 .agg(churned=("churned", "sum"), churn_loss=("churn_loss", "sum"))
                 .reset_index().sort_values("churned", ascending=False))
            total = g["churned"].sum()
            res["types"] = [{
                "key": str(row["churn_type"]), "name": type_name(row["churn_type"], lang),
                "group": t(f"churn_type_group_{row['type_group']}", lang)
                if row["type_group"] in ("active", "passive") else "–",
                "churned": int(row["churned"]),
                "share": float(row["churned"]) / total if total else None,
                "churn_loss": _num(row["churn_loss"]),
                "malicious": row["churn_type"] == "malicious",
            } for _, row in g.iterrows()]
            res["type_chart"] = charts.type_groups(r.by_type, lang)
        if r.matrix is not None and not r.matrix.empty:
            res["matrix_chart"] = charts.reason_matrix(r.matrix, lang)
        if r.controllable is not None and not r.controllable.empty:
            res["controllable_chart"] = charts.controllable_trend(r.controllable, lang)
        if r.terms is not None and not r.terms.empty:
            res["terms"] = [{
                "name": cat_name(cat, lang),
                "terms": [{"term": str(x.term), "count": int(x.count),
                           "lift": _num(x.lift)} for x in g.head(10).itertuples()],
            } for cat, g in r.terms.groupby("category", sort=False)]
        dep = r.departures
        res["departures_state"] = ("none_file" if dep is None
                                   else "empty" if dep.empty else "ok")
        if dep is not None and not dep.empty:
            dep = dep.sort_values(["flagged", "p_adjusted"], ascending=[False, True])
            res["departures"] = [{
                "owner_id": row.get("owner_id"), "name": row.get("name"),
                "left_at": _date(row.get("left_at")),
                "customers": plain(row.get("customers")),
                "rate_after": _num(row.get("rate_after")),
                "rate_before": _num(row.get("rate_before")),
                "peer_rate_after": _num(row.get("peer_rate_after")),
                "p_adjusted": _num(row.get("p_adjusted")),
                "flagged": bool(row.get("flagged")),
            } for _, row in dep.iterrows()]
        return {"reasons": res}

    page = _PAGES.get(key, build)
    if page["reasons"] is None:
        return page
    res = dict(page["reasons"])
    if not show_departures:  # staff and their owner ids: admin and manager only
        res.pop("departures", None)
        res.pop("departures_state", None)
    res["show_departures"] = show_departures
    return {"reasons": res}


# --- plan ----------------------------------------------------------------------------
def playbook_names(ws: Workspace, lang: str) -> dict[str, str]:
    """Playbook key -> its name in ``lang`` (the workspace's own playbooks included)."""
    from churnradar.retention.playbooks import load_playbooks

    names = {b.key: b.name(lang) for b in load_playbooks(ws.settings.retention)}
    names.setdefault("none", t("playbook_no_offer", lang))
    return names


def plan_page(*, ws: Workspace, snapshot: Snapshot, lang: str, currency: str,
              owner_scope: str | None, page: int = 1, per_page: int = 50
              ) -> dict[str, Any]:
    """The latest retention plan: totals per playbook, the strategy comparison and one
    page of the selected customers by priority (only the caller's own for a sales
    user). ``plan`` is None when no plan has been made."""
    files = plan_outputs(ws=ws, snapshot=snapshot)
    if files is None:
        return {"plan": None}
    key = ("plan", str(snapshot.folder), lang, currency, str(files.run))

    def build() -> dict[str, Any]:
        names = playbook_names(ws, lang)
        by = files.by_action
        total = {c: plain(by[c].sum()) for c in ("selected", "treatment", "control",
                                                    "cost", "expected_saved", "net")}
        return {
            "run": files.run.name, "summary": files.summary, "names": names,
            "as_of": _date(files.summary.get("as_of")),
            "by_action": [{c: plain(v) for c, v in row.items()}
                          for row in by.to_dict(orient="records")],
            "total": total,
            "chart": charts.playbooks(by, names, lang, currency) if len(by) else None,
            "strategies_chart": charts.strategies(files.strategies, lang, currency)
            if files.strategies is not None and not files.strategies.empty else None,
        }

    fixed = _PAGES.get(key, build)
    customers = plan_customers(snapshot=snapshot, owner_scope=owner_scope, page=page,
                               per_page=per_page)
    return {"plan": fixed, "customers": customers, "reason_keys": s.REASON_CATEGORIES}
