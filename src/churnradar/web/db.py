"""Where the web app keeps its state, and how to reach it.

The state lives in ``<workspace>/app.db`` (SQLite) unless ``CHURNRADAR_DATABASE_URL``
names another database (PostgreSQL: ``postgresql+psycopg://user@host:5432/db``).

The command line and a running server may use one SQLite workspace at the same time, so
every SQLite connection gets:

- ``journal_mode=WAL``: readers never block the writer, nor the writer the readers;
- ``busy_timeout=5000``: a writer waits up to 5 s for another one instead of failing at
  once with "database is locked";
- ``foreign_keys=ON``;
- its transactions begun by us, not by the sqlite3 module: ``BEGIN IMMEDIATE`` (take the
  write lock at the start, waiting on the busy timeout) for sessions that may write, and a
  plain ``BEGIN`` (one consistent snapshot, no torn reads) for read-only ones. A deferred
  transaction that reads and then writes would fail with SQLITE_BUSY at once, without
  waiting, whenever another writer committed in between.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session

from churnradar.exceptions import WorkspaceError

DATABASE_URL_ENV = "CHURNRADAR_DATABASE_URL"
APP_DB = "app.db"
#: milliseconds a SQLite writer waits for another writer before giving up
BUSY_TIMEOUT_MS = 5000
_READONLY = "churnradar_readonly"


def database_url(workspace_root: str | Path) -> str:
    """``CHURNRADAR_DATABASE_URL`` if set, else ``sqlite:///<workspace_root>/app.db``."""
    env = os.environ.get(DATABASE_URL_ENV, "").strip()
    if env:
        return env
    return f"sqlite:///{(Path(workspace_root).resolve() / APP_DB).as_posix()}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections set up for concurrent use (see above)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(u, pool_pre_ping=True)
    engine = create_engine(u, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (_on_begin)
        cur = dbapi_connection.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys = ON")
            # WAL is a property of the file: switch once, not on every connection (the
            # switch needs an exclusive lock, and in-memory databases cannot have it)
            mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() not in ("wal", "memory"):
                cur.execute("PRAGMA journal_mode = WAL")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        readonly = conn.get_execution_options().get(_READONLY, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    folder = resources.files("churnradar.web") / "migrations"
    cfg.set_main_option("script_location", str(folder).replace("%", "%%"))
    return cfg


def upgrade(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest) with the Alembic
    migrations shipped in ``churnradar/web/migrations``. Running it again is harmless;
    concurrent runs are serialised (SQLite's write lock, a PostgreSQL advisory lock)."""
    from alembic import command

    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    cfg = _alembic_config()
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        if isinstance(engine_or_url, str):
            engine.dispose()


def printable_url(engine: Engine) -> str:
    """The engine's URL without its password, to show to a person."""
    return engine.url.render_as_string(hide_password=True)


def open_database(workspace_root: str | Path) -> Engine:
    """The engine of a workspace's app database (:func:`database_url`), migrated to the
    newest revision.

    Raises
    ------
    WorkspaceError
        The database cannot be reached or opened (the message names it, never its
        password).
    """
    from sqlalchemy.exc import DBAPIError

    engine = make_engine(database_url(workspace_root))
    try:
        upgrade(engine)
    except DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig or exc).strip().splitlines()
        raise WorkspaceError(key="web_err_database", db=printable_url(engine),
                             error=reason[0] if reason else type(exc).__name__) from exc
    return engine


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None before the first :func:`upgrade`)."""
    from alembic.runtime.migration import MigrationContext

    with engine.execution_options(**{_READONLY: True}).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def session_scope(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """A session committed at the end of the block, rolled back on an error.

    ``readonly=True`` reads one consistent snapshot and never takes SQLite's write lock
    (and its changes, if any, are rolled back). Objects stay usable after the block.
    """
    bind = engine.execution_options(**{_READONLY: True}) if readonly else engine
    session = Session(bind=bind, expire_on_commit=False)
    try:
        yield session
        if not readonly:
            session.commit()
        # read-only: close() below ends the transaction, keeping nothing; unlike
        # rollback() it leaves the objects loaded, usable after the block
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
