"""The at-risk list, its Excel export and the customer 360 page — per role, on SQLite and
PostgreSQL. Filters, sort and paging are checked against an independent pandas
computation on the snapshot's customers.parquet; the risk tiers against the scoring
run's own scores.parquet."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pyarrow as pa
import pytest
from markupsafe import escape
from openpyxl import load_workbook
from sqlalchemy import select

from churnradar.web import export
from churnradar.web.db import session_scope
from churnradar.web.models import AuditLog, Task

from .conftest import csrf_of

ROW = re.compile(r'<tr data-customer="([^"]*)" data-owner="([^"]*)">')


# --- an independent oracle ---------------------------------------------------------------
def _frame(web) -> pd.DataFrame:
    snap = web.app.state.store.current()
    return pd.read_parquet(snap.folder / "customers.parquet")


def _expected(df: pd.DataFrame, *, owner=None, risk_tier=None, grade=None, region=None,
              segment=None, q=None, sort="risk_rank", order="asc", page=1, per_page=50
              ) -> tuple[list[str], int]:
    sub = df[df["churn_probability"].notna()]
    for col, value in (("owner_id", owner), ("risk_tier", risk_tier), ("grade", grade),
                       ("region", region), ("segment", segment)):
        if value is not None:
            sub = sub[sub[col].astype("string") == value]
    if q:
        hit = (sub["customer_id"].str.contains(q, case=False, regex=False)
               | sub["name"].fillna("").str.contains(q, case=False, regex=False))
        sub = sub[hit]
    sub = sub.sort_values([sort, "customer_id"], ascending=[order == "asc", True],
                          na_position="last", kind="mergesort")
    start = (page - 1) * per_page
    return sub["customer_id"].iloc[start:start + per_page].tolist(), len(sub)


def _listed(html: str) -> tuple[list[str], list[str], int]:
    rows = ROW.findall(html)
    total = int(re.search(r'data-total="(\d+)"', html).group(1))
    return [r[0] for r in rows], [r[1] for r in rows], total


def _xlsx(content: bytes):
    wb = load_workbook(io.BytesIO(content), read_only=True)
    sheet = wb.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    return rows[0], rows[1:], wb


# --- the list ----------------------------------------------------------------------------
def test_the_list_filters_sorts_and_pages_like_pandas(web):
    df = _frame(web)
    c = web.client("mia")
    active = df[df["churn_probability"].notna()]
    grade = active["grade"].mode().iloc[0]
    region = active["region"].mode().iloc[0]
    segment = active.loc[active["region"] == region, "segment"].mode().iloc[0]
    needle = str(active["customer_id"].iloc[5])[-3:]
    cases = [
        {},
        {"risk_tier": "high"},
        {"risk_tier": "medium", "sort": "clv", "order": "desc", "per_page": 7, "page": 3},
        {"grade": grade, "sort": "value_at_risk", "order": "desc", "per_page": 20, "page": 2},
        {"region": region, "segment": segment, "sort": "customer_id"},
        {"q": needle, "sort": "churn_probability", "order": "desc"},
        {"owner_id": web.sam_owner, "sort": "name"},
        {"risk_tier": "low", "page": 9999},
    ]
    for params in cases:
        r = c.get("/customers", params=params)
        assert r.status_code == 200, params
        ids, _owners, total = _listed(r.text)
        kw = {("owner" if k == "owner_id" else k): v for k, v in params.items()}
        kw.setdefault("per_page", web.app.state.settings.page_size)
        want, want_total = _expected(df, **kw)
        assert total == want_total, params
        assert ids == want, params


def test_risk_tiers_agree_with_the_scoring_run(web):
    run = sorted(web.root.joinpath("runs").glob("*-predict-score"))[-1]
    scores = pd.read_parquet(run / "scores.parquet")
    c = web.client("ada")
    r = c.get("/customers", params={"risk_tier": "high", "per_page": 500})
    ids, _, total = _listed(r.text)
    assert total == int((scores["risk_tier"] == "high").sum())
    assert set(ids) <= set(scores.loc[scores["risk_tier"] == "high", "customer_id"])


def test_bad_query_values_fall_back_instead_of_failing(web):
    c = web.client("mia")
    r = c.get("/customers", params={"risk_tier": "extreme", "sort": "'; drop", "order": "up",
                                    "page": "x", "per_page": "-3", "q": "x" * 5000})
    assert r.status_code == 200
    r = c.get("/customers", params={"q": "\x00%_"})
    assert r.status_code == 200


def test_links_keep_the_filters_across_pages_and_into_the_export(web):
    c = web.client("mia")
    html = c.get("/customers", params={"risk_tier": "medium", "grade": "C", "sort": "clv",
                                       "order": "desc", "per_page": 10}).text
    nxt = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    q = parse_qs(urlsplit(nxt).query)
    assert q == {"risk_tier": ["medium"], "grade": ["C"], "sort": ["clv"], "order": ["desc"],
                 "page": ["2"], "per_page": ["10"]}
    link = re.search(r'href="(/customers/export\.xlsx[^"]*)"', html).group(1)
    eq = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
    assert eq["risk_tier"] == ["medium"] and eq["grade"] == ["C"] and "page" not in eq
    # the second page is the pandas second page
    ids, _, _ = _listed(c.get(nxt).text)
    want, _ = _expected(_frame(web), risk_tier="medium", grade="C", sort="clv",
                        order="desc", page=2, per_page=10)
    assert ids == want


def test_the_list_shows_drivers_reasons_and_actions_by_name(web):
    c = web.client("mia")
    c.cookies.set("churnradar_lang", "en")
    en = c.get("/customers").text
    assert "Customers at risk" in en and "Churn probability" in en
    df = _frame(web)
    top = df.sort_values("risk_rank").iloc[0]
    assert export.driver_name(top["driver_1"], "en") in en
    if top["plan_action"]:
        assert export.action_name(top["plan_action"], "en") in en
    c.cookies.set("churnradar_lang", "zh-CN")
    zh = c.get("/customers").text
    assert "高危客户" in zh and "流失概率" in zh and "导出 Excel" in zh
    assert export.driver_name(top["driver_1"], "zh-CN") in zh
    assert 'class="tier-high"' in zh


# --- roles ----------------------------------------------------------------------------------
@pytest.mark.parametrize("user", ["sam", "sue"])
def test_sales_see_count_and_export_only_their_own_customers(web, user):
    own = web.sam_owner if user == "sam" else web.sue_owner
    other = web.sue_owner if user == "sam" else web.sam_owner
    df = _frame(web)
    c = web.client(user)
    ids, owners, total = _listed(c.get("/customers", params={"per_page": 500}).text)
    want, want_total = _expected(df, owner=own, per_page=500)
    assert total == want_total > 0 and ids == want and set(owners) == {own}
    # asking for another owner (or filtering around the scope) gives nothing
    _, _, total = _listed(c.get("/customers", params={"owner_id": other}).text)
    assert total == 0
    html = c.get("/customers").text
    assert 'name="owner_id"' not in html  # no owner filter for sales
    assert other not in re.sub(r"<form.*?</form>", "", html, flags=re.S)
    # the export: the same customers, every owner_id theirs
    c.cookies.set("churnradar_lang", "en")
    r = c.get("/customers/export.xlsx")
    assert r.status_code == 200
    head, rows, _ = _xlsx(r.content)
    owner_col = head.index("Owner")
    assert len(rows) == want_total
    assert {row[owner_col] for row in rows} == {own}
    assert [row[0] for row in rows] == _expected(df, owner=own, per_page=10**6)[0]
    r = c.get("/customers/export.xlsx", params={"owner_id": other})
    assert _xlsx(r.content)[1] == []


def test_managers_and_admins_see_every_owner(web):
    df = _frame(web)
    for user in ("mia", "ada"):
        _, _, total = _listed(web.client(user).get("/customers").text)
        assert total == int(df["churn_probability"].notna().sum())


@pytest.mark.parametrize("user,foreign", [("sam", "sue"), ("sue", "sam")])
def test_sales_cannot_open_another_owners_customer_by_url(web, user, foreign):
    df = _frame(web)
    theirs = df[df["owner_id"] == getattr(web, f"{foreign}_owner")]["customer_id"].iloc[0]
    mine = df[df["owner_id"] == getattr(web, f"{user}_owner")]["customer_id"].iloc[0]
    unowned = df[df["owner_id"].isna()]["customer_id"].iloc[0]
    c = web.client(user)
    assert c.get(f"/customers/{mine}").status_code == 200
    a = c.get(f"/customers/{theirs}", headers={"accept": "text/html"})
    b = c.get("/customers/NO-SUCH-CUSTOMER", headers={"accept": "text/html"})
    assert a.status_code == b.status_code == 404
    assert a.text.replace(theirs, "X") == b.text.replace("NO-SUCH-CUSTOMER", "X")
    assert theirs not in a.text.split("<main>")[1]
    assert c.get(f"/customers/{unowned}").status_code == 404
    mgr = web.client("mia")
    assert mgr.get(f"/customers/{theirs}").status_code == 200
    assert mgr.get(f"/customers/{unowned}").status_code == 200


def test_pages_and_export_need_a_signed_in_user(web):
    c = web.client()
    for path in ("/customers", "/customers/export.xlsx", "/customers/T0000001"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    # an API token is no browser session: pages still ask to sign in
    token = web.token("mia")
    r = c.get("/customers", headers={"authorization": f"Bearer {token}"},
              follow_redirects=False)
    assert r.status_code == 303


# --- the export -----------------------------------------------------------------------------
def test_the_export_matches_the_filters_is_localized_and_audited(web):
    df = _frame(web)
    c = web.client("mia")
    c.cookies.set("churnradar_lang", "zh-CN")
    r = c.get("/customers/export.xlsx", params={"risk_tier": "high", "grade": "C"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment" in r.headers["content-disposition"]
    head, rows, wb = _xlsx(r.content)
    want, total = _expected(df, risk_tier="high", grade="C", per_page=10**6)
    assert [row[0] for row in rows] == want and len(rows) == total > 0
    assert head[0] == "客户编号" and "流失概率" in head and "风险等级" in head
    tier = head.index("风险等级")
    assert {row[tier] for row in rows} == {"高风险"}
    prob = head.index("流失概率")
    top = df.set_index("customer_id").loc[rows[0][0]]
    assert rows[0][prob] == pytest.approx(top["churn_probability"])
    assert wb.sheetnames == ["高危客户", "说明"]
    c.cookies.set("churnradar_lang", "en")
    head_en, rows_en, _ = _xlsx(c.get("/customers/export.xlsx",
                                      params={"risk_tier": "high"}).content)
    assert head_en[0] == "Customer id" and "Risk tier" in head_en
    assert {row[head_en.index("Risk tier")] for row in rows_en} == {"High"}
    with session_scope(web.app.state.engine, readonly=True) as s:
        logs = list(s.scalars(select(AuditLog).where(AuditLog.action == "export.customers")
                              .order_by(AuditLog.id)))
    assert len(logs) == 2
    assert f'"rows": {total}' in logs[0].detail and '"grade": "C"' in logs[0].detail
    assert logs[0].target == "customers" and logs[0].user_id is not None


def test_the_export_never_writes_a_formula_or_an_illegal_character(tmp_path):
    rows = [{"customer_id": "=HYPERLINK(\"http://x\",\"y\")", "name": "+1\x07bell",
             "owner_id": "@o", "churn_probability": 0.5, "risk_tier": "high",
             "driver_1": "complaints_90d", "driver_1_reason": "service", "plan_action": None,
             "value_action": "retain_now", "as_of": "2025-12-31"}]
    out = tmp_path / "x.xlsx"
    cols = export.export_columns(list(rows[0]))
    n = export.write_customers_xlsx(rows, out, columns=cols, lang="en",
                                    about=[("Filters", "=1+1")])
    assert n == 1
    wb = load_workbook(out)
    sheet = wb.worksheets[0]
    cells = {sheet.cell(1, i + 1).value: sheet.cell(2, i + 1) for i in range(len(cols))}
    assert cells["Customer id"].value == "=HYPERLINK(\"http://x\",\"y\")"
    assert cells["Customer id"].data_type == "s"
    assert cells["Name"].value == "+1bell"
    assert cells["Owner"].data_type == "s"
    assert cells["Risk tier"].value == "High"
    assert cells["Driver 1"].value == "Complaints (90 days)"
    assert cells["Driver 1 reason"].value == "Service"
    assert cells["Recommended action"].value.startswith("Retain now")
    assert wb.worksheets[1].cell(1, 2).data_type == "s"


# --- customer 360 ---------------------------------------------------------------------------
def _rich_customer(web) -> str:
    """An active customer with complaints who churned once and came back, if any."""
    df = _frame(web)
    snap = web.app.state.store.current()
    comp = pa.ipc.open_file(snap.history_files["complaints"]).read_pandas()
    pick = df[df["churned_at"].notna() & df["churn_probability"].notna()
              & df["customer_id"].isin(comp["customer_id"])]
    if pick.empty:
        pick = df[df["customer_id"].isin(comp["customer_id"])]
    return str(pick["customer_id"].iloc[0])


def test_the_customer_360_page_in_both_languages(web):
    cid = _rich_customer(web)
    snap = web.app.state.store.current()
    row = snap.customer(cid, owner_id=None)
    c = web.client("mia")
    c.cookies.set("churnradar_lang", "zh-CN")
    zh = c.get(f"/customers/{cid}").text
    for text in ("客户档案", "当前流失风险", "流失风险变化", "投诉记录", "行为事件",
                 "挽留任务", "新建挽留任务", "建议的挽留措施"):
        assert text in zh, text
    assert 'data-chart="risk"' in zh and 'data-chart="events"' in zh
    assert '<script src="/static/plotly.min.js"></script>' in zh
    comp = snap.history("complaints", cid, newest_first=True)
    assert str(escape(comp[0]["text"])) in zh
    if row["churned_at"]:
        assert "流失记录" in zh
    c.cookies.set("churnradar_lang", "en")
    en = c.get(f"/customers/{cid}").text
    for text in ("Profile", "Churn risk now", "Churn risk over time", "Complaints",
                 "Events per type and month", "Retention tasks"):
        assert text in en, text
    events = snap.history("events", cid, limit=10**6)
    shown = min(len(events), 50)
    assert f"The latest {shown} of {len(events):,}" in en
    assert f"{row['churn_probability']:.1%}" in en


def test_the_new_task_form_of_the_360_page(web):
    df = _frame(web)
    cid = str(df[df["owner_id"] == web.sam_owner]["customer_id"].iloc[0])
    mgr = web.client("mia").get(f"/customers/{cid}").text
    form = re.search(r'<form method="post" action="/tasks".*?</form>', mgr, re.S).group(0)
    for field in ("csrf_token", "customer_id", "action", "due_date", "owner_id", "note",
                  "next"):
        assert f'name="{field}"' in form, field
    import datetime as dt

    due = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    assert f'value="{due}"' in form
    assert 'value="care_call"' in form and "no_offer" not in form
    sam = web.client("sam")
    page = sam.get(f"/customers/{cid}").text
    form = re.search(r'<form method="post" action="/tasks".*?</form>', page, re.S).group(0)
    assert 'name="owner_id"' not in form
    # the form works end to end and the task shows on the page
    r = sam.post("/tasks", data={"csrf_token": csrf_of(page), "customer_id": cid,
                                 "action": "care_call", "due_date": due, "note": "call Mon",
                                 "next": f"/customers/{cid}"}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    page = sam.get(f"/customers/{cid}").text
    assert "call Mon" in page and re.search(r'data-task="\d+"', page)
    # sue sees neither the customer nor its tasks
    assert web.client("sue").get(f"/customers/{cid}").status_code == 404
    with session_scope(web.app.state.engine, readonly=True) as s:
        task = s.scalars(select(Task).where(Task.customer_id == cid)).one()
    assert task.owner_id == web.sam_owner


def test_a_customer_id_with_odd_characters_is_safe(web):
    c = web.client("mia")
    for cid in ("a/b", "<script>", "%00", "x" * 300):
        r = c.get("/customers/" + cid.replace("/", "%2F"), headers={"accept": "text/html"})
        assert r.status_code == 404
        assert "<script>" not in r.text.split("<main>")[-1]
