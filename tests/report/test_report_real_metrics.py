"""The report on what churnradar.metrics really produces (demo data, both industries).

The synthetic fixture pins the numbers; this test pins the contract: every message key
the metrics module emits (safety checks, analysis names) resolves in the catalog, every
dimension it computes is shown, and both files are written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from churnradar import engine
from churnradar.datasets import make_demo_data
from churnradar.metrics import MetricsResult, compute_metrics_from_tables
from churnradar.report import render_html_report, write_excel_report
from churnradar.settings import Settings


@pytest.fixture(scope="module", params=["telecom", "dealers"])
def real(request: pytest.FixtureRequest) -> MetricsResult:
    demo = make_demo_data(request.param, n_customers=1500, random_state=0)
    con = engine.connect("duckdb")
    tables = {name: engine.register(con, f"report_{request.param}_{name}", table)
              for name, table in demo.tables.items()}
    return compute_metrics_from_tables(tables, Settings())


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_real_metrics_render_completely(real: MetricsResult, lang: str,
                                        tmp_path: Path) -> None:
    html = render_html_report(real, lang=lang)
    missing = re.findall(r'data-missing-message="([^"]+)"', html)
    assert missing == [], f"catalog keys missing for the report: {sorted(set(missing))}"
    for sid in ("kpis", "trend", "loss", "counts", "by", "key_accounts", "cohorts", "safety",
                "completeness", "glossary"):
        assert f'<section id="{sid}"' in html
    for dim in real.by:
        if dim != "key_account":
            assert f'id="chart-by-{dim}"' in html
    assert len(re.findall(r'data-check="\w+"', html)) == len(real.safety) == 4
    assert len(re.findall(r'data-analysis="\w+"', html)) == len(real.completeness)

    book = load_workbook(write_excel_report(real, tmp_path / "r.xlsx", lang=lang))
    assert len(book.sheetnames) == 2 + len(real.by) + 3
