"""app.db: the migrations, the engine's SQLite settings, sessions and the tables' rules,
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from churnradar.exceptions import WorkspaceError
from churnradar.web.db import (
    DATABASE_URL_ENV,
    current_revision,
    database_url,
    make_engine,
    open_database,
    session_scope,
    upgrade,
)
from churnradar.web.models import AuditLog, Base, Task, User, utcnow

TABLES = {"users", "api_tokens", "tasks", "audit_log", "web_sessions"}


def _user(name: str = "ann", role: str = "manager", owner_id: str | None = None) -> User:
    return User(name=name, role=role, owner_id=owner_id, password_hash="x", active=True)


def test_database_url_default_and_env(tmp_path, monkeypatch):
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    assert database_url(tmp_path) == f"sqlite:///{(tmp_path.resolve() / 'app.db').as_posix()}"
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql+psycopg://u@h/db")
    assert database_url(tmp_path) == "postgresql+psycopg://u@h/db"


def test_migrations_create_exactly_the_tables_and_run_twice(appdb):
    eng = make_engine(appdb.url)
    try:
        assert current_revision(eng) is None
        upgrade(eng)
        upgrade(eng)  # harmless: nothing to do the second time
        upgrade(appdb.url)  # the URL form too
        assert current_revision(eng) == "0002"
        with eng.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            assert names == TABLES | {"alembic_version"}
            # the migration and the models agree, column by column, index by index
            diff = compare_metadata(MigrationContext.configure(
                conn, opts={"compare_type": True}), Base.metadata)
            assert diff == []
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        eng.dispose()
    if appdb.backend == "sqlite":
        assert (appdb.root / "app.db").is_file()


def test_sqlite_connections_are_set_for_concurrent_use(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        with eng.connect() as conn:
            pragma = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                      for p in ("journal_mode", "busy_timeout", "foreign_keys")}
    finally:
        eng.dispose()
    assert pragma == {"journal_mode": "wal", "busy_timeout": 5000, "foreign_keys": 1}


def test_open_database_migrates_and_names_an_unreachable_one(appdb, monkeypatch):
    eng = open_database(appdb.root)
    try:
        assert current_revision(eng) == "0002"
    finally:
        eng.dispose()
    monkeypatch.setenv(DATABASE_URL_ENV,
                       "postgresql+psycopg://churn:secret@127.0.0.1:9/nowhere"
                       "?connect_timeout=2")
    with pytest.raises(WorkspaceError, match="cannot open the web app's database") as info:
        open_database(appdb.root)
    assert "secret" not in str(info.value) and "127.0.0.1:9" in str(info.value)


def test_session_scope_commits_or_rolls_back(engine):
    with session_scope(engine) as s:
        s.add(_user("ann"))
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        s.add(_user("bob"))
        s.flush()
        raise RuntimeError("boom")
    with session_scope(engine, readonly=True) as s:
        assert s.scalars(sa.select(User.name)).all() == ["ann"]
        s.add(_user("cid"))  # a read-only session keeps nothing
    with session_scope(engine, readonly=True) as s:
        assert s.scalars(sa.select(User.name)).all() == ["ann"]


@pytest.mark.parametrize("row", [
    lambda uid: User(name="x", role="boss", password_hash="x", active=True),
    lambda uid: Task(customer_id="C1", action="call", status="done", created_by=uid),
    lambda uid: Task(customer_id="C1", action="call", group="placebo", created_by=uid),
    lambda uid: Task(customer_id="C1", action="call", created_by=uid + 1000),  # no such user
], ids=["role", "status", "group", "foreign-key"])
def test_tables_refuse_values_outside_their_vocabulary(engine, row):
    with session_scope(engine) as s:
        s.add(_user())
    with session_scope(engine) as s:
        uid = s.scalars(sa.select(User.id)).one()
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(row(uid))


def test_tasks_keep_every_outcome_and_times_in_utc(engine):
    from churnradar.schema import OUTCOMES

    with session_scope(engine) as s:
        u = _user()
        s.add(u)
        s.flush()
        for i, status in enumerate(OUTCOMES):
            s.add(Task(customer_id=f"C{i}", owner_id="S1", action="call", status=status,
                       due_date=dt.date(2025, 3, 1), created_by=u.id, plan_run="r1",
                       group="treatment" if i % 2 else "control", note="客户说价格太高"))
    beijing = dt.timezone(dt.timedelta(hours=8))
    with session_scope(engine) as s:
        task = s.scalars(sa.select(Task).where(Task.customer_id == "C2")).one()
        task.outcome_at = dt.datetime(2025, 3, 2, 18, 0, tzinfo=beijing)
    with session_scope(engine, readonly=True) as s:
        tasks = s.scalars(sa.select(Task).order_by(Task.id)).all()
        assert [t.status for t in tasks] == list(OUTCOMES)
        t2 = tasks[2]
        assert t2.outcome_at == dt.datetime(2025, 3, 2, 10, 0, tzinfo=dt.UTC)
        assert t2.outcome_at.tzinfo is not None and t2.created_at.tzinfo is not None
        assert t2.updated_at >= t2.created_at
        assert abs(utcnow() - t2.created_at) < dt.timedelta(minutes=5)
        assert t2.note == "客户说价格太高" and t2.due_date == dt.date(2025, 3, 1)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), \
            session_scope(engine) as s:
        s.add(AuditLog(at=dt.datetime(2025, 1, 1), action="x", target="y", detail="{}"))
