"""The JSON API's read side (/api/v1/metrics, /customers, /customers/{id}[/history]) —
bearer tokens and sessions, the role rules, validation, and the numbers against
independent pandas computations; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import math

import pandas as pd
import pyarrow as pa
import pytest

from .test_customers import _expected, _frame


def _api(web, user: str):
    c = web.client()
    c.headers["authorization"] = f"Bearer {web.token(user)}"
    return c


def test_every_endpoint_needs_a_caller(web):
    c = web.client()
    for path in ("/api/v1/metrics", "/api/v1/customers", "/api/v1/customers/T0000001",
                 "/api/v1/customers/T0000001/history?table=events"):
        r = c.get(path)
        assert r.status_code == 401, path
        assert r.headers["www-authenticate"] == "Bearer"
        assert c.get(path, headers={"authorization": "Bearer not-a-token"}).status_code == 401


def test_a_browser_session_may_read_the_api_too(web):
    assert web.client("mia").get("/api/v1/customers?per_page=1").status_code == 200


def test_customers_filter_sort_and_page_like_pandas(web):
    df = _frame(web)
    c = _api(web, "mia")
    active = df[df["churn_probability"].notna()]
    cases = [
        {},
        {"risk_tier": "high", "per_page": 500},
        {"risk_tier": "low", "sort": "clv", "order": "desc", "page": 4, "per_page": 9},
        {"grade": active["grade"].mode().iloc[0], "sort": "value_at_risk", "order": "desc"},
        {"region": active["region"].mode().iloc[0], "sort": "customer_id", "per_page": 3,
         "page": 2},
        {"q": str(active["customer_id"].iloc[3])[-4:]},
        {"owner_id": web.sue_owner, "sort": "churn_probability", "order": "desc"},
    ]
    for params in cases:
        body = c.get("/api/v1/customers", params=params).json()
        kw = {("owner" if k == "owner_id" else k): v for k, v in params.items()}
        kw.setdefault("per_page", web.app.state.settings.page_size)
        want, total = _expected(df, **kw)
        assert body["total"] == total, params
        assert [i["customer_id"] for i in body["items"]] == want, params
        assert body["pages"] == max(1, math.ceil(total / kw["per_page"]))


def test_a_customer_row_carries_the_snapshot_values(web):
    df = _frame(web).set_index("customer_id")
    body = _api(web, "ada").get("/api/v1/customers", params={"per_page": 20,
                                                               "lang": "en"}).json()
    for item in body["items"]:
        row = df.loc[item["customer_id"]]
        assert item["churn_probability"] == pytest.approx(row["churn_probability"])
        assert item["risk_rank"] == int(row["risk_rank"])
        assert item["risk_tier"] == row["risk_tier"]
        assert item["clv"] == pytest.approx(row["clv"])
        assert [d["feature"] for d in item["drivers"]] == [
            row[f"driver_{i}"] for i in (1, 2, 3) if row[f"driver_{i}"]]
        assert item["recommended_action"] == (row["plan_action"] or row["value_action"])
        assert item["owner_id"] == (row["owner_id"] if isinstance(row["owner_id"], str)
                                    else None)
    zh = _api(web, "ada").get("/api/v1/customers", params={"per_page": 1,
                                                             "lang": "zh-CN"}).json()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh["items"][0]["drivers"][0]["label"]
               + (zh["items"][0]["recommended_action_name"] or "天"))


@pytest.mark.parametrize("user,other", [("sam", "sue"), ("sue", "sam")])
def test_sales_see_only_their_own_customers(web, user, other):
    own, foreign = getattr(web, f"{user}_owner"), getattr(web, f"{other}_owner")
    df = _frame(web)
    c = _api(web, user)
    body = c.get("/api/v1/customers", params={"per_page": 500}).json()
    want, total = _expected(df, owner=own, per_page=500)
    assert body["total"] == total > 0
    assert [i["customer_id"] for i in body["items"]] == want
    assert {i["owner_id"] for i in body["items"]} == {own}
    # another owner: an empty page, not an error; filters never widen the scope
    r = c.get("/api/v1/customers", params={"owner_id": foreign})
    assert r.status_code == 200 and r.json()["total"] == 0 and r.json()["items"] == []
    assert c.get("/api/v1/customers", params={"owner_id": own}).json()["total"] == total
    everyone = c.get("/api/v1/customers", params={"active_only": False,
                                                  "per_page": 500}).json()
    assert {i["owner_id"] for i in everyone["items"]} == {own}
    # guessing another owner's customer: 404, the same answer as for no customer
    theirs = df[df["owner_id"] == foreign]["customer_id"].iloc[0]
    mine = df[df["owner_id"] == own]["customer_id"].iloc[0]
    a = c.get(f"/api/v1/customers/{theirs}")
    b = c.get("/api/v1/customers/NO-SUCH-ID")
    assert a.status_code == b.status_code == 404 and a.json() == b.json()
    h = c.get(f"/api/v1/customers/{theirs}/history", params={"table": "complaints"})
    assert h.status_code == 404 and h.json() == b.json()
    assert c.get(f"/api/v1/customers/{mine}").json()["owner_id"] == own
    assert c.get(f"/api/v1/customers/{mine}/history",
                 params={"table": "events"}).status_code == 200


def test_managers_see_every_customer(web):
    df = _frame(web)
    for user in ("mia", "ada"):
        c = _api(web, user)
        assert c.get("/api/v1/customers").json()["total"] == int(
            df["churn_probability"].notna().sum())
        unowned = df[df["owner_id"].isna()]["customer_id"].iloc[0]
        assert c.get(f"/api/v1/customers/{unowned}").status_code == 200


def test_customer_and_history(web):
    df = _frame(web)
    churned = df[df["churned_at"].notna()].iloc[0]
    c = _api(web, "mia")
    body = c.get(f"/api/v1/customers/{churned['customer_id']}").json()
    assert body["churned_at"][:10] == str(churned["churned_at"].date())
    assert body["churn_reason"] == churned["churn_reason"]
    snap = web.app.state.store.current()
    events = pa.ipc.open_file(snap.history_files["events"]).read_pandas()
    cid = events["customer_id"].value_counts().index[0]
    mine = events[events["customer_id"] == cid].sort_values("time", ascending=False)
    h = c.get(f"/api/v1/customers/{cid}/history", params={"table": "events",
                                                          "limit": 7}).json()
    assert h["table"] == "events" and len(h["rows"]) == 7
    assert [pd.Timestamp(r["time"]) for r in h["rows"]] == list(mine["time"].iloc[:7])
    old = c.get(f"/api/v1/customers/{cid}/history",
                params={"table": "events", "newest_first": False, "limit": 500}).json()
    assert len(old["rows"]) == min(500, len(mine))
    risk = c.get(f"/api/v1/customers/{cid}/history", params={"table": "risk"}).json()
    assert all(0 <= r["churn_probability"] <= 1 for r in risk["rows"])
    json.dumps(h, allow_nan=False)


def test_metrics_are_the_company_figures_for_every_role(web):
    snap = web.app.state.store.current()
    overall = pd.DataFrame(snap.metrics["overall"])
    done = overall[overall["complete"]]
    latest, previous = done.iloc[-1], done.iloc[-2]
    bodies = [_api(web, u).get("/api/v1/metrics", params={"lang": "en"}).json()
              for u in ("sam", "mia")]
    assert bodies[0] == bodies[1]
    m = bodies[0]
    assert m["available"] and m["as_of"] == snap.metrics["as_of"]
    assert m["latest"]["label"] == latest["label"]
    assert m["previous"]["label"] == previous["label"]
    # both bases, from the counts
    assert m["latest"]["churn_rate_start"] == pytest.approx(
        latest["churned_count"] / latest["start_count"])
    assert m["latest"]["churn_rate_end"] == pytest.approx(
        latest["churned_count"] / latest["end_count"])
    assert m["periods"] == len(overall)
    assert [s["check"] for s in m["safety"]] == [s["check"] for s in snap.metrics["safety"]]
    assert m["alerts"] == sum(s["status"] in ("warn", "alert") for s in snap.metrics["safety"])
    assert all(s["message"] for s in m["safety"])
    zh = _api(web, "mia").get("/api/v1/metrics", params={"lang": "zh-CN"}).json()
    assert zh["safety"][0]["message"] != m["safety"][0]["message"]
    json.dumps(m, allow_nan=False)


def test_bad_input_is_refused_with_422_never_a_server_error(web):
    c = _api(web, "mia")
    for params in ({"risk_tier": "extreme"}, {"page": 0}, {"per_page": 501},
                   {"per_page": 0}, {"sort": "password"}, {"order": "sideways"},
                   {"q": "x" * 101}, {"owner_id": "y" * 101}, {"lang": "fr"},
                   {"page": "many"}, {"active_only": "maybe"}):
        r = c.get("/api/v1/customers", params=params)
        assert r.status_code == 422, params
    assert c.get("/api/v1/customers/x/history", params={"table": "staff"}).status_code == 422
    assert c.get("/api/v1/customers/x/history").status_code == 422
    assert c.get("/api/v1/customers/" + "z" * 201).status_code == 422
    for params in ({"q": "\x00"}, {"q": "%_\\'"}, {"grade": "\x00"},
                   {"page": 1_000_000, "per_page": 500}):
        assert c.get("/api/v1/customers", params=params).status_code == 200, params


def test_the_openapi_schema_documents_the_endpoints(web):
    spec = web.client().get("/api/v1/openapi.json").json()
    for path in ("/metrics", "/customers", "/customers/{customer_id}",
                 "/customers/{customer_id}/history"):
        op = spec["paths"][path]["get"]
        assert op["summary"] and op["description"], path
        assert "401" in op["responses"]
    params = {p["name"]: p for p in spec["paths"]["/customers"]["get"]["parameters"]}
    assert params["risk_tier"]["schema"]["anyOf"][0]["enum"] == ["high", "medium", "low"]
    assert params["per_page"]["schema"]["anyOf"][0]["maximum"] == 500
    assert "404" in spec["paths"]["/customers/{customer_id}"]["get"]["responses"]
    assert {"CustomerPublic", "CustomerPage", "MetricsPublic", "HistoryPublic"} <= set(
        spec["components"]["schemas"])
