"""The retention workbench: tasks, their outcomes, and the way back into the measurement
(HTTP-free, keyword-only data functions, style.md §6).

A :class:`~churnradar.web.models.Task` is one retention action for one customer,
assigned to an owner (a sales person's ``owner_id``; empty = unassigned, seen by the
managers), with a due date, a status (:data:`churnradar.schema.OUTCOMES`), a note and the
moment it left ``open`` (``outcome_at``). Tasks come

- by hand (:func:`create_task`), for a customer the caller may see, with a playbook key;
- from the newest retention plan (:func:`create_from_plan`): one task per selected
  customer of ``runs/<id>-plan/plan.parquet``, owned by the customer's owner. The plan's
  random control group becomes tasks too, with ``group = "control"``: they never appear in
  a work list (those customers must not be contacted) but they are what the treated
  customers are compared with.

The "did it work?" measurement (:func:`churnradar.retention.effect.playbook_effects`)
reads the workspace table ``retention_actions``. :func:`sync_outcomes` writes the tasks
into it (:func:`tasks_as_actions`), through the importer's validation and atomic write.

Which rows came from the web app
--------------------------------
Each row written by :func:`sync_outcomes` carries the task's id in the extra column
:data:`WEB_TASK_COLUMN` (``web_task_id``), which the importer keeps as an attribute
column. A sync keeps every row where that column is empty or absent (imported by a
person or another tool) and replaces every row where it is set. A marker column is used
rather than a note prefix because notes are free text that people edit (an edited prefix
would turn a web row into a "foreign" one and duplicate it at the next sync), while a
column survives exports and re-imports untouched; rows imported later, in replace or
append mode, simply have no value there. A web row whose key (customer_id, action,
date) equals a kept row's key is left out: the row someone imported wins.

The sync runs on request (the "sync" button of the task list, ``POST /tasks/sync``), not
after every status change: each sync rewrites the whole table, adds an import run folder
and makes the server rebuild its snapshot, which is too much for every click on a large
workspace.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from churnradar import schema as s
from churnradar.exceptions import ChurnRadarError, InputError
from churnradar.settings import RetentionSettings
from churnradar.web.accounts import audit
from churnradar.web.models import GROUPS, Task, User, utcnow
from churnradar.web.store import Page
from churnradar.workspace import Workspace

log = logging.getLogger(__name__)

STATUSES: tuple[str, ...] = s.OUTCOMES
#: statuses of a task still to work on (an overdue reminder is one of these)
OPEN_STATUSES: tuple[str, ...] = ("open", "contacted")
#: statuses that close a task: the outcome is known
FINAL_STATUSES: tuple[str, ...] = ("retained", "lost", "not_reachable")
TREATMENT, CONTROL = GROUPS
#: the retention_actions column marking the rows written from tasks (see the module doc)
WEB_TASK_COLUMN = "web_task_id"
#: retention_actions columns written by :func:`sync_outcomes`, in contract order
ACTION_COLUMNS: tuple[str, ...] = (s.CUSTOMER_ID, s.ACTION, s.DATE, s.GROUP, s.OUTCOME,
                                   s.NOTE, WEB_TASK_COLUMN)
CONTRACT_COLUMNS: tuple[str, ...] = tuple(c.name for c in
                                          s.CONTRACTS["retention_actions"].columns)
MAX_ID = 100
MAX_NOTE = 2000
MAX_PER_PAGE = 200
MAX_PAGE = 100_000
#: due dates are kept within these years (a typo like 20255 is refused)
MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)
MAX_DUE_IN_DAYS = 366
DEFAULT_DUE_IN_DAYS = 7
_PG_LOCK_FROM_PLAN = 0x63726E74  # "crnt": serialises plan imports on PostgreSQL


class NotAllowed(ChurnRadarError):
    """The caller may see the task but not make this change (e.g. a sales user
    reassigning it)."""


class NoPlan(InputError):
    """The workspace has no retention plan run to create tasks from."""


#: a page of tasks
TaskPage = Page[Task]


@dataclass
class PlanTasks:
    """What :func:`create_from_plan` did."""

    plan_run: str
    treatment: int
    control: int
    skipped: int

    @property
    def created(self) -> int:
        return self.treatment + self.control


@dataclass
class SyncResult:
    """What :func:`sync_outcomes` wrote: web rows, rows kept from elsewhere, web rows
    left out because an imported row has the same key, and the import's run folder."""

    written: int
    kept: int
    collisions: int
    run_dir: Path | None


