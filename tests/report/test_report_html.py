"""The HTML report: self-contained, every section, both languages, locale-formatted numbers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import string
from html import unescape
from pathlib import Path

import pandas as pd
import pytest
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from markupsafe import escape
from plotly.offline import get_plotlyjs

from churnradar import i18n
from churnradar.exceptions import InputError
from churnradar.metrics.result import MetricsResult
from churnradar.report import Section, render_html_report, write_html_report
from tests.report.report_fixtures import AS_OF, MARGIN, make_result

LOCALE = {"zh-CN": "zh_Hans_CN", "en": "en_US"}
SECTION_IDS = ("kpis", "trend", "loss", "counts", "by", "key_accounts", "cohorts", "safety",
               "completeness", "glossary")
CHART_IDS = ("chart-trend", "chart-loss", "chart-by-grade", "chart-by-region",
             "chart-key-accounts", "chart-cohorts")
FIXED_TIME = dt.datetime(2025, 1, 16, 9, 30)


def render(result: MetricsResult, lang: str, **kw: object) -> str:
    return render_html_report(result, lang=lang, workspace="demo-telecom",
                              generated_at=FIXED_TIME, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def zh() -> str:
    return render(make_result(), "zh-CN")


@pytest.fixture(scope="module")
def en() -> str:
    return render(make_result(), "en")


def visible_text(html: str) -> str:
    """The page text without scripts, styles and tags (roughly what a reader sees)."""
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", body))


def kpi_value(html: str, kpi: str) -> str:
    m = re.search(rf'data-kpi="{kpi}">\s*<div class="kpi-label">.*?</div>\s*'
                  r'<div class="kpi-value">(.*?)</div>', html, flags=re.S)
    assert m, f"KPI card {kpi} not found"
    return unescape(m.group(1))


def chart_data(html: str, div_id: str) -> list[dict[str, object]]:
    """The trace list passed to Plotly.newPlot for one chart."""
    m = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*(\[.*?\]),\s*\{',
                  html, flags=re.S)
    assert m, f"no Plotly.newPlot call for {div_id}"
    return json.loads(m.group(1))


# --- self-contained ------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_html_is_self_contained(result: MetricsResult, lang: str) -> None:
    html = render(result, lang)
    # nothing is fetched: no external script, stylesheet, image or font
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)\s*=\s*["']?(https?:)?//""",
                         html, flags=re.I)
    assert not re.search(r"""@import|url\(\s*["']?(https?:)?//""", visible_css(html))
    assert "<script src" not in html and "<link" not in html
    # plotly.js is inlined exactly once
    bundle = get_plotlyjs()
    assert html.count(bundle[:300]) == 1
    assert html.count(bundle) == 1
    assert html.count("Plotly.newPlot(") == len(CHART_IDS)


def visible_css(html: str) -> str:
    return "".join(re.findall(r"<style>(.*?)</style>", html, flags=re.S))


def test_every_section_and_chart(zh: str) -> None:
    for sid in SECTION_IDS:
        assert f'<section id="{sid}"' in zh, sid
        assert f'href="#{sid}"' in zh, f"{sid} missing from the contents"
    for cid in CHART_IDS:
        assert f'id="{cid}"' in zh, cid
    # sections appear in report order
    positions = [zh.index(f'<section id="{sid}"') for sid in SECTION_IDS]
    assert positions == sorted(positions)


# --- languages -----------------------------------------------------------------------
def test_chinese_report_speaks_chinese(zh: str) -> None:
    text = visible_text(zh)
    assert '<html lang="zh-CN">' in zh
    for word in ("客户流失分析报告", "流失率（期初基数）", "流失率（期末基数）", "期初",
                 "客户流失损失", "收入收缩损失", "净收入留存率", "年化流失率", "样本过少，不作排名",
                 "流失安全线", "分析完整性检查", "术语与公式", "C = S − (E − N)", "C / S", "C / E"):
        assert word in text, word
    for english in ("Churn rate", "start basis", "Headline figures", "Too small to judge"):
        assert english not in text, english


