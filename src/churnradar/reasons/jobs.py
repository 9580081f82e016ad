"""The reasons job of a workspace (``churnradar reasons DIR``): classify complaints and
cancellation notes, attribute a reason and a churn type to every churn, break churn
and its loss down by reason, and look for staff departures followed by churn. Results go
to ``runs/<id>-reasons/``.

Two classifiers are chosen, each on its own labelled texts: one for complaints
(``complaints.category``) and one for cancellation notes (``churn_records.note`` with
``reason_category``; ``subscriptions.cancel_reason``), since complaint texts and notes
are written differently. Where a workspace has no labels, the lexicon alone is used.

The attribution accuracy is measured honestly: the churns are attributed again with the
recorded reasons hidden and the notes classified by a classifier that never saw the
churn records' labels (the complaint classifier), then compared with the records.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churnradar import schema as s
from churnradar.fsutil import atomic_path, atomic_write_text
from churnradar.lifecycle import Lifecycle, build_lifecycle
from churnradar.metrics.flows import flow_events, stock_table
from churnradar.metrics.periods import period_index_of
from churnradar.predict.dataset import PredictionData
from churnradar.reasons.attribution import AT, accuracy, attribute
from churnradar.reasons.breakdown import ReasonBreakdown, reason_breakdown
from churnradar.reasons.classify import (
    ClassifierChoice,
    choose_classifier,
    classify_texts,
    top_terms,
)
from churnradar.reasons.lexicon import LexiconClassifier, load_lexicon
from churnradar.reasons.losses import churn_losses
from churnradar.reasons.staff import staff_departures
from churnradar.reasons.taxonomy import taxonomy
from churnradar.settings import Settings
from churnradar.workspace import Workspace

Step = Callable[[str, int, int | None], None]


def _no_step(_name: str, _done: int, _total: int | None) -> None:
    return None


@dataclass
class TextModels:
    """The classifiers of a workspace's complaints and notes, with how they were chosen."""

    complaints: Any
    notes: Any
    complaint_choice: ClassifierChoice | None
    note_choice: ClassifierChoice | None
    lexicon: LexiconClassifier


@dataclass
class ReasonsOutcome:
    """What the reasons job produced (also written to ``runs/<id>-reasons/``)."""

    as_of: dt.date
    period: str
    #: one row per churn: attribution columns plus start_date
    attributed: pd.DataFrame
    breakdown: ReasonBreakdown
    #: complaints with their classified category: customer_id, time, text, category,
    #: confidence, method, recorded (the complaint's own category, if any)
    complaints: pd.DataFrame | None
    #: top terms per category (complaint insights)
    terms: pd.DataFrame | None
    #: staff departures and whether churn followed
    departures: pd.DataFrame | None
    complaint_choice: ClassifierChoice | None = None
    note_choice: ClassifierChoice | None = None
    #: attribution with the recorded reasons hidden vs the records: n, category, type
    attribution_check: dict[str, Any] = field(default_factory=dict)
    run_dir: Path | None = None

    def summary(self) -> dict[str, Any]:
        cc, nc = self.complaint_choice, self.note_choice
        n_classified = int(self.complaints["category"].notna().sum()) \
            if self.complaints is not None else 0
        n_notes = int((self.attributed["source"] == "note").sum())
        dep = self.departures
        return {
            "as_of": str(self.as_of), "period": self.period,
            "classified": n_classified + n_notes,
            "complaints_classified": n_classified,
            "churns": int(len(self.attributed)),
            "complaint_accuracy": cc.accuracy if cc is not None else None,
            "complaint_classifier": cc.used if cc is not None else None,
            "note_accuracy": nc.accuracy if nc is not None else None,
            "note_classifier": nc.used if nc is not None else None,
            "attribution_accuracy": self.attribution_check.get("category"),
            "attribution_type_accuracy": self.attribution_check.get("type"),
            "attribution_checked": self.attribution_check.get("n", 0),
            "attribution_accuracy_without_notes":
                self.attribution_check.get("category_without_notes"),
            "attribution_type_accuracy_without_notes":
                self.attribution_check.get("type_without_notes"),
            "sources": self.attributed["source"].value_counts().to_dict(),
            "totals": self.breakdown.totals,
            "departures_tested": int(len(dep)) if dep is not None else 0,
            "departures_flagged": int(dep["flagged"].sum()) if dep is not None
            and len(dep) else 0,
        }


# ------------------------------------------------------------------------ data


