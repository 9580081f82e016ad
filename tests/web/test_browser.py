"""The web app in a real browser: Debian's Chromium (headless), driven by Playwright,
against the real server (Uvicorn on a free port, in a thread) on a copy of the analysed
telecom demo workspace.

One user's day: sign in → overview → at-risk list → a customer's 360 page → create a
retention task → open it and mark it retained. Each step is saved as a screenshot under
``test-artifacts/web/`` (git-ignored; the folder is printed) and checked: the overview and
the customer page have drawn Plotly charts (``.chart .main-svg`` with SVG paths in it),
the pages show their Chinese labels (and the screenshots are not blank), no page has a
JavaScript error, and at the end the task is "retained" in the app database.

No ``playwright install``: the browser is /usr/bin/chromium (``make sysdeps`` installs it
with a CJK font). Without it, or without the playwright package, the test is skipped —
except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import PASSWORD, SECRET

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "web"
LANG = "zh-CN"


def _require_browser() -> None:
    """Skip (fail under CI=true) when Chromium or the playwright package is missing."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (Debian package chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package (test extra)")
    if not missing:
        return
    reason = ("browser test needs " + " and ".join(missing)
              + "; run `make sysdeps` as root (and `make setup-test`)")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason + " (CI=true: the browser test must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium, checked before the (slow) workspace fixtures are built."""
    _require_browser()
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    app: Any
    root: Path


@pytest.fixture
def live_server(web_source, tmp_path, monkeypatch) -> Iterator[LiveServer]:
    """``churnradar serve``'s app on a copy of the analysed workspace (SQLite app
    database), served by Uvicorn in a thread; user ``mia`` is a manager."""
    import uvicorn

    from churnradar.web.accounts import create_user
    from churnradar.web.app import create_app
    from churnradar.web.config import WebSettings
    from churnradar.web.db import DATABASE_URL_ENV, session_scope

    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    root = tmp_path / "ws"
    shutil.copytree(web_source, root)
    app = create_app(root, WebSettings(secret_key=SECRET))
    with session_scope(app.state.engine) as s:
        create_user(s, name="mia", role="manager", password=PASSWORD)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", app=app, root=root)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        app.state.engine.dispose()
        app.state.store.current().close()


def _label(key: str) -> str:
    from churnradar.i18n import t

    return t(key, LANG)


class Shots:
    """Screenshots of the steps, numbered, in ARTIFACTS (emptied first)."""

    def __init__(self, folder: Path):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self.n = 0
        print(f"\nbrowser test screenshots: {folder}")

    def take(self, page: Any, name: str) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        _assert_not_blank(path)
        return path


def _assert_not_blank(path: Path) -> None:
    """A page with text and charts has many distinct grey levels and a wide spread."""
    assert path.stat().st_size > 5_000, f"{path} is suspiciously small"
    try:
        from PIL import Image, ImageStat
    except ImportError:  # pragma: no cover - Pillow comes with the report's deps
        return
    with Image.open(path) as img:
        grey = img.convert("L")
        stddev = ImageStat.Stat(grey).stddev[0]
        colours = len(grey.getcolors(maxcolors=256) or [])
    assert stddev > 8 and colours > 16, (
        f"{path} looks blank (grey stddev {stddev:.1f}, {colours} grey levels)")


def _assert_charts(page: Any, where: str, min_paths: int = 5) -> None:
    """Plotly drew at least one chart: an SVG root in a .chart div, with paths."""
    page.wait_for_selector(".chart .main-svg", timeout=20_000)
    charts = page.locator(".chart .main-svg").count()
    paths = page.locator(".chart svg path").count()
    assert charts >= 1, f"{where}: no drawn chart"
    assert paths >= min_paths, f"{where}: only {paths} SVG paths in {charts} chart(s)"