def test_english_report_speaks_english(en: str) -> None:
    text = visible_text(en)
    assert '<html lang="en">' in en
    for word in ("Customer churn report", "Churn rate (start basis)", "Churn rate (end basis)",
                 "start basis", "Churn loss", "Contraction loss", "Net revenue retention",
                 "Annualised churn rate", "Too small to judge", "Churn safety line",
                 "Completeness of the analysis", "C = S − (E − N)"):
        assert word in text, word
    # no Chinese words of ours; only the product name and the user's segment names
    cjk = set(re.findall(r"[\u4e00-\u9fff]+", text))
    assert cjk <= {"客户流失雷达", "华东", "华南", "华北", "西北"}, cjk


# --- numbers -------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_headline_numbers_are_locale_formatted(result: MetricsResult, lang: str) -> None:
    html = render(result, lang)
    loc = LOCALE[lang]
    # the latest complete period, found independently of MetricsResult.latest()
    done = result.overall[result.overall["complete"]]
    row = done.sort_values("period_start").iloc[-1]
    assert row["label"] == "2024-12"
    pct = "#,##0.00%"
    assert kpi_value(html, "start_count") == format_decimal(row["start_count"], locale=loc)
    assert kpi_value(html, "churned_count") == format_decimal(row["churned_count"], locale=loc)
    c, s, e = row["churned_count"], row["start_count"], row["end_count"]
    assert kpi_value(html, "churn_rate_start") == format_percent(c / s, pct, locale=loc)
    assert kpi_value(html, "churn_rate_end") == format_percent(c / e, pct, locale=loc)
    assert kpi_value(html, "retention_rate_start") == format_percent(1 - c / s, pct, locale=loc)
    annual = 1 - (1 - c / s) ** 12
    assert kpi_value(html, "annualised_churn_rate") == format_percent(annual, pct, locale=loc)
    money = {"format": "¤#,##0", "locale": loc, "currency_digits": False}
    assert kpi_value(html, "churn_loss") == format_currency(
        row["lost_revenue"] * MARGIN, "CNY", **money)
    assert kpi_value(html, "lost_revenue") == format_currency(row["lost_revenue"], "CNY",
                                                              **money)
    assert kpi_value(html, "contraction_loss") == format_currency(
        row["contraction"] * MARGIN, "CNY", **money)
    assert kpi_value(html, "net_revenue_retention") == format_percent(
        row["net_revenue_retention"], pct, locale=loc)
    # the as-of date in the header, in the locale's own way
    assert format_date(AS_OF, "medium", locale=loc) in html
    expected_date = {"zh-CN": "2025年1月15日", "en": "Jan 15, 2025"}[lang]
    assert expected_date in html
    # money carries the locale's currency sign
    sign = {"zh-CN": "¥", "en": "CN¥"}[lang]
    assert kpi_value(html, "churn_loss").startswith(sign)


def test_counts_table_holds_every_period(zh: str, result: MetricsResult) -> None:
    section = zh[zh.index('<section id="counts"'):zh.index('<section id="by"')]
    rows = re.findall(r"<tr( class=\"incomplete\")?><td>(\d{4}-\d{2})</td>(.*?)</tr>",
                      section, flags=re.S)
    assert [r[1] for r in rows] == list(result.overall["label"])
    for (incomplete, _label, cells), (_, rec) in zip(rows, result.overall.iterrows(),
                                                     strict=True):
        values = re.findall(r"<td[^>]*>(.*?)</td>", cells)
        expected = [format_decimal(rec[k], locale="zh_Hans_CN")
                    for k in ("start_count", "new_count", "winback_count", "churned_count",
                              "end_count")]
        assert values[:5] == expected
        assert bool(incomplete) == (not rec["complete"])


