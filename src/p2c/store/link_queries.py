"""Reading and writing links (source key ↔ target key, what was last written): a mixin of
:class:`p2c.store.StateStore`. The engine writes links with each batch
(:meth:`~p2c.store.StateStore.commit_batch`); :meth:`LinkQueries.save_links` writes links alone,
for ``p2c adopt``, which links pairs that another integration already synchronised.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager

from sqlalchemy import Connection, select

from p2c.store import history
from p2c.store.batch import link_rows, select_links, upsert
from p2c.store.model import Link
from p2c.store.schema import links as link_table

__all__ = ["LinkQueries"]

_LINK_PAGE = 5000
_KEY_PAGE = 50_000


class LinkQueries:
    _chunk: int
    _sqlite: bool

    def _write(self) -> AbstractContextManager[Connection]:  # pragma: no cover - StateStore's
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:  # pragma: no cover - StateStore's
        raise NotImplementedError

    def save_links(self, links: Sequence[Link]) -> None:
        """Upsert ``links`` by (task, source key), in one transaction."""
        if links:
            with self._write() as conn:
                upsert(conn, link_table, ["task", "source_key"], link_rows(links))

    def links(self, task: str, source_keys: Iterable[str]) -> dict[str, Link]:
        """The links of ``source_keys`` that exist, by source key (bulk: a query per 5 000 keys)."""
        keys = sorted(set(source_keys))
        found: dict[str, Link] = {}
        lc = link_table.c
        with self._read() as conn:
            for part in history.chunks(keys, self._chunk):
                q = select_links().where(lc.task == task, history.among(lc.source_key, part, self._sqlite))
                for row in conn.execute(q).all():
                    link = Link(*row)
                    found[link.source_key] = link
        return found

    def source_hashes(self, task: str, source_keys: Iterable[str]) -> dict[str, str | None]:
        """The source hash of each of ``source_keys`` that has a link: what a read compares each
        row with first (:mod:`p2c.engine.intake`), two columns and no :class:`Link` built."""
        keys = sorted(set(source_keys))
        found: dict[str, str | None] = {}
        lc = link_table.c
        with self._read() as conn:
            for part in history.chunks(keys, self._chunk):
                q = select(lc.source_key, lc.source_hash).where(
                    lc.task == task, history.among(lc.source_key, part, self._sqlite)
                )
                found.update((k, h) for k, h in conn.execute(q).all())
        return found

    def all_links(self, task: str) -> Iterator[Link]:
        """Every link of ``task`` in source-key order, read in pages (no transaction held)."""
        lc = link_table.c
        after: str | None = None
        while True:
            q = select_links().where(lc.task == task).order_by(lc.source_key).limit(_LINK_PAGE)
            if after is not None:
                q = q.where(lc.source_key > after)
            with self._read() as conn:
                page = [Link(*r) for r in conn.execute(q)]
            yield from page
            if len(page) < _LINK_PAGE:
                return
            after = page[-1].source_key

    def has_links(self, task: str) -> bool:
        """Whether ``task`` linked any record yet (no: its next run is its initial load)."""
        with self._read() as conn:
            return (
                conn.scalar(select(link_table.c.source_key).where(link_table.c.task == task).limit(1))
                is not None
            )

    def link_keys(self, task: str) -> Iterator[str]:
        """The source key of every link of ``task``, in order, read in pages: what a whole read
        compares with what it saw to tell deletions (a column, no :class:`Link` built: ten times
        cheaper per link, and a run with no change reads every link of such a task)."""
        lc = link_table.c
        after: str | None = None
        while True:
            q = select(lc.source_key).where(lc.task == task).order_by(lc.source_key).limit(_KEY_PAGE)
            if after is not None:
                q = q.where(lc.source_key > after)
            with self._read() as conn:
                page = list(conn.execute(q).scalars())
            yield from page
            if len(page) < _KEY_PAGE:
                return
            after = page[-1]

    def link_by_target(self, task: str, target_key: str) -> Link | None:
        """The link to ``target_key`` (the most recently synced one if several sources claim it)."""
        lc = link_table.c
        q = (
            select_links()
            .where(lc.task == task, lc.target_key == target_key)
            .order_by(lc.synced_at.desc(), lc.source_key)
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(q).first()
        return None if row is None else Link(*row)

    def links_by_target(self, task: str, target_keys: Iterable[str]) -> dict[str, Link]:
        """:meth:`link_by_target` for many target keys at once (bulk, like :meth:`links`), by target key."""
        keys = sorted(set(target_keys))
        found: dict[str, Link] = {}
        lc = link_table.c
        with self._read() as conn:
            for part in history.chunks(keys, self._chunk):
                q = (
                    select_links()
                    .where(lc.task == task, history.among(lc.target_key, part, self._sqlite))
                    .order_by(lc.synced_at, lc.source_key.desc())  # the latest sync wins, as above
                )
                for row in conn.execute(q).all():
                    link = Link(*row)
                    found[link.target_key] = link
        return found