def _assert_chinese(page: Any, where: str, *keys: str) -> None:
    text = page.inner_text("body")
    for key in keys:
        label = _label(key)
        assert label in text, f"{where}: {label!r} ({key}) not on the page"
    assert re.search(r"[\u4e00-\u9fff]{4}", text), f"{where}: no Chinese text"


def test_login_to_retained_task(chromium: Path, live_server: LiveServer) -> None:
    from playwright.sync_api import sync_playwright

    from churnradar.web.db import session_scope
    from churnradar.web.models import AuditLog, Task

    base = live_server.url
    shots = Shots(ARTIFACTS)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True,
                                    args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900},
                                          locale="zh-CN")
            context.add_cookies([{"name": "churnradar_lang", "value": LANG, "url": base}])
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))

            # 1. sign in
            page.goto(f"{base}/login?next=/overview")
            page.fill("input[name=username]", "mia")
            page.fill("input[name=password]", PASSWORD)
            shots.take(page, "login")
            page.click("form[action='/login'] button[type=submit]")
            page.wait_for_url(f"{base}/overview")

            # 2. overview: KPIs and drawn charts
            page.wait_for_load_state("networkidle")
            _assert_charts(page, "overview", min_paths=10)
            _assert_chinese(page, "overview", "web_pg_overview_title")
            shots.take(page, "overview")

            # 3. the at-risk list
            page.goto(f"{base}/customers")
            page.wait_for_selector("table#customers tbody tr")
            _assert_chinese(page, "at-risk list", "web_cu_title")
            shots.take(page, "at-risk")
            first = page.locator("table#customers tbody a[href^='/customers/']").first
            href = first.get_attribute("href")
            assert href, "no customer link in the at-risk list"
            first.click()

            # 4. the customer's 360 page
            page.wait_for_url(f"{base}{href}")
            page.wait_for_load_state("networkidle")
            customer_id = page.get_attribute("h1#customer", "data-customer")
            assert customer_id, "no customer id on the 360 page"
            _assert_charts(page, "customer 360", min_paths=3)
            _assert_chinese(page, "customer 360", "web_cu_task_new")
            shots.take(page, "customer")

            # 5. create a task from the 360 page
            before = page.locator("tr[data-task]").count()
            note = "浏览器测试：电话回访，了解续约意向"
            page.fill("#new-task input[name=note]", note)
            page.click("#new-task button[type=submit]")
            page.wait_for_load_state("networkidle")
            page.wait_for_selector("tr[data-task]")
            rows = page.locator("tr[data-task]")
            assert rows.count() == before + 1, "the new task is not listed on the page"
            shots.take(page, "task-created")
            with session_scope(live_server.app.state.engine, readonly=True) as s:
                task = s.query(Task).filter(Task.customer_id == customer_id,
                                            Task.note == note).one()
                task_id = task.id
                assert task.status == "open"

            # 6. open it and mark it retained
            page.click(f"tr[data-task='{task_id}'] a[href='/tasks/{task_id}']")
            page.wait_for_url(f"{base}/tasks/{task_id}")
            page.select_option("#task-form select[name=status]", "retained")
            shots.take(page, "task-open")
            page.click("#task-form button[type=submit]")
            page.wait_for_load_state("networkidle")
            page.goto(f"{base}/tasks/{task_id}")
            assert page.locator("#task-form select[name=status]").input_value() == "retained"
            _assert_chinese(page, "task", "web_tk_status_retained")
            shots.take(page, "task-retained")
        finally:
            browser.close()

    assert not errors, "JavaScript errors:\n" + "\n".join(errors)
    with session_scope(live_server.app.state.engine, readonly=True) as s:
        task = s.get(Task, task_id)
        assert task is not None and task.status == "retained"
        assert task.outcome_at is not None
        actions = [a.action for a in s.query(AuditLog).filter(
            AuditLog.target == f"task:{task_id}").all()]
    assert "task.create" in actions and "task.update" in actions, actions
    assert len(list(shots.folder.glob("*.png"))) == shots.n == 7
