"""The read stage of a task: what a run takes in, and the fate of what it does not take.

:func:`take_in` reads the task's source (since its cursor, or by key for a retry), adds the
records that must be read again (those that failed or wait, those a flow revisits), keeps one row
per record (the fresher one), and gives the records that go no further their outcome at once:
*filtered* (the task's filter left it out) or *skipped* as gone (a record read again by its key
that is no longer in the source, so it stops being pending). ``read`` counts every record looked
at — rows taken, rows filtered, records gone and deletions found — so that a task's counts add up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from p2c.engine.outcomes import Outcomes
from p2c.engine.reading import SourceReader
from p2c.flows import SkipReason
from p2c.store import Outcome, StateStore

__all__ = ["Intake", "take_in"]


@dataclass
class Intake:
    rows: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # source keys deleted since the cursor
    cursor: str | None = None  # the new cursor, None when it did not move
    outcomes: list[Outcome] = field(default_factory=list)  # the filtered and the gone
    read: int = 0


def take_in(
    reader: SourceReader,
    store: StateStore,
    task: str,
    select: list[str],
    outcomes: Outcomes,
    *,
    full: bool,
    only_keys: set[str] | None,
    deletes_follow: bool,
    revisit: Callable[[set[str]], set[str]],
) -> Intake:
    """Read ``task``'s source (see the module docstring); ``deletes_follow``: an ERP source read
    whole tells deletions by what it lacks; ``revisit``: the flow's records to read again."""
    if only_keys is not None:
        src = reader.by_keys(select, only_keys)
        deleted: list[str] = []
        cursor = new_cursor = None
        missing = src.deleted
    else:
        cursor = None if full else store.cursor(task)
        src = reader.changes(select, cursor)
        deleted, new_cursor = src.deleted, src.cursor
        keyed = {reader.key(r): r for r in src.rows}  # each row's key computed once (25 000 rows...)
        # a whole read (not one narrowed by a watermark): what it lacks is gone...
        if not reader.crm and deletes_follow and src.full:
            seen = keyed
            unseen = [lk.source_key for lk in store.all_links(task) if lk.source_key not in seen]
            # ...unless it still exists and merely left the task's filter: that one is kept
            still = reader.existing(unseen) if unseen else set()
            deleted = [k for k in unseen if k not in still]
        # records waiting for a parent, and records that failed before, are read again every run
        # until they go through or a person dismisses them (p2c dismiss)
        pending = {r.source_key for r in store.pending(task)}
        have = set(keyed) | set(src.filtered) | set(deleted)
        again = reader.by_keys(select, (pending | revisit(have)) - have)
        keyed.update((reader.key(r), r) for r in again.rows)
        src.filtered.extend(again.filtered)
        missing = [k for k in again.deleted if k in pending]  # a revisit that is gone is no record of ours
    if only_keys is not None:
        keyed = {reader.key(r): r for r in src.rows}
    # one fate per record: the later (fresher) row of a key wins over an earlier one
    rows = list(keyed.values())
    taken = keyed.keys()
    filtered = [k for k in dict.fromkeys(src.filtered) if k not in taken]
    gone = [k for k in dict.fromkeys(missing) if k not in taken and k not in filtered]
    why = f"left out by the task's filter: {reader.filter_text}"
    done = [outcomes.filtered(k, why) for k in filtered]
    done += [
        outcomes.skip(k, SkipReason.SOURCE_DELETED, "no longer in the source (read again by its key)")
        for k in gone
    ]
    deleted = list(dict.fromkeys(deleted))
    return Intake(
        rows,
        deleted,
        new_cursor if new_cursor != cursor else None,
        done,
        len(rows) + len(filtered) + len(gone) + len(deleted),
    )
