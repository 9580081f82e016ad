"""The JSON API's read side: metrics, customers and their history (``/api/v1``).

Every endpoint needs a caller (:data:`~churnradar.web.deps.ApiAuth`: a bearer token or
a browser session) and applies the same role rules as the pages: a sales user sees only
the customers they own — asking for another owner's gives an empty page, and a customer
outside their rights answers 404, exactly like one that does not exist. Company metrics
(churn rates, safety line) are the same for every role.

Schemas come in families (style.md §6): ``CustomerPublic``, ``CustomerPage``,
``HistoryPublic``, ``MetricsPublic``. Values the snapshot cannot give (NaN, missing
analyses) are ``null``; every input is bounded, so no request makes a server error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, Field

from churnradar.exceptions import WorkspaceError
from churnradar.i18n import LANGUAGES, catalog, t
from churnradar.web import export
from churnradar.web.deps import ApiAuth, Auth, request_lang
from churnradar.web.store import Snapshot

router = APIRouter(tags=["data"])

RiskTier = Literal["high", "medium", "low"]
SortKey = Literal["risk_rank", "churn_probability", "clv", "value_at_risk", "customer_id",
                  "name", "grade", "region", "owner_id"]
HistoryTable = Literal["subscriptions", "transactions", "events", "complaints", "surveys",
                       "retention_actions", "risk"]
MAX_TEXT = 100
MAX_ID = 200
MAX_PAGE = 1_000_000
MAX_PER_PAGE = 500
#: the customer columns with a field of their own in CustomerPublic (the rest go to
#: ``attributes``)
_OWN_FIELDS = frozenset({
    "customer_id", "name", "signup_date", "grade", "is_key_account", "segment", "region",
    "channel", "owner_id", "as_of", "churn_probability", "risk_rank", "risk_tier",
    "top_reason", "clv", "value_tier", "value_at_risk", "value_action", "amount_per_month",
    "plan_action", "plan_priority", "plan_expected_saved", "plan_selected", "plan_group",
    "plan_reason", "churned_at", "churn_reason", "churn_type", "churn_evidence",
    *(f"driver_{i}{s}" for i in range(1, export.DRIVERS + 1)
      for s in ("", "_effect", "_reason")),
})
Responses = dict[int | str, dict[str, Any]]
_NOT_FOUND: Responses = {404: {"description": "No such customer, or not one the caller "
                                              "may see (the two are indistinguishable)."}}
_UNAUTHENTICATED: Responses = {401: {"description": "No valid bearer token or session."}}

Scalar = str | int | float | bool | None


# --- plain values (no NaN or infinity in JSON) -----------------------------------------------
def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> int | None:
    number = _num(value)
    return int(number) if number is not None else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _scalar(value: Any) -> Scalar:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def api_lang(request: Request,
             lang: Annotated[Literal["zh-CN", "en"] | None, Query(
                 description="Language of the display names and messages "
                             "(default: the workspace's)")] = None) -> str:
    return lang if lang in LANGUAGES else request_lang(request)


ApiLang = Annotated[str, Depends(api_lang)]


# --- schemas ---------------------------------------------------------------------------------
class DriverPublic(BaseModel):
    """One of the top drivers of a customer's churn risk."""

    feature: str = Field(description="Feature column, e.g. `complaints_90d`")
    label: str = Field(description="Its display name in the requested language")
    effect: float | None = Field(default=None, description="Contribution to the log-odds of "
                                                   "churning (positive raises the risk)")
    reason: str | None = Field(default=None, description="The reason category it points to")