def _frame(data: PredictionData, table: str, cols: list[str]) -> pd.DataFrame | None:
    t = data.tables.get(table)
    if t is None:
        return None
    have = [c for c in cols if c in t.columns]
    if s.CUSTOMER_ID in cols and s.CUSTOMER_ID not in have:
        return None
    df = t.select(*have).to_pandas()
    for c in cols:
        if c not in df.columns:
            df[c] = None
    return df


def fit_text_models(data: PredictionData, settings: Settings,
                    complaints: pd.DataFrame | None = None,
                    records: pd.DataFrame | None = None) -> TextModels:
    """Choose and fit the complaint and note classifiers on the workspace's labels."""
    rs = settings.reasons
    lex = load_lexicon(rs)
    lexicon = LexiconClassifier(lexicon=lex).fit([])
    complaints = complaints if complaints is not None else _frame(
        data, "complaints", [s.CUSTOMER_ID, s.TEXT, s.CATEGORY])
    records = records if records is not None else _frame(
        data, "churn_records", [s.CUSTOMER_ID, s.NOTE, s.REASON_CATEGORY])

    def choose(texts: pd.Series, labels: pd.Series) -> tuple[Any, ClassifierChoice | None]:
        ok = texts.notna() & labels.notna() & (texts.astype(str).str.strip() != "")
        if int(ok.sum()) == 0:
            return lexicon, None
        return choose_classifier(texts[ok].astype(str).tolist(), labels[ok].tolist(),
                                 mode=rs.classifier, min_labelled=rs.min_labelled,
                                 lexicon=lex, random_state=settings.predict.random_state)

    c_model, c_choice = lexicon, None
    if complaints is not None and len(complaints):
        c_model, c_choice = choose(complaints[s.TEXT], complaints[s.CATEGORY])
    n_model, n_choice = lexicon, None
    if records is not None and len(records):
        n_model, n_choice = choose(records[s.NOTE], records[s.REASON_CATEGORY])
    return TextModels(c_model, n_model, c_choice, n_choice, lexicon)


def classify_complaints(complaints: pd.DataFrame, model: Any) -> pd.DataFrame:
    """Complaints with ``category``, ``confidence``, ``method``, ``recorded`` (the
    complaint's own category) and ``unresolved``."""
    out = complaints.copy()
    out["recorded"] = out[s.CATEGORY] if s.CATEGORY in out.columns else None
    cls = classify_texts(out[s.TEXT].tolist(), model)
    out["category"] = cls["category"].to_numpy(dtype=object)
    out["confidence"] = cls["confidence"].to_numpy(dtype=float)
    out["method"] = cls["method"].to_numpy(dtype=object)
    out["unresolved"] = (out[s.RESOLVED_AT].isna() if s.RESOLVED_AT in out.columns
                         else False)
    return out


def _evidence_complaints(classified: pd.DataFrame, use_recorded: bool) -> pd.DataFrame:
    """The complaints as attribution evidence: the recorded category wins where kept."""
    ev = classified[[s.CUSTOMER_ID, s.TIME, s.TEXT, "unresolved"]].copy()
    cat = classified["category"]
    conf = classified["confidence"].astype(float)
    if use_recorded:
        rec = classified["recorded"]
        cat = rec.where(rec.notna(), cat)
        conf = conf.where(rec.isna(), 1.0)
    ev["category"] = cat
    ev["confidence"] = conf
    return ev


