"""Store migration tests: a database brought to an old revision, filled the way the code of that
revision wrote it, then opened (which migrates it to the head) and taken back down."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, insert

from p2c.store import StateStore
from p2c.store.database import MIGRATIONS, WRITE, create_store_engine, resolve_url
from p2c.store.schema import runs


def migrate(conn: Connection, revision: str, down: bool = False) -> None:
    """Upgrade (or ``down``grade) the database of ``conn`` to ``revision``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = conn
    (command.downgrade if down else command.upgrade)(cfg, revision)


@contextmanager
def at_revision(store_url: str, revision: str) -> Iterator[Connection]:
    """A writing connection, in one transaction, to a fresh store at ``store_url`` migrated to
    ``revision`` only; committed when the block ends."""
    engine = create_store_engine(resolve_url(store_url))
    try:
        with engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                migrate(conn, revision)
                yield conn
    finally:
        engine.dispose()


@contextmanager
def back_to(store: StateStore, revision: str) -> Iterator[Connection]:
    """A writing connection, in one transaction, to ``store``'s database downgraded to ``revision``."""
    with store.engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            migrate(conn, revision, down=True)
            yield conn


def a_run(
    conn: Connection, status: str = "succeeded", at: datetime = datetime(2026, 11, 1, tzinfo=UTC)
) -> int:
    """The id of a run of project ``p`` recorded as an older revision's code did (columns every
    revision has)."""
    values = {
        "project": "p",
        "trigger": "cli",
        "tasks": "[]",
        "full": False,
        "status": status,
        "started_at": at,
    }
    return int(conn.execute(insert(runs).values(**values)).inserted_primary_key[0])
