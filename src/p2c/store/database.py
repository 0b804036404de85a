"""Where the state lives: URL resolution, the SQLAlchemy engine, and schema migration to head.

``resolve_url`` accepts a file path (→ ``sqlite:///<absolute path>``) or an SQLAlchemy URL
(``sqlite:///...``, ``postgresql+psycopg://...``; ``postgresql://`` and ``postgres://`` mean
psycopg 3). A PostgreSQL schema other than ``public`` is chosen in the URL:
``postgresql+psycopg://host/db?options=-csearch_path%3Dp2c``.

SQLite connections run in WAL mode with ``synchronous=NORMAL`` (a commit survives a crash of
the process; a power cut may lose the last commits, never corrupt), foreign keys on and a 30 s
busy timeout. Python's sqlite3 transaction handling is switched off and the store emits
``BEGIN`` itself: ``BEGIN IMMEDIATE`` for writes, so two processes writing one file queue on the
busy timeout instead of failing on a lock upgrade.

Migrations run in code with alembic (no ``alembic.ini``). Opening a store that is behind runs
every pending revision in one transaction, under a lock: ``BEGIN IMMEDIATE`` on SQLite, an
advisory transaction lock on PostgreSQL. Two processes opening a fresh store at once therefore
serialise; the second finds the schema at head and does nothing.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool

from p2c.errors import ConfigError, ServiceUnavailableError

__all__ = ["MIGRATIONS", "WRITE", "create_store_engine", "head_revision", "resolve_url", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"
#: Execution option that makes a SQLite transaction ``BEGIN IMMEDIATE`` (set it before ``begin()``).
WRITE = "p2c_write"
BUSY_TIMEOUT_MS = 30_000
# Any constant works; it only has to be the same in every p2c process sharing a database.
_PG_MIGRATION_LOCK = 0x7032_6353_746F_7265  # "p2cStore"


def _config_error(reason: str, url: str) -> ConfigError:
    return ConfigError(reason, entity="state store", field=_mask(url))


def _mask(url: str) -> str:
    """``url`` with any password replaced, even when it does not parse."""
    return re.sub(r"(://[^:/@\s]*:)\S*@", r"\1***@", url)


def resolve_url(url: str | os.PathLike[str]) -> URL:
    """The SQLAlchemy URL of a store given as a path or a URL; :class:`ConfigError` if unusable."""
    raw = os.fspath(url).strip()
    if not raw:
        raise _config_error("empty state store location", raw)
    if "://" not in raw:
        path = Path(raw).expanduser().resolve()
        if not path.parent.is_dir():
            raise _config_error(f"directory {path.parent} does not exist", raw)
        return URL.create("sqlite", database=str(path))
    try:
        parsed = make_url(raw)
    except ArgumentError:
        raise _config_error("not a database URL", raw) from None
    shown = parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        driver = parsed.get_driver_name() if "+" in parsed.drivername else "psycopg"
        return parsed.set(drivername=f"postgresql+{driver}")
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            return parsed
        path = Path(parsed.database).expanduser().resolve()
        if not path.parent.is_dir():
            raise _config_error(f"directory {path.parent} does not exist", shown)
        return parsed.set(database=str(path))
    raise _config_error(
        f"unsupported database {backend!r}: use a file path, sqlite:///FILE or postgresql+psycopg://...",
        shown,
    )


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_connection.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
    finally:
        cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


def create_store_engine(url: URL) -> Engine:
    """An engine for ``url`` (from :func:`resolve_url`), with the SQLite settings above."""
    shown = url.render_as_string(hide_password=True)
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000}
        if url.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
            kwargs["connect_args"]["check_same_thread"] = False
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError) as e:
        raise _config_error(f"cannot use this database URL ({e})", shown) from None
    except ImportError as e:  # the URL names a database driver that is not installed
        driver = e.name or str(e)
        hint = ""
        if url.get_backend_name() == "postgresql":
            hint = (
                "; install it with pip install 'p2c[postgres]'"
                if driver.startswith("psycopg")
                else f"; install {driver}, or use postgresql+psycopg:// with pip install 'p2c[postgres]'"
            )
        raise _config_error(f"its database driver {driver} is not installed{hint}", shown) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def _revisions() -> tuple[str, frozenset[str]]:
    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_current_head()
    assert head is not None, "no migrations shipped"
    return head, frozenset(rev.revision for rev in script.walk_revisions())


def head_revision() -> str:
    """The newest schema revision this version of p2c knows."""
    return _revisions()[0]


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> str | None:
    """Bring the schema to head; returns the revision found before (``None``: a fresh database).

    Cheap when already at head (one read, no lock). Raises :class:`ConfigError` when the database
    is at a revision this p2c does not know (it was migrated by a newer p2c).
    """
    head, known = _revisions()
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            with conn.begin():
                before = _current(conn)
            if before == head:
                return before
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
                current = _current(conn)  # again, under the lock: another process may have done it
                if current is not None and current not in known:
                    raise _config_error(
                        f"schema revision {current!r} is newer than this p2c knows (head {head!r}); "
                        "upgrade p2c",
                        shown,
                    )
                if current != head:
                    command.upgrade(_alembic_config(conn), "head")
            return before
    except OperationalError as e:
        raise ServiceUnavailableError(
            f"cannot open the state store: {e.orig or e}", entity="state store", key=shown
        ) from None
