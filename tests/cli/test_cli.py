"""The command line, through Typer's CliRunner and the real entry point."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from churnradar.cli import build_app, main
from churnradar.workspace import Workspace

runner = CliRunner()
COMMANDS = ["init", "import", "tables", "metrics", "calc", "report", "demo"]


def invoke(args, lang="en"):
    return runner.invoke(build_app(lang), args)


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "demo"
    result = invoke(["demo", str(path), "--customers", "400", "--industry", "dealers",
                     "--lang", "en"])
    assert result.exit_code == 0, result.output
    return path


# --- calc: the worked cases of domain.md ----------------------------------------------
def test_calc_case_02_json():
    r = invoke(["calc", "--start", "3000", "--new", "500", "--end", "3300",
                "--lost-revenue", "30000000", "--margin", "0.05", "--json"])
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    assert list(out) == ["churned", "churn_rate_start_basis", "churn_rate_end_basis",
                         "retention_rate_start_basis", "lost_revenue", "churn_loss"]
    assert out["churned"] == 200
    assert round(out["churn_rate_start_basis"], 4) == 0.0667
    assert round(out["churn_rate_end_basis"], 4) == 0.0606
    assert out["churn_loss"] == pytest.approx(1_500_000)


def test_calc_case_03_json():
    r = invoke(["calc", "--start", "300000", "--new", "50000", "--end", "320000",
                "--arpu", "1000", "--margin", "0.03", "--json"])
    out = json.loads(r.stdout)
    assert out["churned"] == 30000
    assert out["churn_rate_start_basis"] == pytest.approx(0.1)
    assert out["churn_rate_end_basis"] == pytest.approx(0.09375)
    assert out["churn_loss"] == pytest.approx(900_000)


def test_calc_shows_contraction_apart_but_keeps_the_json_keys():
    args = ["calc", "--start", "300000", "--new", "50000", "--end", "320000", "--arpu", "1000",
            "--current-arpu", "900", "--margin", "0.03"]
    table = invoke(args)
    assert "Contraction loss" in table.stdout and "810,000" in table.stdout
    assert "900,000" in table.stdout
    out = json.loads(invoke([*args, "--json"]).stdout)
    assert "contraction_loss" not in out and out["churn_loss"] == pytest.approx(900_000)


def test_calc_table_in_both_languages():
    zh = invoke(["calc", "--start", "3000", "--new", "500", "--end", "3300"], lang="zh-CN")
    assert "流失率（期初基数）" in zh.stdout and "6.67%" in zh.stdout
    en = invoke(["calc", "--start", "3000", "--new", "500", "--end", "3300"])
    assert "Churn rate (end basis)" in en.stdout and "6.06%" in en.stdout


@pytest.mark.parametrize("args", [
    ["--start", "3000", "--new", "500", "--end", "4000"],            # end > start + new
    ["--start", "-5", "--new", "500", "--end", "400"],               # negative count
    ["--start", "3000", "--new", "500", "--end", "3300", "--margin", "1.5"],
    ["--start", "3000", "--new", "500", "--end", "3300", "--margin", "-0.1"],
])
def test_calc_bad_input_is_one_red_line_and_exit_1(args):
    r = invoke(["calc", *args])
    assert r.exit_code == 1
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:")
    assert "Traceback" not in r.output


# --- help in both languages ------------------------------------------------------------
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_in_both_languages(command):
    zh = invoke([command, "--help"], lang="zh-CN")
    en = invoke([command, "--help"], lang="en")
    assert zh.exit_code == 0 and en.exit_code == 0
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.stdout)  # Chinese text
    assert zh.stdout != en.stdout
    # English help may quote Chinese only as examples of headers (客户号) and the name
    english = en.stdout.replace("客户流失雷达", "").replace("客户号", "")
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in english)


def test_lang_is_read_from_the_command_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help", "--lang", "en"])
    assert exc.value.code == 0
    assert "measure, explain, predict" in capsys.readouterr().out


# --- the entry point: usage errors are user errors too -------------------------------
def test_usage_error_exits_1_with_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["calc", "--start", "x", "--new", "1", "--end", "1", "--lang", "en"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--start" in err


def test_unknown_command_exits_1(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 1


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert "churnradar" in capsys.readouterr().out


# --- workspace commands ----------------------------------------------------------------
def test_init_and_errors(tmp_path):
    r = invoke(["init", str(tmp_path / "w")])
    assert r.exit_code == 0 and (tmp_path / "w" / "churnradar.toml").is_file()
    again = invoke(["init", str(tmp_path / "w")])
    assert again.exit_code == 1 and "already a workspace" in again.output
    nows = invoke(["metrics", str(tmp_path / "nothing")])
    assert nows.exit_code == 1 and "not a churnradar workspace" in nows.output
    empty = invoke(["metrics", str(tmp_path / "w")])
    assert empty.exit_code == 1 and "customers" in empty.output


def test_import_then_metrics(tmp_path):
    ws = tmp_path / "w"
    assert invoke(["init", str(ws)]).exit_code == 0
    (tmp_path / "c.csv").write_text("客户号,等级\nc1,A\nc2,B\n", encoding="utf-8")
    rows = ["customer_id,date,amount"] + [f"c1,2024-{m:02d}-05,100" for m in range(1, 13)] + \
        ["c2,2024-01-10,50", "c2,2024-02-10,50"]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = invoke(["import", str(ws), "customers", str(tmp_path / "c.csv"),
                "--map", "客户号=customer_id"])
    assert r.exit_code == 0, r.output
    assert "customer_id" in r.output
    assert invoke(["import", str(ws), "transactions", str(tmp_path / "t.csv")]).exit_code == 0
    out = invoke(["metrics", str(ws), "--json", "--by", "grade"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    june = next(p for p in data["overall"] if p["label"] == "2024-06")
    # c2 last bought 2024-02-10 -> churned 90 days later, on 2024-05-10 (May)
    may = next(p for p in data["overall"] if p["label"] == "2024-05")
    assert may["churned_count"] == 1 and june["start_count"] == 1
    assert set(data["by"]) == {"grade"}
    bad = invoke(["import", str(ws), "transactions", str(tmp_path / "c.csv")])
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    badmap = invoke(["import", str(ws), "customers", str(tmp_path / "c.csv"), "--map", "oops"])
    assert badmap.exit_code == 1 and "--map" in badmap.output


def test_demo_metrics_report(demo_ws, tmp_path):
    ws = Workspace.open(demo_ws)
    assert {"customers", "transactions"} <= set(ws.tables())
    assert ws.settings.churn.inactivity_days == 180
    r = invoke(["metrics", str(demo_ws), "--period", "quarter", "--basis", "end", "--json"])
    data = json.loads(r.stdout)
    assert data["period"] == "quarter" and data["business"] == "non_contractual"
    for p in data["overall"]:
        assert p["end_count"] == p["start_count"] + p["new_count"] + p["winback_count"] - \
            p["churned_count"]
    out = tmp_path / "r.html"
    xlsx = tmp_path / "r.xlsx"
    rep = invoke(["report", str(demo_ws), "--out", str(out), "--excel", str(xlsx),
                  "--lang", "zh-CN"])
    assert rep.exit_code == 0, rep.output
    assert out.stat().st_size > 1_000_000 and xlsx.is_file()
    assert "流失率" in out.read_text(encoding="utf-8")
    tables = invoke(["tables", str(demo_ws)])
    assert "transactions" in tables.stdout


def test_metrics_bad_options(demo_ws):
    assert invoke(["metrics", str(demo_ws), "--period", "week"]).exit_code == 1
    assert invoke(["metrics", str(demo_ws), "--basis", "middle"]).exit_code == 1
    r = invoke(["metrics", str(demo_ws), "--by", "colour"])
    assert r.exit_code == 1 and "--by" in r.output
    assert invoke(["metrics", str(demo_ws), "--as-of", "31/12/2025"]).exit_code == 1