class CustomerPublic(BaseModel):
    """A customer with the newest risk score, value, recommended action and, for those
    who left, the reason recorded or attributed."""

    customer_id: str
    name: str | None = None
    signup_date: str | None = None
    grade: str | None = None
    is_key_account: bool | None = None
    segment: str | None = None
    region: str | None = None
    channel: str | None = None
    owner_id: str | None = None
    as_of: str | None = Field(default=None, description="Date of the risk score")
    churn_probability: float | None = Field(default=None, description="Probability of churning "
                                                              "within the horizon")
    risk_rank: int | None = Field(default=None, description="1 = the riskiest active customer")
    risk_tier: RiskTier | None = None
    drivers: list[DriverPublic] = Field(default_factory=list)
    top_reason: str | None = Field(default=None, description="Likely reason category")
    clv: float | None = Field(default=None, description="Customer lifetime value")
    value_tier: RiskTier | None = None
    value_at_risk: float | None = Field(default=None, description="CLV × churn probability")
    amount_per_month: float | None = None
    value_action: str | None = Field(default=None, description="Value × risk matrix action key")
    plan_action: str | None = Field(default=None, description="Playbook of the newest retention "
                                                      "plan")
    plan_priority: float | None = None
    plan_expected_saved: float | None = None
    plan_selected: bool | None = None
    plan_group: Literal["treatment", "control"] | None = None
    plan_reason: str | None = None
    recommended_action: str | None = Field(default=None, description="plan_action, else "
                                                             "value_action")
    recommended_action_name: str | None = Field(default=None, description="Its display name")
    churned_at: str | None = Field(default=None, description="Latest churn date, if ever churned")
    churn_reason: str | None = None
    churn_type: str | None = None
    churn_evidence: str | None = None
    attributes: dict[str, Scalar] = Field(default_factory=dict,
                                          description="Other columns of the customers table")

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, lang: str,
                 names: Mapping[str, str] | None = None) -> CustomerPublic:
        tier = row.get("risk_tier")
        vtier = row.get("value_tier")
        group = row.get("plan_group")
        action = row.get("plan_action") or row.get("value_action")
        return cls(
            customer_id=str(row["customer_id"]), name=_text(row.get("name")),
            signup_date=_text(row.get("signup_date")), grade=_text(row.get("grade")),
            is_key_account=_bool(row.get("is_key_account")),
            segment=_text(row.get("segment")), region=_text(row.get("region")),
            channel=_text(row.get("channel")), owner_id=_text(row.get("owner_id")),
            as_of=_text(row.get("as_of")), churn_probability=_num(row.get("churn_probability")),
            risk_rank=_int(row.get("risk_rank")),
            risk_tier=tier if tier in ("high", "medium", "low") else None,
            drivers=[DriverPublic(feature=str(d["feature"]), label=d["label"],
                                  effect=_num(d["effect"]), reason=_text(d["reason"]))
                     for d in export.drivers(row, lang)],
            top_reason=_text(row.get("top_reason")), clv=_num(row.get("clv")),
            value_tier=vtier if vtier in ("high", "medium", "low") else None,
            value_at_risk=_num(row.get("value_at_risk")),
            amount_per_month=_num(row.get("amount_per_month")),
            value_action=_text(row.get("value_action")),
            plan_action=_text(row.get("plan_action")),
            plan_priority=_num(row.get("plan_priority")),
            plan_expected_saved=_num(row.get("plan_expected_saved")),
            plan_selected=_bool(row.get("plan_selected")),
            plan_group=group if group in ("treatment", "control") else None,
            plan_reason=_text(row.get("plan_reason")),
            recommended_action=_text(action),
            recommended_action_name=export.recommended_action(row, lang, names) or None,
            churned_at=_text(row.get("churned_at")), churn_reason=_text(row.get("churn_reason")),
            churn_type=_text(row.get("churn_type")),
            churn_evidence=_text(row.get("churn_evidence")),
            attributes={k: _scalar(v) for k, v in row.items() if k not in _OWN_FIELDS},
        )


class CustomerPage(BaseModel):
    """One page of customers, most at risk first unless sorted otherwise."""

    items: list[CustomerPublic]
    total: int = Field(description="Customers matching the filters (that the caller "
                                   "may see)")
    page: int
    per_page: int
    pages: int


class HistoryPublic(BaseModel):
    """One customer's rows of a history table (newest first by default)."""

    customer_id: str
    table: HistoryTable
    rows: list[dict[str, Scalar]]


class PeriodPublic(BaseModel):
    """The churn figures of one period, on both bases (domain.md §1)."""

    label: str | None = None
    period_start: str | None = None
    period_end: str | None = None
    complete: bool | None = None
    start_count: int | None = None
    new_count: int | None = None
    winback_count: int | None = None
    churned_count: int | None = None
    end_count: int | None = None
    churn_rate_start: float | None = Field(default=None, description="Churned / customers at the "
                                                             "start")
    churn_rate_end: float | None = Field(default=None, description="Churned / customers at the end")
    retention_rate_start: float | None = None
    retention_rate_end: float | None = None
    churn_rate_annualised: float | None = None
    revenue: float | None = None
    lost_revenue: float | None = None
    churn_loss: float | None = Field(default=None, description="Lost revenue × margin")
    gross_revenue_churn: float | None = None
    net_revenue_retention: float | None = None
    arpu: float | None = None