# --- validation ------------------------------------------------------------------------
def clean_text(value: str | None, *, name: str, max_len: int, multiline: bool = False
               ) -> str | None:
    """``value`` stripped (None when empty); refuses overlong text and control
    characters (a NUL cannot be stored in PostgreSQL) and text that is not valid
    Unicode.

    Raises
    ------
    InputError
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    allowed = "\n\r\t" if multiline else ""
    bad = len(value) > max_len or any(
        (ord(ch) < 32 and ch not in allowed) or ord(ch) == 127 for ch in value)
    if not bad:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            bad = True
    if bad:
        raise InputError(key="web_tk_err_text", name=name, max=max_len)
    return value


def check_date(value: dt.date | None, *, name: str = "due_date") -> dt.date | None:
    """``value`` if within :data:`MIN_DATE` … :data:`MAX_DATE` (None passes)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not MIN_DATE <= value <= MAX_DATE:
        raise InputError(key="web_tk_err_date", name=name, low=MIN_DATE.isoformat(),
                         high=MAX_DATE.isoformat())
    return value


def check_status(value: str) -> str:
    if value not in STATUSES:
        raise InputError(key="web_tk_err_status", value=value, choices=", ".join(STATUSES))
    return value


def allowed_actions(settings: RetentionSettings | None = None) -> tuple[str, ...]:
    """The actions a task may have: the keys of the playbooks that contact the customer
    (built-in ones and the workspace's ``[retention.playbooks]``), and the win-back
    offer."""
    from churnradar.retention.playbooks import load_playbooks
    from churnradar.retention.winback import WINBACK_ACTION

    def build() -> tuple[str, ...]:
        keys = [b.key for b in load_playbooks(settings) if b.contact]
        return (*keys, WINBACK_ACTION) if WINBACK_ACTION not in keys else tuple(keys)

    return _per_settings(settings, ("allowed",), build)  # type: ignore[no-any-return]


def action_names(settings: RetentionSettings | None, lang: str) -> dict[str, str]:
    """Playbook key -> its name in ``lang`` (for lists and the action choice)."""
    from churnradar.i18n import catalog, t
    from churnradar.retention.playbooks import load_playbooks

    def build() -> dict[str, str]:
        names = {b.key: b.name(lang) for b in load_playbooks(settings)}
        for key in allowed_actions(settings):
            if key not in names:
                names[key] = (t(f"playbook_{key}", lang) if f"playbook_{key}" in catalog()
                              else key)
        return names

    return dict(_per_settings(settings, ("names", lang), build))


#: answers derived from one settings object (the playbooks are parsed and checked on
#: every call otherwise, twice per page); settings are replaced, never changed in place
_SETTINGS_MEMO: dict[tuple[Any, ...], tuple[object, Any]] = {}


def _per_settings(settings: object, what: tuple[str, ...], build: Any) -> Any:
    key = (id(settings), *what)
    hit = _SETTINGS_MEMO.get(key)
    if hit is not None and hit[0] is settings:
        return hit[1]
    value = build()
    if len(_SETTINGS_MEMO) > 64:
        _SETTINGS_MEMO.clear()
    _SETTINGS_MEMO[key] = (settings, value)  # the reference keeps id(settings) unique
    return value


def _check_action(action: str, actions: Collection[str] | None) -> str:
    allowed = tuple(actions) if actions is not None else allowed_actions()
    if action not in allowed:
        raise InputError(key="web_tk_err_action", value=str(action)[:MAX_ID],
                         choices=", ".join(allowed))
    return action


def _check_page(page: int, per_page: int) -> tuple[int, int]:
    return min(max(1, int(page)), MAX_PAGE), min(max(1, int(per_page)), MAX_PER_PAGE)


# --- reading ---------------------------------------------------------------------------
def _work_list() -> ColumnElement[bool]:
    """Tasks someone works on: not the plan's control group."""
    return or_(Task.group.is_(None), Task.group != CONTROL)


