"""The retention workbench pages: the home page ("/"), the task list, one task, and the
forms that create tasks (by hand, from the plan) and write the outcomes into the
measurement. Thin shells (style.md §6): parse the form, call :mod:`churnradar.web.tasks`,
render or redirect."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response

from churnradar.exceptions import ChurnRadarError, InputError
from churnradar.web import tasks as tk
from churnradar.web.deps import (
    Auth,
    CsrfChecked,
    PageAuth,
    ReadSession,
    WriteSession,
    request_lang,
    require_role,
)
from churnradar.web.render import render

router = APIRouter()
TaskId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Manager = Annotated[Auth, require_role("admin", "manager")]


def _safe_next(value: str | None, default: str) -> str:
    """Only a path on this site (no scheme, no host, no //): no open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    return default if parts.scheme or parts.netloc else value


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return min(max(n, low), high)


def _date(value: str | None, request: Request) -> dt.date | None:
    """A form's date (empty: None); 422 when it is not one."""
    if value is None or not value.strip():
        return None
    try:
        return tk.check_date(dt.date.fromisoformat(value.strip()))
    except ValueError:
        raise HTTPException(422, _msg(request, "web_tk_err_date", name="due_date",
                                      low=tk.MIN_DATE.isoformat(),
                                      high=tk.MAX_DATE.isoformat())) from None
    except InputError as err:
        raise HTTPException(422, err.localized(request_lang(request))) from None


def _msg(request: Request, key: str, **kwargs: Any) -> str:
    from churnradar.i18n import t

    return t(key, request_lang(request), **kwargs)


def _common(request: Request) -> dict[str, Any]:
    settings = request.app.state.ws.settings.retention
    lang = request_lang(request)
    return {"action_names": tk.action_names(settings, lang), "statuses": tk.STATUSES,
            "today": dt.date.today(), "open_statuses": tk.OPEN_STATUSES}


# --- home -----------------------------------------------------------------------------------
@router.get("/", include_in_schema=False)
def home_page(request: Request, auth: PageAuth, db: ReadSession) -> Response:
    today = dt.date.today()
    summary = tk.home(db, owner_scope=auth.owner_scope, today=today,
                      show_team=auth.sees_all)
    snap = request.app.state.store.current()
    at_risk = snap.customers(owner_id=auth.owner_scope, per_page=10)
    return render(request, "home.html", {**_common(request), "home": summary,
                                         "at_risk": at_risk}, auth=auth)


# --- the list -------------------------------------------------------------------------------
@router.get("/tasks", include_in_schema=False)
def task_list(request: Request, auth: PageAuth, db: ReadSession, status: str | None = None,
              owner: str | None = None, overdue: str | None = None,
              page: str | None = None) -> Response:
    today = dt.date.today()
    status_ = status if status in tk.STATUSES else None
    overdue_ = overdue in ("1", "on", "true")
    owner_ = None
    unassigned = False
    if auth.sees_all and owner and owner.strip():
        if owner.strip() == "-":
            unassigned = True
        else:
            try:
                owner_ = tk.clean_text(owner, name="owner", max_len=tk.MAX_ID)
            except InputError:
                owner_ = None
    result = tk.list_tasks(db, owner_scope=auth.owner_scope, status=status_,
                           overdue_on=today if overdue_ else None,
                           page=_int(page, 1, 1, tk.MAX_PAGE), per_page=50,
                           owner_id=owner_, unassigned=unassigned)
    query = {k: v for k, v in (("status", status_ or ""), ("owner", "-" if unassigned
                                                           else owner_ or ""),
                               ("overdue", "1" if overdue_ else "")) if v}
    plan_run = None
    plan_done = 0
    if auth.sees_all:
        run = tk.latest_plan_run(request.app.state.ws)
        if run is not None:
            plan_run = run.name
            plan_done = tk.plan_tasks_created(db, plan_run=run.name)
    notices = _notices(request)
    return render(request, "tasks.html", {
        **_common(request), "result": result, "status": status_, "owner": query.get("owner", ""),
        "overdue": overdue_, "query": query, "urlencode": urlencode, "plan_run": plan_run,
        "plan_done": plan_done, "notices": notices,
        "due_in_default": tk.DEFAULT_DUE_IN_DAYS, "due_in_max": tk.MAX_DUE_IN_DAYS,
    }, auth=auth)


def _notices(request: Request) -> list[str]:
    """The confirmation shown after a redirect (numbers from the query string)."""
    q = request.query_params
    out: list[str] = []

    def n(key: str) -> int:
        return _int(q.get(key), 0, 0, 10**9)

    if "created" in q:
        run = q.get("run", "")[:200]
        out.append(_msg(request, "web_tk_plan_created", run=run, treatment=n("created"),
                        control=n("control"), skipped=n("skipped")))
    if "synced" in q:
        out.append(_msg(request, "web_tk_synced", written=n("synced"), kept=n("kept")))
        if n("collisions"):
            out.append(_msg(request, "web_tk_synced_collisions", count=n("collisions")))
    return out


# --- create ---------------------------------------------------------------------------------
@router.post("/tasks", include_in_schema=False, dependencies=[CsrfChecked])
def create(request: Request, auth: PageAuth, db: WriteSession,
           customer_id: Annotated[str, Form()] = "", action: Annotated[str, Form()] = "",
           due_date: Annotated[str | None, Form()] = None,
           owner_id: Annotated[str | None, Form()] = None,
           note: Annotated[str | None, Form()] = None,
           next: Annotated[str | None, Form()] = None) -> Response:  # noqa: A002
    customer = _visible_customer(request, auth, customer_id)
    due = _date(due_date, request) or dt.date.today() + dt.timedelta(
        days=tk.DEFAULT_DUE_IN_DAYS)
    try:
        task = tk.create_task(db, actor=auth.user, customer=customer, action=action.strip(),
                              due_date=due,
                              owner_id=owner_id if auth.sees_all else None,
                              note=note,
                              actions=tk.allowed_actions(request.app.state.ws.settings.retention))
    except tk.NotAllowed:
        raise HTTPException(404) from None
    except InputError as err:
        raise HTTPException(422, err.localized(request_lang(request))) from None
    return RedirectResponse(_safe_next(next, f"/tasks/{task.id}?created=1"), status_code=303)


def _visible_customer(request: Request, auth: Auth, customer_id: str) -> dict[str, Any]:
    """The customer if the caller may see it, else 404 (absent and foreign alike)."""
    try:
        cid = tk.clean_text(customer_id, name="customer_id", max_len=tk.MAX_ID)
    except InputError:
        cid = None
    customer = (request.app.state.store.current().customer(cid, owner_id=auth.owner_scope)
                if cid else None)
    if customer is None:
        raise HTTPException(404)
    return dict(customer)


@router.post("/tasks/from-plan", include_in_schema=False, dependencies=[CsrfChecked])
def from_plan(request: Request, auth: Manager, db: WriteSession,
              due_in_days: Annotated[str | None, Form()] = None) -> Response:
    raw = (due_in_days or "").strip()
    try:
        days = int(raw) if raw else tk.DEFAULT_DUE_IN_DAYS
    except ValueError:
        raise HTTPException(422, _msg(request, "web_tk_err_due_in", value=raw[:20],
                                      max=tk.MAX_DUE_IN_DAYS)) from None
    try:
        done = tk.create_from_plan(db, actor=auth.user, ws=request.app.state.ws,
                                   today=dt.date.today(), due_in_days=days)
    except InputError as err:
        raise HTTPException(422, err.localized(request_lang(request))) from None
    query = urlencode({"created": done.treatment, "control": done.control,
                       "skipped": done.skipped, "run": done.plan_run})
    return RedirectResponse(f"/tasks?{query}", status_code=303)


@router.post("/tasks/sync", include_in_schema=False, dependencies=[CsrfChecked])
def sync(request: Request, auth: Manager, db: WriteSession) -> Response:
    lang = request_lang(request)
    try:
        result = tk.sync_tasks(db, request.app.state.ws, actor=auth.user, lang=lang)
    except ChurnRadarError as err:
        raise HTTPException(422, err.localized(lang)) from None
    query = urlencode({"synced": result.written, "kept": result.kept,
                       "collisions": result.collisions})
    return RedirectResponse(f"/tasks?{query}", status_code=303)


# --- one task -------------------------------------------------------------------------------
@router.get("/tasks/{task_id}", include_in_schema=False)
def task_page(request: Request, auth: PageAuth, db: ReadSession, task_id: TaskId) -> Response:
    task = tk.get_task(db, task_id=task_id, owner_scope=auth.owner_scope)
    if task is None:
        raise HTTPException(404)
    customer = request.app.state.store.current().customer(task.customer_id,
                                                          owner_id=auth.owner_scope)
    notices = []
    if request.query_params.get("saved") == "1":
        notices.append(_msg(request, "web_tk_task_saved"))
    elif request.query_params.get("saved") == "0":
        notices.append(_msg(request, "web_tk_task_unchanged"))
    if request.query_params.get("created") == "1":
        notices.append(_msg(request, "web_tk_task_created"))
    return render(request, "task.html", {**_common(request), "task": task,
                                         "customer": customer, "notices": notices,
                                         "can_reassign": auth.sees_all},
                  auth=auth)


@router.post("/tasks/{task_id}", include_in_schema=False, dependencies=[CsrfChecked])
def update(request: Request, auth: PageAuth, db: WriteSession, task_id: TaskId,
           status: Annotated[str | None, Form()] = None,
           due_date: Annotated[str | None, Form()] = None,
           owner_id: Annotated[str | None, Form()] = None,
           reassign: Annotated[str | None, Form()] = None,
           note: Annotated[str | None, Form()] = None) -> Response:
    task = tk.get_task(db, task_id=task_id, owner_scope=auth.owner_scope)
    if task is None:
        raise HTTPException(404)
    changes: dict[str, Any] = {"note": note, "due_date": _date(due_date, request)}
    if status:
        changes["status"] = status
    if reassign == "1" or owner_id:
        # the managers' form marks its owner field (empty = unassigned); a sales user
        # sending an owner is refused below unless it is their own
        changes["owner_id"] = owner_id
    try:
        changed = tk.update_task(db, actor=auth.user, task=task, **changes)
    except tk.NotAllowed:
        raise HTTPException(403) from None
    except InputError as err:
        raise HTTPException(422, err.localized(request_lang(request))) from None
    return RedirectResponse(f"/tasks/{task.id}?saved={int(changed)}", status_code=303)
