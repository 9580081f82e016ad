"""Alembic environment of ``app.db``. Run through :func:`churnradar.web.db.upgrade`, which
hands over a connection already inside a transaction (``config.attributes["connection"]``);
``sqlalchemy.url`` in the config works too, and so does offline (SQL script) mode."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from churnradar.web.db import make_engine
from churnradar.web.models import Base

#: any fixed number: concurrent upgrades of one PostgreSQL database wait for each other
_PG_LOCK = 0x636872_6E72  # "chrnr"

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      compare_type=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
else:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
    else:
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("no connection and no sqlalchemy.url: use churnradar.web.db.upgrade")
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                _run(conn)
        finally:
            engine.dispose()
