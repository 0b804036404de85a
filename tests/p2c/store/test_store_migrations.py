"""Opening a store: locations, schema migration to head (idempotent, concurrent), SQLite settings."""

from __future__ import annotations

import doctest
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

import p2c.store
import p2c.store.jsontext
import p2c.store.model
import p2c.store.store
from p2c.errors import ConfigError, ServiceUnavailableError
from p2c.store import StateStore
from p2c.store.database import head_revision, resolve_url
from p2c.store.schema import metadata

TABLES = {"runs", "task_runs", "record_outcomes", "links", "cursors", "schedules", "alembic_version"}


def versions(store: StateStore) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.scalars(text("SELECT version_num FROM alembic_version")))


def test_open_migrates_to_head_and_twice_is_harmless(open_store: Callable[[], StateStore]) -> None:
    first = open_store()
    assert versions(first) == [head_revision()]
    assert set(inspect(first.engine).get_table_names()) >= TABLES
    run = first.start_run("p", ["t"])
    second = open_store()  # the same database again, while the first is open
    assert versions(second) == [head_revision()]
    assert second.run(run) is not None  # data kept


def test_migrated_schema_matches_the_code(store: StateStore) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_fresh_store_opened_by_several_processes_at_once(
    store_url: str, open_store: Callable[[], StateStore]
) -> None:
    code = "import sys; from p2c.store import StateStore; StateStore(sys.argv[1]).close()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, store_url], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    assert versions(open_store()) == [head_revision()]


def test_schema_newer_than_this_p2c_is_refused(open_store: Callable[[], StateStore]) -> None:
    store = open_store()
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ConfigError, match="newer than this p2c knows"):
        open_store()


def test_sqlite_settings(tmp_path: Path) -> None:
    with StateStore(tmp_path / "p2c.db") as store, store.engine.connect() as conn:
        pragma = {
            n: conn.exec_driver_sql(f"PRAGMA {n}").scalar()
            for n in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragma == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 30_000}


def test_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert str(resolve_url("p2c.db")) == f"sqlite:///{tmp_path / 'p2c.db'}"
    assert str(resolve_url(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    assert str(resolve_url("sqlite:///rel.db")) == f"sqlite:///{tmp_path / 'rel.db'}"
    assert str(resolve_url("sqlite://")) == "sqlite://"
    assert str(resolve_url("postgresql://u@h/db")) == "postgresql+psycopg://u@h/db"
    assert str(resolve_url("postgres://u@h/db")) == "postgresql+psycopg://u@h/db"
    assert str(resolve_url("postgresql+psycopg://u@h:5433/db")) == "postgresql+psycopg://u@h:5433/db"
    with StateStore(tmp_path / "p2c.db") as store:
        assert repr(store) == f"StateStore('sqlite:///{tmp_path / 'p2c.db'}')"


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("no/such/dir/p2c.db", "does not exist"),
        ("sqlite:////no/such/dir/p2c.db", "does not exist"),
        ("mysql://u:hunter2@h/db", "unsupported database 'mysql'"),
        ("postgresql+nodriver://u:hunter2@h/db", "cannot use this database URL"),
        # a real dialect whose driver is not installed here: named, with the extra that brings one
        (
            "postgresql+pg8000://u:hunter2@h/db",
            r"driver pg8000 is not installed; install pg8000, or use "
            r"postgresql\+psycopg:// with pip install 'p2c\[postgres\]'",
        ),
        ("://u:hunter2@h", "not a database URL"),
    ],
)
def test_bad_locations_are_config_errors(location: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason) as caught:
        StateStore(location)
    assert "hunter2" not in str(caught.value)


def test_unreachable_server_is_a_transient_error() -> None:
    with pytest.raises(ServiceUnavailableError, match="cannot open the state store") as caught:
        StateStore("postgresql+psycopg://u:hunter2@127.0.0.1:1/db?connect_timeout=2")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("module", [p2c.store, p2c.store.store, p2c.store.model, p2c.store.jsontext])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0