def _notes(data: PredictionData, records: pd.DataFrame | None, model: Any,
           lexicon: LexiconClassifier) -> pd.DataFrame | None:
    """Cancellation notes (churn_records.note) and cancel reasons (subscriptions), each
    classified: customer_id, at, text, category, confidence, churn_type, involuntary,
    malicious."""
    parts = []
    if records is not None and len(records):
        parts.append(pd.DataFrame({s.CUSTOMER_ID: records[s.CUSTOMER_ID],
                                   AT: pd.to_datetime(records[s.CHURN_DATE]),
                                   s.TEXT: records[s.NOTE], "involuntary": False}))
    subs = _frame(data, "subscriptions", [s.CUSTOMER_ID, s.END_DATE, s.CANCEL_REASON,
                                          s.CANCEL_KIND])
    if subs is not None:
        subs = subs[subs[s.END_DATE].notna() & (subs[s.CANCEL_REASON].notna()
                                                | subs[s.CANCEL_KIND].notna())]
        if len(subs):
            parts.append(pd.DataFrame({
                s.CUSTOMER_ID: subs[s.CUSTOMER_ID], AT: pd.to_datetime(subs[s.END_DATE]),
                s.TEXT: subs[s.CANCEL_REASON],
                "involuntary": (subs[s.CANCEL_KIND] == "involuntary").to_numpy()}))
    if not parts:
        return None
    notes = pd.concat(parts, ignore_index=True)
    # one row per customer and day: the note and the cancel reason of the same churn
    notes[s.TEXT] = notes[s.TEXT].where(notes[s.TEXT].notna(), None)
    agg = (notes.groupby([s.CUSTOMER_ID, AT], sort=False)
           .agg(text=(s.TEXT, lambda x: " ".join(str(v) for v in x if v is not None) or None),
                involuntary=("involuntary", "max"))
           .reset_index())
    texts = agg[s.TEXT].tolist()
    cls = classify_texts(texts, model)
    agg["category"] = cls["category"].to_numpy(dtype=object)
    agg["confidence"] = cls["confidence"].to_numpy(dtype=float)
    types, _conf = lexicon.predict_type([t or "" for t in texts])
    agg[s.CHURN_TYPE] = np.asarray(types, dtype=object)
    agg["malicious"] = agg[s.CHURN_TYPE] == "malicious"
    return agg


def _churns(data: PredictionData) -> pd.DataFrame:
    sp = data.spells
    ch = sp[sp[s.CHURN_DATE].notna()]
    return pd.DataFrame({s.CUSTOMER_ID: ch[s.CUSTOMER_ID].astype(str).to_numpy(),
                         AT: ch[s.CHURN_DATE].to_numpy(),
                         s.START_DATE: ch[s.START_DATE].to_numpy()})


def _tolerance(data: PredictionData) -> int:
    """How far a record's churn date may lie from the lifecycle's: contracts end on the
    day; activity-based churn is declared ``inactivity_days`` after the last purchase."""
    if data.business == "contractual":
        return 45
    return int(data.churn.inactivity_days) + 60


def _window(data: PredictionData, settings: Settings) -> int:
    extra = 0 if data.business == "contractual" else int(data.churn.inactivity_days)
    return int(settings.reasons.complaint_window_days) + extra


def _departure_window(data: PredictionData, settings: Settings) -> int:
    """The staff-departure window: activity-based churn is only declared
    ``inactivity_days`` after the last purchase, so a dealer taken along by a departing
    salesperson shows up that much later (measured: a 90-day window found the planted
    departure in 3 of 10 dealer simulations, 90 + inactivity in all 10)."""
    extra = 0 if data.business == "contractual" else int(data.churn.inactivity_days)
    return int(settings.reasons.departure_window_days) + extra


def _starts(life: Lifecycle, period: str, inactivity_days: int) -> pd.DataFrame:
    """Customers at the start of each period, exactly as the metrics count them."""
    ev = flow_events(life.spells, period).to_pandas()
    warm = inactivity_days if life.business == "non_contractual" else 0
    first = life.history_start + dt.timedelta(days=warm)
    p_hi = period_index_of(life.as_of, period)
    p_lo = min(period_index_of(first, period) + 1, p_hi)
    return stock_table(ev, p_lo, p_hi, False)[["p", "start_count"]]


