"""The at-risk list (``/customers``), its Excel export and the customer 360 page.

Thin shells (style.md §6): each route parses its input, asks the current snapshot
(:class:`churnradar.web.store.Snapshot`) for the rows the caller may see — always with
``owner_id=auth.owner_scope``, so a sales user never sees, counts or exports another
owner's customers — and renders them with display names from the catalog. A customer
that does not exist and one outside the caller's rights both answer 404.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from churnradar.exceptions import WorkspaceError
from churnradar.i18n import fmt_date, fmt_int, fmt_num, t
from churnradar.web import export
from churnradar.web.accounts import audit
from churnradar.web.deps import Auth, PageAuth, ReadSession, WriteSession, request_lang
from churnradar.web.render import render
from churnradar.web.store import RISK_TIERS, SORTABLE, CustomerPage, Snapshot

router = APIRouter()

#: the list's filters on customer columns (besides risk tier, owner and the search)
FILTER_COLUMNS: tuple[str, ...] = ("grade", "region", "segment")
PER_PAGE_CHOICES: tuple[int, ...] = (25, 50, 100, 200)
MAX_PER_PAGE = 500
#: longest filter value or search text taken from a query string
MAX_TEXT = 100
#: history rows shown on the 360 page (the newest); events are summarised by a chart
LATEST_EVENTS = 50
LATEST_ROWS = 100
#: event types drawn on the 360 page (the most frequent)
MAX_EVENT_TYPES = 8


# --- the list's query ----------------------------------------------------------------------
def _text(value: str | None) -> str | None:
    value = (value or "").strip()[:MAX_TEXT]
    return value or None


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)


@dataclass(frozen=True)
class ListQuery:
    """The at-risk list's filters, sort and page, read leniently from a query string
    (a bad value falls back to its default: a page never answers 422)."""

    risk_tier: str | None = None
    grade: str | None = None
    region: str | None = None
    segment: str | None = None
    owner_id: str | None = None
    q: str | None = None
    sort: str = "risk_rank"
    order: str = "asc"
    page: int = 1
    per_page: int = 50
    #: the settings' page size: left out of links when per_page equals it
    default_per_page: int = field(default=50, compare=False)

    @classmethod
    def parse(cls, params: Mapping[str, str], *, per_page: int) -> ListQuery:
        tier = params.get("risk_tier")
        sort = params.get("sort") or "risk_rank"
        order = params.get("order") or "asc"
        per_page = min(max(1, per_page), MAX_PER_PAGE)
        return cls(
            risk_tier=tier if tier in RISK_TIERS else None,
            grade=_text(params.get("grade")), region=_text(params.get("region")),
            segment=_text(params.get("segment")), owner_id=_text(params.get("owner_id")),
            q=_text(params.get("q")),
            sort=sort if sort in SORTABLE else "risk_rank",
            order=order if order in ("asc", "desc") else "asc",
            page=_int(params.get("page"), 1, 1, 10**7),
            per_page=_int(params.get("per_page"), per_page, 1, MAX_PER_PAGE),
            default_per_page=per_page,
        )

    @property
    def descending(self) -> bool:
        return self.order == "desc"

    def filters(self) -> dict[str, str]:
        return {c: v for c in FILTER_COLUMNS if (v := getattr(self, c))}

    def params(self, **changes: Any) -> dict[str, str]:
        """The values that differ from the defaults (after ``changes``): the query
        string of a link that keeps the filters."""
        me = replace(self, **changes)
        defaults = {"sort": "risk_rank", "order": "asc", "page": 1,
                    "per_page": self.default_per_page}
        out = {}
        for f in fields(self):
            value = getattr(me, f.name)
            if f.name == "default_per_page" or value is None or value == defaults.get(f.name):
                continue
            out[f.name] = str(value)
        return out

    def url(self, path: str = "/customers", **changes: Any) -> str:
        q = urlencode(self.params(**changes))
        return f"{path}?{q}" if q else path

    def describe(self) -> dict[str, str]:
        """The filters in force (for the audit log and the export's about sheet)."""
        return {f.name: str(getattr(self, f.name)) for f in fields(self)
                if f.name in ("risk_tier", "owner_id", "q", *FILTER_COLUMNS)
                and getattr(self, f.name) is not None}


def _owner_filter(auth: Auth, requested: str | None) -> tuple[str | None, bool]:
    """(owner_id to query with, whether the answer is empty): a sales user always gets
    their own owner_id; asking for another owner's customers gives nothing (no error)."""
    scope = auth.owner_scope
    if scope is None:
        return requested, False
    return scope, requested is not None and requested != scope


def customer_page(snapshot: Snapshot, *, auth: Auth, query: ListQuery) -> CustomerPage:
    """The page of customers ``query`` asks for, among those ``auth`` may see."""
    owner, empty = _owner_filter(auth, query.owner_id)
    if empty:
        return CustomerPage(rows=[], total=0, page=query.page, per_page=query.per_page)
    return snapshot.customers(owner_id=owner, risk_tier=query.risk_tier, q=query.q,
                              filters=query.filters(), sort=query.sort,
                              descending=query.descending, page=query.page,
                              per_page=query.per_page)


# --- display helpers -----------------------------------------------------------------------
def _when(value: Any, lang: str) -> str:
    """An ISO date or timestamp from the snapshot, in the reader's format."""
    if value is None or value == "":
        return "–"
    text = str(value)
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        return text
    out = fmt_date(day, lang)
    if len(text) > 10 and text[11:16] not in ("", "00:00"):
        out += " " + text[11:16]
    return out


def _action_names(request: Request, lang: str) -> dict[str, str]:
    from churnradar.web.tasks import action_names

    return action_names(request.app.state.ws.settings.retention, lang)


def display_row(row: Mapping[str, Any], lang: str, names: Mapping[str, str]) -> dict[str, Any]:
    """A customer row with its display names (tier, drivers, reason, action)."""
    out = dict(row)
    out["url"] = "/customers/" + quote(str(row["customer_id"]), safe="")
    out["tier_label"] = export.tier_label(row.get("risk_tier"), lang)
    out["drivers"] = export.drivers(row, lang)
    out["reason_label"] = export.reason_name(row.get("top_reason"), lang)
    out["action_label"] = export.recommended_action(row, lang, names)
    out["value_tier_label"] = export.value_tier_label(row.get("value_tier"), lang)
    return out


def _options(snapshot: Snapshot, column: str, owner: str | None) -> list[str] | None:
    """The choices of a filter; None when there are too many to list (a text box)."""
    return snapshot.distinct(column, owner_id=owner, limit=OPTIONS_LISTED)


def _snapshot(request: Request) -> Snapshot | None:
    try:
        return request.app.state.store.current()  # type: ignore[no-any-return]
    except WorkspaceError:
        return None


def _no_data(request: Request, auth: Auth, template: str) -> Response:
    lang = request_lang(request)
    return render(request, template,
                  {"no_data": t("web_err_no_customers", lang,
                                path=request.app.state.ws.root.name)}, auth=auth)


#: filter choices listed in a drop-down; more than this and the filter is a text box
OPTIONS_LISTED = 200


# --- the at-risk list ----------------------------------------------------------------------
@router.get("/customers", include_in_schema=False)
def customers(request: Request, auth: PageAuth) -> Response:
    snapshot = _snapshot(request)
    if snapshot is None:
        return _no_data(request, auth, "customers.html")
    lang = request_lang(request)
    query = ListQuery.parse(request.query_params,
                            per_page=request.app.state.settings.page_size)
    page = customer_page(snapshot, auth=auth, query=query)
    names = _action_names(request, lang)
    scope = auth.owner_scope
    options = {c: _options(snapshot, c, scope) for c in FILTER_COLUMNS if snapshot.has(c)}
    owners = _options(snapshot, "owner_id", None) if scope is None else []
    as_of = page.rows[0].get("as_of") if page.rows else None
    return render(request, "customers.html", {
        "query": query, "page": page,
        "rows": [display_row(r, lang, names) for r in page.rows],
        "options": options, "owners": owners, "tiers": RISK_TIERS,
        "sortable": [c for c in SORTABLE if snapshot.has(c)],
        "per_page_choices": sorted({*PER_PAGE_CHOICES, query.per_page}),
        "scored": snapshot.has("churn_probability"), "has": snapshot.has,
        "as_of": _when(as_of, lang) if as_of else None, "owner_scope": scope,
        "export_url": query.url("/customers/export.xlsx", page=1),
        "export_max": fmt_int(export.MAX_ROWS, lang),
    }, auth=auth)


@router.get("/customers/export.xlsx", include_in_schema=False)
def export_customers(request: Request, auth: PageAuth, db: WriteSession) -> Response:
    """Every customer of the list's filters (the caller's own only, for sales) as an
    Excel workbook. Recorded in the audit log: an export moves customer data out."""
    snapshot = _snapshot(request)
    if snapshot is None:
        raise HTTPException(404)
    lang = request_lang(request)
    query = ListQuery.parse(request.query_params,
                            per_page=request.app.state.settings.page_size)
    owner, empty = _owner_filter(auth, query.owner_id)
    found = iter(()) if empty else snapshot.iter_customers(
        owner_id=owner, risk_tier=query.risk_tier, q=query.q, filters=query.filters(),
        limit=export.MAX_ROWS)
    first = next(found, None)
    as_of = first.get("as_of") if first else None
    rows = itertools.chain([first], found) if first else iter(())
    described = query.describe()
    about = [
        (t("web_cu_about_as_of", lang), as_of or "–"),
        (t("web_cu_about_exported_by", lang), auth.user.name),
        (t("web_cu_about_exported_at", lang),
         dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")),
        (t("web_cu_about_filters", lang),
         json.dumps(described, ensure_ascii=False) if described
         else t("web_cu_about_no_filter", lang)),
    ]
    fd, name = tempfile.mkstemp(prefix="churnradar-export-", suffix=".xlsx")
    os.close(fd)
    try:
        n = export.write_customers_xlsx(
            rows, name, columns=export.export_columns(snapshot.columns), lang=lang,
            action_names=_action_names(request, lang), about=about)
    except BaseException:
        os.unlink(name)
        raise
    audit(db, user=auth.user, action="export.customers", target="customers",
          detail={"rows": n, "filters": described, "owner_scope": auth.owner_scope,
                  "format": "xlsx"})
    stamp = (as_of or dt.date.today().isoformat())[:10]
    return FileResponse(
        name, filename=f"customers-{stamp}.xlsx",
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        background=BackgroundTask(os.unlink, name),
        headers={"Cache-Control": "no-store"})


# --- customer 360 ----------------------------------------------------------------------------
# Both charts are written as plain Plotly JSON (no plotly.graph_objects): validating a
# figure object costs tens of milliseconds, more than the rest of the page.
_EVENT_COLORS = ("#4a78b5", "#e08a1e", "#2a9d8f", "#8e6bb8", "#c0392b", "#6c757d",
                 "#b7791f", "#1f5fa8")


def _layout(**extra: Any) -> dict[str, Any]:
    from churnradar.report.charts import COLORS, FONT_FAMILY

    layout: dict[str, Any] = {
        "font": {"family": FONT_FAMILY, "size": 13, "color": COLORS["ink"]},
        "paper_bgcolor": "#ffffff", "plot_bgcolor": "#ffffff", "showlegend": False,
        "hovermode": "closest", "dragmode": False, "autosize": True,
    }
    layout.update(extra)
    return layout


def _axis(**extra: Any) -> dict[str, Any]:
    from churnradar.report.charts import COLORS

    return {"gridcolor": COLORS["grid"], "zeroline": False, "fixedrange": True,
            "automargin": True, **extra}


def _risk_chart(points: list[dict[str, Any]], lang: str) -> str | None:
    """The customer's churn probability at each scoring."""
    from churnradar.report.charts import COLORS

    points = [p for p in points if p.get("churn_probability") is not None]
    if not points:
        return None
    xaxis = _axis(type="date", tickformat="%Y-%m-%d")
    if len(points) == 1:  # one score: a month either side, not a zoom into one day
        day = dt.date.fromisoformat(str(points[0]["as_of"])[:10])
        xaxis["range"] = [(day - dt.timedelta(days=30)).isoformat(),
                          (day + dt.timedelta(days=30)).isoformat()]
    top = max(float(p["churn_probability"]) for p in points)
    trace = {"type": "scatter", "mode": "lines+markers",
             "x": [str(p["as_of"]) for p in points],
             "y": [float(p["churn_probability"]) for p in points],
             "line": {"color": COLORS["start"]}, "marker": {"size": 8},
             "hovertemplate": "%{x|%Y-%m-%d}: %{y:.1%}<extra></extra>"}
    layout = _layout(height=280, margin={"l": 64, "r": 24, "t": 16, "b": 40}, xaxis=xaxis,
                     yaxis=_axis(tickformat=".0%", range=[0, min(1.0, top * 1.2 + 0.01)],
                                 title={"text": t("web_cu_col_probability", lang)}))
    return json.dumps({"data": [trace], "layout": layout}, ensure_ascii=False)


def _events_chart(summary: list[dict[str, Any]], lang: str) -> str | None:
    """Events per type and month (the sum of their values, else their count), one small
    panel per type: their scales differ (minutes, gigabytes, logins)."""
    from churnradar.report.charts import esc

    if not summary:
        return None
    per_type: dict[str, list[dict[str, Any]]] = {}
    for r in summary:
        per_type.setdefault(str(r["key"]), []).append(r)
    kinds = sorted(per_type, key=lambda k: (-sum(int(r["rows"]) for r in per_type[k]), k)
                   )[:MAX_EVENT_TYPES]
    n = len(kinds)
    gap = 0.06 if n > 1 else 0.0
    height = (1.0 - gap * (n - 1)) / n
    traces: list[dict[str, Any]] = []
    layout = _layout(height=60 + 140 * n, margin={"l": 64, "r": 24, "t": 28, "b": 32},
                     bargap=0.15, annotations=[])
    for i, kind in enumerate(kinds):
        rows = per_type[kind]
        use_total = all(r.get("total") is not None for r in rows)
        suffix = "" if i == 0 else str(i + 1)
        top = 1.0 - i * (height + gap)
        traces.append({
            "type": "bar", "x": [str(r["month"]) for r in rows],
            "y": [float(r["total"]) if use_total else int(r["rows"]) for r in rows],
            "xaxis": "x", "yaxis": f"y{suffix}", "name": esc(kind),
            "marker": {"color": _EVENT_COLORS[i % len(_EVENT_COLORS)]},
            "hovertemplate": "%{x|%Y-%m}: %{y:,.2f}<extra>" + esc(kind) + "</extra>"})
        layout[f"yaxis{suffix}"] = _axis(domain=[max(0.0, top - height), top],
                                         anchor="x", rangemode="tozero")
        layout["annotations"].append({
            "text": f"<b>{esc(kind)}</b>", "xref": "paper", "yref": "paper", "x": 0,
            "y": top, "xanchor": "left", "yanchor": "bottom", "showarrow": False})
    layout["xaxis"] = _axis(type="date", anchor=f"y{'' if n == 1 else n}")
    return json.dumps({"data": traces, "layout": layout}, ensure_ascii=False)


def _complaint_rows(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        item = dict(r)
        item["category_label"] = export.reason_name(r.get("category"), lang)
        resolved = r.get("resolved_at")
        if resolved:
            hours = None
            with contextlib.suppress(KeyError, TypeError, ValueError):
                hours = (dt.datetime.fromisoformat(str(resolved))
                         - dt.datetime.fromisoformat(str(r["time"]))).total_seconds() / 3600
            item["resolution"] = t("web_cu_resolved_after", lang, when=_when(resolved, lang),
                                   hours=fmt_num(hours, lang, 1) if hours is not None else "–")
        else:
            item["resolution"] = t("web_cu_unresolved", lang)
            item["unresolved"] = True
        out.append(item)
    return out


def _status_label(status: str | None, lang: str) -> str:
    from churnradar.i18n import catalog

    key = f"web_cu_status_{status}"
    return t(key, lang) if status and key in catalog() else (status or "")


def customer_view(snapshot: Snapshot, row: dict[str, Any], *, lang: str,
                  names: Mapping[str, str]) -> dict[str, Any]:
    """What the 360 page shows of a customer the caller may see (``row``)."""
    cid = str(row["customer_id"])
    risk = snapshot.history("risk", cid)
    events_summary = snapshot.history_by_month("events", cid, by="event_type", value="value")
    events_total = sum(int(r["rows"]) for r in events_summary)
    actions = snapshot.history("retention_actions", cid, limit=LATEST_ROWS, newest_first=True)
    for a in actions:
        a["action_label"] = export.action_name(a.get("action"), lang, names)
        a["group_label"] = export.group_name(a.get("group"), lang)
        a["outcome_label"] = _status_label(a.get("outcome"), lang)
    churn = None
    if row.get("churned_at"):
        churn = {"date": _when(row["churned_at"], lang),
                 "reason": export.reason_name(row.get("churn_reason"), lang)
                 or t("reason_none", lang),
                 "type": export.churn_type_name(row.get("churn_type"), lang),
                 "evidence": row.get("churn_evidence"),
                 "returned": row.get("churn_probability") is not None}
    return {
        "c": display_row(row, lang, names),
        "risk_chart": _risk_chart(risk, lang),
        "risk_points": len(risk),
        "subscriptions": snapshot.history("subscriptions", cid, limit=LATEST_ROWS,
                                          newest_first=True),
        "transactions": snapshot.history("transactions", cid, limit=LATEST_ROWS,
                                         newest_first=True),
        "has_subscriptions": "subscriptions" in snapshot.history_files,
        "has_transactions": "transactions" in snapshot.history_files,
        "events": snapshot.history("events", cid, limit=LATEST_EVENTS, newest_first=True),
        "events_total": events_total,
        "events_chart": _events_chart(events_summary, lang),
        "complaints": _complaint_rows(
            snapshot.history("complaints", cid, limit=LATEST_ROWS, newest_first=True), lang),
        "surveys": snapshot.history("surveys", cid, limit=LATEST_ROWS, newest_first=True),
        "actions": actions,
        "churn": churn,
        "plan_reason_label": export.reason_name(row.get("plan_reason"), lang),
        "plan_group_label": export.group_name(row.get("plan_group"), lang),
        "value_action_label": export.action_name(row.get("value_action"), lang),
    }


@router.get("/customers/{customer_id}", include_in_schema=False)
def customer(request: Request, customer_id: str, auth: PageAuth, db: ReadSession) -> Response:
    snapshot = _snapshot(request)
    row = snapshot.customer(customer_id, owner_id=auth.owner_scope) if snapshot else None
    if snapshot is None or row is None:
        raise HTTPException(404)
    lang = request_lang(request)
    names = _action_names(request, lang)
    from churnradar.web.charts import CHART_SCRIPT
    from churnradar.web.tasks import DEFAULT_DUE_IN_DAYS, allowed_actions, list_tasks

    tasks = list_tasks(db, owner_scope=auth.owner_scope, customer_id=str(row["customer_id"]),
                       per_page=100)
    retention = request.app.state.ws.settings.retention
    ctx = customer_view(snapshot, row, lang=lang, names=names)
    ctx.update({
        "tasks": [{"id": k.id, "action": names.get(k.action, k.action),
                   "due": _when(k.due_date.isoformat() if k.due_date else None, lang),
                   "status": k.status, "status_label": _status_label(k.status, lang),
                   "owner_id": k.owner_id, "note": k.note} for k in tasks.rows],
        "tasks_total": tasks.total,
        "task_actions": [(k, names.get(k, k)) for k in allowed_actions(retention)],
        "task_default_action": row.get("plan_action"),
        "task_due": (dt.date.today() + dt.timedelta(days=DEFAULT_DUE_IN_DAYS)).isoformat(),
        "can_assign": auth.sees_all,
        "when": lambda v: _when(v, lang),
        "has": snapshot.has,
        "back_url": "/customers",
        "chart_script": CHART_SCRIPT,
    })
    return render(request, "customer.html", ctx, auth=auth)
