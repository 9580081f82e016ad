"""The analysis pages (overview, segments, reasons, plan): every role in both languages,
the numbers against independent computations from the run outputs, and the owner
scope of a sales user."""

from __future__ import annotations

import html as htmllib
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from churnradar.i18n import fmt_int, fmt_money, fmt_pct
from churnradar.web import analyses

PAGES = ("/overview", "/segments", "/reasons", "/plan")
USERS = ("ada", "mia", "sam")  # admin, manager, sales


# --- the run outputs, read directly ------------------------------------------------------
def _latest_run(root: Path, kind: str) -> Path:
    runs = sorted(p for p in (root / "runs").iterdir()
                  if re.fullmatch(rf"\d{{8}}-\d{{6}}-{kind}(-\d+)?", p.name))
    assert runs, f"no {kind} run in the fixture workspace"
    return runs[-1]


def _metrics(root: Path) -> dict:
    files = sorted(p / "metrics.json" for p in (root / "runs").iterdir()
                   if (p / "metrics.json").exists())
    return json.loads(files[-1].read_text(encoding="utf-8"))


def _latest_complete(metrics: dict) -> dict:
    rows = [r for r in metrics["overall"] if r.get("complete", True)]
    return (rows or metrics["overall"])[-1]


def _owners(root: Path) -> dict[str, str | None]:
    df = pd.read_parquet(root / "data" / "customers.parquet", columns=["customer_id",
                                                                       "owner_id"])
    return dict(zip(df["customer_id"], df["owner_id"], strict=True))


# --- scraping ----------------------------------------------------------------------------
def _kpi(page: str, kpi: str) -> str:
    m = re.search(rf'data-kpi="{kpi}">\s*<div class="label">.*?</div>\s*'
                  r'<div class="value[^"]*">([^<]*)</div>', page, re.S)
    assert m, f"no KPI {kpi} on the page"
    return htmllib.unescape(m.group(1).strip())


def _cell(row_html: str, col: str) -> str:
    m = re.search(rf'data-col="{col}">([^<]*)<', row_html)
    assert m, f"no column {col} in {row_html[:200]}"
    return htmllib.unescape(m.group(1).strip())


def _rows(page: str, table: str, attr: str) -> dict[str, str]:
    """``{attr value: row html}`` of the table ``data-table=table``."""
    m = re.search(rf'data-table="{table}">(.*?)</table>', page, re.S)
    assert m, f"no table {table}"
    return {htmllib.unescape(k): v for k, v in
            re.findall(rf'<tr {attr}="([^"]*)"[^>]*>(.*?)</tr>', m.group(1), re.S)}


@pytest.fixture(autouse=True)
def _fresh_caches():
    analyses.clear_caches()
    yield
    analyses.clear_caches()


# --- access ------------------------------------------------------------------------------
def test_every_page_renders_for_every_role_in_both_languages(web):
    for user in USERS:
        c = web.client(user)
        for path in PAGES:
            for lang, marker in (("zh-CN", '<html lang="zh-CN">'), ("en", '<html lang="en">')):
                r = c.get(f"{path}?lang={lang}")
                assert r.status_code == 200, (user, path, lang, r.text[:300])
                assert marker in r.text
                assert '<script src="/static/plotly.min.js"></script>' in r.text
                assert re.search(r'<div class="chart" data-chart="[^"]+" data-figure="',
                                 r.text), (user, path)
                assert "Traceback" not in r.text and "web_pg_" not in r.text
        zh = c.get("/overview?lang=zh-CN").text
        en = c.get("/overview?lang=en").text
        assert "流失率（期初基数）" in zh and "流失率（期末基数）" in zh
        assert "Churn rate (start basis)" in en and "Churn rate (end basis)" in en