def reasons_job(ws: Workspace, *, period: str | None = None, step: Step | None = None,
                data: PredictionData | None = None, evaluate: bool = True,
                write: bool = True) -> ReasonsOutcome:
    """Classify, attribute, break down and check staff departures; see the module doc."""
    from churnradar.predict.jobs import open_data

    step = step or _no_step
    settings = ws.settings
    period = period or settings.metrics.period
    data = data or open_data(ws)
    tax = taxonomy(settings.reasons)
    total = 6
    step("reasons", 0, total)
    complaints = _frame(data, "complaints", [s.CUSTOMER_ID, s.TIME, s.TEXT, s.CATEGORY,
                                             s.RESOLVED_AT])
    records = _frame(data, "churn_records", [s.CUSTOMER_ID, s.CHURN_DATE, s.REASON_CATEGORY,
                                             s.CHURN_TYPE, s.NOTE])
    models = fit_text_models(data, settings, complaints, records)
    step("reasons", 1, total)
    classified = (classify_complaints(complaints, models.complaints)
                  if complaints is not None and len(complaints) else None)
    notes = _notes(data, records, models.notes, models.lexicon)
    step("reasons", 2, total)
    churns = _churns(data)
    tol, window = _tolerance(data), _window(data, settings)
    ev_complaints = (_evidence_complaints(classified, use_recorded=True)
                     if classified is not None else None)
    attributed = attribute(churns, recorded=records, notes=notes, complaints=ev_complaints,
                           window_days=window, tolerance_days=tol, tax=tax)
    attributed[s.START_DATE] = churns[s.START_DATE].to_numpy()
    check: dict[str, Any] = {}
    if evaluate and records is not None and records[s.REASON_CATEGORY].notna().any():
        # the honest check: no recorded reason, notes classified without their labels
        blind_notes = _notes(data, records, models.complaints, models.lexicon)
        blind_complaints = (_evidence_complaints(classified, use_recorded=False)
                            if classified is not None else None)
        blind = attribute(churns, notes=blind_notes, complaints=blind_complaints,
                          window_days=window, tolerance_days=tol, tax=tax)
        check = accuracy(blind, records, tolerance_days=tol)
        # harder: no words of the churn itself, only complaints, cancel kind and rules
        mute = (blind_notes.assign(category=None, confidence=0.0, churn_type=None,
                                   malicious=False, text=None)
                if blind_notes is not None else None)
        bare = attribute(churns, notes=mute, complaints=blind_complaints,
                         window_days=window, tolerance_days=tol, tax=tax)
        without = accuracy(bare, records, tolerance_days=tol)
        check["category_without_notes"] = without["category"]
        check["type_without_notes"] = without["type"]
    step("reasons", 3, total)
    life = build_lifecycle(data.tables, settings.churn, as_of=data.data_end)
    losses = churn_losses(data.tables, life, period=period, margin=settings.metrics.margin)
    starts = _starts(life, period, settings.churn.inactivity_days)
    breakdown = reason_breakdown(attributed, period=period, starts=starts, losses=losses)
    step("reasons", 4, total)
    terms = None
    if classified is not None and classified["category"].notna().any():
        known = classified[classified["category"].notna()]
        terms = top_terms(known[s.TEXT].tolist(), known["category"].tolist(), k=8)
    departures = None
    staff = _frame(data, "staff", [s.OWNER_ID, s.NAME, s.LEFT_AT])
    customers = _frame(data, "customers", [s.CUSTOMER_ID, s.OWNER_ID])
    if staff is not None and customers is not None and customers[s.OWNER_ID].notna().any():
        departures = staff_departures(customers, data.spells, staff, as_of=data.data_end,
                                      window_days=_departure_window(data, settings),
                                      alpha=settings.reasons.departure_alpha)
    step("reasons", 5, total)
    out = ReasonsOutcome(as_of=data.data_end, period=period, attributed=attributed,
                         breakdown=breakdown, complaints=classified, terms=terms,
                         departures=departures, complaint_choice=models.complaint_choice,
                         note_choice=models.note_choice, attribution_check=check)
    if write:
        out.run_dir = _write(ws, out)
    step("reasons", total, total)
    return out


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1, default=str)


def _write(ws: Workspace, out: ReasonsOutcome) -> Path:
    run_dir = ws.new_run("reasons")
    frames: dict[str, pd.DataFrame | None] = {
        "attribution": out.attributed,
        "by_category": out.breakdown.by_category,
        "by_type": out.breakdown.by_type,
        "controllable": out.breakdown.controllable,
        "terms": out.terms,
        "departures": out.departures,
    }
    for name, df in frames.items():
        if df is None:
            continue
        with atomic_path(run_dir / f"{name}.parquet") as tmp:
            df.to_parquet(tmp, index=False)
    with atomic_path(run_dir / "matrix.csv") as tmp:
        out.breakdown.matrix.to_csv(tmp)
    if out.complaints is not None:
        cols = [s.CUSTOMER_ID, s.TIME, "category", "confidence", "method", "recorded"]
        with atomic_path(run_dir / "complaints.parquet") as tmp:
            out.complaints[cols].to_parquet(tmp, index=False)
    choices = {name: c.to_dict() for name, c in (("complaints", out.complaint_choice),
                                                 ("notes", out.note_choice)) if c is not None}
    atomic_write_text(run_dir / "classifiers.json", _json(choices))
    atomic_write_text(run_dir / "summary.json", _json(out.summary()))
    return run_dir


def latest_attribution(ws: Workspace) -> pd.DataFrame | None:
    """The attribution of the latest reasons run, if any."""
    from churnradar.predict.jobs import latest_run

    run = latest_run(ws, "reasons")
    path = run / "attribution.parquet" if run else None
    return pd.read_parquet(path) if path is not None and path.exists() else None
