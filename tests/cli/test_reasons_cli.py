"""``churnradar reasons`` and ``churnradar plan`` through Typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from churnradar.cli import build_app

runner = CliRunner()


def invoke(args, lang="en"):
    return runner.invoke(build_app(lang), args)


@pytest.mark.parametrize("command", ["reasons", "plan"])
def test_help_in_both_languages(command):
    zh = invoke([command, "--help"], lang="zh-CN")
    en = invoke([command, "--help"], lang="en")
    assert zh.exit_code == 0 and en.exit_code == 0
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.stdout)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en.stdout)


def test_reasons_json_has_the_promised_keys(demo_ws):
    ws, _data = demo_ws("dealers")
    r = invoke(["reasons", str(ws.root), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["classified"] > 0
    assert 0.5 < out["complaint_accuracy"] <= 1.0
    assert 0.5 < out["attribution_accuracy"] <= 1.0
    assert out["departures_flagged"] >= 1


def test_reasons_tables_in_chinese(demo_ws):
    ws, data = demo_ws("dealers")
    r = invoke(["reasons", str(ws.root), "--lang", "zh-CN"], lang="zh-CN")
    assert r.exit_code == 0, r.output
    assert "按流失原因" in r.stdout and "价格流失" in r.stdout
    assert "员工离职预警" in r.stdout and data.planted["departed_owner_id"] in r.stdout


def test_reasons_without_complaints_or_records(tmp_path):
    """Only customers and orders: no labels, no texts; accuracies are null."""
    import pandas as pd

    from churnradar.io import import_table
    from churnradar.workspace import Workspace

    ws = Workspace.create(tmp_path / "ws", language="en")
    pd.DataFrame({"customer_id": ["a", "b", "c"]}).to_csv(tmp_path / "c.csv", index=False)
    pd.DataFrame({"customer_id": ["a", "a", "b", "c", "c"],
                  "date": ["2024-01-01", "2024-02-01", "2024-01-05", "2024-01-01",
                           "2024-12-01"],
                  "amount": [10, 20, 30, 40, 50]}).to_csv(tmp_path / "t.csv", index=False)
    import_table(ws, "customers", tmp_path / "c.csv")
    import_table(ws, "transactions", tmp_path / "t.csv")
    r = invoke(["reasons", str(ws.root), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["complaint_accuracy"] is None and out["attribution_accuracy"] is None
    assert out["classified"] == 0
    assert out["churns"] >= 1


def test_plan_rejects_a_negative_budget(demo_ws):
    ws, _data = demo_ws("telecom")
    r = invoke(["plan", str(ws.root), "--budget", "-5"])
    assert r.exit_code == 1
    assert "--budget" in r.output and "Traceback" not in r.output


def test_plan_json_and_export(demo_ws, tmp_path):
    ws, _data = demo_ws("telecom")
    path = tmp_path / "plan.xlsx"
    r = invoke(["plan", str(ws.root), "--budget", "300", "--capacity", "20", "--json",
                "--export", str(path)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["total_cost"] <= 300 and out["selected"] <= 20
    assert out["budget"] == 300 and out["capacity"] == 20
    assert {s["strategy"] for s in out["strategies"]} == {"optimised", "top_risk", "random"}
    assert out["effect"] is not None  # the demo holds a past campaign
    assert path.exists() and out["exported"] == str(path)