class SafetyPublic(BaseModel):
    """One check of the churn safety line."""

    check: str
    status: str = Field(description="pass, warn, alert or n/a")
    value: float | None = None
    threshold_warn: float | None = None
    threshold_alert: float | None = None
    message: str | None = Field(default=None, description="What it means, in the requested "
                                                  "language")


class MetricsPublic(BaseModel):
    """The company's latest churn metrics (the same for every role)."""

    available: bool = Field(description="False until the metrics have been computed")
    as_of: str | None = None
    period: str | None = Field(default=None, description="month, quarter or year")
    business: str | None = None
    currency: str | None = None
    annualised_churn_rate: float | None = None
    latest: PeriodPublic | None = Field(default=None, description="The latest complete period")
    previous: PeriodPublic | None = Field(default=None, description="The period before it")
    periods: int = 0
    safety: list[SafetyPublic] = Field(default_factory=list)
    alerts: int = Field(default=0, description="Safety checks at warn or alert")


# --- data functions (HTTP-free) ------------------------------------------------------------
_PERIOD_TEXT = ("label", "period_start", "period_end")
_PERIOD_INT = ("start_count", "new_count", "winback_count", "churned_count", "end_count")


def _period(row: Mapping[str, Any] | None) -> PeriodPublic | None:
    if row is None:
        return None
    values: dict[str, Any] = {"complete": _bool(row.get("complete"))}
    for name in PeriodPublic.model_fields:
        if name in _PERIOD_TEXT:
            values[name] = _text(row.get(name))
        elif name in _PERIOD_INT:
            values[name] = _int(row.get(name))
        elif name != "complete":
            values[name] = _num(row.get(name))
    return PeriodPublic(**values)


def _safety_message(check: Mapping[str, Any], lang: str) -> str | None:
    key = check.get("message_key")
    if not key or key not in catalog():
        return None
    try:
        return t(str(key), lang, **dict(check.get("params") or {}))
    except (KeyError, ValueError, TypeError, IndexError):
        return None


def metrics_public(metrics: Mapping[str, Any] | None, *, lang: str) -> MetricsPublic:
    """The API view of a snapshot's ``metrics.json`` (None: not computed yet)."""
    if not metrics:
        return MetricsPublic(available=False)
    overall = [p for p in metrics.get("overall") or [] if isinstance(p, Mapping)]
    complete = [p for p in overall if p.get("complete")] or overall
    latest = complete[-1] if complete else None
    previous = complete[-2] if len(complete) > 1 else None
    safety = [SafetyPublic(check=str(c.get("check")), status=str(c.get("status")),
                           value=_num(c.get("value")),
                           threshold_warn=_num(c.get("threshold_warn")),
                           threshold_alert=_num(c.get("threshold_alert")),
                           message=_safety_message(c, lang))
              for c in metrics.get("safety") or [] if isinstance(c, Mapping)]
    return MetricsPublic(
        available=True, as_of=_text(metrics.get("as_of")), period=_text(metrics.get("period")),
        business=_text(metrics.get("business")), currency=_text(metrics.get("currency")),
        annualised_churn_rate=_num(metrics.get("annualised_churn_rate")),
        latest=_period(latest), previous=_period(previous), periods=len(overall),
        safety=safety, alerts=sum(s.status in ("warn", "alert") for s in safety))


def _snapshot(request: Request) -> Snapshot | None:
    try:
        return request.app.state.store.current()  # type: ignore[no-any-return]
    except WorkspaceError:
        return None


def _names(request: Request, lang: str) -> dict[str, str]:
    from churnradar.web.tasks import action_names

    return action_names(request.app.state.ws.settings.retention, lang)


def _visible(request: Request, auth: Auth, customer_id: str
             ) -> tuple[Snapshot, dict[str, Any]]:
    snapshot = _snapshot(request)
    row = snapshot.customer(customer_id, owner_id=auth.owner_scope) if snapshot else None
    if snapshot is None or row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "customer not found")
    return snapshot, row


# --- endpoints -------------------------------------------------------------------------------
CustomerId = Annotated[str, Path(min_length=1, max_length=MAX_ID,
                                 description="The customer's id")]
Text = Annotated[str | None, Query(max_length=MAX_TEXT)]


