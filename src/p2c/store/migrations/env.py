"""Alembic environment of the state store: runs only in code, on the connection the store hands in.

:func:`p2c.store.database.upgrade` opens the transaction (and takes the migration lock) before
calling alembic, passing the connection as ``config.attributes["connection"]``; alembic then runs
every pending revision inside that one transaction (transactional DDL on SQLite and PostgreSQL).
There is no ``alembic.ini`` and no offline (SQL script) mode.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("p2c migrations run through p2c.store.database.upgrade(), not the alembic CLI")
    context.configure(connection=connection, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("p2c migrations have no offline mode")
run_migrations_online()
