"""``/api/v1/tasks``: the retention tasks as JSON (list, read, create, change).

Same rules as the pages: a sales user sees and changes only their own tasks and creates
tasks only for their own customers; anything outside the caller's rights answers 404.
Every write is audit-logged (:mod:`churnradar.web.tasks`). Requests signed in with the
browser session must send ``X-CSRF-Token``; bearer-token requests need none.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, get_args

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from churnradar.exceptions import InputError
from churnradar.schema import OUTCOMES
from churnradar.web import tasks as tk
from churnradar.web.deps import ApiAuth, CsrfChecked, ReadSession, WriteSession
from churnradar.web.models import Task

router = APIRouter(tags=["tasks"])

Status = Literal["open", "contacted", "retained", "lost", "not_reachable"]
assert get_args(Status) == OUTCOMES, "TaskPublic.status must follow schema.OUTCOMES"
Group = Literal["treatment", "control"]
TaskId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The task's id")]


def _text(name: str, max_len: int, multiline: bool = False):  # type: ignore[no-untyped-def]
    def check(value: str | None) -> str | None:
        try:
            return tk.clean_text(value, name=name, max_len=max_len, multiline=multiline)
        except InputError as err:
            raise ValueError(str(err)) from None

    return AfterValidator(check)


def _date(value: dt.date | None) -> dt.date | None:
    try:
        return tk.check_date(value)
    except InputError as err:
        raise ValueError(str(err)) from None


CustomerId = Annotated[str, Field(min_length=1, max_length=tk.MAX_ID,
                                  examples=["C000123"]), _text("customer_id", tk.MAX_ID)]
OwnerId = Annotated[str | None, Field(max_length=tk.MAX_ID), _text("owner_id", tk.MAX_ID)]
Note = Annotated[str | None, Field(max_length=tk.MAX_NOTE),
                 _text("note", tk.MAX_NOTE, multiline=True)]
DueDate = Annotated[dt.date | None, AfterValidator(_date),
                    Field(description="2000-01-01 … 2100-12-31")]
ActionKey = Annotated[str, Field(min_length=1, max_length=tk.MAX_ID,
                                 description="A playbook key, e.g. care_call"),
                      _text("action", tk.MAX_ID)]


class TaskCreate(BaseModel):
    """A new task for a customer the caller may see. Sales users' tasks are always
    their own (``owner_id`` is ignored for them); admins and managers may assign any
    owner (default: the customer's owner). Without ``due_date``: in 7 days."""

    model_config = ConfigDict(extra="forbid")

    customer_id: CustomerId
    action: ActionKey
    due_date: DueDate = None
    owner_id: OwnerId = None
    note: Note = None


class TaskUpdate(BaseModel):
    """Fields to change; fields left out stay. ``owner_id`` (reassignment) is for admins
    and managers only; ``null`` = unassigned."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    due_date: DueDate = None
    owner_id: OwnerId = None
    note: Note = None


class TaskPublic(BaseModel):
    """A task as the API shows it."""

    id: int
    customer_id: str
    owner_id: str | None
    action: str
    due_date: dt.date | None
    status: Status
    note: str | None
    outcome_at: dt.datetime | None
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    plan_run: str | None
    group: Group | None
    overdue: bool

    @classmethod
    def of(cls, task: Task, today: dt.date) -> TaskPublic:
        return cls.model_validate({
            "id": task.id, "customer_id": task.customer_id, "owner_id": task.owner_id,
            "action": task.action, "due_date": task.due_date, "status": task.status,
            "note": task.note, "outcome_at": task.outcome_at, "created_by": task.created_by,
            "created_at": task.created_at, "updated_at": task.updated_at,
            "plan_run": task.plan_run,
            "group": task.group if task.group in ("treatment", "control") else None,
            "overdue": bool(task.due_date is not None and task.due_date < today
                            and task.status in tk.OPEN_STATUSES)})


class TaskList(BaseModel):
    """One page of tasks."""

    items: list[TaskPublic]
    total: int
    page: int
    per_page: int
    pages: int


def _lang(request: Request) -> str:
    from churnradar.web.deps import request_lang

    return request_lang(request)


@router.get("/tasks", response_model=TaskList, summary="List tasks")
def list_tasks(
    auth: ApiAuth, db: ReadSession,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    customer_id: Annotated[str | None, Query(max_length=tk.MAX_ID),
                           _text("customer_id", tk.MAX_ID)] = None,
    owner_id: Annotated[str | None, Query(max_length=tk.MAX_ID,
                                          description="Admins and managers only"),
                        _text("owner_id", tk.MAX_ID)] = None,
    overdue: bool = False,
    page: Annotated[int, Query(ge=1, le=tk.MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=tk.MAX_PER_PAGE)] = 50,
) -> TaskList:
    """The caller's tasks (sales: only their own; admins and managers: all, optionally
    one owner's), due first. The plan's control group is never listed."""
    today = dt.date.today()
    result = tk.list_tasks(db, owner_scope=auth.owner_scope, customer_id=customer_id,
                           status=status_, overdue_on=today if overdue else None, page=page,
                           per_page=per_page,
                           owner_id=owner_id if auth.sees_all else None)
    return TaskList(items=[TaskPublic.of(t, today) for t in result.rows], total=result.total,
                    page=result.page, per_page=result.per_page, pages=result.pages)


@router.get("/tasks/{task_id}", response_model=TaskPublic, summary="One task",
            responses={404: {"description": "No such task, or not yours"}})
def get_task(auth: ApiAuth, db: ReadSession, task_id: TaskId) -> TaskPublic:
    task = tk.get_task(db, task_id=task_id, owner_scope=auth.owner_scope)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "task not found")
    return TaskPublic.of(task, dt.date.today())


@router.post("/tasks", response_model=TaskPublic, status_code=status.HTTP_201_CREATED,
             summary="Create a task", dependencies=[CsrfChecked],
             responses={404: {"description": "No such customer, or not yours"},
                        422: {"description": "Unknown action or a value out of range"}})
def create_task(request: Request, auth: ApiAuth, db: WriteSession,
                body: TaskCreate) -> TaskPublic:
    customer = request.app.state.store.current().customer(body.customer_id,
                                                          owner_id=auth.owner_scope)
    if customer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "customer not found")
    today = dt.date.today()
    due = body.due_date or today + dt.timedelta(days=tk.DEFAULT_DUE_IN_DAYS)
    try:
        task = tk.create_task(db, actor=auth.user, customer=dict(customer), action=body.action,
                              due_date=due, owner_id=body.owner_id, note=body.note,
                              actions=tk.allowed_actions(request.app.state.ws.settings.retention))
    except tk.NotAllowed:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "customer not found") from None
    except InputError as err:
        raise HTTPException(422,
                            err.localized(_lang(request))) from None
    return TaskPublic.of(task, today)


@router.patch("/tasks/{task_id}", response_model=TaskPublic, summary="Change a task",
              dependencies=[CsrfChecked],
              responses={403: {"description": "Sales users cannot reassign"},
                         404: {"description": "No such task, or not yours"}})
def update_task(request: Request, auth: ApiAuth, db: WriteSession, task_id: TaskId,
                body: TaskUpdate) -> TaskPublic:
    task = tk.get_task(db, task_id=task_id, owner_scope=auth.owner_scope)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "task not found")
    changes = body.model_dump(exclude_unset=True)
    if "status" in changes and changes["status"] is None:
        del changes["status"]  # null status: nothing to change
    try:
        tk.update_task(db, actor=auth.user, task=task, **changes)
    except tk.NotAllowed as err:
        raise HTTPException(status.HTTP_403_FORBIDDEN, err.localized(_lang(request))) from None
    except InputError as err:
        raise HTTPException(422,
                            err.localized(_lang(request))) from None
    return TaskPublic.of(task, dt.date.today())