@router.get("/metrics", response_model=MetricsPublic, responses={**_UNAUTHENTICATED},
            summary="Latest churn metrics",
            description="The latest complete period's churn figures on both bases (start "
                        "and end of period), the one before it, the annualised churn rate "
                        "and the safety-line checks with their alerts. Company figures: "
                        "the same for every role.")
def get_metrics(request: Request, auth: ApiAuth, lang: ApiLang) -> MetricsPublic:
    snapshot = _snapshot(request)
    return metrics_public(snapshot.metrics if snapshot else None, lang=lang)


@router.get("/customers", response_model=CustomerPage, responses={**_UNAUTHENTICATED},
            summary="List customers (at-risk list)",
            description="Active customers (scored ones, when risk scores exist), filtered, "
                        "sorted and paged; most at risk first by default. A sales user "
                        "sees only the customers they own: an `owner_id` other than theirs "
                        "gives an empty page.")
def list_customers(
    request: Request, auth: ApiAuth, lang: ApiLang,
    risk_tier: Annotated[RiskTier | None, Query(description="Only this risk tier")] = None,
    owner_id: Annotated[str | None, Query(max_length=MAX_TEXT,
                                          description="Only this owner's customers")] = None,
    grade: Annotated[str | None, Query(max_length=MAX_TEXT)] = None,
    region: Annotated[str | None, Query(max_length=MAX_TEXT)] = None,
    segment: Annotated[str | None, Query(max_length=MAX_TEXT)] = None,
    q: Annotated[str | None, Query(max_length=MAX_TEXT,
                                   description="Part of the customer id or name")] = None,
    sort: Annotated[SortKey, Query(description="Column to sort by")] = "risk_rank",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int | None, Query(
        ge=1, le=MAX_PER_PAGE, description="Rows per page (default: the server's "
                                           "page size)")] = None,
    active_only: Annotated[bool, Query(description="Only customers with a current risk "
                                                   "score (still active)")] = True,
) -> CustomerPage:
    size = per_page or int(request.app.state.settings.page_size)
    snapshot = _snapshot(request)
    scope = auth.owner_scope
    if snapshot is None or (scope is not None and owner_id is not None and owner_id != scope):
        return CustomerPage(items=[], total=0, page=page, per_page=size, pages=1)
    filters = {k: v for k, v in (("grade", grade), ("region", region), ("segment", segment))
               if v}
    found = snapshot.customers(owner_id=scope if scope is not None else owner_id,
                               risk_tier=risk_tier, q=q, filters=filters, sort=sort,
                               descending=order == "desc", page=page, per_page=size,
                               active_only=active_only)
    names = _names(request, lang)
    return CustomerPage(items=[CustomerPublic.from_row(r, lang=lang, names=names)
                               for r in found.rows],
                        total=found.total, page=found.page, per_page=found.per_page,
                        pages=found.pages)


@router.get("/customers/{customer_id}", response_model=CustomerPublic,
            responses={**_UNAUTHENTICATED, **_NOT_FOUND}, summary="One customer",
            description="The customer's profile, newest risk score and drivers, value, "
                        "recommended action and churn record. 404 when it does not exist "
                        "or is outside the caller's customers.")
def get_customer(request: Request, customer_id: CustomerId, auth: ApiAuth,
                 lang: ApiLang) -> CustomerPublic:
    _snap, row = _visible(request, auth, customer_id)
    return CustomerPublic.from_row(row, lang=lang, names=_names(request, lang))


@router.get("/customers/{customer_id}/history", response_model=HistoryPublic,
            responses={**_UNAUTHENTICATED, **_NOT_FOUND}, summary="A customer's history",
            description="The customer's rows of one history table: subscriptions, "
                        "transactions, events, complaints, surveys, retention_actions, or "
                        "risk (the churn probability at each scoring). Empty when the "
                        "workspace has no such table.")
def get_history(
    request: Request, customer_id: CustomerId, auth: ApiAuth,
    table: Annotated[HistoryTable, Query(description="Which history")],
    limit: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 100,
    newest_first: Annotated[bool, Query()] = True,
) -> HistoryPublic:
    snapshot, row = _visible(request, auth, customer_id)
    rows = snapshot.history(table, str(row["customer_id"]), limit=limit,
                            newest_first=newest_first)
    return HistoryPublic(customer_id=str(row["customer_id"]), table=table,
                         rows=[{str(k): _scalar(v) for k, v in r.items()} for r in rows])