def _scoped(owner_scope: str | None) -> list[ColumnElement[bool]]:
    return [Task.owner_id == owner_scope] if owner_scope is not None else []


def list_tasks(session: Session, *, owner_scope: str | None, customer_id: str | None = None,
               status: str | None = None, overdue_on: dt.date | None = None,
               page: int = 1, per_page: int = 50, owner_id: str | None = None,
               unassigned: bool = False) -> TaskPage:
    """A page of the tasks the caller may see, due first.

    Parameters
    ----------
    owner_scope
        A sales user's ``owner_id``: only their tasks; ``None`` (admin, manager): all.
    customer_id, status
        Only this customer's tasks / tasks with this status.
    overdue_on
        Only tasks due before this day that are still open or contacted.
    owner_id, unassigned
        Managers' filters: one owner's tasks / the tasks without an owner.

    The plan's control-group tasks are never listed (their customers must not be
    contacted).
    """
    page, per_page = _check_page(page, per_page)
    where = [_work_list(), *_scoped(owner_scope)]
    if customer_id is not None:
        where.append(Task.customer_id == customer_id)
    if status is not None:
        where.append(Task.status == status)
    if overdue_on is not None:
        where += [Task.due_date < overdue_on, Task.status.in_(OPEN_STATUSES)]
    if unassigned:
        where.append(Task.owner_id.is_(None))
    elif owner_id is not None:
        where.append(Task.owner_id == owner_id)
    rows = session.scalars(
        select(Task).where(*where)
        .order_by(Task.due_date.is_(None), Task.due_date, Task.id)
        .limit(per_page).offset((page - 1) * per_page)).all()
    if page == 1 and len(rows) < per_page:  # all of them are here: no count needed
        total = len(rows)
    else:
        total = session.scalar(select(func.count()).select_from(Task).where(*where)) or 0
    return TaskPage(rows=list(rows), total=int(total), page=page, per_page=per_page)


def get_task(session: Session, *, task_id: int, owner_scope: str | None) -> Task | None:
    """The task, or None when it does not exist *or* the caller may not see it (a sales
    user sees only their own tasks, and never a control-group task)."""
    if not 1 <= task_id <= 2**31 - 1:
        return None
    task = session.get(Task, task_id)
    if task is None:
        return None
    if owner_scope is not None and (task.owner_id != owner_scope or task.group == CONTROL):
        return None
    return task


def status_counts(session: Session, *, owner_scope: str | None) -> dict[str, int]:
    """Tasks per status (every status present, 0 when none)."""
    rows = session.execute(select(Task.status, func.count()).where(
        _work_list(), *_scoped(owner_scope)).group_by(Task.status)).all()
    found = {str(k): int(n) for k, n in rows}
    return {st: found.get(st, 0) for st in STATUSES}


def overdue_by_owner(session: Session, *, today: dt.date) -> list[tuple[str | None, int]]:
    """Overdue tasks per owner (None = unassigned), most first — for managers."""
    rows = session.execute(
        select(Task.owner_id, func.count()).where(
            _work_list(), Task.due_date < today, Task.status.in_(OPEN_STATUSES))
        .group_by(Task.owner_id)).all()
    return sorted(((o, int(n)) for o, n in rows), key=lambda r: (-r[1], r[0] or ""))


@dataclass
class Home:
    """The home page's task part for one user."""

    overdue: TaskPage
    due_this_week: TaskPage
    counts: dict[str, int]
    overdue_by_owner: list[tuple[str | None, int]] | None


def home(session: Session, *, owner_scope: str | None, today: dt.date,
         show_team: bool, limit: int = 20) -> Home:
    """Overdue tasks (due before ``today``, still open or contacted), tasks due in the
    next seven days, tasks per status, and for managers the overdue count per owner."""
    overdue = list_tasks(session, owner_scope=owner_scope, overdue_on=today,
                         per_page=limit)
    week_end = today + dt.timedelta(days=6)
    where = [_work_list(), *_scoped(owner_scope), Task.due_date >= today,
             Task.due_date <= week_end, Task.status.in_(OPEN_STATUSES)]
    total = session.scalar(select(func.count()).select_from(Task).where(*where)) or 0
    rows = session.scalars(select(Task).where(*where).order_by(Task.due_date, Task.id)
                           .limit(limit)).all()
    week = TaskPage(rows=list(rows), total=int(total), page=1, per_page=limit)
    return Home(overdue=overdue, due_this_week=week,
                counts=status_counts(session, owner_scope=owner_scope),
                overdue_by_owner=overdue_by_owner(session, today=today) if show_team
                else None)


