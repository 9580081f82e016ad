"""``churnradar value …`` through Typer's CliRunner: the published CDNOW and sBG results
from the command line, errors that name file, row and column, the workspace job."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from churnradar.cli import build_app
from tests.value.conftest import load_cdnow
from tests.value.test_jobs import _workspace

runner = CliRunner()


def invoke(args, lang="en"):
    return runner.invoke(build_app(lang), args)


@pytest.mark.parametrize("command", ["run", "fit", "sbg"])
def test_value_help_in_both_languages(command):
    zh = invoke(["value", command, "--help"], lang="zh-CN")
    en = invoke(["value", command, "--help"], lang="en")
    assert zh.exit_code == 0 and en.exit_code == 0
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.stdout)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en.stdout)


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("vcli") / "cdnow.csv"
    df = load_cdnow("CDNOW_sample.txt")
    df["date"] = df["date"].dt.strftime("%Y%m%d")  # as the file ships: 19970101
    df.to_csv(path, index=False)
    return path


PUBLISHED = {
    "bgnbd": ({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, -9582.4),
    "paretonbd": ({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0),
    "gammagamma": ({"p": 6.25, "q": 3.74, "gamma": 15.44}, None),
}


@pytest.mark.parametrize("model", list(PUBLISHED))
def test_fit_reproduces_the_papers(cdnow_csv, model):
    r = invoke(["value", "fit", str(cdnow_csv), "--model", model, "--id", "customer_id",
                "--date", "date", "--amount", "amount", "--calibration-end", "1997-09-30",
                "--time-unit-days", "7", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    params, ll = PUBLISHED[model]
    assert out["model"] == model and set(out["params"]) == set(params)
    for k, v in params.items():
        assert out["params"][k] == pytest.approx(v, rel=5e-3), k  # 3 significant digits
    if ll is not None:
        assert out["log_likelihood"] == pytest.approx(ll, abs=0.1)
    assert out["n_customers"] == (946 if model == "gammagamma" else 2357)


def test_fit_table_output_and_errors(cdnow_csv, tmp_path):
    r = invoke(["value", "fit", str(cdnow_csv), "--model", "bgnbd", "--id", "customer_id",
                "--date", "date", "--calibration-end", "1997-09-30"], lang="zh-CN")
    assert r.exit_code == 0, r.output
    assert "BG/NBD" in r.stdout and "2,357" in r.stdout
    r = invoke(["value", "fit", str(cdnow_csv), "--model", "gammagamma", "--id",
                "customer_id", "--date", "date", "--calibration-end", "1997-09-30"])
    assert r.exit_code == 1 and "--amount" in r.output
    r = invoke(["value", "fit", str(cdnow_csv), "--model", "bgnbd", "--id", "cust",
                "--date", "date", "--calibration-end", "1997-09-30"])
    assert r.exit_code == 1 and "'cust'" in r.output and "customer_id" in r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("id,date\n1,2025-01-01\n2,not a date\n", encoding="utf-8")
    r = invoke(["value", "fit", str(bad), "--model", "bgnbd", "--id", "id", "--date", "date",
                "--calibration-end", "2025-06-30"])
    assert r.exit_code == 1 and "bad.csv" in r.output and "row 3" in r.output


def test_sbg_reproduces_fader_hardie_2007():
    for surviving, alpha, beta in (
            ("100,63.1,46.8,38.2,32.6,28.9,26.2,24.1", 0.704, 1.182),
            ("100,86.9,74.3,65.3,59.3,55.1,51.7,49.1", 0.668, 3.806)):
        r = invoke(["value", "sbg", "--surviving", surviving, "--json"])
        assert r.exit_code == 0, r.output
        out = json.loads(r.stdout)
        assert out["params"]["alpha"] == pytest.approx(alpha, abs=5e-4)
        assert out["params"]["beta"] == pytest.approx(beta, abs=5e-4)
        assert out["projected"][0] == pytest.approx(100.0)
        assert len(out["projected"]) == 13  # years 0..12
    r = invoke(["value", "sbg", "--surviving", "100,120"])
    assert r.exit_code == 1 and "--surviving" in r.output


def test_value_dir_runs_the_job(tmp_path):
    ws = _workspace(tmp_path / "d", "dealers", 500, 7)
    r = invoke(["value", str(ws.root), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["business"] == "non_contractual" and out["customers"] > 50
    assert out["clv_total"] > 0 and "bgnbd" in out["models"]
    r = invoke(["value", str(ws.root), "--top", "5", "--lang", "zh-CN"], lang="zh-CN")
    assert r.exit_code == 0, r.output
    assert "价值 × 风险矩阵" in r.stdout and "重点挽留" in r.stdout


def test_survival_dir(tmp_path):
    ws = _workspace(tmp_path / "t", "telecom", 600, 8)
    r = invoke(["survival", str(ws.root), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["customers"] == 600 and 0 < out["churned"] < 600
    assert "grade" in out["logrank_p"]
    r = invoke(["survival", str(ws.root), "--by", "grade,cohort", "--lang", "zh-CN"],
               lang="zh-CN")
    assert r.exit_code == 0, r.output
    assert "生存分析完成" in r.stdout and "客户等级" in r.stdout
    r = invoke(["survival", str(ws.root), "--by", "nosuchcolumn"])
    assert r.exit_code == 1 and "nosuchcolumn" in r.output