def test_segments_ranked_and_too_small_not_ranked(zh: str, result: MetricsResult) -> None:
    block = zh[zh.index('id="by-region"'):]
    block = block[:block.index("</table>")]
    rows = re.findall(r"<tr( class=\"too-small\")?>(.*?)</tr>", block, flags=re.S)[0:]
    body = [(bool(cls), re.findall(r"<td[^>]*>(.*?)</td>", cells)) for cls, cells in rows]
    body = [b for b in body if b[1]]
    latest = result.overall[result.overall["complete"]].iloc[-1]["label"]
    seg = result.by["region"]
    seg = seg[seg["label"] == latest]
    judged = seg[~seg["too_small"]].sort_values("churn_rate_start", ascending=False)
    expected_order = list(judged["segment"]) + list(seg[seg["too_small"]]["segment"])
    shown = [re.sub(r"<.*", "", cells[1]).strip() for _, cells in body]
    assert shown == expected_order
    ranks = [cells[0] for small, cells in body if not small]
    assert ranks == [str(i) for i in range(1, len(judged) + 1)]
    small_rows = [cells for small, cells in body if small]
    assert len(small_rows) == 1 and small_rows[0][0] == "–"
    assert "西北" in small_rows[0][1] and "样本过少，不作排名" in small_rows[0][1]
    # the Wilson interval of a judged segment, formatted independently
    top = judged.iloc[0]
    ci = (f"{format_percent(top['ci_low'], '#,##0.0%', locale='zh_Hans_CN')} – "
          f"{format_percent(top['ci_high'], '#,##0.0%', locale='zh_Hans_CN')}")
    assert ci in block


def test_segment_chart_greys_too_small_and_draws_intervals(zh: str) -> None:
    traces = chart_data(zh, "chart-by-region")
    bars = [tr for tr in traces if tr["type"] == "bar"]
    small = [tr for tr in bars if tr["name"] == "样本过少，不作排名"]
    assert len(small) == 1 and small[0]["y"] == ["西北"] and "error_x" not in small[0]
    judged = [tr for tr in bars if tr is not small[0]]
    assert judged and all(tr["error_x"]["type"] == "data" for tr in judged)
    assert sorted(y for tr in judged for y in tr["y"]) == sorted(["华东", "华南", "华北"])


def test_trend_has_both_bases_and_marks_incomplete(zh: str) -> None:
    traces = chart_data(zh, "chart-trend")
    names = [tr.get("name") for tr in traces if tr.get("showlegend", True)]
    assert names == ["流失率（期初基数）", "流失率（期末基数）"]
    solid = [tr for tr in traces if tr.get("showlegend", True)]
    for tr in solid:  # the incomplete period is not on the solid lines
        assert tr["x"][-1] == "2025-01" and tr["y"][-1] is None
    dashed = [tr for tr in traces if tr.get("line", {}).get("dash") == "dash"]
    assert len(dashed) == 2 and all("2025-01" in tr["x"] for tr in dashed)
    assert json.dumps("数据不完整") in zh  # the band label (Plotly JSON is ASCII-escaped)


def test_loss_chart_reports_contraction_apart(zh: str, result: MetricsResult) -> None:
    traces = chart_data(zh, "chart-loss")
    assert [tr["name"] for tr in traces] == ["客户流失损失", "收入收缩损失"]
    assert traces[0]["y"] == pytest.approx(list(result.overall["churn_loss"]))
    assert traces[1]["y"] == pytest.approx(list(result.overall["contraction_loss"]))


def test_key_accounts_section(zh: str, result: MetricsResult) -> None:
    section = zh[zh.index('<section id="key_accounts"'):zh.index('<section id="cohorts"')]
    latest = result.by["key_account"]
    latest = latest[latest["label"] == "2024-12"]
    key = latest[latest["segment"] == "key"].iloc[0]
    rate = format_percent(key["churned_count"] / key["start_count"], "#,##0.00%",
                          locale="zh_Hans_CN")
    assert rate in section
    assert format_currency(key["churn_loss"], "CNY", format="¤#,##0", locale="zh_Hans_CN",
                           currency_digits=False) in section
    assert "重点客户" in section and "其他客户" in section
    assert "安全线检查 ④：警报" in section


def test_key_accounts_missing_is_explained(result: MetricsResult) -> None:
    del result.by["key_account"]
    html = render(result, "zh-CN")
    assert "无法单独分析重点客户" in html
    assert 'id="chart-key-accounts"' not in html


def test_cohort_heatmap(zh: str, result: MetricsResult) -> None:
    (trace,) = chart_data(zh, "chart-cohorts")
    assert trace["type"] == "heatmap"
    assert len(trace["y"]) == len(result.cohorts)
    assert trace["y"][0] == f"2024-01（{result.cohorts['size'].iloc[0]} 户）"
    assert trace["text"][0][0] == "100%"
    assert trace["text"][-1][1] == ""  # the youngest cohort has no month 1 yet


