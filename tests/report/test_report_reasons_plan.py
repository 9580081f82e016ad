"""The report's churn reasons and retention plan sections, in both languages, and the
completeness check by the checklist of domain.md §4."""

from __future__ import annotations

import re

import pytest

from churnradar.pipeline import build_report


@pytest.fixture(scope="module")
def reports(trained_telecom):
    ws, _data, pdata = trained_telecom
    out = {}
    for lang in ("zh-CN", "en"):
        res = build_report(ws, lang=lang, data=pdata)
        out[lang] = (res.html.read_text(encoding="utf-8"), res)
    return out


def _section(html: str, id_: str) -> str:
    m = re.search(rf'<section id="{id_}".*?</section>', html, re.S)
    assert m, id_
    return m.group(0)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_reasons_and_plan_sections(reports, lang):
    html, _res = reports[lang]
    reasons = _section(html, "reasons")
    plan = _section(html, "retention-plan")
    for div in ("reasons-category", "reasons-matrix", "reasons-trend"):
        assert f'id="{div}"' in reasons
    for div in ("plan-strategies", "plan-effects"):
        assert f'id="{div}"' in plan
    # paragraphs are markup, not escaped text
    assert "&lt;p" not in reasons and "&lt;p" not in plan
    if lang == "zh-CN":
        assert "流失原因与类型" in reasons and "价格流失" in reasons and "可控" in reasons
        assert "挽留计划" in plan and "对照组" in plan and "不是既定事实" in plan
    else:
        assert "Why customers leave" in reasons and "Controllable" not in plan
        assert "control group" in plan and "not facts" in plan
        assert not re.search(r"[\u4e00-\u9fff]", re.sub(r"<[^>]+>", "", plan))


def test_completeness_follows_the_checklist(reports):
    html, res = reports["en"]
    done = {c.analysis: c.status for c in res.result.completeness}
    for name in ("reasons", "complaint_insights", "staff_departures", "retention_plan",
                 "playbook_effects", "risk_prediction", "customer_value", "survival"):
        assert done[name] == "ran", name
    comp = _section(html, "completeness")
    for step in ("Harm of churn", "Reasons (types)", "Quantitative analysis",
                 "Targeted analysis", "Improvement strategy"):
        assert step in comp


def test_without_a_model_no_plan_but_reasons(demo_ws):
    ws, _data = demo_ws("dealers")
    res = build_report(ws, lang="en")
    html = res.html.read_text(encoding="utf-8")
    assert '<section id="reasons"' in html
    assert '<section id="retention-plan"' not in html
    done = {c.analysis: c.status for c in res.result.completeness}
    assert done["retention_plan"] == "not_yet"
    assert done["staff_departures"] == "ran"