def test_anonymous_is_sent_to_sign_in(web):
    c = web.client()
    for path in (*PAGES, "/plan?page=2"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next=")


def test_the_charts_are_valid_plotly_figures(web):
    page = web.client("mia").get("/segments").text
    figures = re.findall(r'data-chart="([^"]+)" data-figure="([^"]*)"', page)
    assert {"segment-grade", "segment-region", "segment-owner", "cohorts",
            "portfolio-grade"} <= {name for name, _ in figures}
    for _name, raw in figures:
        fig = json.loads(htmllib.unescape(raw))
        assert fig["data"] and "layout" in fig


# --- overview ------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_overview_kpis_on_both_bases_match_the_metrics(web, lang):
    m = _metrics(web.root)
    row = _latest_complete(m)
    s, e, n = row["start_count"], row["end_count"], row["new_count"] + row["winback_count"]
    churned = s - (e - n)  # C = S − (E − N), domain.md §2
    assert churned == row["churned_count"]
    page = web.client("sam").get(f"/overview?lang={lang}").text
    assert _kpi(page, "churn_rate_start") == fmt_pct(churned / s, lang, 2)
    assert _kpi(page, "churn_rate_end") == fmt_pct(churned / e, lang, 2)
    assert _kpi(page, "retention_rate_start") == fmt_pct(1 - churned / s, lang, 2)
    assert _kpi(page, "retention_rate_end") == fmt_pct(1 - churned / e, lang, 2)
    assert _kpi(page, "annualised_churn_rate") == fmt_pct(1 - (1 - churned / s) ** 12, lang, 2)
    assert _kpi(page, "start_count") == fmt_int(s, lang)
    assert _kpi(page, "end_count") == fmt_int(e, lang)
    assert _kpi(page, "churned_count") == fmt_int(churned, lang)
    if row.get("lost_revenue") is not None:
        # churn loss = revenue lost through churn × margin
        assert _kpi(page, "churn_loss") == fmt_money(row["lost_revenue"] * m["margin"], lang)
    # the trend and the loss per period are drawn, the latest period's row is in the table
    assert 'data-chart="trend"' in page
    assert 'data-table="periods"' in page and f">{row['label']}<" in page


def test_overview_shows_breached_safety_checks_prominently(web):
    m = _metrics(web.root)
    page = web.client("mia").get("/overview").text
    table = _rows(page, "safety", "data-check")
    assert set(table) == {c["check"] for c in m["safety"]}
    breached = [c["check"] for c in m["safety"] if c["status"] in ("warn", "alert")]
    box = re.search(r'<div class="warn" data-safety="breached">(.*?)</div>', page, re.S)
    if breached:
        assert box, "breached checks are not shown apart"
        assert set(re.findall(r'data-check="([^"]+)"', box.group(1))) == set(breached)
        assert 'class="badge alert"' in box.group(1)
    else:
        assert box is None


def test_overview_risk_now_is_the_callers_own_customers(web):
    scores = pd.read_parquet(_latest_run(web.root, "predict-score") / "scores.parquet",
                             columns=["customer_id", "risk_tier"])
    owners = _owners(web.root)
    scores["owner_id"] = scores["customer_id"].map(owners)
    for user, own in (("sam", web.sam_owner), ("mia", None)):
        sub = scores if own is None else scores[scores["owner_id"] == own]
        page = web.client(user).get("/overview?lang=en").text
        for tier in ("high", "medium", "low"):
            m = re.search(rf'data-tier="{tier}">.*?<a href="[^"]*">([^<]*)</a>', page, re.S)
            assert m, tier
            assert m.group(1) == fmt_int(int((sub["risk_tier"] == tier).sum()), "en"), \
                (user, tier)


def test_pages_without_results_name_the_command_that_makes_them(web, monkeypatch):
    c = web.client("mia")
    snap = web.app.state.store.current()
    monkeypatch.setattr(snap, "metrics", None)
    monkeypatch.setattr(analyses, "plan_outputs", lambda **_: None)
    monkeypatch.setattr(analyses, "reasons_outputs", lambda **_: None)
    for path, command, marker in (("/overview", "churnradar report DIR", "no-metrics"),
                                  ("/segments", "churnradar report DIR", "no-metrics"),
                                  ("/reasons", "churnradar reasons DIR", "no-reasons"),
                                  ("/plan", "churnradar plan DIR", "no-plan")):
        for lang in ("zh-CN", "en"):
            r = c.get(f"{path}?lang={lang}")
            assert r.status_code == 200
            assert f'data-notice="{marker}"' in r.text and command in r.text, (path, lang)


# --- segments ------------------------------------------------------------------------------
def test_segment_rates_match_the_metrics(web):
    m = _metrics(web.root)
    label = _latest_complete(m)["label"]
    page = web.client("mia").get("/segments?lang=en").text
    for dim in ("grade", "region"):
        rows = [r for r in m["by"][dim] if r["label"] == label]
        table = _rows(page, f"by-{dim}", "data-segment")
        assert set(table) == {str(r["segment"]) for r in rows}
        for r in rows:
            html = table[str(r["segment"])]
            assert _cell(html, "churn_rate_start") == fmt_pct(
                r["churned_count"] / r["start_count"], "en", 2)
            assert _cell(html, "churn_rate_end") == fmt_pct(
                r["churned_count"] / r["end_count"], "en", 2)


def test_sales_see_only_their_own_owner_row_and_portfolio(web):
    m = _metrics(web.root)
    label = _latest_complete(m)["label"]
    owners_in_metrics = {r["segment"] for r in m["by"]["owner"] if r["label"] == label}
    assert {web.sam_owner, web.sue_owner} <= owners_in_metrics
    manager = _rows(web.client("mia").get("/segments").text, "by-owner", "data-segment")
    assert {web.sam_owner, web.sue_owner} <= set(manager)
    page = web.client("sam").get("/segments").text
    assert set(_rows(page, "by-owner", "data-segment")) == {web.sam_owner}
    assert web.sue_owner not in page
    # the portfolio now: sam's active (scored) customers per grade
    scores = pd.read_parquet(_latest_run(web.root, "predict-score") / "scores.parquet",
                             columns=["customer_id"])
    cust = pd.read_parquet(web.root / "data" / "customers.parquet",
                           columns=["customer_id", "grade", "owner_id"])
    mine = cust[(cust["owner_id"] == web.sam_owner)
                & cust["customer_id"].isin(scores["customer_id"])]
    expected = mine["grade"].value_counts()
    table = _rows(page, "portfolio-grade", "data-key")
    assert set(table) == set(cust.loc[cust["owner_id"] == web.sam_owner, "grade"].astype(str))
    for grade, html in table.items():
        assert _cell(html, "active") == fmt_int(int(expected.get(grade, 0)), "zh-CN")


# --- reasons -------------------------------------------------------------------------------
def test_reason_counts_match_the_reasons_run(web):
    run = _latest_run(web.root, "reasons")
    by_cat = pd.read_parquet(run / "by_category.parquet")
    expected = by_cat.groupby("reason_category")["churned"].sum()
    page = web.client("mia").get("/reasons?lang=en").text
    table = _rows(page, "categories", "data-reason")
    assert set(table) == set(expected.index)
    for cat, html in table.items():
        assert _cell(html, "churned") == fmt_int(int(expected[cat]), "en")
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert _kpi(page, "controllable_share") == fmt_pct(
        summary["totals"]["controllable"] / summary["totals"]["churned"], "en", 1)
    for chart in ("reason-categories", "reason-matrix", "controllable-trend"):
        assert f'data-chart="{chart}"' in page


def test_staff_departures_only_for_admin_and_manager(web):
    for user, shown in (("ada", True), ("mia", True), ("sam", False)):
        page = web.client(user).get("/reasons").text
        assert ('data-section="departures"' in page) is shown, user


# --- plan ----------------------------------------------------------------------------------
def _plan(root: Path) -> pd.DataFrame:
    return pd.read_parquet(_latest_run(root, "plan") / "plan.parquet")


def test_plan_totals_per_playbook_match_plan_parquet(web):
    plan = _plan(web.root)
    chosen = plan[plan["selected"]]
    counts = chosen.groupby("action").size()
    control = chosen[chosen["group"] == "control"].groupby("action").size()
    treated = chosen[chosen["group"] == "treatment"]
    cost = treated.groupby("action")["cost"].sum()
    page = web.client("sam").get("/plan?lang=en").text
    table = _rows(page, "playbooks", "data-playbook")
    table.pop("__total__")
    assert set(table) == set(counts.index)
    for action, html in table.items():
        assert _cell(html, "selected") == fmt_int(int(counts[action]), "en")
        assert _cell(html, "control") == fmt_int(int(control.get(action, 0)), "en")
        assert _cell(html, "cost") == fmt_money(float(cost.get(action, 0.0)), "en")
    total = re.search(r'data-playbook="__total__">.*?data-col="selected">([^<]*)<', page, re.S)
    assert total and total.group(1) == fmt_int(len(chosen), "en")


def test_plan_lists_the_selected_customers_by_priority(web):
    plan = _plan(web.root)
    chosen = plan[plan["selected"]].sort_values(["priority", "customer_id"],
                                                ascending=[False, True])
    page = web.client("mia").get("/plan?per_page=20").text
    rows = _rows(page, "plan-customers", "data-customer")
    assert list(rows) == chosen["customer_id"].head(20).tolist()
    for cid, html in rows.items():
        assert f'href="/customers/{cid}"' in html
    control = set(chosen.loc[chosen["group"] == "control", "customer_id"])
    for cid, html in rows.items():
        assert ('data-group="control"' in html) is (cid in control)
    if len(chosen) > 20:
        second = web.client("mia").get("/plan?per_page=20&page=2").text
        assert list(_rows(second, "plan-customers", "data-customer")) == \
            chosen["customer_id"].iloc[20:40].tolist()


def test_sales_see_only_their_own_customers_in_the_plan(web):
    from churnradar.web.accounts import create_user
    from churnradar.web.db import session_scope

    from .conftest import PASSWORD

    plan = _plan(web.root)
    owners = _owners(web.root)
    chosen = plan[plan["selected"]]
    # a salesperson owning the most customers of the plan, so the list is not empty
    top = chosen["customer_id"].map(owners).dropna().value_counts().index[0]
    with session_scope(web.app.state.engine) as s:
        create_user(s, name="pat", role="sales", password=PASSWORD, owner_id=top)
    for user, own in (("pat", top), ("sam", web.sam_owner), ("sue", web.sue_owner)):
        c = web.client(user)
        seen: list[str] = []
        texts = []
        page = 1
        while True:
            text = c.get(f"/plan?per_page=20&page={page}").text
            texts.append(text)
            ids = list(_rows(text, "plan-customers", "data-customer")) \
                if 'data-table="plan-customers"' in text else []
            seen += ids
            if len(ids) < 20:
                break
            page += 1
        mine = sorted(cid for cid in chosen["customer_id"] if owners.get(cid) == own)
        assert sorted(seen) == mine, user
        assert user != "pat" or mine
        everything = "".join(texts)
        for cid in chosen["customer_id"]:
            if owners.get(cid) != own:
                assert cid not in everything, (user, cid)


def test_create_tasks_button_only_for_admin_and_manager(web):
    for user, shown in (("ada", True), ("mia", True), ("sam", False)):
        page = web.client(user).get("/plan").text
        form = re.search(r'<form method="post" action="/tasks/from-plan"[^>]*>(.*?)</form>',
                         page, re.S)
        assert (form is not None) is shown, user
        if form:
            assert 'name="csrf_token"' in form.group(1)
