"""The report in a real browser: Debian's headless Chromium, offline.

Checks that every chart drew (a Plotly SVG with plotted marks), that the page logs no
JavaScript error and fetches nothing from the network, and that no text is drawn as
missing-glyph boxes — in zh-CN and en. Skips when Chromium or a CJK font is missing,
fails instead under CI=true (tests/report/browser_support.py).

Set ``CHURNRADAR_SCREENSHOT_DIR`` to keep the full-page screenshots for a human look.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from churnradar.report import write_html_report
from tests.report.browser_support import glyph_problems, launch_chromium, require_browser
from tests.report.report_fixtures import make_result

pytestmark = pytest.mark.slow

CHART_IDS = {"chart-trend", "chart-loss", "chart-by-grade", "chart-by-region",
             "chart-key-accounts", "chart-cohorts"}
CHARTS_JS = """() => [...document.querySelectorAll('.plotly-graph-div')].map(d => ({
  id: d.id,
  svgs: d.querySelectorAll('svg.main-svg').length,
  traces: (d._fullData || []).length,
  marks: d.querySelectorAll('.scatterlayer path.js-line, .scatterlayer .point, '
                            + '.barlayer .point path, .heatmaplayer image').length,
  width: d.getBoundingClientRect().width,
  height: d.getBoundingClientRect().height,
}))"""
ALL_DRAWN_JS = """() => {
  const divs = [...document.querySelectorAll('.plotly-graph-div')];
  return divs.length > 0 && divs.every(d => d._fullLayout && d.querySelector('svg.main-svg'));
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reports")
    result = make_result()
    return {lang: write_html_report(result, folder / f"report-{lang}.html", lang=lang,
                                    workspace="demo-telecom",
                                    generated_at=dt.datetime(2025, 1, 16, 9, 30))
            for lang in ("zh-CN", "en")}


class Opened:
    """A page loaded offline, with what it logged and tried to fetch."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1360, "height": 900},
                                           offline=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

        def route(r: Any) -> None:
            if r.request.url.startswith(("file:", "data:", "blob:", "about:")):
                r.continue_()
            else:
                self.requests.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function(ALL_DRAWN_JS, timeout=30_000)
        self.page.evaluate("() => document.fonts.ready")

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_report_draws_offline_without_errors_or_missing_glyphs(
        browser: Any, reports: dict[str, Path], lang: str,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    opened = Opened(browser, reports[lang].as_uri())
    page = opened.page
    try:
        charts = page.evaluate(CHARTS_JS)
        assert {c["id"] for c in charts} == CHART_IDS
        for c in charts:
            assert c["svgs"] >= 1, c
            assert c["traces"] >= 1 and c["marks"] >= 1, f"chart {c['id']} plotted nothing: {c}"
            assert c["width"] > 600 and c["height"] > 150, c
        assert opened.errors == []
        assert opened.requests == [], "the report tried to use the network"

        problems = glyph_problems(page)
        assert problems == [], "\n".join(problems[:20])

        title = {"zh-CN": "客户流失分析报告", "en": "Customer churn report"}[lang]
        assert page.title() == title
        assert page.locator("section.report-section").count() == 10

        shots = tmp_path_factory.mktemp("screenshots")
        png = shots / f"report-{lang}.png"
        page.screenshot(path=str(png), full_page=True)
        assert png.stat().st_size > 50_000
        keep = os.environ.get("CHURNRADAR_SCREENSHOT_DIR")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(png, Path(keep) / png.name)
    finally:
        opened.close()


def test_glyph_check_detects_missing_glyphs(browser: Any) -> None:
    """The detector itself: Tangut has no installed font here; Chinese and Latin do."""
    page = browser.new_page()
    try:
        page.set_content('<p style="font-family: sans-serif">客户流失率 churn rate 12.5%</p>')
        assert glyph_problems(page) == []
        page.set_content('<p style="font-family: sans-serif">流失 \U00017000\U00017001</p>')
        problems = glyph_problems(page)
        assert len(problems) == 1 and "\U00017000" in problems[0]
    finally:
        page.close()