def task_dict(task: Task) -> dict[str, Any]:
    """The task's fields as plain values (for the audit log and the API)."""
    return {
        "id": task.id, "customer_id": task.customer_id, "owner_id": task.owner_id,
        "action": task.action,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "status": task.status, "note": task.note,
        "outcome_at": task.outcome_at.isoformat() if task.outcome_at else None,
        "plan_run": task.plan_run, "group": task.group,
    }


# --- writing ---------------------------------------------------------------------------
def create_task(session: Session, *, actor: User, customer: dict[str, Any], action: str,
                due_date: dt.date | None, owner_id: str | None = None,
                note: str | None = None, actions: Collection[str] | None = None) -> Task:
    """Add a task for ``customer`` (a row of :meth:`Snapshot.customer`, fetched with the
    actor's owner scope).

    A sales user's task is always their own; an admin or manager assigns it to
    ``owner_id``, by default the customer's owner (empty: unassigned). ``actions`` are
    the allowed playbook keys (default: :func:`allowed_actions` of the built-in
    playbooks).

    Raises
    ------
    InputError
        Unknown action, a due date out of range, overlong or unprintable text.
    NotAllowed
        A sales user and a customer that is not theirs.
    """
    action = _check_action(action, actions)
    due_date = check_date(due_date)
    note = clean_text(note, name="note", max_len=MAX_NOTE, multiline=True)
    customer_id = clean_text(str(customer.get(s.CUSTOMER_ID) or ""), name="customer_id",
                             max_len=MAX_ID)
    if customer_id is None:
        raise InputError(key="web_tk_err_text", name="customer_id", max=MAX_ID)
    owner: str | None
    if actor.role == "sales":
        if not actor.owner_id or customer.get(s.OWNER_ID) != actor.owner_id:
            raise NotAllowed(key="web_tk_err_not_yours")
        owner = actor.owner_id
    else:
        owner = clean_text(owner_id, name="owner_id", max_len=MAX_ID)
        if owner is None:
            default = customer.get(s.OWNER_ID)
            owner = str(default)[:MAX_ID] if default not in (None, "") else None
    now = utcnow()
    task = Task(customer_id=customer_id, owner_id=owner, action=action, due_date=due_date,
                status="open", note=note, created_by=actor.id, created_at=now,
                updated_at=now, group=TREATMENT)
    session.add(task)
    session.flush()
    audit(session, user=actor, action="task.create", target=f"task:{task.id}",
          detail={"before": None, "after": task_dict(task)})
    return task


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def update_task(session: Session, *, actor: User, task: Task, status: str | None = UNSET,
                note: str | None = UNSET, due_date: dt.date | None = UNSET,
                owner_id: str | None = UNSET, now: dt.datetime | None = None) -> bool:
    """Change a task the actor may see (:func:`get_task`); arguments left out stay.

    ``outcome_at`` is set when the status first leaves ``open`` and cleared when it goes
    back to ``open``. Only admins and managers reassign (``owner_id``; empty =
    unassigned). Writes one audit row with the fields before and after; returns whether
    anything changed (no row when nothing did).

    Raises
    ------
    InputError
        Unknown status, a due date out of range, overlong or unprintable text.
    NotAllowed
        A sales user changing the owner.
    """
    changes: dict[str, Any] = {}
    if status is not UNSET:
        if status is None:
            raise InputError(key="web_tk_err_status", value="", choices=", ".join(STATUSES))
        changes["status"] = check_status(status)
    if note is not UNSET:
        changes["note"] = clean_text(note, name="note", max_len=MAX_NOTE, multiline=True)
    if due_date is not UNSET:
        changes["due_date"] = check_date(due_date)
    if owner_id is not UNSET:
        owner = clean_text(owner_id, name="owner_id", max_len=MAX_ID)
        if owner != task.owner_id and actor.role == "sales":
            raise NotAllowed(key="web_tk_err_reassign")
        changes["owner_id"] = owner
    changed = {k: v for k, v in changes.items() if getattr(task, k) != v}
    if not changed:
        return False
    before = task_dict(task)
    for key, value in changed.items():
        setattr(task, key, value)
    if "status" in changed:
        if task.status == "open":
            task.outcome_at = None
        elif task.outcome_at is None:
            task.outcome_at = now or utcnow()
    task.updated_at = now or utcnow()
    session.flush()
    after = task_dict(task)
    audit(session, user=actor, action="task.update", target=f"task:{task.id}",
          detail={"before": {k: before[k] for k in after if before[k] != after[k]},
                  "after": {k: after[k] for k in after if before[k] != after[k]}})
    return True


