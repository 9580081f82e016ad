"""``churnradar serve --workers 2``: a real server with two worker processes. A session
made by one worker is accepted by the other (one secret for all), and the snapshot is
built once however many workers notice a change."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from churnradar.web.store import Store
from churnradar.workspace import Workspace
from tests.web.conftest import PASSWORD, csrf_of


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_stores_noticing_a_change_build_one_snapshot(web_source, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(web_source, root)
    ws = Workspace.open(root)
    for old in ws.runs_dir.glob("*-web*"):
        shutil.rmtree(old)
    stores = [Store(Workspace.open(root)) for _ in range(3)]
    folders: list[Path] = []
    start = threading.Barrier(len(stores))

    def open_one(store: Store) -> None:
        start.wait()
        folders.append(store.current().folder)

    threads = [threading.Thread(target=open_one, args=(s,)) for s in stores]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(folders)) == 1
    assert len(list(ws.runs_dir.glob("*-web*"))) == 1
    for s in stores:
        s.close()


def test_serve_with_two_workers_shares_sessions_across_them(web_source, tmp_path):
    from churnradar.web.accounts import create_user
    from churnradar.web.db import open_database, session_scope

    root = tmp_path / "ws"
    shutil.copytree(web_source, root)
    engine = open_database(root)
    with session_scope(engine) as s:
        create_user(s, name="mia", role="manager", password=PASSWORD)
    engine.dispose()
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("CHURNRADAR_SECRET_KEY", "CHURNRADAR_DATABASE_URL")}
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from churnradar.cli import main; main()", "serve",
             str(root), "--port", str(port), "--workers", "2", "--dev", "--lang", "en"],
            stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        started = set()
        while len(started) < 2 and time.monotonic() < deadline:
            started = set(re.findall(r"Started server process \[(\d+)\]", log.read_text()))
            time.sleep(0.3)
        assert len(started) == 2, log.read_text(errors="replace")
        with httpx.Client(base_url=base, follow_redirects=True) as c:
            page = c.get("/login")
            r = c.post("/login", data={"username": "mia", "password": PASSWORD, "next": "/",
                                       "csrf_token": csrf_of(page.text)})
            assert r.status_code == 200 and "/login" not in str(r.url)
            cookies = dict(c.cookies)
        # a new connection per request: the kernel hands them to either worker
        for _ in range(16):
            r = httpx.get(base + "/overview", cookies=cookies, follow_redirects=False,
                          headers={"Connection": "close"})
            assert r.status_code == 200, (r.status_code, r.headers.get("location"))
        assert len(list((root / "runs").glob("*-web*"))) == 1
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert "Traceback" not in log.read_text(errors="replace")


