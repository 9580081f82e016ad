"""The web app's storage, on both databases it supports: SQLite in a temporary workspace
and PostgreSQL on 127.0.0.1:5432, database ``test`` (each test in a schema of its own,
dropped afterwards). Where no PostgreSQL server answers, its tests are skipped with the
reason, except under CI=true, where they fail."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
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
    schema = f"churnradar_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    try:
        yield AppDB("postgresql", root, url)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def engine(appdb) -> Iterator[Engine]:
    """The app database of ``appdb``, migrated to the newest revision."""
    eng = make_engine(appdb.url)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()
