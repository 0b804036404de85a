"""The read stage of a task, as a stream: pages of rows to process, and the fate of what goes no further.

:class:`Intake` reads the task's source page by page (since its cursor, or by key for a retry)
and yields each page as a :class:`Page`: its rows (one per record: within a page the later row
wins), the CRM ids deleted with it (sent before its rows: a line added after one was removed may
reuse its number, its key), and the outcomes of the records that go no further — *filtered* (the
task's filter left it out) or *skipped* as gone (a record read again by its key that is no longer
in the source, so it stops being pending). ``read`` counts every record looked at — rows taken,
rows filtered, records gone and deletions found — so that a task's counts add up.

A row whose source hash (:func:`~p2c.engine.hashing.source_hash`, under the task's
``fingerprint``) equals its link's is *unchanged* here, as read: it goes no further — no flow
hook, no filter, no mapping — unless the run is ``full`` or the record is read again on purpose.
The hash was taken of the row as the flow left it (its write-backs, such as a derived flag or a
generated number, in it), so a row back in the feed only because p2c wrote to it is unchanged.

Only keys stay in memory, never rows: a record that comes again in a later page is processed
again (the later row is fresher; its link, committed or in flight, makes a repeat compare equal).
After the feed, the records that must be read again — those that failed or wait (until they go
through or a person dismisses them) and those the flow revisits (asked once, when the read
starts: what it names comes from earlier tasks of the run) — are read by key unless the feed
brought them, as further pages. An ERP source read whole tells deletions by what it lacks:
:attr:`Intake.deleted`, known once the pages are done (the keys of such a read are kept for it).

A part of a split load (``share``, :mod:`p2c.engine.share`) takes only the changed rows of its
share: the filtered, the unchanged, the deleted, what is read again and the cursor are left to the
task's closing pass, which reads the source whole after every part ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from p2c.engine.ahead import alongside
from p2c.engine.hashing import source_hash
from p2c.engine.outcomes import Outcomes
from p2c.engine.reading import SourceBatch, SourceReader
from p2c.engine.share import Share, split_key
from p2c.flows import SkipReason
from p2c.store import Outcome, StateStore

__all__ = ["Intake", "Page"]

AGAIN_PAGE = 5000  # keys read again by key per page


@dataclass
class Page:
    rows: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # source keys deleted at the source (CRM feed)
    outcomes: list[Outcome] = field(default_factory=list)  # the filtered and the gone
    read: int = 0


class Intake:
    """The pages of one task run (see the module docstring)::

    intake = Intake(reader, store, "Accounts", select, outcomes, full=False, only_keys=None,
                    deletes_follow=False, revisit=flow.revisit, fingerprint=fp)
    for page in intake.pages(): ...      # then intake.cursor, intake.deleted
    """

    def __init__(
        self,
        reader: SourceReader,
        store: StateStore,
        task: str,
        select: list[str],
        outcomes: Outcomes,
        *,
        full: bool,
        only_keys: set[str] | None,
        deletes_follow: bool,
        revisit: Callable[[], set[str]],
        fingerprint: str,
        share: Share | None = None,
    ) -> None:
        """``full``: every record read and mapped (no cursor, nothing unchanged as read);
        ``deletes_follow``: an ERP source read whole tells deletions by what it lacks;
        ``revisit``: the flow's records to read again; ``fingerprint``: the task's configuration
        (:func:`~p2c.engine.hashing.task_fingerprint`), under which the links' source hashes were taken;
        ``share``: a part of a split load (see the module docstring)."""
        self.reader = reader
        self.store = store
        self.task = task
        self.select = select
        self.outcomes = outcomes
        self.full = full
        self.only_keys = only_keys
        self.deletes_follow = deletes_follow
        self.revisit = revisit
        self.fingerprint = fingerprint
        self.share = share
        #: the new cursor once the pages are done; None when it did not move
        self.cursor: str | None = None
        #: ERP records the whole read lacked (gone at the source), once the pages are done
        self.deleted: list[str] = []
        #: records read again on purpose (pending, revisited, retried): never skipped unread
        self.again: set[str] = set()

    def pages(self) -> Iterator[Page]:
        reader = self.reader
        if self.only_keys is not None:
            self.again = set(self.only_keys)
            for part in _parts(self.only_keys):
                src = reader.by_keys(self.select, part)
                yield self._page(src.rows, src.filtered, [], src.deleted)
            return
        old = None if self.full else self.store.cursor(self.task)
        if self.share is not None:
            yield from self._shared(old)
            return
        pending = {r.source_key for r in self.store.pending(self.task)}
        self.again = pending | self.revisit()
        again_lower = {k.lower() for k in self.again}
        # deletions told by absence need every key of the read; otherwise only those read again
        every = not reader.crm and self.deletes_follow
        seen: set[str] = set()
        last = SourceBatch()
        settle = None if self.full else partial(self._settle, again_lower)
        for batch in reader.pages(self.select, old, settle):
            last = batch
            if not (batch.rows or batch.filtered or batch.deleted or batch.unchanged):
                continue
            page = self._page(batch.rows, batch.filtered, batch.deleted, [], batch.unchanged)
            for k in self._keys(page, [*batch.filtered, *batch.unchanged]):
                if every:
                    seen.add(k)
                if k in self.again or k.lower() in again_lower:
                    seen.update((k, k.lower()))
            yield page
        self.cursor = last.cursor if last.cursor != old else None
        if every and last.full:  # a whole read (not one narrowed by a watermark): what it lacks is gone...
            unseen = [k for k in self.store.link_keys(self.task) if k not in seen]
            # ...unless it still exists and merely left the task's filter: that one is kept
            still = reader.existing(unseen) if unseen else set()
            self.deleted = [k for k in unseen if k not in still]
        wanted = self.again - seen - {k.lower() for k in seen} - set(self.deleted)
        for part in _parts(wanted):
            src = reader.by_keys(self.select, part)
            # a revisit that is gone is no record of ours
            yield self._page(src.rows, src.filtered, [], [k for k in src.deleted if k in pending])

    def _shared(self, old: str | None) -> Iterator[Page]:
        """The pages of a part: the changed rows of its share, nothing else."""
        assert self.share is not None
        share, key, natural = self.share, self.reader.key, self.reader.task.key_source

        def mine(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
            rows = [r for r in rows if share.holds(split_key(r, natural, key(r)))]
            return (rows, []) if self.full else (self._settle(set(), rows)[0], [])

        for batch in self.reader.pages(self.select, old, mine):
            if batch.rows:
                yield self._page(batch.rows, [], [], [])

    def catch_up(self, cursor: str) -> Callable[[], str | None]:
        """What gives a cursor past p2c's own write-backs to this (CRM) source since ``cursor``, or
        None. The feed's first page is asked for at once, on a thread of its own
        (:func:`~p2c.engine.ahead.alongside`); call the answer once the run's links are committed.

        A task that wrote back to its own source (a generated number, a derived flag) finds those
        rows in the feed after the cursor it stored: the next run would read them only to find them
        unchanged — after an initial load every order and every numbered account, seconds at
        100 000 records. So the task reads that feed at once: when every row in it is unchanged
        since its sync (source hash equal to its link's) and nothing was deleted, the cursor moves
        past it. At the first other row (a person's change during the run, a record without a
        link) the read stops and the cursor stays: the next run reads it all as it would have."""
        if not self.reader.crm:
            return lambda: None
        entity = self.reader.task.source.entity
        reading = alongside(
            partial(self.reader.conn.changes, entity, select=self.select, cursor=cursor), "feed"
        )

        def settle() -> str | None:
            feed = reading.result()
            for page in feed:
                if page.deleted or (page.rows and self._settle(set(), page.rows)[0]):
                    return None
            return feed.cursor if feed.exhausted and not feed.full and feed.cursor != cursor else None

        return settle

    def _settle(
        self, again_lower: set[str], rows: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """``rows`` split: those to go on with, and the keys of those unchanged since their last
        sync (source hash equal to their link's) and not read again on purpose."""
        key = self.reader.key
        keyed = [(key(r), r) for r in rows]
        asked = [k for k, _ in keyed if k not in self.again and k.lower() not in again_lower]
        known = self.store.source_hashes(self.task, asked) if asked else {}
        rest: list[dict[str, Any]] = []
        same: list[str] = []
        for k, row in keyed:
            digest = known.get(k)
            if digest is not None and digest == source_hash(row, self.fingerprint):
                same.append(k)
            else:
                rest.append(row)
        return rest, same

    def _keys(self, page: Page, filtered: Iterable[str]) -> Iterator[str]:
        yield from (self.reader.key(r) for r in page.rows)
        yield from filtered
        yield from page.deleted

    def _page(
        self,
        rows: list[dict[str, Any]],
        filtered: list[str],
        deleted: list[str],
        missing: list[str],
        unchanged: Sequence[str] = (),
    ) -> Page:
        key = self.reader.key
        keyed = {key(r): r for r in rows}  # one fate per record: the later row wins
        left_out = {k: None for k in filtered if k not in keyed}
        same = [k for k in dict.fromkeys(unchanged) if k not in keyed and k not in left_out]
        gone = [k for k in dict.fromkeys(missing) if k not in keyed and k not in left_out]
        why = f"left out by the task's filter: {self.reader.filter_text}"
        done = self.outcomes.unchanged_all(same)
        done += [self.outcomes.filtered(k, why) for k in left_out]
        done += [
            self.outcomes.skip(
                k, SkipReason.SOURCE_DELETED, "no longer in the source (read again by its key)"
            )
            for k in gone
        ]
        dropped = list(dict.fromkeys(deleted))
        return Page(
            list(keyed.values()),
            dropped,
            done,
            len(keyed) + len(left_out) + len(same) + len(gone) + len(dropped),
        )


def _parts(keys: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(keys))
    for i in range(0, len(ordered), AGAIN_PAGE):
        yield ordered[i : i + AGAIN_PAGE]
