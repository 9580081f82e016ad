"""``/api/v1/tasks``: list, read, create and change tasks with a bearer token or the
browser session (then with X-CSRF-Token), per role; 404 outside the caller's rights,
422 for bad values, never a server error; every write audit-logged."""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import select

from churnradar.web.db import session_scope
from churnradar.web.models import AuditLog

API = "/api/v1/tasks"
TODAY = dt.date.today()


def _bearer(web, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {web.token(user)}"}


def _customers(web, owner: str, n: int = 2) -> list[str]:
    snap = web.app.state.store.current()
    return [r["customer_id"] for r in snap.customers(owner_id=owner, per_page=n).rows]


def _audit(web, action: str) -> list[AuditLog]:
    with session_scope(web.app.state.engine, readonly=True) as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_sales_work_only_with_their_own_customers_and_tasks(web):
    c = web.client()
    sam, sue, mia = _bearer(web, "sam"), _bearer(web, "sue"), _bearer(web, "mia")
    own, = _customers(web, web.sam_owner, 1)
    foreign, = _customers(web, web.sue_owner, 1)
    r = c.post(API, json={"customer_id": own, "action": "care_call", "note": "ring",
                          "owner_id": web.sue_owner}, headers=sam)
    assert r.status_code == 201, r.text
    mine = r.json()
    assert mine["owner_id"] == web.sam_owner and mine["status"] == "open"
    assert mine["due_date"] == (TODAY + dt.timedelta(days=7)).isoformat()
    assert mine["group"] == "treatment" and mine["overdue"] is False
    # another owner's customer: 404, as if it did not exist
    r = c.post(API, json={"customer_id": foreign, "action": "care_call"}, headers=sam)
    assert r.status_code == 404
    assert c.post(API, json={"customer_id": "nope", "action": "care_call"},
                  headers=sam).status_code == 404
    theirs = c.post(API, json={"customer_id": foreign, "action": "price_review"},
                    headers=mia).json()
    assert theirs["owner_id"] == web.sue_owner
    # reading and changing another owner's task: 404
    assert c.get(f"{API}/{theirs['id']}", headers=sam).status_code == 404
    assert c.patch(f"{API}/{theirs['id']}", json={"status": "lost"},
                   headers=sam).status_code == 404
    assert c.get(f"{API}/{theirs['id']}", headers=sue).status_code == 200
    listed = c.get(API, headers=sam).json()
    assert [t["id"] for t in listed["items"]] == [mine["id"]] and listed["total"] == 1
    # the owner filter does not widen a sales user's view
    assert c.get(API, params={"owner_id": web.sue_owner}, headers=sam).json()["total"] == 1
    assert c.get(API, params={"customer_id": foreign}, headers=sam).json()["total"] == 0
    # no reassignment by sales (403 on their own task); a manager may
    r = c.patch(f"{API}/{mine['id']}", json={"owner_id": web.sue_owner}, headers=sam)
    assert r.status_code == 403
    r = c.patch(f"{API}/{mine['id']}", json={"owner_id": web.sam_owner, "status": "contacted"},
                headers=sam)
    assert r.status_code == 200 and r.json()["status"] == "contacted"
    assert r.json()["outcome_at"] is not None
    r = c.patch(f"{API}/{mine['id']}", json={"owner_id": web.sue_owner}, headers=mia)
    assert r.status_code == 200 and r.json()["owner_id"] == web.sue_owner
    assert c.get(f"{API}/{mine['id']}", headers=sam).status_code == 404
    # audit: who, before and after
    creates = _audit(web, "task.create")
    updates = [json.loads(a.detail) for a in _audit(web, "task.update")]
    assert len(creates) == 2 and len(updates) == 2
    assert {"before": {"owner_id": web.sam_owner}, "after": {"owner_id": web.sue_owner}
            } in updates


def test_manager_filters_and_pages(web):
    c = web.client()
    mia = _bearer(web, "mia")
    custs = _customers(web, web.sam_owner, 3) + _customers(web, web.sue_owner, 2)
    ids = []
    for i, cid in enumerate(custs):
        due = TODAY + dt.timedelta(days=-2 if i % 2 == 0 else 5)
        r = c.post(API, json={"customer_id": cid, "action": "reminder",
                              "due_date": due.isoformat()}, headers=mia)
        assert r.status_code == 201
        ids.append(r.json()["id"])
    c.patch(f"{API}/{ids[0]}", json={"status": "retained"}, headers=mia)
    page = c.get(API, params={"per_page": 2, "page": 2}, headers=mia).json()
    assert page["total"] == 5 and page["pages"] == 3 and len(page["items"]) == 2
    overdue = c.get(API, params={"overdue": "true"}, headers=mia).json()
    assert {t["id"] for t in overdue["items"]} == {ids[2], ids[4]}
    assert all(t["overdue"] for t in overdue["items"])
    assert [t["id"] for t in c.get(API, params={"status": "retained"},
                                   headers=mia).json()["items"]] == [ids[0]]
    assert c.get(API, params={"customer_id": custs[1]}, headers=mia).json()["total"] == 1
    assert c.get(API, params={"owner_id": web.sue_owner}, headers=mia).json()["total"] == 2
    # null clears the due date and the note; leaving a field out keeps it
    r = c.patch(f"{API}/{ids[1]}", json={"note": "x"}, headers=mia)
    assert r.json()["note"] == "x" and r.json()["due_date"] is not None
    r = c.patch(f"{API}/{ids[1]}", json={"note": None, "due_date": None}, headers=mia)
    assert r.json()["note"] is None and r.json()["due_date"] is None


def test_session_requests_need_the_csrf_header_and_tokens_do_not(web):
    c = web.client("sam")
    own, = _customers(web, web.sam_owner, 1)
    body = {"customer_id": own, "action": "care_call"}
    assert c.post(API, json=body).status_code == 403
    assert c.post(API, json=body, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    html = c.get("/tasks").text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    r = c.post(API, json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201
    tid = r.json()["id"]
    assert c.patch(f"{API}/{tid}", json={"status": "lost"}).status_code == 403
    assert c.patch(f"{API}/{tid}", json={"status": "lost"},
                   headers={"X-CSRF-Token": token}).status_code == 200
    assert c.get(f"{API}/{tid}").json()["status"] == "lost"  # reads need no token
    # a bearer token needs no CSRF token, and no cookie
    anon = web.client()
    r = anon.patch(f"{API}/{tid}", json={"status": "retained"}, headers=_bearer(web, "sam"))
    assert r.status_code == 200
    assert anon.get(API).status_code == 401
    assert anon.post(API, json=body).status_code in (401, 403)


BAD_BODIES = [
    {"customer_id": "C", "action": "bribe"},
    {"customer_id": "", "action": "care_call"},
    {"customer_id": "x" * 101, "action": "care_call"},
    {"customer_id": "a\x00b", "action": "care_call"},
    {"customer_id": "\ud800", "action": "care_call"},
    {"customer_id": "C", "action": "care_call", "due_date": "9999-12-31"},
    {"customer_id": "C", "action": "care_call", "due_date": "0001-01-01"},
    {"customer_id": "C", "action": "care_call", "due_date": "2024-02-30"},
    {"customer_id": "C", "action": "care_call", "note": "n" * 2001},
    {"customer_id": "C", "action": "care_call", "note": "bad\x00"},
    {"customer_id": "C", "action": "care_call", "owner_id": "o\x07"},
    {"customer_id": "C", "action": "care_call", "status": "open"},
    {"customer_id": 5, "action": ["care_call"]},
    {},
]


def test_bad_bodies_are_refused_without_server_errors(web):
    c = web.client()
    mia = _bearer(web, "mia")
    cid = _customers(web, web.sue_owner, 1)[0]
    for body in BAD_BODIES:
        if body.get("customer_id") == "C":
            body = {**body, "customer_id": cid}
        r = c.post(API, content=json.dumps(body),
                   headers={**mia, "Content-Type": "application/json"})
        assert r.status_code in (404, 422), (body, r.text)
    r = c.post(API, content=b"{not json", headers={**mia, "Content-Type": "application/json"})
    assert r.status_code == 422
    assert _audit(web, "task.create") == []


def test_bad_ids_queries_and_patches_are_refused_without_server_errors(web):
    c = web.client()
    mia = _bearer(web, "mia")
    cid = _customers(web, web.sue_owner, 1)[0]
    tid = c.post(API, json={"customer_id": cid, "action": "care_call"}, headers=mia).json()["id"]
    for path in (f"{API}/0", f"{API}/-1", f"{API}/{2**40}", f"{API}/abc", f"{API}/99999"):
        assert c.get(path, headers=mia).status_code in (404, 422), path
        assert c.patch(path, json={"status": "lost"}, headers=mia).status_code in (404, 422)
    for params in ({"status": "won"}, {"page": 0}, {"page": 10**9}, {"per_page": 10**6},
                   {"customer_id": "a\x00"}, {"customer_id": "x" * 500}, {"overdue": "maybe"},
                   {"owner_id": "\x01"}):
        r = c.get(API, params=params, headers=mia)
        assert r.status_code == 422, (params, r.status_code)
    for patch in ({"status": "won"}, {"status": 1}, {"due_date": "20250-01-01"},
                  {"note": "x" * 3000}, {"owner_id": "y" * 101}, {"unknown": 1},
                  {"note": "\x00"}):
        r = c.patch(f"{API}/{tid}", json=patch, headers=mia)
        assert r.status_code == 422, (patch, r.text)
    # null status changes nothing; an empty body changes nothing and writes no audit row
    before = len(_audit(web, "task.update"))
    assert c.patch(f"{API}/{tid}", json={"status": None}, headers=mia).status_code == 200
    assert c.patch(f"{API}/{tid}", json={}, headers=mia).status_code == 200
    assert len(_audit(web, "task.update")) == before


def test_openapi_lists_the_task_schemas(web):
    spec = web.client().get("/api/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"TaskCreate", "TaskUpdate", "TaskPublic", "TaskList"} <= set(schemas)
    status = schemas["TaskUpdate"]["properties"]["status"]
    allowed = {v for alt in status.get("anyOf", [status]) for v in alt.get("enum", [])}
    assert allowed == {"open", "contacted", "retained", "lost", "not_reachable"}
    assert {"get", "post"} <= set(spec["paths"]["/tasks"])
    assert {"get", "patch"} <= set(spec["paths"]["/tasks/{task_id}"])
