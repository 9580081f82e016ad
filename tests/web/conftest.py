"""The web app's storage, on both databases it supports: SQLite in a temporary workspace
and PostgreSQL on 127.0.0.1:5432, database ``test`` (each test in a schema of its own,
dropped afterwards). Where no PostgreSQL server answers, its tests are skipped with the
reason, except under CI=true, where they fail."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from churnradar.web.db import DATABASE_URL_ENV, database_url, make_engine, upgrade
from churnradar.workspace import Workspace

PG_URL = os.environ.get("CHURNRADAR_TEST_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


@dataclass
class AppDB:
    """A workspace and the app database its commands use (``url``)."""

    backend: str
    root: Path
    url: str


def _pg_admin() -> Engine:
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT",
                         connect_args={"connect_timeout": 5})


@pytest.fixture(scope="session")
def pg_available() -> None:
    """Skip (or, under CI=true, fail) when the PostgreSQL server cannot be reached."""
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:
        reason = (f"PostgreSQL is not reachable at {PG_URL} ({type(exc).__name__}: "
                  f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}); "
                  "start it or set CHURNRADAR_TEST_PG_URL")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: the PostgreSQL tests must run)", pytrace=False)
        pytest.skip(reason)
    finally:
        admin.dispose()


@contextmanager
def database_for_test(monkeypatch, prefix: str) -> Iterator[str]:
    """A PostgreSQL schema of its own, named in CHURNRADAR_DATABASE_URL (the
    search_path) for the block, dropped afterwards: parallel or repeated runs never see
    each other's tables. Yields the URL."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def appdb(request, tmp_path, monkeypatch) -> Iterator[AppDB]:
    """A fresh workspace with an empty app database on each backend. For PostgreSQL,
    CHURNRADAR_DATABASE_URL points at a schema of its own (the search_path), dropped at
    the end, so parallel or repeated runs never see each other's tables."""
    root = tmp_path / "ws"
    Workspace.create(root, language="en")
    if request.param == "sqlite":
        monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
        yield AppDB("sqlite", root, database_url(root))
        return
    request.getfixturevalue("pg_available")
    with database_for_test(monkeypatch, "churnradar_test") as url:
        yield AppDB("postgresql", root, url)


@pytest.fixture
def engine(appdb) -> Iterator[Engine]:
    """The app database of ``appdb``, migrated to the newest revision."""
    eng = make_engine(appdb.url)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


# --- the web app on an analysed demo workspace ---------------------------------------
SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"


def owners(root: Path) -> list[str]:
    """The owner_ids of the demo's customers, most customers first."""
    import pandas as pd

    df = pd.read_parquet(root / "data" / "customers.parquet")
    return df["owner_id"].dropna().value_counts().index.tolist()


@dataclass
class WebApp:
    """A running app (TestClient) on a private copy of the analysed workspace with four
    users: ada (admin), mia (manager), sam and sue (sales, owning ``sam_owner`` and
    ``sue_owner``)."""

    root: Path
    app: object
    backend: str
    sam_owner: str
    sue_owner: str

    def client(self, user: str | None = None, **kwargs):
        """A TestClient, signed in as ``user`` when given."""
        from fastapi.testclient import TestClient

        c = TestClient(self.app, **kwargs)  # type: ignore[arg-type]
        if user is not None:
            login(c, user)
        return c

    def token(self, user: str) -> str:
        from churnradar.web.accounts import issue_token
        from churnradar.web.db import session_scope

        with session_scope(self.app.state.engine) as s:  # type: ignore[attr-defined]
            return issue_token(s, name=user)


def csrf_of(html: str) -> str:
    import re

    m = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def login(client, user: str, password: str = PASSWORD):
    page = client.get("/login")
    r = client.post("/login", data={"username": user, "password": password, "next": "/",
                                    "csrf_token": csrf_of(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    return r


@pytest.fixture(params=BACKENDS)
def web(request, web_source, tmp_path, monkeypatch) -> Iterator[WebApp]:
    """The app on SQLite and on PostgreSQL (a schema of its own)."""
    from churnradar.web.accounts import create_user
    from churnradar.web.app import create_app
    from churnradar.web.config import WebSettings
    from churnradar.web.db import session_scope

    root = tmp_path / "ws"
    shutil.copytree(web_source, root)
    backend = request.param
    with ExitStack() as stack:
        if backend == "sqlite":
            monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
        else:
            request.getfixturevalue("pg_available")
            stack.enter_context(database_for_test(monkeypatch, "churnradar_web"))
        app = create_app(root, WebSettings(secret_key=SECRET))
        stack.callback(app.state.store.close)
        stack.callback(app.state.engine.dispose)
        own = owners(root)
        with session_scope(app.state.engine) as s:
            create_user(s, name="ada", role="admin", password=PASSWORD)
            create_user(s, name="mia", role="manager", password=PASSWORD)
            create_user(s, name="sam", role="sales", password=PASSWORD, owner_id=own[0])
            create_user(s, name="sue", role="sales", password=PASSWORD, owner_id=own[1])
        yield WebApp(root=root, app=app, backend=backend, sam_owner=own[0],
                     sue_owner=own[1])
