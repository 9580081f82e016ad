"""The retention workbench pages: tasks by hand and from the plan, status and outcome,
reassignment, overdue reminders on the home page, and the sync of the outcomes into the
"did it work?" measurement — per role, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from sqlalchemy import select

from churnradar.web.db import session_scope
from churnradar.web.models import AuditLog, Task

from .conftest import csrf_of

TODAY = dt.date.today()


def _customers(web, owner: str, n: int = 3) -> list[str]:
    snap = web.app.state.store.current()
    return [r["customer_id"] for r in snap.customers(owner_id=owner, per_page=n).rows]


def _tasks(web, **where) -> list[Task]:
    with session_scope(web.app.state.engine, readonly=True) as s:
        stmt = select(Task).order_by(Task.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(Task, k) == v)
        return list(s.scalars(stmt))


def _audit(web, action: str) -> list[AuditLog]:
    with session_scope(web.app.state.engine, readonly=True) as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == action)
                              .order_by(AuditLog.id)))


def _new(c, customer_id: str, *, action: str = "care_call", due: dt.date | None = None,
         owner_id: str | None = None, note: str = "", csrf: str | None = None,
         next_: str = "/tasks"):
    data = {"customer_id": customer_id, "action": action, "note": note, "next": next_,
            "due_date": due.isoformat() if due else ""}
    if owner_id is not None:
        data["owner_id"] = owner_id
    if csrf is not False:
        data["csrf_token"] = csrf or csrf_of(c.get("/tasks").text)
    return c.post("/tasks", data=data, follow_redirects=False)


def _edit(web, c, task_id: int, **fields):
    """Post the task's form as a browser would: the current values, changed by
    ``fields`` (``owner_id`` given: the managers' owner field)."""
    page = c.get(f"/tasks/{task_id}")
    current = _tasks(web, id=task_id)
    data = {"csrf_token": csrf_of(page.text) if page.status_code == 200
            else csrf_of(c.get("/tasks").text)}
    if current:
        t = current[0]
        data.update({"status": t.status, "note": t.note or "",
                     "due_date": t.due_date.isoformat() if t.due_date else ""})
    if "owner_id" in fields:
        data["reassign"] = "1"
    data.update({k: v for k, v in fields.items()})
    return c.post(f"/tasks/{task_id}", data=data, follow_redirects=False)


# --- by hand ---------------------------------------------------------------------------
def test_sales_create_tasks_for_their_own_customers_only(web):
    sam = web.client("sam")
    own, = _customers(web, web.sam_owner, 1)
    foreign, = _customers(web, web.sue_owner, 1)
    r = _new(sam, own, due=TODAY + dt.timedelta(days=3), note="called twice",
             owner_id=web.sue_owner, next_=f"/customers/{own}")
    assert r.status_code == 303 and r.headers["location"] == f"/customers/{own}"
    task, = _tasks(web, customer_id=own)
    # a sales user's task is always their own, whatever the form says
    assert (task.owner_id, task.action, task.status, task.group, task.note) == (
        web.sam_owner, "care_call", "open", "treatment", "called twice")
    assert task.due_date == TODAY + dt.timedelta(days=3)
    row, = _audit(web, "task.create")
    detail = json.loads(row.detail)
    assert detail["before"] is None and detail["after"]["customer_id"] == own
    # another owner's customer, a customer that does not exist: 404 alike
    assert _new(sam, foreign).status_code == 404
    assert _new(sam, "no-such-customer").status_code == 404
    assert _new(sam, "x" * 5000).status_code == 404
    assert len(_tasks(web)) == 1
    # an unknown action, a date out of range: 422; without the CSRF token: 403
    assert _new(sam, own, action="bribe").status_code == 422
    assert _new(sam, own, due=dt.date(1999, 1, 1)).status_code == 422
    assert _new(sam, own, csrf="0" * 64).status_code == 403
    assert _new(sam, own, csrf=False).status_code == 403
    assert len(_tasks(web)) == 1
    # open redirect refused
    r = _new(sam, own, next_="//evil.example/")
    assert r.status_code == 303 and r.headers["location"].startswith("/tasks/")


def test_manager_assigns_any_owner_and_defaults_to_the_customers(web):
    mia = web.client("mia")
    cust, other = _customers(web, web.sue_owner, 2)
    assert _new(mia, cust).status_code == 303
    assert _new(mia, other, owner_id=web.sam_owner, action="price_review").status_code == 303
    a, b = _tasks(web)
    assert a.owner_id == web.sue_owner and b.owner_id == web.sam_owner
    assert b.action == "price_review" and a.created_by is not None


def test_sales_cannot_see_or_change_another_owners_task(web):
    mia, sam, sue = web.client("mia"), web.client("sam"), web.client("sue")
    theirs, = _customers(web, web.sue_owner, 1)
    mine, = _customers(web, web.sam_owner, 1)
    _new(mia, theirs)
    _new(sam, mine)
    sue_task, sam_task = _tasks(web)
    # URL guessing: the page, the form post, the list
    assert sam.get(f"/tasks/{sue_task.id}").status_code == 404
    assert sam.get("/tasks/999999").status_code == 404
    assert _edit(web, sam, sue_task.id, status="lost").status_code == 404
    listing = sam.get("/tasks").text
    assert f'data-task="{sam_task.id}"' in listing and f'data-task="{sue_task.id}"' not in listing
    assert theirs not in listing
    assert sue.get(f"/tasks/{sue_task.id}").status_code == 200
    # sales cannot reassign their own task; a manager can
    assert _edit(web, sam, sam_task.id, status="open", owner_id=web.sue_owner).status_code == 403
    assert _tasks(web, id=sam_task.id)[0].owner_id == web.sam_owner
    assert _edit(web, mia, sam_task.id, status="open", owner_id=web.sue_owner).status_code == 303
    assert _tasks(web, id=sam_task.id)[0].owner_id == web.sue_owner
    assert sam.get(f"/tasks/{sam_task.id}").status_code == 404
    assert sue.get(f"/tasks/{sam_task.id}").status_code == 200
    change = json.loads(_audit(web, "task.update")[-1].detail)
    assert change == {"before": {"owner_id": web.sam_owner},
                      "after": {"owner_id": web.sue_owner}}
    # a manager may leave a task unassigned: only managers see it then
    assert _edit(web, mia, sam_task.id, status="open", owner_id="").status_code == 303
    assert _tasks(web, id=sam_task.id)[0].owner_id is None
    assert sue.get(f"/tasks/{sam_task.id}").status_code == 404
    assert f'data-task="{sam_task.id}"' in mia.get("/tasks?owner=-").text


def test_status_note_due_date_and_outcome_time_with_audit(web):
    sam = web.client("sam")
    cust, = _customers(web, web.sam_owner, 1)
    _new(sam, cust, due=TODAY)
    task, = _tasks(web)
    assert task.outcome_at is None
    r = _edit(web, sam, task.id, status="contacted", note="left a message",
              due_date=(TODAY + dt.timedelta(days=2)).isoformat())
    assert r.status_code == 303 and r.headers["location"] == f"/tasks/{task.id}?saved=1"
    t1, = _tasks(web)
    assert (t1.status, t1.note, t1.due_date) == ("contacted", "left a message",
                                                 TODAY + dt.timedelta(days=2))
    assert t1.outcome_at is not None
    _edit(web, sam, task.id, status="retained", note="left a message",
          due_date=t1.due_date.isoformat())
    t2, = _tasks(web)
    assert t2.status == "retained" and t2.outcome_at == t1.outcome_at  # first leaving open
    page = sam.get(f"/tasks/{task.id}")
    assert page.status_code == 200 and "left a message" in page.text
    _edit(web, sam, task.id, status="open", note="", due_date=t1.due_date.isoformat())
    t3, = _tasks(web)
    assert t3.status == "open" and t3.outcome_at is None and t3.note is None
    updates = [json.loads(a.detail) for a in _audit(web, "task.update")]
    assert len(updates) == 3
    assert updates[0]["before"]["status"] == "open"
    assert updates[0]["after"]["status"] == "contacted"
    assert updates[1] == {"before": {"status": "contacted"}, "after": {"status": "retained"}}
    # nothing changed: no audit row
    _edit(web, sam, task.id, status="open", note="", due_date=t1.due_date.isoformat())
    assert len(_audit(web, "task.update")) == 3
    # a bad status, a bad date: 422, nothing changed
    assert _edit(web, sam, task.id, status="won").status_code == 422
    assert _edit(web, sam, task.id, status="open", due_date="2024-02-30").status_code == 422
    assert _edit(web, sam, task.id, status="open", note="a\x00b").status_code == 422
    assert len(_audit(web, "task.update")) == 3


# --- home page and list ----------------------------------------------------------------
def test_home_shows_overdue_reminders_to_their_owner(web):
    sam, sue, mia = web.client("sam"), web.client("sue"), web.client("mia")
    late, soon, done = _customers(web, web.sam_owner, 3)
    _new(sam, late, due=TODAY - dt.timedelta(days=3))
    _new(sam, soon, due=TODAY + dt.timedelta(days=2))
    _new(sam, done, due=TODAY - dt.timedelta(days=5))
    done_task = _tasks(web, customer_id=done)[0]
    _edit(web, sam, done_task.id, status="retained",
          due_date=(TODAY - dt.timedelta(days=5)).isoformat())
    home = sam.get("/")
    assert home.status_code == 200
    html = home.text
    warn = html[html.index('class="warn"'):html.index("</section>", html.index('class="warn"'))]
    assert late in warn and soon not in warn and done not in warn
    week = html[html.index('id="week"'):]
    assert soon in week[:week.index("</section>")]
    assert 'data-status="retained"' in html
    # their own at-risk customers only
    snap = web.app.state.store.current()
    top = snap.customers(owner_id=web.sam_owner, per_page=10).rows
    at_risk = html[html.index('id="at-risk"'):]
    assert all(r["customer_id"] in at_risk for r in top)
    foreign = snap.customers(owner_id=web.sue_owner, per_page=10).rows
    assert not any(f'/customers/{r["customer_id"]}"' in html for r in foreign)
    # another sales user sees no reminder; the manager sees the team's overdue per owner
    assert late not in sue.get("/").text
    team = mia.get("/").text
    assert 'id="team"' in team and web.sam_owner in team[team.index('id="team"'):]
    assert late in team


def test_task_list_filters_and_pages_for_managers(web):
    mia = web.client("mia")
    sam_c = _customers(web, web.sam_owner, 3)
    sue_c = _customers(web, web.sue_owner, 2)
    for c in sam_c:
        _new(mia, c, due=TODAY - dt.timedelta(days=1))
    for c in sue_c:
        _new(mia, c, due=TODAY + dt.timedelta(days=10))
    first = _tasks(web)[0]
    _edit(web, mia, first.id, status="lost", owner_id=web.sam_owner,
          due_date=(TODAY - dt.timedelta(days=1)).isoformat())

    def ids(url: str) -> set[int]:
        import re

        r = mia.get(url)
        assert r.status_code == 200
        return {int(m) for m in re.findall(r'data-task="(\d+)"', r.text)}

    all_ids = {t.id for t in _tasks(web)}
    assert ids("/tasks") == all_ids
    assert ids(f"/tasks?owner={web.sue_owner}") == {t.id for t in _tasks(web)
                                                    if t.owner_id == web.sue_owner}
    assert ids("/tasks?status=lost") == {first.id}
    assert ids("/tasks?overdue=1") == {t.id for t in _tasks(web)
                                       if t.owner_id == web.sam_owner} - {first.id}
    # odd query values are ignored, never an error
    assert ids("/tasks?status=nope&page=abc&owner=%00") == all_ids
    assert ids("/tasks?page=99999") == set()


def test_pages_need_sign_in(web):
    c = web.client()
    for path in ("/", "/tasks", "/tasks/1"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert c.post("/tasks/sync", follow_redirects=False).status_code in (303, 403)


# --- from the plan ---------------------------------------------------------------------
def _plan(web) -> tuple[str, pd.DataFrame]:
    runs = sorted(p for p in (web.root / "runs").iterdir()
                  if p.name.endswith("-plan") and (p / "plan.parquet").exists())
    return runs[-1].name, pd.read_parquet(runs[-1] / "plan.parquet")


def _from_plan(c, days: str = "7"):
    return c.post("/tasks/from-plan", data={"csrf_token": csrf_of(c.get("/tasks").text),
                                            "due_in_days": days}, follow_redirects=False)


def test_from_plan_makes_one_task_per_selected_customer_once(web):
    run, plan = _plan(web)
    treated = plan[plan["group"] == "treatment"]
    control = plan[plan["group"] == "control"]
    assert len(treated) > 0 and len(control) > 0
    mia, sam = web.client("mia"), web.client("sam")
    assert _from_plan(sam).status_code == 403  # sales
    assert _from_plan(mia, "400").status_code == 422
    assert _from_plan(mia, "soon").status_code == 422
    r = _from_plan(mia, "5")
    assert r.status_code == 303 and f"created={len(treated)}" in r.headers["location"]
    tasks = _tasks(web, plan_run=run)
    assert len(tasks) == len(treated) + len(control)
    by_group = pd.DataFrame([(t.customer_id, t.group, t.owner_id, t.action, t.due_date)
                             for t in tasks],
                            columns=["customer_id", "group", "owner", "action", "due"])
    assert set(by_group.loc[by_group["group"] == "treatment", "customer_id"]) == set(
        treated["customer_id"].astype(str))
    assert set(by_group.loc[by_group["group"] == "control", "customer_id"]) == set(
        control["customer_id"].astype(str))
    assert (by_group["due"] == TODAY + dt.timedelta(days=5)).all()
    owners = dict(zip(plan["customer_id"].astype(str), plan["owner_id"], strict=True))
    assert all(o == (owners[c] if isinstance(owners[c], str) else None)
               for c, o in zip(by_group["customer_id"], by_group["owner"], strict=True))
    actions = dict(zip(plan["customer_id"].astype(str), plan["action"], strict=True))
    assert all(actions[c] == a for c, a in zip(by_group["customer_id"], by_group["action"],
                                               strict=True))
    audit, = _audit(web, "task.create_from_plan")
    assert json.loads(audit.detail)["treatment"] == len(treated)
    # twice: nothing new
    r = _from_plan(mia)
    assert r.status_code == 303 and "created=0" in r.headers["location"]
    assert len(_tasks(web, plan_run=run)) == len(tasks)
    # the control group never shows up in a work list; sales see their own treated tasks
    import re

    listed = mia.get("/tasks").text
    assert f'data-total="{len(treated)}"' in listed
    control_ids = {t.id for t in tasks if t.group == "control"}
    assert not control_ids & {int(m) for m in re.findall(r'data-task="(\d+)"', listed)}
    a_control = next(t for t in tasks if t.group == "control")
    if a_control.owner_id == web.sam_owner:
        assert sam.get(f"/tasks/{a_control.id}").status_code == 404
    assert mia.get(f"/tasks/{a_control.id}").status_code == 200
    sam_tasks = {t.id for t in tasks if t.group == "treatment" and t.owner_id == web.sam_owner}
    page = sam.get("/tasks").text
    assert f'data-total="{len(sam_tasks)}"' in page
    assert {int(m) for m in re.findall(r'data-task="(\d+)"', page)} <= sam_tasks


# --- into the measurement --------------------------------------------------------------
def _actions_and_spells(root):
    from churnradar.predict.jobs import open_data
    from churnradar.workspace import Workspace

    data = open_data(Workspace.open(root))
    t = data.tables["retention_actions"]
    cols = [c for c in ("customer_id", "action", "date", "group", "outcome", "web_task_id")
            if c in t.columns]
    return t.select(*cols).to_pandas(), data


def test_sync_feeds_the_playbook_effect_measurement(web):
    from churnradar.retention.effect import playbook_effects

    before = pd.read_parquet(web.root / "data" / "retention_actions.parquet")
    mia, sam = web.client("mia"), web.client("sam")
    assert _from_plan(mia).status_code == 303
    treated = [t for t in _tasks(web) if t.group == "treatment"]
    # outcomes: the first four retained, the next three lost, one not reachable
    marks = (["retained"] * 4 + ["lost"] * 3 + ["not_reachable"])[: len(treated)]
    for t, status in zip(treated, marks, strict=False):
        assert _edit(web, mia, t.id, status=status, owner_id=t.owner_id or "",
                     due_date=t.due_date.isoformat()).status_code == 303
    tok = csrf_of(mia.get("/tasks").text)
    assert sam.post("/tasks/sync", data={"csrf_token": csrf_of(sam.get("/tasks").text)},
                    follow_redirects=False).status_code == 403
    assert mia.post("/tasks/sync", data={}, follow_redirects=False).status_code == 403
    r = mia.post("/tasks/sync", data={"csrf_token": tok}, follow_redirects=False)
    assert r.status_code == 303
    tasks = _tasks(web)
    assert f"synced={len(tasks)}" in r.headers["location"]
    assert len(_audit(web, "tasks.sync")) == 1

    actions, data = _actions_and_spells(web.root)
    web_rows = actions[actions["web_task_id"].notna()]
    kept = actions[actions["web_task_id"].isna()]
    # the rows imported before are all still there, untouched
    key = ["customer_id", "action", "date"]
    assert kept[key].astype(str).sort_values(key).reset_index(drop=True).equals(
        before[key].astype(str).sort_values(key).reset_index(drop=True))
    assert len(web_rows) == len(tasks)
    assert set(web_rows["web_task_id"].astype(int)) == {t.id for t in tasks}

    # the measurement over the workspace sees the tasks, per action and group: the
    # plan's tasks are due after the data ends, so their windows are pending
    eff = playbook_effects(web_rows.drop(columns="web_task_id"), data.spells,
                           as_of=data.data_end).set_index("action")
    frame = pd.DataFrame([(t.action, t.group, t.status) for t in tasks],
                         columns=["action", "group", "status"])
    for action, part in frame.groupby("action"):
        row = eff.loc[action]
        treat = part[part["group"] == "treatment"]
        assert row["treated_pending"] == len(treat), action
        assert row["control_pending"] == int((part["group"] == "control").sum()), action
        assert row["treated"] == row["control"] == row["inactive"] == 0
        for status in ("open", "retained", "lost", "not_reachable"):
            assert row[status] == int((treat["status"] == status).sum()), (action, status)
    # and the plan job's own reading of the whole table counts the imported rows as well
    whole = playbook_effects(actions.drop(columns="web_task_id"), data.spells,
                             as_of=data.data_end).set_index("action")
    assert whole.loc["__all__", "pending"] >= len(tasks)

    # a task due inside the data period, for a customer active then: its window is
    # complete by the end of the data, so it is counted (treated), not pending
    early = data.data_end - dt.timedelta(days=200)
    sp = data.spells
    in_plan = set(_plan(web)[1]["customer_id"].astype(str))
    ok = sp[(pd.to_datetime(sp["start_date"]) <= pd.Timestamp(early))
            & sp["churn_date"].isna() & ~sp["customer_id"].astype(str).isin(in_plan)]
    cust = str(ok["customer_id"].iloc[0])
    assert _new(mia, cust, action="account_visit", due=early).status_code == 303
    r = mia.post("/tasks/sync", data={"csrf_token": tok}, follow_redirects=False)
    assert r.status_code == 303
    again, data = _actions_and_spells(web.root)
    assert len(again) == len(actions) + 1  # replaced, not added again
    mine = again[again["customer_id"].astype(str) == cust]
    mine = mine[mine["web_task_id"].notna()]
    one = playbook_effects(mine.drop(columns="web_task_id"), data.spells,
                           as_of=data.data_end).set_index("action")
    assert one.loc["account_visit", "treated"] == 1
    assert one.loc["account_visit", "treated_pending"] == 0


def test_tasks_as_actions_contract(web):
    from churnradar.schema import CONTRACTS
    from churnradar.web.tasks import tasks_as_actions

    sam = web.client("sam")
    a, b = _customers(web, web.sam_owner, 2)
    _new(sam, a, due=TODAY + dt.timedelta(days=1), note="n1")
    _new(sam, b, due=TODAY + dt.timedelta(days=2))
    ta, tb = _tasks(web)
    status = "retained"
    _edit(web, sam, ta.id, status=status, note="n1", due_date=ta.due_date.isoformat())
    with session_scope(web.app.state.engine, readonly=True) as s:
        df = tasks_as_actions(s)
    contract = [c.name for c in CONTRACTS["retention_actions"].columns]
    assert list(df.columns) == [*contract, "web_task_id"]
    rows = df.set_index("web_task_id")
    outcome_day = _tasks(web, id=ta.id)[0].outcome_at.date()
    assert rows.loc[ta.id, "date"] == outcome_day and rows.loc[ta.id, "outcome"] == status
    assert rows.loc[tb.id, "date"] == tb.due_date and rows.loc[tb.id, "outcome"] == "open"
    assert rows.loc[ta.id, "note"] == "n1" and (rows["group"] == "treatment").all()


# --- the data layer alone --------------------------------------------------------------
def test_plan_members_reads_treatment_and_control_only(tmp_path):
    from churnradar.web.tasks import plan_members

    run = tmp_path / "20250101-000000-plan"
    run.mkdir()
    pd.DataFrame({"customer_id": [1, 2, 3, 4], "owner_id": ["a", None, "b", "c"],
                  "action": ["care_call", "reminder", "care_call", None],
                  "group": ["treatment", "control", None, "treatment"]}
                 ).to_parquet(run / "plan.parquet")
    got = plan_members(run)
    assert got.to_dict("records") == [
        {"customer_id": "1", "owner_id": "a", "action": "care_call", "group": "treatment"},
        {"customer_id": "2", "owner_id": None, "action": "reminder", "group": "control"}]
    # nobody selected: the group column has no value at all
    pd.DataFrame({"customer_id": ["1"], "action": ["care_call"], "group": [None]}
                 ).to_parquet(run / "plan.parquet")
    assert plan_members(run).empty


def test_text_and_date_checks():
    from churnradar.exceptions import InputError
    from churnradar.web.tasks import check_date, clean_text

    assert clean_text("  hi  ", name="n", max_len=5) == "hi"
    assert clean_text("   ", name="n", max_len=5) is None
    assert clean_text("a\nb", name="n", max_len=5, multiline=True) == "a\nb"
    for bad in ("a\nb", "x" * 6, "a\x00", "\ud800", "a\x7f"):
        with pytest.raises(InputError, match="at most 5 characters"):
            clean_text(bad, name="n", max_len=5)
    assert check_date(dt.date(2030, 1, 1)) == dt.date(2030, 1, 1)
    with pytest.raises(InputError, match="between 2000-01-01 and 2100-12-31"):
        check_date(dt.date(1999, 12, 31))