# --- from the plan ---------------------------------------------------------------------
def latest_plan_run(ws: Workspace) -> Path | None:
    """The newest ``runs/<id>-plan/`` folder holding a ``plan.parquet``."""
    from churnradar.predict.jobs import latest_run

    run = latest_run(ws, "plan")
    return run if run is not None and (run / "plan.parquet").is_file() else None


def plan_members(run: Path) -> pd.DataFrame:
    """customer_id, owner_id, action, group of the selected customers of a plan run
    (treatment and control), in the plan's order."""
    path = run / "plan.parquet"
    names = set(pq.read_schema(path).names)
    cols = [c for c in (s.CUSTOMER_ID, s.OWNER_ID, s.ACTION, s.GROUP) if c in names]
    empty = pd.DataFrame(columns=[s.CUSTOMER_ID, s.OWNER_ID, s.ACTION, s.GROUP])
    if s.GROUP not in names or s.ACTION not in names:
        return empty
    df = pq.read_table(path, columns=cols).to_pandas()
    df = df[df[s.GROUP].astype(object).isin(GROUPS) & df[s.ACTION].notna()].copy()
    if not len(df):
        return empty
    df[s.GROUP] = df[s.GROUP].astype(str)
    if s.OWNER_ID not in df.columns:
        df[s.OWNER_ID] = None
    df[s.CUSTOMER_ID] = df[s.CUSTOMER_ID].astype(str)
    df[s.OWNER_ID] = df[s.OWNER_ID].map(
        lambda v: str(v)[:MAX_ID] if v is not None and not pd.isna(v) and str(v) else None)
    return df[[s.CUSTOMER_ID, s.OWNER_ID, s.ACTION, s.GROUP]].reset_index(drop=True)


def plan_tasks_created(session: Session, *, plan_run: str) -> int:
    """How many tasks were already made from ``plan_run``."""
    return int(session.scalar(select(func.count()).select_from(Task)
                              .where(Task.plan_run == plan_run)) or 0)


