"""The Excel workbook: one sheet per table, numbers as numbers, localized headers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from churnradar import i18n
from churnradar.metrics.result import PERIOD_COLUMNS, MetricsResult
from churnradar.report import write_excel_report

ZH_SHEETS = ["摘要", "期间指标", "按客户等级", "按区域", "按重点客户", "同期群留存", "流失安全线",
             "分析完整性"]
EN_SHEETS = ["Summary", "Periods", "By customer grade", "By region", "By key account",
             "Cohorts", "Safety line", "Completeness"]


def table(ws: Worksheet) -> tuple[list[str], list[dict[str, object]]]:
    rows = list(ws.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]]


def cell_format(ws: Worksheet, header: str, row: int = 2) -> str:
    col = [c.value for c in ws[1]].index(header) + 1
    return str(ws.cell(row=row, column=col).number_format)


@pytest.fixture
def zh_book(result: MetricsResult, tmp_path: Path):
    path = write_excel_report(result, tmp_path / "report.xlsx", lang="zh-CN",
                              workspace="demo-telecom")
    return load_workbook(path)


def test_sheets_in_each_language(result: MetricsResult, tmp_path: Path) -> None:
    zh = load_workbook(write_excel_report(result, tmp_path / "zh.xlsx", lang="zh-CN"))
    assert zh.sheetnames == ZH_SHEETS
    en = load_workbook(write_excel_report(result, tmp_path / "en.xlsx", lang="en"))
    assert en.sheetnames == EN_SHEETS
    header, _ = table(en["Periods"])
    assert "Churn rate (start basis)" in header and "Churn rate (end basis)" in header
    header, _ = table(zh["期间指标"])
    assert "流失率（期初基数）" in header and "流失率（期末基数）" in header


def test_periods_sheet_equals_the_result(zh_book, result: MetricsResult) -> None:
    ws = zh_book["期间指标"]
    header, rows = table(ws)
    label = {k: i18n.t(f"report_col_{k}", "zh-CN") for k in PERIOD_COLUMNS}
    assert set(header) == set(label.values())
    assert len(rows) == len(result.overall)
    for row, (_, rec) in zip(rows, result.overall.iterrows(), strict=True):
        assert row[label["label"]] == rec["label"]
        assert row[label["period_start"]] == rec["period_start"].to_pydatetime()
        for k in ("start_count", "new_count", "winback_count", "churned_count", "end_count"):
            assert row[label[k]] == rec[k] and isinstance(row[label[k]], int)
        for k in ("churn_rate_start", "churn_rate_end", "net_revenue_retention", "churn_loss",
                  "contraction_loss", "lost_revenue", "revenue"):
            assert row[label[k]] == pytest.approx(rec[k], rel=1e-12)
        assert row[label["complete"]] == ("是" if rec["complete"] else "否")
    assert cell_format(ws, label["start_count"]) == "#,##0"
    assert cell_format(ws, label["churn_rate_start"]) == "0.00%"
    assert cell_format(ws, label["churn_loss"]) == '"¥"#,##0'
    assert cell_format(ws, label["period_start"]) == "yyyy-mm-dd"
    assert ws.freeze_panes == "A2"


def test_segment_sheets_hold_latest_period_with_wilson(zh_book, result: MetricsResult) -> None:
    ws = zh_book["按区域"]
    header, rows = table(ws)
    assert header[:3] == ["排名", "区域", "期间"]
    expected = result.latest_by("region")
    assert [r["区域"] for r in rows] == list(expected["segment"])
    assert {r["期间"] for r in rows} == {"2024-12"}
    for row, (_, rec) in zip(rows, expected.iterrows(), strict=True):
        assert row["期初客户数 S"] == rec["start_count"]
        assert row["流失客户 C"] == rec["churned_count"]
        assert row["流失率（期初基数）"] == pytest.approx(rec["churn_rate_start"])
        assert row["置信区间下限"] == pytest.approx(rec["ci_low"])
        assert row["置信区间上限"] == pytest.approx(rec["ci_high"])
        assert row["样本过少"] == ("是" if rec["too_small"] else "否")
        if rec["too_small"]:
            assert row["排名"] is None  # not ranked
        else:
            assert row["排名"] == int(rec["rank"])
    assert rows[-1]["区域"] == "西北" and rows[-1]["样本过少"] == "是"
    assert cell_format(ws, "置信区间下限") == "0.00%"


def test_cohort_sheet_equals_matrix(zh_book, result: MetricsResult) -> None:
    header, rows = table(zh_book["同期群留存"])
    assert header[:3] == ["获客月份", "批次客户数", "第 0 个月"]
    assert [r["获客月份"] for r in rows] == list(result.cohorts.index)
    for row, (_, rec) in zip(rows, result.cohorts.iterrows(), strict=True):
        assert row["批次客户数"] == rec["size"]
        for k in range(12):
            value = rec[k]
            if value != value:  # NaN: not yet observed -> empty cell
                assert row[f"第 {k} 个月"] is None
            else:
                assert row[f"第 {k} 个月"] == pytest.approx(value)


def test_key_account_sheet_names_the_groups(zh_book, result: MetricsResult) -> None:
    header, rows = table(zh_book["按重点客户"])
    assert header[1] == "重点客户"
    key = result.latest_by("key_account").set_index("segment")
    by_name = {r["重点客户"]: r for r in rows}
    assert set(by_name) == {"重点客户", "其他客户"}
    assert by_name["重点客户"]["期初客户数 S"] == key.loc["key", "start_count"]
    assert by_name["其他客户"]["流失客户 C"] == key.loc["other", "churned_count"]


def test_safety_and_completeness_sheets(zh_book, result: MetricsResult) -> None:
    header, rows = table(zh_book["流失安全线"])
    assert header == ["检查项", "状态", "当前值", "预警线", "警报线", "说明"]
    assert [r["状态"] for r in rows] == ["预警", "预警", "正常", "警报"]
    assert rows[0]["当前值"] == pytest.approx(0.072)
    assert rows[1]["警报线"] is None
    for row, check in zip(rows, result.safety, strict=True):
        assert row["说明"] == i18n.t(check.message_key, "zh-CN", **check.params)
    header, rows = table(zh_book["分析完整性"])
    assert header == ["分析", "状态", "所需数据", "缺少的数据"]
    channel = next(r for r in rows if r["分析"] == "按渠道分析")
    assert channel["状态"] == "已跳过" and channel["缺少的数据"] == "客户档案（customers.channel）"
    assert sum(r["状态"] == "已完成" for r in rows) == 8


def test_summary_sheet(zh_book, result: MetricsResult) -> None:
    ws = zh_book["摘要"]
    values = {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True)}
    latest = result.latest()
    assert values["工作区"] == "demo-telecom"
    assert values["数据截至"] == dt.datetime(2025, 1, 15)
    assert values["期间"] == "2024-12"
    assert values["流失率（期初基数）"] == pytest.approx(latest["churn_rate_start"])
    assert values["流失率（期末基数）"] == pytest.approx(latest["churn_rate_end"])
    assert values["年化流失率（期初基数）"] == pytest.approx(result.annualised_churn_rate)
    assert values["客户流失损失"] == pytest.approx(latest["churn_loss"])


def test_written_atomically_over_an_old_file(result: MetricsResult, tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"old")
    assert write_excel_report(result, target, lang="en") == target
    assert load_workbook(target).sheetnames == EN_SHEETS
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]