# --- safety line ---------------------------------------------------------------------
def test_safety_checks_with_status_and_explanation(zh: str, en: str,
                                                   result: MetricsResult) -> None:
    section = zh[zh.index('<section id="safety"'):zh.index('<section id="completeness"')]
    cards = re.findall(r'data-check="(\w+)" data-status="([\w/]+)"', section)
    assert cards == [("cost", "warn"), ("acquisition_peak", "warn"), ("deviation", "pass"),
                     ("key_accounts", "alert")]
    for status_class, word in (("warn", "预警"), ("alert", "警报"), ("pass", "正常")):
        assert f'<span class="pill pill-{status_class}">{word}</span>' in section
    # each explanation is the metrics catalog's message filled with the check's params
    for html, lang in ((section, "zh-CN"), (en, "en")):
        for check in result.safety:
            expected = i18n.t(check.message_key, lang, **check.params)
            assert escape(expected) in html, (lang, check.message_key)
    assert "data-missing-message" not in section
    # values and thresholds, formatted for the locale
    assert "<strong>7.20%</strong>" in section and "5.00%" in section
    assert "<strong>2.60 倍</strong>" in section


def test_missing_safety_message_falls_back_detectably(result: MetricsResult) -> None:
    result.safety[0] = dataclasses.replace(result.safety[0],
                                           message_key="no_such_message_for_tests")
    html = render(result, "zh-CN")
    assert 'data-missing-message="no_such_message_for_tests"' in html
    assert "该项说明文字暂缺：no_such_message_for_tests" in html
    en = render(result, "en")
    assert "Explanation not available: no_such_message_for_tests" in en


def test_safety_message_with_wrong_placeholders_falls_back(
        result: MetricsResult, monkeypatch: pytest.MonkeyPatch) -> None:
    real = i18n.catalog()
    patched = {**real, "report_test_bad": {"zh-CN": "缺 {nothing}", "en": "no {nothing}"}}
    monkeypatch.setattr(i18n, "catalog", lambda: patched)
    result.safety[1] = dataclasses.replace(result.safety[1], message_key="report_test_bad")
    html = render(result, "zh-CN")
    assert 'data-missing-message="report_test_bad"' in html


# --- completeness --------------------------------------------------------------------
def test_completeness_lists_ran_skipped_and_missing_tables(zh: str, en: str) -> None:
    section = zh[zh.index('<section id="completeness"'):zh.index('<section id="glossary"')]
    statuses = re.findall(r'data-analysis="(\w+)" data-status="(\w+)"', section)
    assert ("churn_rates", "ran") in statuses
    assert ("by_channel", "skipped") in statuses
    assert ("reasons", "not_yet") in statuses

    def row(html: str, analysis: str) -> str:
        part = html[html.index(f'data-analysis="{analysis}"'):]
        return part[:part.index("</tr>")]

    channel = row(section, "by_channel")
    assert "已跳过" in channel and "<strong>客户档案（customers.channel）</strong>" in channel
    assert "按渠道分析" in channel  # the analysis name from the metrics catalog
    reasons = row(section, "reasons")
    assert "本次未运行" in reasons
    assert "流失记录（churn_records）" in reasons and "投诉记录（complaints）" in reasons
    assert "订阅 / 合同（subscriptions） 或 交易记录（transactions）" in row(section,
                                                                          "churn_rates")
    assert "8 项已完成，2 项因缺少数据跳过，2 项本次未运行" in section
    assert "8 ran, 2 skipped for missing data, 2 not run this time" in en
    assert "subscriptions or transactions" in row(en, "churn_rates")
    assert "data-missing-message" not in section


def test_unknown_analysis_name_is_shown_raw_and_marked(result: MetricsResult) -> None:
    from churnradar.metrics.result import AnalysisStatus

    result.completeness.append(AnalysisStatus("brand_new_thing", "ran", ("events",)))
    html = render(result, "en")
    assert 'data-missing-message="metrics_analysis_brand_new_thing"' in html
    assert "brand new thing" in html