def create_from_plan(session: Session, *, actor: User, ws: Workspace, today: dt.date,
                     due_in_days: int = DEFAULT_DUE_IN_DAYS) -> PlanTasks:
    """One task per selected customer of the newest plan run, due ``today +
    due_in_days``, owned by the customer's owner (empty: unassigned).

    Treated customers get ``group="treatment"``; the control group gets
    ``group="control"`` tasks that no work list shows. ``plan_run`` is the run folder's
    name; customers that already have a task of that run are skipped, so running it twice
    creates nothing new. One audit row sums the import up.

    Raises
    ------
    NoPlan
        No plan run in the workspace.
    InputError
        ``due_in_days`` outside 0 … 366.
    """
    if isinstance(due_in_days, bool) or not 0 <= due_in_days <= MAX_DUE_IN_DAYS:
        raise InputError(key="web_tk_err_due_in", value=due_in_days, max=MAX_DUE_IN_DAYS)
    run = latest_plan_run(ws)
    if run is None:
        raise NoPlan(key="web_tk_err_no_plan")
    due = check_date(today + dt.timedelta(days=due_in_days))
    members = plan_members(run)
    if session.get_bind().dialect.name == "postgresql":
        # two managers clicking at once: the second waits, then finds the first's tasks
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_FROM_PLAN})
    done = set(session.scalars(select(Task.customer_id).where(Task.plan_run == run.name)))
    fresh = members[~members[s.CUSTOMER_ID].isin(done)]
    fresh = fresh.drop_duplicates(s.CUSTOMER_ID)
    now = utcnow()
    tasks = [Task(customer_id=str(cid)[:MAX_ID], owner_id=owner, action=str(action)[:MAX_ID],
                  due_date=due, status="open", note=None, created_by=actor.id,
                  created_at=now, updated_at=now, plan_run=run.name, group=group)
             for cid, owner, action, group in fresh.itertuples(index=False, name=None)]
    session.add_all(tasks)
    session.flush()
    result = PlanTasks(plan_run=run.name,
                       treatment=int((fresh[s.GROUP] == TREATMENT).sum()),
                       control=int((fresh[s.GROUP] == CONTROL).sum()),
                       skipped=int(len(members) - len(fresh)))
    ids = [t.id for t in tasks]
    audit(session, user=actor, action="task.create_from_plan", target=f"plan:{run.name}",
          detail={"treatment": result.treatment, "control": result.control,
                  "skipped": result.skipped, "due_date": due.isoformat() if due else None,
                  "first_id": min(ids) if ids else None,
                  "last_id": max(ids) if ids else None})
    return result


# --- into the measurement --------------------------------------------------------------
def _action_date(outcome_at: dt.datetime | None, due: dt.date | None,
                 created: dt.datetime | None) -> dt.date:
    if outcome_at is not None:
        return outcome_at.date()
    if due is not None:
        return due
    return (created or utcnow()).date()


def tasks_as_actions(session: Session) -> pd.DataFrame:
    """Every task as a row of the ``retention_actions`` contract.

    Columns :data:`ACTION_COLUMNS`: ``customer_id``, ``action``, ``date`` (the day the
    task left ``open``, else its due date, else the day it was made), ``group``
    (treatment / control), ``outcome`` (the status), ``note`` and ``web_task_id`` (the
    task's id: marks the row as written by the web app). Tasks with the same key
    (customer_id, action, date) count once: the most recently updated.
    """
    rows: list[tuple[Any, ...]] = []
    stmt = select(Task.id, Task.customer_id, Task.action, Task.outcome_at, Task.due_date,
                  Task.created_at, Task.group, Task.status, Task.note, Task.updated_at
                  ).order_by(Task.id)
    for (tid, cid, action, outcome_at, due, created, group, status, note,
         updated) in session.execute(stmt.execution_options(yield_per=10_000)):
        rows.append((cid, action, _action_date(outcome_at, due, created), group or TREATMENT,
                     status, note, tid, updated))
    df = pd.DataFrame(rows, columns=[*ACTION_COLUMNS, "_updated"])
    if len(df):
        df = (df.sort_values(["_updated", WEB_TASK_COLUMN], kind="stable")
              .drop_duplicates([s.CUSTOMER_ID, s.ACTION, s.DATE], keep="last")
              .sort_values(WEB_TASK_COLUMN, kind="stable"))
    df = df.drop(columns="_updated").reset_index(drop=True)
    df[WEB_TASK_COLUMN] = df[WEB_TASK_COLUMN].astype("int64")
    return df


def _web_table(df: pd.DataFrame, like: pa.Schema | None) -> pa.Table:
    """The web rows as Arrow, in the types of the existing table where it has them."""
    schema = pa.schema([(s.CUSTOMER_ID, pa.string()), (s.ACTION, pa.string()),
                        (s.DATE, pa.date32()), (s.GROUP, pa.string()),
                        (s.OUTCOME, pa.string()), (s.NOTE, pa.string()),
                        (WEB_TASK_COLUMN, pa.int64())])
    out = pa.table({f.name: pa.array(df[f.name].tolist(), type=f.type) for f in schema},
                   schema=schema)
    if like is not None:
        target = pa.schema([like.field(f.name) if f.name in like.names
                            and f.name != WEB_TASK_COLUMN else f for f in schema])
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
            out = out.cast(target)
    return out


