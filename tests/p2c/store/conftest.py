"""Fixtures of the store tests: every test runs on a fresh SQLite file AND a fresh PostgreSQL schema.

PostgreSQL is on every machine that runs this suite (127.0.0.1:5432, trust auth; override with
``P2C_TEST_POSTGRES_URL``). When it is unreachable the PostgreSQL variants FAIL, never skip.
Each test gets its own schema (``search_path`` in the URL), dropped when the test ends; the
session drops any left over.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from p2c.store import StateStore

CANDIDATES = [
    os.environ.get("P2C_TEST_POSTGRES_URL", ""),
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
]


@dataclass
class Postgres:
    url: str
    admin: Engine
    prefix: str
    counter: itertools.count[int]

    def new_schema(self) -> tuple[str, str]:
        schema = f"{self.prefix}_{next(self.counter)}"
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        return schema, f"{self.url}?options=-csearch_path%3D{schema}"

    def drop_schema(self, schema: str) -> None:
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    errors = []
    for url in filter(None, CANDIDATES):
        admin = create_engine(url, poolclass=NullPool)
        try:
            with admin.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as e:
            errors.append(f"{url}: {e.orig}")
            admin.dispose()
            continue
        pg = Postgres(url, admin, f"p2c_store_{uuid.uuid4().hex[:10]}", itertools.count())
        try:
            yield pg
        finally:
            with admin.begin() as conn:
                left = conn.scalars(
                    text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"), {"p": pg.prefix + "%"}
                ).all()
            for schema in left:
                pg.drop_schema(schema)
            admin.dispose()
        return
    pytest.fail("PostgreSQL is required by the store tests and is unreachable: " + "; ".join(errors))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A location for a fresh store: a SQLite file path, or a URL of an empty PostgreSQL schema."""
    if request.param == "sqlite":
        yield str(tmp_path / "state.db")
        return
    pg: Postgres = request.getfixturevalue("postgres")
    schema, url = pg.new_schema()
    try:
        yield url
    finally:
        pg.drop_schema(schema)


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], StateStore]]:
    """Opens stores on ``store_url`` (as many as a test wants); closes them all after the test."""
    opened: list[StateStore] = []

    def _open() -> StateStore:
        store = StateStore(store_url)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], StateStore]) -> StateStore:
    return open_store()