# --- escaping, extra sections, edge cases ----------------------------------------------
def test_user_text_is_escaped(result: MetricsResult) -> None:
    evil = '<script>alert("x")</script>'
    result.by["region"] = result.by["region"].replace({"segment": {"华南": evil}})
    html = render(result, "zh-CN")
    assert evil not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html  # the table cell
    # inside the Plotly JSON the name is HTML-escaped for Plotly's label markup as well
    ys = [y for tr in chart_data(html, "chart-by-region") if tr["type"] == "bar"
          for y in tr["y"]]
    assert '&lt;script&gt;alert("x")&lt;/script&gt;' in ys


def test_extra_sections_are_pluggable(result: MetricsResult) -> None:
    extra = Section(id="at_risk", title="高风险客户", html="<p>前 100 名</p>")
    after = Section(id="value", title="客户价值", html="<p>CLV</p>", after="kpis")
    html = render(result, "zh-CN", extra_sections=[extra, after])
    order = [m for m in re.findall(r'<section id="([\w-]+)"', html)]
    assert order.index("at_risk") == order.index("completeness") - 1
    assert order.index("value") == order.index("kpis") + 1
    assert "<p>前 100 名</p>" in html and 'href="#at_risk"' in html
    with pytest.raises(InputError, match="used twice"):
        render(result, "zh-CN", extra_sections=[Section(id="kpis", title="x", html="")])
    with pytest.raises(InputError, match="nowhere"):
        render(result, "zh-CN", extra_sections=[Section(id="x1", title="x", html="",
                                                        after="nowhere")])
    with pytest.raises(ValueError, match="section id"):
        Section(id="bad id!", title="x", html="")


def test_title_and_workspace(result: MetricsResult) -> None:
    html = render(result, "zh-CN", title="华东大区 2024 年度流失复盘")
    assert "<title>华东大区 2024 年度流失复盘</title>" in html
    assert "demo-telecom" in html and "契约型" in html and "月度" in html


def test_no_complete_period_is_flagged(result: MetricsResult) -> None:
    result.overall["complete"] = False
    for df in result.by.values():
        df["complete"] = False
    html = render(result, "zh-CN")
    assert "数据尚未覆盖任何完整期间" in html


def test_empty_result_still_renders() -> None:
    from churnradar.metrics.result import PERIOD_COLUMNS, SEGMENT_COLUMNS

    empty = MetricsResult(
        period="quarter", as_of=dt.date(2025, 3, 31), business="non_contractual",
        currency="USD", margin=0.05, confidence=0.9, min_segment_size=30,
        overall=pd.DataFrame(columns=list(PERIOD_COLUMNS)),
        by={"grade": pd.DataFrame(columns=list(SEGMENT_COLUMNS))},
        cohorts=pd.DataFrame(), safety=[], completeness=[])
    for lang in ("zh-CN", "en"):
        html = render(empty, lang)
        assert '<section id="completeness"' in html and '<section id="glossary"' in html
        assert "Plotly.newPlot(" not in html


def test_missing_values_show_a_dash(result: MetricsResult) -> None:
    latest = result.overall.index[result.overall["complete"]][-1]
    result.overall.loc[latest, "net_revenue_retention"] = float("nan")
    result.annualised_churn_rate = None
    html = render(result, "en")
    assert kpi_value(html, "net_revenue_retention") == "–"
    assert kpi_value(html, "annualised_churn_rate") == "–"


def test_write_html_report_is_atomic(result: MetricsResult, tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    target.write_text("old report")
    out = write_html_report(result, target, lang="en", generated_at=FIXED_TIME)
    assert out == target
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]
    with pytest.raises(InputError):
        write_html_report(result, target, extra_sections=[Section("kpis", "x", "")])
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


# --- the catalog ---------------------------------------------------------------------
def test_every_report_message_has_both_languages_and_same_placeholders() -> None:
    keys = [k for k in i18n.catalog() if k.startswith("report_")]
    assert len(keys) > 100
    fmt = string.Formatter()
    for key in keys:
        texts = i18n.catalog()[key]
        assert set(texts) == {"zh-CN", "en"}, key
        assert all(v.strip() for v in texts.values()), key
        fields = [{f for _, f, _, _ in fmt.parse(texts[lang]) if f} for lang in ("zh-CN", "en")]
        assert fields[0] == fields[1], key