def _keys(table: pa.Table) -> set[tuple[Any, ...]]:
    cols = [table[c].to_pylist() for c in (s.CUSTOMER_ID, s.ACTION, s.DATE)]
    return set(zip(*cols, strict=True))


def sync_outcomes(session: Session, ws: Workspace, *, actor: User | None,
                  lang: str | None = None) -> int:
    """Write every task into ``retention_actions`` (:func:`sync_tasks`); returns the
    number of web rows now in the table."""
    return sync_tasks(session, ws, actor=actor, lang=lang).written


def sync_tasks(session: Session, ws: Workspace, *, actor: User | None,
               lang: str | None = None) -> SyncResult:
    """Write every task into the workspace table ``retention_actions`` so that the
    plan's and the report's playbook-effect measurement counts them.

    Rows not written by the web app (no :data:`WEB_TASK_COLUMN`) are kept as they are,
    earlier web rows are replaced (see the module docstring). The new table goes
    through :func:`churnradar.io.import_table` — the same validation and atomic
    replacement as ``churnradar import`` — and the sync is audit-logged.

    Returns
    -------
    SyncResult
        ``written`` = web rows now in the table, ``kept`` = other rows kept,
        ``collisions`` = web rows left out for an imported row with their key.

    Raises
    ------
    ImportFailed
        The importer refused the table (the workspace is left as it was).
    """
    from churnradar.io.importer import import_table

    web = tasks_as_actions(session)
    existing = ws.read_table("retention_actions") if ws.has_table("retention_actions") \
        else None
    kept = existing
    if existing is not None and WEB_TASK_COLUMN in existing.column_names:
        kept = existing.filter(pc.is_null(existing[WEB_TASK_COLUMN]))
    collisions = 0
    if kept is not None and kept.num_rows and len(web):
        taken = _keys(kept)
        clash = [(c, a, d) in taken for c, a, d in
                 zip(web[s.CUSTOMER_ID], web[s.ACTION], web[s.DATE], strict=True)]
        collisions = int(sum(clash))
        web = web[[not c for c in clash]].reset_index(drop=True)
    n_kept = kept.num_rows if kept is not None else 0
    if n_kept + len(web) == 0:
        return SyncResult(written=0, kept=0, collisions=collisions, run_dir=None)
    new = _web_table(web, existing.schema if existing is not None else None)
    if kept is not None:
        kept = kept.replace_schema_metadata(None)
        if WEB_TASK_COLUMN not in kept.column_names:
            kept = kept.append_column(WEB_TASK_COLUMN, pa.nulls(kept.num_rows, pa.int64()))
        else:
            kept = kept.set_column(kept.column_names.index(WEB_TASK_COLUMN),
                                   WEB_TASK_COLUMN,
                                   kept[WEB_TASK_COLUMN].cast(pa.int64()))
        combined = pa.concat_tables([kept, new], promote_options="default")
    else:
        combined = new
    mapping = {c: c for c in CONTRACT_COLUMNS if c in combined.column_names}
    with tempfile.TemporaryDirectory(prefix="churnradar-sync-") as tmp:
        path = Path(tmp) / "retention_actions.parquet"
        pq.write_table(combined, path)
        result = import_table(ws, "retention_actions", path, mapping=mapping, strict=True,
                              lang=lang)
    audit(session, user=actor, action="tasks.sync", target="table:retention_actions",
          detail={"written": len(web), "kept": n_kept, "collisions": collisions,
                  "run": result.run_dir.name if result.run_dir else None})
    log.info("synced %d task rows into retention_actions (%d other rows kept)", len(web),
             n_kept)
    return SyncResult(written=len(web), kept=n_kept, collisions=collisions,
                      run_dir=result.run_dir)


__all__ = ["ACTION_COLUMNS", "FINAL_STATUSES", "OPEN_STATUSES", "STATUSES", "UNSET",
           "WEB_TASK_COLUMN", "Home", "NoPlan", "NotAllowed", "PlanTasks", "SyncResult",
           "TaskPage", "allowed_actions", "create_from_plan", "create_task", "get_task",
           "home", "list_tasks", "sync_outcomes", "sync_tasks", "tasks_as_actions",
           "update_task"]
