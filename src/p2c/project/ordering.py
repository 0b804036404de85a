"""When a task of a run may start: after its dependencies, and after the tasks reading its source.

A task starts once the tasks it depends on (``depends_on``, among those run) ended. Tasks that
read the same source entity also run one after the other, in project order: their flows write
back to that source — a contact's generated number, its "is active customer" flag, a document's
derived flag — and two at once would, for one, give the same new contact two different numbers
(each task drawing its own from the sequence), one of them written back to the CRM and the other
sent to the ERP. The local run (``settings.parallel_tasks``) and a queued run on workers both start
tasks by :func:`run_after`.

Example::

    run_after(project.tasks)["ContactToCustomer"]   # ("Accounts", "Contacts")
"""

from __future__ import annotations

from collections.abc import Sequence

from p2c.project.build import Task

__all__ = ["run_after"]


def run_after(tasks: Sequence[Task]) -> dict[str, tuple[str, ...]]:
    """For each of ``tasks`` (in project order, which follows ``depends_on``): the tasks among
    them that must end before it starts."""
    names = {t.name for t in tasks}
    out: dict[str, tuple[str, ...]] = {}
    for i, task in enumerate(tasks):
        source = (task.source.system, task.source.entity)
        readers = (t.name for t in tasks[:i] if (t.source.system, t.source.entity) == source)
        out[task.name] = tuple(dict.fromkeys([*(d for d in task.depends_on if d in names), *readers]))
    return out
